/* overlap: the pairwise condition circuits of cross-party joins
 * (protocols/aggregate/CONDITIONS.md §3, §4).
 *
 * One circuit per cuckoo bin compares every pair of one runner row and one
 * contributor row of the bin's identifier: cap_R x cap_C pairs, each gated by
 * both rows' validity bits and every condition, then routed to the cells
 * (runner group x contributor group) the two rows belong to. Conditions are in
 * canonical form `r.col op c.col'`, the runner's column on the left and the
 * contributor's column already offset by its owner (c.col + INTERVAL is
 * computed locally, so offsets cost no gates). */
#ifndef OVERLAP_MPC_PAIRS_H
#define OVERLAP_MPC_PAIRS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "mpc/circuit.h"

typedef enum {
    OVL_PC_EQ = 0,
    OVL_PC_NE = 1,
    OVL_PC_LT = 2,
    OVL_PC_LE = 3,
    OVL_PC_GT = 4,
    OVL_PC_GE = 5,
    OVL_PC_BETWEEN = 6, /* lo <= r <= hi, lo and hi two contributor words */
    OVL_PC_OPS
} ovl_pc_op;

#define OVL_PC_DATE_BITS 17u  /* day numbers since 1900-01-01 (CONDITIONS.md §2.1) */
#define OVL_PC_MAX_BITS 64u
#define OVL_PC_MAX_CONDS 8u
#define OVL_PC_MAX_CAP 8u     /* rows per identifier per party */
#define OVL_PC_MAX_GROUPS 64u /* per party, in one pair circuit */
#define OVL_PC_GC_FRAMING 48u /* frame bytes per garbled instance (GC_INPUTS, _TABLES, _DECODE) */

typedef struct {
    uint8_t op;      /* ovl_pc_op */
    uint8_t width;   /* 1..64 bits; OVL_PC_DATE_BITS for dates */
    bool is_signed;  /* integers and decimals: two's complement; dates: unsigned */
} ovl_pc_cond;

typedef struct {
    uint32_t cap_r, cap_c;       /* rows per identifier, 1..OVL_PC_MAX_CAP */
    uint32_t groups_r, groups_c; /* 1..OVL_PC_MAX_GROUPS; 1: no one-hot bits */
    uint32_t nconds;             /* 0..OVL_PC_MAX_CONDS */
    ovl_pc_cond conds[OVL_PC_MAX_CONDS];
} ovl_pc_shape;

/* 1 iff a op b over n-bit words (op not BETWEEN). AND gates: n - 1 for = and
 * <>, n for the four orders; signed words cost the same (sign bits flipped). */
uint32_t ovl_cb_cmp(ovl_cb *cb, ovl_pc_op op, const uint32_t *a, const uint32_t *b, uint32_t n,
                    bool is_signed);
/* 1 iff the condition holds for runner word a and contributor word(s) b
 * (and hi for BETWEEN; ignored otherwise). */
uint32_t ovl_cb_pc_cond(ovl_cb *cb, const ovl_pc_cond *cond, const uint32_t *a,
                        const uint32_t *b, const uint32_t *hi);

/* Bits of one row in the circuit's input layout (CONDITIONS.md §4.1). */
uint32_t ovl_pc_runner_row_bits(const ovl_pc_shape *s);
uint32_t ovl_pc_contrib_row_bits(const ovl_pc_shape *s);
/* Output bits: cap_r * cap_c * K pair-cell bits, then K cell flags. */
uint32_t ovl_pc_out_bits(const ovl_pc_shape *s);
/* AND gates of ovl_circuit_pairs (the formula of CONDITIONS.md §6). */
uint64_t ovl_pc_and_count(const ovl_pc_shape *s);
ovl_err ovl_pc_shape_check(const ovl_pc_shape *s) OVL_MUST_USE;

/* Per-bin cost of CONDITIONS.md §6, with k_r / k_c value words per row (a
 * non-NULL count and, when summed, a sum per value column; L1 = 1 + k_r + k_c
 * counts COUNT(*)): the pair circuit, the bit payload's gates in circuit
 * PSI's equality (each contributor row's validity bit ANDed with the match
 * bit), the evaluator's input labels, output decoding (16 bytes and a bit
 * per output bit) and framing of both, and the COT products. */
typedef struct {
    uint64_t and_gates; /* A, including the cap_c match-bit ANDs */
    uint64_t cots;      /* C */
    uint64_t bytes;     /* both directions */
} ovl_pc_cost;

ovl_err ovl_pc_cost_eval(ovl_pc_cost *out, const ovl_pc_shape *s, uint32_t k_r,
                         uint32_t k_c) OVL_MUST_USE;

/* The bin circuit, garbler (the contributor, as in circuit PSI) inputs first:
 * 0 the contributor's XOR share of its rows, 1 its output masks; then the
 * evaluator's (the runner's): 2 its rows in plaintext, 3 its XOR share of the
 * contributor's rows. Outputs, revealed to the evaluator: z[i][j][g][c] ^ mask,
 * then phi[g][c] ^ mask, where z says that runner row i (group g) and
 * contributor row j (group c) are both valid and pass every condition, and
 * phi = OR over (i, j) of z[i][j][g][c]; the masks are the garbler's shares. */
ovl_err ovl_circuit_pairs(ovl_circuit *out, const ovl_pc_shape *s) OVL_MUST_USE;

#endif
