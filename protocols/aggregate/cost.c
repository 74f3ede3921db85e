/* overlap: the wire cost formula of aggregates version 2 (SPEC.md §11). */
#include "aggregate/cost.h"

#include <string.h>

#include "aggregate/agg2.h"
#include "aggregate/ident.h"
#include "aggregate/products.h"
#include "core/frame.h"
#include "cpsi/cpsi.h"
#include "cpsi/cuckoo.h"
#include "mpc/ot.h"
#include "mpc/shares.h"
#include "mpc/shuffle.h"

#define AND_GATE 32u /* a half-gates table */
#define COT_ROW 16u  /* one row of EXT_U, or one garbler input label */
#define WORD 8u
#define GC_HEADERS 32u /* per instance: GC_INPUTS 9, GC_TABLES 13, GC_DECODE's 10 */
/* HELLOs (with the plan), SEED, the GC SETUPs, DONE: measured at about this */
#define FIXED_FRAMES 1024u

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
        in->star > 1 || in->runner_receives > 1)
        return ovl_err_set(OVL_ERR_USAGE, "aggregate cost: parameters outside the protocol's caps");
    return OVL_OK;
}

/* Per bin: cpsi's equality (cpsi SPEC §11) and this protocol's payload, bit
 * outputs and products (§6, §7). The garbler's inputs are folded into the
 * garbling (src/mpc/SPEC.md §GC.3): only the evaluator's labels travel. */
static void per_bin(ovl_agg2_cost *c, const ovl_agg2_cost_in *in)
{
    uint64_t s = c->sigma, gr = in->groups_r, gc = in->groups_c;
    uint64_t wr = in->bits_r, wc = in->bits_c, rr = in->runner_receives;
    /* the runner receiving: N's and D's contributor factors join the payload
     * and type A (nC with COUNT(*), then the flags), type B keeps the runner's
     * words and no flag product */
    uint64_t kr = (rr ? 0 : in->star) + in->words_r, kc = (rr ? in->star : 0) + in->words_c;
    uint64_t L = gc * kc + (rr ? gc : 0), bits = gc * wc;
    /* σ-bit equality tables, the evaluator's σ labels, the match bit's
     * decoding, the instance's GC_INPUTS, GC_TABLES and GC_DECODE headers
     * (9 + 13 + 10 bytes, cpsi SPEC §11); the share phase's two COT rows
     * when there is a payload */
    c->cpsi_base = (s - 1) * AND_GATE + s * COT_ROW + COT_ROW + GC_HEADERS +
                   (L ? 2 * COT_ROW : 0);
    c->payload = 2 * WORD * L;
    /* b ∧ bit and the ORs, the evaluator's labels of its decoded count bits,
     * and the decoding of the G_C·(w_C + 1) output bits (a tag pair each and
     * their permute bits beyond the match bit's byte) */
    c->bits = AND_GATE * (2 * bits - gc) + COT_ROW * bits + COT_ROW * gc * (wc + 1) +
              (1 + gc * (wc + 1) + 7) / 8 - 1;
    c->type_a = (kc ? gr * wr * (COT_ROW + WORD * gc * kc) : 0) +
                (rr ? gr * (COT_ROW + WORD * gc) : 0);
    /* The count bits multiply only when something is weighted by nC. */
    c->type_b = (kr ? gc * wc * (COT_ROW + WORD * gr * kr) : 0) +
                (rr ? 0 : gc * (COT_ROW + WORD * gr));
}

/* The store's rows as cpsi SPEC §2: 3·(⌈13·3m/30⌉ + 8) rows of 1 + L words,
 * plus the packed count bits. */
static uint64_t payload_words(const ovl_agg2_cost_in *in)
{
    uint64_t per = in->words_c + (in->runner_receives ? 1u + in->star : 0u);
    return (uint64_t)in->groups_c * per;
}

static uint64_t store_bytes(const ovl_agg2_cost_in *in)
{
    uint64_t words = 1 + payload_words(in) +
                     ((uint64_t)in->groups_c * in->bits_c + 63) / 64;
    uint64_t rows = 3 * ((13 * 3 * in->m + 29) / 30 + 8);
    return WORD * words * rows;
}

/* What one COT batch of n costs beyond its n rows: the KOS padding rows of
 * EXT_U, EXT_CHAL, EXT_PROOF, and the headers of its frames and messages. */
static uint64_t batch_extra(uint64_t n)
{
    return COT_ROW * (ovl_cot_ext_rows((size_t)n) - n) + OVL_COT_CHAL_MSG_LEN +
           OVL_COT_PROOF_MSG_LEN + 2 * OVL_OT_BATCH_HDR + 4 * OVL_FRAME_HDR;
}

