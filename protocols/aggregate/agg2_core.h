/* overlap: the part of the aggregate v2 engine after circuit PSI
 * (SPEC.md §7–§8): PRODUCTS, SHUFFLE1, SHUFFLE2, COMPARE, RELEASE and
 * DONE, from each party's shares of the circuit-PSI output, with PAIRS
 * (agg2_pairs.c) before PRODUCTS when the plan has conditions across parties. An engine of its
 * own (ovl_proto_ops, no HELLO) so that it runs below ovl_agg2 and, in tests,
 * on a dealer's shares. Frames: AGG_OT 0x30, MASKED 0x31, RELEASE 0x33,
 * DONE 0x34 and, in COMPARE, the GC frames 0x40–0x48. */
#ifndef OVL_PROTOCOLS_AGGREGATE_AGG2_CORE_H
#define OVL_PROTOCOLS_AGGREGATE_AGG2_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aggregate/pairs_phase.h"
#include "aggregate/products.h"
#include "aggregate/release.h"
#include "core/proto.h"
#include "crypto/rng.h"

typedef struct {
    ovl_agg2_layout l;
    ovl_role role;     /* transport role (the OT and GC direction) */
    bool runner;
    bool receiver;     /* this party receives the released cells */
    uint64_t threshold;
    uint32_t bins;
    /* Borrowed until the core is freed (secrets of this party): */
    const uint32_t *nr; /* R: bins × G_R row counts */
    const uint64_t *rw; /* R: bins × G_R × k_R runner words */
    const uint64_t *pay; /* both: bins × payload_words shares of b·payload */
    uint32_t payload_words;
    const uint8_t *beta; /* both: bins × G_C × w_C XOR shares */
    const uint8_t *phi;  /* both: bins × G_C XOR shares */
    const uint8_t (*keys)[OVL_AGG2_KEY_LEN]; /* the helper's label keys, NULL at the receiver */
    /* The helper: the index under which each of its groups' labels was
     * published in LABELS (a secret permutation, SPEC.md §4.3), put in its
     * records in place of the group index; NULL: the group index itself. */
    const uint32_t *hidx;
    /* Conditions across parties (CONDITIONS.md §4.3, §5): NULL without them.
     * With them, l is ovl_pp_cells_layout(pairs), nr/rw/pay/beta/phi are
     * unused, and PAIRS (the bin circuit, garbled by the contributor) comes
     * before PRODUCTS, whose batches are the pairs phase's ROWS, CONTRIB and
     * FLAG. Borrowed like the rest: */
    const ovl_pp_layout *pairs;
    const uint8_t *rrow;  /* R: bins × ovl_pp_runner_bits, its rows per bin */
    const uint64_t *rwp;  /* R: bins × cap_R × k_R, their value words */
    const uint8_t *crow;  /* both: bins × ovl_pp_contrib_bits XOR shares (circuit PSI's beta) */
    const uint64_t *x;    /* both: bins × cap_C·k_C shares (circuit PSI's value) */
    const uint8_t *transcript; /* 64 bytes: binds the OT and GC keys */
    ovl_rng *rng;
} agg2_core_in;

typedef struct agg2_core agg2_core;

/* The frame cap and the sizes the core needs, from public parameters only:
 * OVL_ERR_LIMIT when a RELEASE of every cell would not fit one frame. */
ovl_err agg2_core_check(const ovl_agg2_layout *l) OVL_MUST_USE;
ovl_err agg2_core_new(agg2_core **out, const agg2_core_in *in) OVL_MUST_USE;
void agg2_core_free(agg2_core *c);
extern const ovl_proto_ops agg2_core_ops;

/* After done: r (both), and at the receiver the opened records (r × W words)
 * with their consistency marks and the number inconsistent (§8.3). */
uint64_t agg2_core_released(const agg2_core *c);
const uint64_t *agg2_core_opened(const agg2_core *c, const uint8_t **ok, size_t *inconsistent);
/* Frames this core queued and whether a frame type belongs to it. */
bool agg2_core_takes(uint8_t type);

#endif
