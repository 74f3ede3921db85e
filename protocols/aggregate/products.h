/* overlap: the products of aggregates version 2 (protocols/aggregate/SPEC.md
 * §7): per bin, the runner's plaintext counts and flags times the shares that
 * circuit PSI leaves, by OT on the bits of the narrower factor, accumulated
 * into shares of every cell's product words.
 *
 *   type A   R's count bits nR(x_i,g) (w_R COTs, R receiver) × C's share of
 *            the bin's arithmetic payload b_i·(nC_s, BC_s)(y, c): the
 *            contributor's column words of every cell.
 *   type B   C's XOR-shared bits β = b_i ∧ bit_j(nC(y,c)) (C receiver) ×
 *            R's vector 2^j·(nR, runner words)(x_i, g): COUNT(*) and the
 *            runner's column words; and the flag φ = b_i ∧ [nC > 0] × fR(x_i, g):
 *            COUNT(DISTINCT).
 *
 * When the runner receives (runner_recv), R's vectors must not carry its
 * factors of D and N: a weighted vector (2^i in place of a flag) would pack
 * many bins' contributor bits into one opened word (SPEC §10.3). Then the
 * payload also holds, per contributor group, [nC > 0] and (with COUNT(*)) nC,
 * and both products are type A with R choosing: N with nR's bits in kind A,
 * D with the one bit fR in kind B_FLAG (R receiver, against the flag words);
 * kind B_COUNT keeps only the runner's column words.
 *
 * The payload of a bin (ovl_agg2_payload_words): per contributor group c,
 * [nC (runner_recv with COUNT(*))] then its k_C words; then, with runner_recv,
 * the G_C flag words.
 *
 * Cell product words, cell (g, c) at (g·G_C + c)·P, P = 1 + star + k_R + k_C:
 * D, [N], the runner's k_R words, the contributor's k_C words. Every call ADDS
 * its shares into cells. Transport-free: one COT batch per call, consumed. */
#ifndef OVL_PROTOCOLS_AGGREGATE_PRODUCTS_H
#define OVL_PROTOCOLS_AGGREGATE_PRODUCTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"
#include "mpc/ot.h"

typedef struct {
    uint32_t groups_r, groups_c; /* G_R, G_C */
    uint32_t words_r, words_c;   /* k_R, k_C */
    uint32_t bits_r, bits_c;     /* w_R, w_C */
    uint32_t star;               /* 1: COUNT(*) in the plan */
    uint32_t runner_recv;        /* 1: the runner receives (D and N by type A) */
} ovl_agg2_layout;

typedef enum {
    OVL_AGG2_PROD_A = 0,     /* contributor words */
    OVL_AGG2_PROD_B_COUNT,   /* COUNT(*) and runner words */
    OVL_AGG2_PROD_B_FLAG     /* COUNT(DISTINCT); by type A with runner_recv */
} ovl_agg2_prod_kind;

/* Product words per cell (P) and cells (K). */
size_t ovl_agg2_prod_words(const ovl_agg2_layout *l);
size_t ovl_agg2_prod_cells(const ovl_agg2_layout *l);
/* The contributor's arithmetic payload words per identifier (circuit PSI's L). */
size_t ovl_agg2_payload_words(const ovl_agg2_layout *l);
/* Whether the runner is the COT receiver (chooses) of a kind: type A. */
bool ovl_agg2_prod_runner_chooses(const ovl_agg2_layout *l, ovl_agg2_prod_kind k);
/* COTs per bin of a kind (0: the kind has nothing to multiply) and the most
 * bins one batch may carry (COT and frame caps). */
size_t ovl_agg2_prod_cots_per_bin(const ovl_agg2_layout *l, ovl_agg2_prod_kind k);
size_t ovl_agg2_prod_bins_per_batch(const ovl_agg2_layout *l, ovl_agg2_prod_kind k);
ovl_err ovl_agg2_layout_check(const ovl_agg2_layout *l) OVL_MUST_USE;

/* ---- Type A (k a kind the runner chooses in). R (receiver): nr holds
 * bins × G_R counts; choices for the batch: nR's bits, or with B_FLAG the
 * bits fR = [nR > 0]. */
ovl_err ovl_agg2_prod_a_choices(uint8_t *choices, ovl_agg2_prod_kind k, const ovl_agg2_layout *l,
                                const uint32_t *nr, size_t bins) OVL_MUST_USE;
/* R: own is its share of the bins' payload (bins × ovl_agg2_payload_words). */
ovl_err ovl_agg2_prod_a_recv(ovl_cot *b, ovl_agg2_prod_kind k, const ovl_agg2_layout *l,
                             const uint32_t *nr, const uint64_t *own, size_t bins, ovl_buf *msg,
                             uint64_t *cells) OVL_MUST_USE;
/* C (sender): payload is its share of the bins' payload. */
ovl_err ovl_agg2_prod_a_send(ovl_cot *b, ovl_agg2_prod_kind k, const ovl_agg2_layout *l,
                             const uint64_t *payload, size_t bins, ovl_buf *msg,
                             uint64_t *cells) OVL_MUST_USE;

/* ---- Type B. C (receiver): beta holds its XOR shares, one byte (0/1) each:
 * bins × G_C × w_C for B_COUNT (bit j of cell column c of bin i at
 * (i·G_C + c)·w_C + j), bins × G_C for B_FLAG. */
ovl_err ovl_agg2_prod_b_choices(uint8_t *choices, ovl_agg2_prod_kind k, const ovl_agg2_layout *l,
                                const uint8_t *beta, size_t bins) OVL_MUST_USE;
ovl_err ovl_agg2_prod_b_recv(ovl_cot *b, ovl_agg2_prod_kind k, const ovl_agg2_layout *l,
                             size_t bins, ovl_buf *msg, uint64_t *cells) OVL_MUST_USE;
/* R (sender): its XOR shares beta, its counts nr (bins × G_R) and runner
 * words rw (bins × G_R × k_R; the bin of an empty or unknown slot is all 0). */
ovl_err ovl_agg2_prod_b_send(ovl_cot *b, ovl_agg2_prod_kind k, const ovl_agg2_layout *l,
                             const uint8_t *beta, const uint32_t *nr, const uint64_t *rw,
                             size_t bins, ovl_buf *msg, uint64_t *cells) OVL_MUST_USE;

#endif
