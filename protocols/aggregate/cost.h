/* overlap: the bytes on the wire of aggregates version 2, as a formula of the
 * public parameters (protocols/aggregate/SPEC.md §11). The benchmark compares
 * measured traffic with it; nothing here depends on the data. */
#ifndef OVL_PROTOCOLS_AGGREGATE_COST_H
#define OVL_PROTOCOLS_AGGREGATE_COST_H

#include <stdint.h>

#include "core/error.h"

#define OVL_AGG2_LABEL_LEN 256u /* LAB: a label's padded plaintext (§4.3) */
#define OVL_AGG2_OT_BASE_LEN 8225u

typedef struct {
    uint64_t n, m;                /* runner's and contributor's distinct identifiers */
    uint32_t groups_r, groups_c;  /* G_R, G_C */
    uint32_t words_r, words_c;    /* k_R, k_C: value words per group (§2) */
    uint32_t star;                /* 1 when the plan selects COUNT(*) */
    uint32_t bits_r, bits_c;      /* w_R, w_C */
    uint32_t released;            /* r */
    uint32_t helper_groups;       /* G_H: the helper's groups, whose labels travel */
    uint32_t runner_receives;     /* 1: D and N by type A over a wider payload (§7) */
} ovl_agg2_cost_in;

typedef struct {
    uint32_t bins, sigma;         /* B, σ */
    uint64_t oprf, store;         /* per-run totals of the parts below */
    uint64_t cpsi_base, payload, bits, type_a, type_b;
    uint64_t shuffle, compare, release, fixed;
    uint64_t batches;             /* every COT batch's padding rows and headers */
    uint64_t total;
} ovl_agg2_cost;

/* W = 7 + star + k_R + k_C words per cell record (§7.4). */
uint32_t ovl_agg2_record_words(uint32_t star, uint32_t words_r, uint32_t words_c);
/* Switches of the Waksman network on k inputs: Σ_{i=1..k} ⌈log2 i⌉. */
uint64_t ovl_agg2_waksman_switches(uint64_t k);
/* The formula of §11; OVL_ERR_USAGE for parameters outside the protocol's caps. */
ovl_err ovl_agg2_cost_eval(ovl_agg2_cost *out, const ovl_agg2_cost_in *in) OVL_MUST_USE;

#endif
