/* overlap: the pairs phase of aggregates with conditions across parties
 * (protocols/aggregate/CONDITIONS.md §4, §5), transport-free, below the engine.
 *
 * Input, per cuckoo bin, in the shapes circuit PSI leaves:
 *   - the runner R's own capped rows in plaintext (validity, group, condition
 *     words) and their value words;
 *   - XOR shares of the contributor C's capped rows as circuit bits, gated by
 *     the bin's match bit (circuit PSI's bit payload: b_i ∧ bit; a bin
 *     without a match carries all-zero rows, so its pairs never pass);
 *   - additive shares of C's rows' value words (its arithmetic payload).
 * The bin circuit of src/mpc/pairs.h (ovl_circuit_pairs) is garbled by C and
 * evaluated by R with src/mpc/gc.h, output to R masked by C's fresh masks:
 * XOR shares z of every pair-cell bit and φ of every cell flag. Then three
 * COT products turn them into additive shares of the cell product words of
 * protocols/aggregate/products.h (D, [N], the runner's k_R words, the
 * contributor's k_C words per cell), ready for ovl_agg2_records_build:
 *
 *   ROWS     C receiver (choice z_C), R sender with correlation (1 − 2z_R)·u,
 *            u = ([1], runner row i's k_R words, R's share of C's row j's
 *            k_C words): one COT per (pair, cell).
 *   CONTRIB  R receiver (choice z_R), C sender with (1 − 2z_C)·x_C(j): one COT
 *            per (pair, cell) of k_C words; none when k_C = 0.
 *   FLAG     C receiver (choice φ_C), R sender with (1 − 2φ_R): one COT per
 *            cell, summed into D.
 *
 * Every call ADDS its shares into cells. One COT batch per call, consumed. */
#ifndef OVL_PROTOCOLS_AGGREGATE_PAIRS_PHASE_H
#define OVL_PROTOCOLS_AGGREGATE_PAIRS_PHASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aggregate/products.h"
#include "core/buf.h"
#include "core/error.h"
#include "crypto/rng.h"
#include "mpc/ot.h"
#include "mpc/pairs.h"

typedef struct {
    ovl_pc_shape s;           /* caps, groups, conditions */
    uint32_t words_r, words_c; /* k_R, k_C value words per row (COUNT(s), SUM(s) per column) */
    uint32_t star;            /* 1: COUNT(*) in the plan */
} ovl_pp_layout;

/* Caps of the shape, the GC engine's input/output bit caps and the products'
 * vector and frame caps. */
ovl_err ovl_pp_layout_check(const ovl_pp_layout *l) OVL_MUST_USE;
/* The products.h layout of the cell words this phase fills. */
void ovl_pp_cells_layout(ovl_agg2_layout *out, const ovl_pp_layout *l);

/* Per bin: bits of the runner's rows (cap_R rows), of the contributor's rows
 * (cap_C rows, the row payload), the garbler's and evaluator's circuit inputs
 * and the outputs O = (P + 1)·K. */
size_t ovl_pp_runner_bits(const ovl_pp_layout *l);
size_t ovl_pp_contrib_bits(const ovl_pp_layout *l);
/* Circuit PSI's gate stride for those bits (protocols/cpsi/SPEC.md §6.6): a
 * row's bits, validity first, so only the validity bits carry the match. */
uint32_t ovl_pp_gate_every(const ovl_pp_layout *l);
size_t ovl_pp_garbler_bits(const ovl_pp_layout *l);
size_t ovl_pp_evaluator_bits(const ovl_pp_layout *l);
size_t ovl_pp_out_bits(const ovl_pp_layout *l);
/* The most bins one garbled-circuit run may carry: instances × O output
 * bytes kept under 256 MiB (and under the GC engine's own cap). */
size_t ovl_pp_gc_bins_max(const ovl_pp_layout *l);

/* One row in the circuit's layout (CONDITIONS.md §4.1): validity, one-hot
 * group (absent with one group), then each condition's word; contributor
 * rows carry a BETWEEN's two words (lo, hi). A padding row is valid = 0 and
 * all zero. Words are the circuit's bit patterns (pairrows.h). */
typedef struct {
    bool valid;
    uint32_t group;
    uint64_t word[OVL_PC_MAX_CONDS][2];
} ovl_pp_row;

ovl_err ovl_pp_runner_row_put(uint8_t *bits, const ovl_pp_layout *l,
                              const ovl_pp_row *r) OVL_MUST_USE;
ovl_err ovl_pp_contrib_row_put(uint8_t *bits, const ovl_pp_layout *l,
                               const ovl_pp_row *r) OVL_MUST_USE;

/* An owner's capped rows grouped by identifier (indices of the engine's
 * identifiers): identifier x's rows at first[x] .. first[x + 1] − 1, at most
 * its cap, each with its circuit row and its k value words (k_R or k_C) at
 * words + r·k. */
typedef struct {
    uint32_t nids;
    const uint32_t *first; /* nids + 1 */
    const ovl_pp_row *row;
    const uint64_t *words;
} ovl_pp_rows;

