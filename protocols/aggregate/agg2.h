/* overlap: aggregates version 2, the engine (protocols/aggregate/SPEC.md).
 *
 * Grouped COUNT / SUM / AVG over the INNER JOIN of the two parties' tables,
 * groups of both parties, the threshold compared inside two-party
 * computation on obliviously shuffled cell records, and only the passing
 * cells opened, to the receiving party only. Phases (SPEC §9): HELLO (the
 * circuit-PSI HELLO with mode aggregate and params = AggParams2, checked by
 * §4.2 before any data-derived byte), CPSI (protocols/cpsi as a sub-engine,
 * with the arithmetic and bit payloads), LABELS, PRODUCTS, SHUFFLE1/2,
 * COMPARE, RELEASE, DONE. Transport-free: frames in and out through
 * ovl_proto_ops. */
#ifndef OVL_PROTOCOLS_AGGREGATE_AGG2_H
#define OVL_PROTOCOLS_AGGREGATE_AGG2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aggregate/cost.h"
#include "aggregate/ident.h"
#include "aggregate/pairs_phase.h"
#include "aggregate/plan.h"
#include "core/proto.h"

/* Frame types of the aggregate's own messages (SPEC §4). */
enum {
    OVL_AGG2_OT = 0x30,      /* both: one OT-layer message */
    OVL_AGG2_MASKED = 0x31,  /* helper of a shuffle pass -> permuter */
    OVL_AGG2_LABELS = 0x32,  /* helper -> receiver */
    OVL_AGG2_RELEASE = 0x33, /* helper -> receiver */
    OVL_AGG2_DONE = 0x34     /* receiver -> helper */
};

#define OVL_AGG2_MAGIC "AGG2"
#define OVL_AGG2_MAX_DOMAIN 255u
#define OVL_AGG2_MAX_CELLS 65536u       /* aggregation.max_cells, at most */
#define OVL_AGG2_LABELS_PER_FRAME 1024u
#define OVL_AGG2_MAX_AGREEMENT 65536u

typedef struct {
    ovl_role role; /* transport role: listener or connector */
    bool runner;   /* the cuckoo-hashing party */
    const ovl_agg2_plan *plan; /* identical at both (bytes compared at HELLO) */
    const char *domain;        /* identifier domain both must state ("id=sha256 normalize=...") */
    /* Distinct identifiers, borrowed. */
    const uint8_t *const *ids;
    const size_t *id_len;
    size_t nids;
    /* ident.h, built over ids' indices 0..nids-1; its columns are this
     * party's plan columns in plan order; its widths are the ones stated. */
    const ovl_agg_ident *own;
    /* This party's G group labels (SPEC §5.2), sorted by bytes, index =
     * group index. */
    const uint8_t *const *labels;
    const uint16_t *label_len;
    uint64_t min_rows;  /* this owner's policy, >= 1 */
    uint32_t max_cells; /* this owner's aggregation.max_cells, 1..65536 */
    uint64_t max_peer_set;
    bool expect_peer_set;
    uint64_t peer_set_expected;
    const uint8_t *agreement; /* setup agreement bytes, may be empty */
    uint32_t agreement_len;
    const uint8_t *test_seed; /* 32 bytes: deterministic secrets for tests/vectors ONLY */
    /* Conditions across parties (plan->pairs.nconds > 0, CONDITIONS.md §3): this
     * party's rows after its WHERE filters, the NULL rule and the cap, grouped
     * by identifier index (pairs_phase.h), each with its circuit row (its
     * group index, its condition words: the contributor's with the plan's
     * offsets applied) and its plan words per row (per own plan column in plan
     * order: [not NULL] and, when summed, the value). NULL without conditions.
     * `own` still gives the groups and the totals' checks. */
    const ovl_pp_rows *pair_rows;
} ovl_agg2_config;

typedef struct ovl_agg2 ovl_agg2;

/* The checks that depend on this owner's data and the plan alone, to run
 * before the peer is contacted (SPEC §5.1): its identifiers within circuit
 * PSI's cap, its totals with the widest count width a peer may state (16),
 * and, as the contributor, its circuit-PSI entry (§6) within the caps.
 * OVL_ERR_INPUT naming a column by its plan name; the caller names the
 * table. ovl_agg2_new runs them again. */
ovl_err ovl_agg2_check_own(const ovl_agg2_plan *plan, bool runner,
                           const ovl_agg_ident *own) OVL_MUST_USE;

/* Runs ovl_agg2_check_own first, and the configuration's own checks. */
ovl_err ovl_agg2_new(ovl_agg2 **out, const ovl_agg2_config *cfg) OVL_MUST_USE;
void ovl_agg2_free(ovl_agg2 *a);
extern const ovl_proto_ops ovl_agg2_ops;

/* A released cell (receiver only, after done). */
typedef struct {
    /* runner group, contributor group: the receiver's own group index, and
     * for the helper's side its published index (SPEC.md §4.3: a secret
     * permutation of the helper's groups, not the rank of its label) */
    uint32_t g, c;
    const uint8_t *label_r, *label_c;
    uint16_t label_r_len, label_c_len;
    /* W - 6 words: D, [N], the runner's k_R words, the contributor's k_C
     * words (SPEC §7.4 order), as signed values. */
    const int64_t *words;
} ovl_agg2_cell;

/* Receiver only, after done: the consistent released cells, sorted by
 * (runner label, contributor label) bytes (SPEC §8.4). */
ovl_err ovl_agg2_released(const ovl_agg2 *a, const ovl_agg2_cell **cells,
                          size_t *n) OVL_MUST_USE;
uint64_t ovl_agg2_released_count(const ovl_agg2 *a); /* r: both parties, after COMPARE */
uint64_t ovl_agg2_inconsistent(const ovl_agg2 *a);   /* receiver: records omitted (§8.3) */
bool ovl_agg2_is_receiver(const ovl_agg2 *a);
uint64_t ovl_agg2_peer_set_size(const ovl_agg2 *a);
const uint8_t *ovl_agg2_transcript(const ovl_agg2 *a);
uint64_t ovl_agg2_bytes_sent(const ovl_agg2 *a); /* frames, headers included */
/* The inputs of the cost formula (SPEC §11, cost.h) for the plan and shapes
 * this run used, after done: what ovl_agg2_cost_eval needs to predict both
 * parties' ovl_agg2_bytes_sent together. OVL_ERR_USAGE before the end, and
 * for a plan with conditions across parties (its pairs phase is not in §11). */
ovl_err ovl_agg2_cost_inputs(ovl_agg2_cost_in *out, const ovl_agg2 *a) OVL_MUST_USE;
uint64_t ovl_agg2_threshold(const ovl_agg2 *a);  /* T, after HELLO (0 before) */
/* The peer's group count, after HELLO (0 before). */
uint32_t ovl_agg2_peer_groups(const ovl_agg2 *a);

#endif
