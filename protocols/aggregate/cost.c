/* overlap: the wire cost formula of aggregates version 2 (SPEC.md §11). */
#include "aggregate/cost.h"

#include <string.h>

#include "aggregate/ident.h"
#include "cpsi/cpsi.h"
#include "cpsi/cuckoo.h"

#define AND_GATE 32u /* a half-gates table */
#define COT_ROW 16u  /* one row of EXT_U, or one garbler input label */
#define WORD 8u
#define GC_FRAMING 48u /* GC_INPUTS 9, GC_TABLES 13, GC_DECODE 26 bytes per bin */

uint32_t ovl_agg2_record_words(uint32_t star, uint32_t words_r, uint32_t words_c)
{
    return 7u + (star ? 1u : 0u) + words_r + words_c;
}

static uint32_t ceil_log2(uint64_t x)
{
    uint32_t lg = 0;
    while (lg < 64 && ((uint64_t)1 << lg) < x)
        lg++;
    return lg;
}

uint64_t ovl_agg2_waksman_switches(uint64_t k)
{
    uint64_t s = 0;
    for (uint64_t i = 2; i <= k; i++)
        s += ceil_log2(i);
    return s;
}

static ovl_err check_in(const ovl_agg2_cost_in *in)
{
    uint64_t cells = (uint64_t)in->groups_r * in->groups_c;
    if (in->n < 1 || in->n > OVL_CPSI_MAX_SET || in->m > OVL_CPSI_MAX_SET || cells < 1 ||
        cells > OVL_AGG2_MAX_GROUPS || in->released > cells ||
        in->words_r > 2 * OVL_AGG2_MAX_COLS || in->words_c > 2 * OVL_AGG2_MAX_COLS ||
        in->bits_r < 1 || in->bits_r > OVL_AGG2_MAX_COUNT_BITS || in->bits_c < 1 ||
        in->bits_c > OVL_AGG2_MAX_COUNT_BITS || in->helper_groups > OVL_AGG2_MAX_GROUPS ||
        in->star > 1)
        return ovl_err_set(OVL_ERR_USAGE, "aggregate cost: parameters outside the protocol's caps");
    return OVL_OK;
}

/* Per bin: cpsi's equality (cpsi SPEC §11: the garbler's inputs are folded
 * into the garbling and cost nothing; 48 bytes of GC framing and the match
 * bit's decoding; the share phase's 2 COTs only when L > 0) and this
 * protocol's payload, bit outputs (cpsi SPEC §6.5: the evaluator's G·w
 * input COTs and a 16-byte decoding per output bit) and products (§6, §7). */
static void per_bin(ovl_agg2_cost *c, const ovl_agg2_cost_in *in)
{
    uint64_t s = c->sigma, gr = in->groups_r, gc = in->groups_c;
    uint64_t wr = in->bits_r, wc = in->bits_c, kr = in->star + in->words_r, kc = in->words_c;
    uint64_t L = gc * kc, bits = gc * wc, outs = gc * (wc + 1);
    c->cpsi_base = (s - 1) * AND_GATE + s * COT_ROW + GC_FRAMING + (L ? 2 * COT_ROW : 0);
    c->payload = 2 * WORD * L;
    c->bits = AND_GATE * (2 * bits - gc) + COT_ROW * bits + COT_ROW * outs +
              (1 + outs + 7) / 8 - 1;
    c->type_a = kc ? gr * wr * (COT_ROW + WORD * gc * kc) : 0;
    /* The count bits multiply only when something is weighted by nC. */
    c->type_b = (kr ? gc * wc * (COT_ROW + WORD * gr * kr) : 0) + gc * (COT_ROW + WORD * gr);
}

/* The store's rows as cpsi SPEC §2: 3·(⌈13·3m/30⌉ + 8) rows of 1 + L words,
 * plus the packed count bits. */
static uint64_t store_bytes(const ovl_agg2_cost_in *in)
{
    uint64_t words = 1 + (uint64_t)in->groups_c * in->words_c +
                     ((uint64_t)in->groups_c * in->bits_c + 63) / 64;
    uint64_t rows = 3 * ((13 * 3 * in->m + 29) / 30 + 8);
    return WORD * words * rows;
}

static void per_run(ovl_agg2_cost *c, const ovl_agg2_cost_in *in)
{
    uint64_t k = (uint64_t)in->groups_r * in->groups_c;
    uint64_t w = ovl_agg2_record_words(in->star, in->words_r, in->words_c);
    c->shuffle = k < 2 ? 0 : 2 * (WORD * k * w + ovl_agg2_waksman_switches(k) *
                                                     (COT_ROW + 4 * WORD * w));
    /* 32-bit adder (31 ANDs) and >= T (at most 32), both parties' 32 input
     * bits, the decode and the returned output label. */
    c->compare = k * (63 * AND_GATE + 32 * COT_ROW + 32 * COT_ROW + 2 * COT_ROW);
    c->release = 4 + WORD * w * in->released;
    /* Four OT sessions (cpsi's equality and products, the products here, the
     * comparison), each with one OT_BASE per party, and the labels; cpsi has
     * no products session without an arithmetic payload. */
    uint64_t sessions = in->words_c ? 4 : 3;
    c->fixed = sessions * 2 * OVL_AGG2_OT_BASE_LEN + 4 +
               (uint64_t)in->helper_groups * (OVL_AGG2_LABEL_LEN + 16);
}

ovl_err ovl_agg2_cost_eval(ovl_agg2_cost *out, const ovl_agg2_cost_in *in)
{
    memset(out, 0, sizeof *out);
    ovl_err rc = check_in(in);
    if (rc != OVL_OK)
        return rc;
    out->bins = ovl_cpsi_bins(in->n);
    out->sigma = ovl_cpsi_sigma(out->bins);
    per_bin(out, in);
    per_run(out, in);
    out->oprf = 3 * (uint64_t)ovl_cuckoo_batch_bound((size_t)in->n) * 64;
    out->store = store_bytes(in);
    uint64_t bin = out->cpsi_base + out->payload + out->bits + out->type_a + out->type_b;
    out->total = bin * out->bins + out->oprf + out->store + out->shuffle + out->compare +
                 out->release + out->fixed;
    return OVL_OK;
}