/* The contributor's row payload for circuit PSI (CONDITIONS.md §4.1): its
 * bit payload is one group of width 1 per row bit (bit_groups =
 * ovl_pp_contrib_bits, bit_width 1, gated every ovl_pp_gate_every bits), so
 * circuit PSI hands out XOR shares of each row's b_i ∧ valid and of its other
 * bits, exactly this phase's contributor rows (bins × contrib_bits);
 * its arithmetic payload is the rows' value words (cap_C·k_C per
 * identifier, row j's at j·k_C), shares of which are this phase's x. bits:
 * nids × contrib_bits, words: nids × cap_C·k_C. Missing rows are padding. */
ovl_err ovl_pp_contrib_payload(uint16_t *bits, uint64_t *words, const ovl_pp_layout *l,
                               const ovl_pp_rows *rows) OVL_MUST_USE;
/* Whether the payload fits circuit PSI's caps (payload words, store words). */
ovl_err ovl_pp_cpsi_check(const ovl_pp_layout *l) OVL_MUST_USE;
/* The runner's rows per bin from circuit PSI's bin_item (an index into its
 * identifiers or UINT32_MAX: an empty bin, all padding): rrow bins ×
 * runner_bits, rw bins × cap_R × k_R. */
ovl_err ovl_pp_runner_bins(uint8_t *rrow, uint64_t *rw, const ovl_pp_layout *l,
                           const ovl_pp_rows *rows, const uint32_t *bin_item,
                           size_t bins) OVL_MUST_USE;

/* Garbler (C): its circuit inputs for `bins` bins from its XOR share of the
 * contributor rows (bins × contrib_bits, one byte 0/1 each); draws the output
 * masks, which are its shares z_C (bins × out_bits, written to z). */
ovl_err ovl_pp_garbler_input(uint8_t *in, uint8_t *z, const ovl_pp_layout *l,
                             const uint8_t *crow, size_t bins, ovl_rng *rng) OVL_MUST_USE;
/* Evaluator (R): from its rows (bins × runner_bits) and its XOR share of the
 * contributor rows (bins × contrib_bits). Its shares z_R are the GC outputs. */
ovl_err ovl_pp_evaluator_input(uint8_t *in, const ovl_pp_layout *l, const uint8_t *rrow,
                               const uint8_t *crow, size_t bins) OVL_MUST_USE;

typedef enum {
    OVL_PP_PROD_ROWS = 0, /* C receives: COUNT(*), runner words, R's part of contributor words */
    OVL_PP_PROD_CONTRIB,  /* R receives: C's part of contributor words */
    OVL_PP_PROD_FLAG      /* C receives: COUNT(DISTINCT) */
} ovl_pp_kind;

/* Whether the runner is the COT receiver of a kind (else the contributor). */
bool ovl_pp_runner_receives(ovl_pp_kind k);
/* COTs per bin of a kind (0: nothing to multiply) and the most bins one batch
 * may carry (COT and frame caps). */
size_t ovl_pp_cots_per_bin(const ovl_pp_layout *l, ovl_pp_kind k);
size_t ovl_pp_bins_per_batch(const ovl_pp_layout *l, ovl_pp_kind k);
/* Receiver: its choices for a batch from its output shares z (bins × O). */
ovl_err ovl_pp_choices(uint8_t *choices, const ovl_pp_layout *l, ovl_pp_kind k,
                       const uint8_t *z, size_t bins) OVL_MUST_USE;
/* Sender: its shares z (bins × O); R (ROWS, FLAG) also its rows' value words
 * rw (bins × cap_R × k_R, row i of bin b at (b·cap_R + i)·k_R); x its share
 * of the contributor rows' value words (bins × cap_C × k_C; ROWS: R's,
 * CONTRIB: C's; FLAG: unused). */
ovl_err ovl_pp_send(ovl_cot *b, const ovl_pp_layout *l, ovl_pp_kind k, const uint8_t *z,
                    const uint64_t *rw, const uint64_t *x, size_t bins, ovl_buf *msg,
                    uint64_t *cells) OVL_MUST_USE;
ovl_err ovl_pp_recv(ovl_cot *b, const ovl_pp_layout *l, ovl_pp_kind k, size_t bins,
                    ovl_buf *msg, uint64_t *cells) OVL_MUST_USE;

/* The bytes on the wire of circuit PSI with the row payload and of this
 * phase (CONDITIONS.md §6), both directions, for n runner and m contributor
 * identifiers: per bin the equality (σ − 1 ANDs, σ evaluator labels) and
 * ovl_pc_cost_eval's bytes (bit payload, bin circuit, products; no share
 * phase: the gate stride takes the words raw, cpsi SPEC §6.6); per run the
 * OPRF (3 entries per runner batch slot, 64 bytes each), the store and the
 * three OT sessions' base messages (the two garbled circuits', the products'). The v2 SPEC's shuffle, comparison and
 * release come on top (SPEC.md §11). Nothing depends on the data. */
typedef struct {
    uint32_t bins, sigma;
    uint64_t per_bin, oprf, store, fixed;
    uint64_t total;
} ovl_pp_cost;

ovl_err ovl_pp_cost_eval(ovl_pp_cost *out, const ovl_pp_layout *l, uint64_t n,
                         uint64_t m) OVL_MUST_USE;

#endif
