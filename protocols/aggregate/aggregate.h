/* Private aggregates over the intersection: COUNT, SUM and AVG by group with
 * minimum-row suppression (protocols/aggregate/SPEC.md).
 *
 * Transport-free like the PSI engine: frames in and out through
 * ovl_proto_ops, group operations and Paillier work handed out as jobs. */
#ifndef OVL_PROTOCOLS_AGGREGATE_H
#define OVL_PROTOCOLS_AGGREGATE_H

#include <stdbool.h>
#include <stdint.h>

#include "io/columns.h"
#include "crypto/group.h"
#include "crypto/paillier.h"
#include "core/proto.h"
#include "common/hello.h"

/* Frame types (SPEC.md §4). HELLO is 0x01, ABORT 0x7f (protocols/common). */
enum {
    OVL_AGG_LAYOUT = 0x21,
    OVL_AGG_ELEMENTS = 0x22,
    OVL_AGG_KEY = 0x23,
    OVL_AGG_TAGS = 0x24,
    OVL_AGG_VALUES = 0x25,
    OVL_AGG_SUMS = 0x26,
    OVL_AGG_SHARES = 0x27,
    OVL_AGG_FINISH = 0x28
};

#define OVL_AGG_MAX_GROUPS 65536u      /* partitions per run (SPEC.md §4.2) */
#define OVL_AGG_BATCH_MAX 16384u       /* elements or tags per frame */
#define OVL_AGG_CT_BATCH_MAX 1024u     /* ciphertexts or shares per frame */
#define OVL_AGG_PAD_MIN 16u            /* smallest padded partition */
#define OVL_AGG_MIN_ROWS_DEFAULT 10u
#define OVL_AGG_VALUE_BITS 63u         /* signed width of one packed slot value */
#define OVL_AGG_DOMAIN_MAX 255u
#define OVL_AGG_AGREEMENT_MAX 16384u   /* negotiated analysis bytes in the HELLO params */

typedef struct {
    ovl_role role;        /* listener or connector (transport role) */
    bool contributor;     /* holds value columns; else the runner */
    const ovl_group *group;
    const char *domain;   /* identifier domain both must state, e.g. "id=sha256 normalize=email" */
    uint64_t min_rows;    /* this party's threshold (>= 1) */
    unsigned paillier_bits; /* 2048 or 3072; both must state the same */
    uint64_t max_peer_set;  /* 0: OVL_PSI-like default 2^26 */
    size_t max_jobs;        /* 0: 8 */

    /* Runner: distinct memberships grouped by group index 0..ngroups-1:
     * group g holds ids[group_start[g] .. group_start[g+1]) (distinct). */
    const uint8_t (*memb)[32];
    const size_t *group_start; /* ngroups + 1 entries */
    size_t ngroups;
    unsigned group_by_cols;    /* stated in the setup (a count only) */

    /* Contributor: distinct identifiers and per identifier the vector
     * (rows, sum of column 1, ..., sum of column nvalues). */
    const uint8_t (*ids)[32];
    size_t nids;
    const int64_t *vectors; /* nids * (1 + nvalues) */
    const ovl_value_col *values;
    size_t nvalues;

    /* The negotiated analysis (protocols/setup/SPEC.md §3); both parties must
     * state identical bytes. Empty for a run both operators typed. */
    const uint8_t *agreement;
    size_t agreement_len;
    /* With a negotiated analysis, the set size the peer negotiated (its
     * distinct identifiers, SPEC.md §4.1 item 8): the runner requires the
     * contributor's HELLO to announce exactly it, the contributor requires the
     * runner's LAYOUT to be padding of at most that many memberships (§4.2). */
    bool expect_peer_set;
    uint64_t peer_set_expected;

    const uint8_t *test_seed;           /* 32 bytes: deterministic secrets for tests ONLY */
    const ovl_paillier_sk *test_key;    /* borrowed Paillier key for tests ONLY */
} ovl_agg_config;

typedef struct ovl_agg ovl_agg;

/* Checks the configuration (for the contributor: the sum bound of SPEC.md
 * §5.4, refusing with OVL_ERR_LIMIT) and generates this run's secrets. */
ovl_err ovl_agg_new(ovl_agg **out, const ovl_agg_config *cfg) OVL_MUST_USE;
/* The checks of ovl_agg_new that need no keys (configuration, the sum bound,
 * disjoint groups): run before contacting the peer so bad input fails fast. */
ovl_err ovl_agg_precheck(const ovl_agg_config *cfg) OVL_MUST_USE;
void ovl_agg_free(ovl_agg *a);
extern const ovl_proto_ops ovl_agg_ops;

typedef struct {
    uint64_t own_total, own_done;   /* our elements blinded / ciphertexts made */
    uint64_t peer_total, peer_done; /* the peer's elements processed */
    bool setup_done;
} ovl_agg_progress;
void ovl_agg_get_progress(const ovl_agg *a, ovl_agg_progress *out);

/* After setup: */
uint64_t ovl_agg_threshold(const ovl_agg *a); /* effective: max of both */
uint64_t ovl_agg_peer_set_size(const ovl_agg *a);
size_t ovl_agg_tag_len(const ovl_agg *a);
const uint8_t *ovl_agg_transcript(const ovl_agg *a);
/* The value columns of the analysis (the runner's come from the peer). */
size_t ovl_agg_value_count(const ovl_agg *a);
const char *ovl_agg_value_name(const ovl_agg *a, size_t i);
unsigned ovl_agg_value_decimals(const ovl_agg *a, size_t i);

/* Runner, after done: group g (the caller's index) has `matched` distinct
 * matched identifiers; when released, sums[0] is the contributor rows
 * matched and sums[1 + c] the sum of value column c. */
ovl_err ovl_agg_group_result(const ovl_agg *a, size_t g, uint64_t *matched, bool *released,
                             const int64_t **sums) OVL_MUST_USE;
/* Both roles, after done: groups released (the contributor has the count
 * from FINISH, as the runner states it: SPEC.md §4.9), and groups in all. */
size_t ovl_agg_groups_released(const ovl_agg *a);
size_t ovl_agg_group_count(const ovl_agg *a);

/* The bytes of this party's analysis statement in its HELLO (SPEC.md §4.1). */
ovl_err ovl_agg_params_encode(ovl_buf *out, const ovl_agg_config *cfg) OVL_MUST_USE;

#endif
