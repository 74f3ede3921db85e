/* Two-party ECDH private set intersection (protocols/psi/SPEC.md).
 *
 * Transport-free: the engine consumes and produces frames through the
 * ovl_proto_ops interface and hands its scalar multiplications out as jobs. */
#ifndef OVL_PROTOCOLS_PSI_H
#define OVL_PROTOCOLS_PSI_H

#include <stdbool.h>
#include <stdint.h>

#include "crypto/group.h"
#include "core/proto.h"
#include "common/hello.h"

/* Frame types (SPEC.md §4). HELLO is 0x01, ABORT 0x7f (protocols/common). */
enum {
    OVL_PSI_ELEMENTS = 0x02,
    OVL_PSI_TAGS = 0x03,
    OVL_PSI_FINISH = 0x04
};

#define OVL_PSI_BATCH_MAX 16384u     /* elements or tags per frame, by spec */
#define OVL_PSI_BATCH_DEFAULT 4096u  /* what this implementation sends */
#define OVL_PSI_TAG_MIN 5u
#define OVL_PSI_TAG_MAX 32u
#define OVL_PSI_DEFAULT_MAX_PEER_SET (1ull << 26)

typedef struct {
    ovl_role role;
    ovl_mode mode; /* intersection (cardinality runs on protocols/cpsi) */
    ovl_reveal reveal;
    const ovl_group *group;
    const uint8_t (*ids)[32]; /* distinct identifiers; borrowed for the engine's life */
    size_t nids;
    uint64_t max_peer_set;    /* 0: OVL_PSI_DEFAULT_MAX_PEER_SET */
    size_t batch;             /* elements per frame; 0: OVL_PSI_BATCH_DEFAULT */
    size_t max_jobs;          /* jobs outstanding at once; 0: 8 */
    const uint8_t *params;    /* analysis parameters both must state (may be NULL) */
    uint32_t params_len;
    const uint8_t *test_seed; /* 32 bytes: deterministic secrets for tests/vectors ONLY */
    bool expect_peer_set;     /* the peer's HELLO must announce peer_set_expected */
    uint64_t peer_set_expected; /* (negotiated beforehand: protocols/setup/SPEC.md §3) */
} ovl_psi_config;

typedef struct ovl_psi ovl_psi;

ovl_err ovl_psi_new(ovl_psi **out, const ovl_psi_config *cfg) OVL_MUST_USE;
void ovl_psi_free(ovl_psi *p);
extern const ovl_proto_ops ovl_psi_ops;

/* Progress counters for display (any time). */
typedef struct {
    uint64_t own_total, own_sent;   /* our blinded elements */
    uint64_t peer_total, peer_done; /* the peer's elements we re-blinded */
    bool setup_done;
} ovl_psi_progress;
void ovl_psi_get_progress(const ovl_psi *p, ovl_psi_progress *out);

/* After done: */
bool ovl_psi_receives_output(const ovl_psi *p);
uint64_t ovl_psi_peer_set_size(const ovl_psi *p);
size_t ovl_psi_tag_len(const ovl_psi *p);
const uint8_t *ovl_psi_transcript(const ovl_psi *p);
/* matched[i] tells whether cfg->ids[i] is in the intersection (array of
 * nids, owned by the engine); *count is their number. */
ovl_err ovl_psi_result(const ovl_psi *p, const bool **matched, uint64_t *count) OVL_MUST_USE;

/* The tag length in bytes for set sizes n and m (SPEC.md §5.3). */
size_t ovl_psi_tag_len_for(uint64_t n, uint64_t m);
/* The hash-to-group DST for a suite: "OVERLAP-V1-PSI-<suite id string>". */
ovl_err ovl_psi_dst(const ovl_group *g, const uint8_t **dst, size_t *len) OVL_MUST_USE;

#endif