/* `items` items of `per` COTs each, at most `step` items per batch. */
static uint64_t batches_extra(uint64_t items, uint64_t per, uint64_t step)
{
    uint64_t e = 0;
    for (uint64_t at = 0; per && step && at < items; at += step)
        e += batch_extra((items - at < step ? items - at : step) * per);
    return e;
}

/* cpsi's share phase: bins per batch as its SHARE messages fit a frame
 * (protocols/cpsi/share_phase.c). */
static uint64_t share_step(uint64_t L)
{
    uint64_t cap = OVL_SHARE_MAX_MSG < OVL_FRAME_MAX_PAYLOAD ? OVL_SHARE_MAX_MSG
                                                             : OVL_FRAME_MAX_PAYLOAD;
    uint64_t n = OVL_COT_BATCH_MAX;
    while (n > 1024u && ovl_share_msg_len((size_t)n, 64, (size_t)L) > cap)
        n -= 1024u;
    while (n > 1u && ovl_share_msg_len((size_t)n, 64, (size_t)L) > cap)
        n /= 2u;
    return n;
}

static void per_run(ovl_agg2_cost *c, const ovl_agg2_cost_in *in)
{
    uint64_t k = (uint64_t)in->groups_r * in->groups_c, B = c->bins;
    uint64_t w = ovl_agg2_record_words(in->star, in->words_r, in->words_c);
    uint64_t L = payload_words(in);
    uint64_t sw = k < 2 ? 0 : ovl_agg2_waksman_switches(k);
    c->shuffle = k < 2 ? 0 : 2 * (WORD * k * w + sw * (COT_ROW + 4 * WORD * w));
    /* 32-bit adder (31 ANDs) and >= T (at most 32), the evaluator's 32
     * labels (the garbler's are folded), the decoding and the output label
     * returned to the garbler */
    c->compare = k * (63 * AND_GATE + 32 * COT_ROW + 2 * COT_ROW);
    c->release = OVL_FRAME_HDR + 4 + WORD * w * in->released;
    /* The OT sessions (cpsi's equality, cpsi's share phase when it has a
     * payload, the products and shuffles here, the comparison), each one
     * OT_BASE per party; the labels; HELLOs and the runs' few small frames. */
    uint64_t sessions = L ? 4 : 3;
    c->fixed = sessions * 2 * (OVL_AGG2_OT_BASE_LEN + OVL_FRAME_HDR) +
               (uint64_t)in->helper_groups * (OVL_AGG2_LABEL_LEN + 16) +
               ((uint64_t)in->helper_groups + OVL_AGG2_LABELS_PER_FRAME - 1) /
                   OVL_AGG2_LABELS_PER_FRAME * (OVL_FRAME_HDR + 4) +
               FIXED_FRAMES;
    /* every COT batch's padding and headers */
    ovl_agg2_layout l = {in->groups_r, in->groups_c, in->words_r, in->words_c,
                         in->bits_r, in->bits_c, in->star, in->runner_receives};
    uint64_t ebits = c->sigma + (uint64_t)in->groups_c * in->bits_c;
    uint64_t e = batches_extra(B, ebits, OVL_COT_BATCH_MAX / ebits);
    if (L)
        e += 2 * batches_extra(B, 1, share_step(L));
    for (int kind = OVL_AGG2_PROD_A; kind <= OVL_AGG2_PROD_B_FLAG; kind++)
        e += batches_extra(B, ovl_agg2_prod_cots_per_bin(&l, (ovl_agg2_prod_kind)kind),
                           ovl_agg2_prod_bins_per_batch(&l, (ovl_agg2_prod_kind)kind));
    if (k >= 2)
        e += 2 * (batches_extra(sw, 1, ovl_shuffle_batch_max(w)) +
                  (sw + ovl_shuffle_batch_max(w) - 1) / ovl_shuffle_batch_max(w) *
                      (OVL_FRAME_HDR + OVL_OT_BATCH_HDR) +
                  (k * w * WORD + OVL_FRAME_MAX_PAYLOAD - 1) / OVL_FRAME_MAX_PAYLOAD *
                      (OVL_FRAME_HDR + 9));
    e += batches_extra(k, 32, OVL_COT_BATCH_MAX / 32);
    c->batches = e;
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
    out->oprf = ovl_cpsi_oprf_bytes(in->n);
    out->store = store_bytes(in);
    uint64_t bin = out->cpsi_base + out->payload + out->bits + out->type_a + out->type_b;
    out->total = bin * out->bins + out->oprf + out->store + out->shuffle + out->compare +
                 out->release + out->fixed + out->batches;
    return OVL_OK;
}
