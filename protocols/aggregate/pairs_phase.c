/* The pairs phase (aggregate/pairs_phase.h, CONDITIONS.md §4, §5): circuit
 * inputs of the bin circuit and the three COT products over its XOR-shared
 * outputs. A product of a shared bit z = z_R ⊕ z_C with a vector u known to
 * the sender S is one COT: the receiver's choice is its bit share, S's
 * correlation (1 − 2z_S)·u, and z·u = z_S·u + z_other·(1 − 2z_S)·u. */
#include "aggregate/pairs_phase.h"

#include <string.h>

#include <sodium.h>

#include "aggregate/ident.h"
#include "core/guard.h"
#include "core/mem.h"
#include "aggregate/cost.h"
#include "cpsi/cpsi.h"
#include "cpsi/cuckoo.h"
#include "mpc/okvs.h"
#include "mpc/circuit.h"
#include "mpc/gc.h"
#include "mpc/shares.h"

/* Kept outputs (one byte per bit) of one chunk's garbled run: the memory of a
 * chunk, whatever the GC engine's own cap. */
#define PP_CHUNK_OUTPUT_BYTES ((size_t)256 << 20)

#define WORD_BITS 64u

static size_t cells(const ovl_pp_layout *l)
{
    return (size_t)l->s.groups_r * l->s.groups_c;
}

static size_t pairs(const ovl_pp_layout *l)
{
    return (size_t)l->s.cap_r * l->s.cap_c;
}

size_t ovl_pp_runner_bits(const ovl_pp_layout *l)
{
    return (size_t)l->s.cap_r * ovl_pc_runner_row_bits(&l->s);
}

size_t ovl_pp_contrib_bits(const ovl_pp_layout *l)
{
    return (size_t)l->s.cap_c * ovl_pc_contrib_row_bits(&l->s);
}

uint32_t ovl_pp_gate_every(const ovl_pp_layout *l) { return ovl_pc_contrib_row_bits(&l->s); }

size_t ovl_pp_out_bits(const ovl_pp_layout *l)
{
    return ovl_pc_out_bits(&l->s);
}

size_t ovl_pp_garbler_bits(const ovl_pp_layout *l)
{
    return ovl_pp_contrib_bits(l) + ovl_pp_out_bits(l);
}

size_t ovl_pp_evaluator_bits(const ovl_pp_layout *l)
{
    return ovl_pp_runner_bits(l) + ovl_pp_contrib_bits(l);
}

size_t ovl_pp_gc_bins_max(const ovl_pp_layout *l)
{
    size_t by_out = PP_CHUNK_OUTPUT_BYTES / ovl_pp_out_bits(l);
    return by_out < OVL_GC_MAX_INSTANCES ? by_out : OVL_GC_MAX_INSTANCES;
}

void ovl_pp_cells_layout(ovl_agg2_layout *out, const ovl_pp_layout *l)
{
    /* The count widths are not used by the cell words or the records. */
    *out = (ovl_agg2_layout){.groups_r = l->s.groups_r, .groups_c = l->s.groups_c,
                             .words_r = l->words_r, .words_c = l->words_c, .bits_r = 1,
                             .bits_c = 1, .star = l->star};
}

bool ovl_pp_runner_receives(ovl_pp_kind k)
{
    return k == OVL_PP_PROD_CONTRIB;
}

/* Words per COT of a kind. */
static size_t vec_words(const ovl_pp_layout *l, ovl_pp_kind k)
{
    switch (k) {
    case OVL_PP_PROD_ROWS:
        return (size_t)l->star + l->words_r + l->words_c;
    case OVL_PP_PROD_CONTRIB:
        return l->words_c;
    default:
        return 1;
    }
}

size_t ovl_pp_cots_per_bin(const ovl_pp_layout *l, ovl_pp_kind k)
{
    if (vec_words(l, k) == 0)
        return 0;
    return k == OVL_PP_PROD_FLAG ? cells(l) : pairs(l) * cells(l);
}

size_t ovl_pp_bins_per_batch(const ovl_pp_layout *l, ovl_pp_kind k)
{
    size_t c = ovl_pp_cots_per_bin(l, k), L = vec_words(l, k);
    if (c == 0)
        return 0;
    size_t by_cots = OVL_COT_BATCH_MAX / c;
    size_t by_frame = (OVL_SHARE_MAX_MSG - 64) / (c * L * 8);
    return by_cots < by_frame ? by_cots : by_frame;
}

ovl_err ovl_pp_layout_check(const ovl_pp_layout *l)
{
    ovl_err rc = ovl_pc_shape_check(&l->s);
    if (rc != OVL_OK)
        return rc;
    if (l->words_r > 2 * OVL_AGG2_MAX_COLS || l->words_c > 2 * OVL_AGG2_MAX_COLS || l->star > 1)
        return ovl_err_set(OVL_ERR_USAGE, "pairs phase: %u and %u value words per row, at most %u",
                           l->words_r, l->words_c, 2 * OVL_AGG2_MAX_COLS);
    if (ovl_pp_garbler_bits(l) > OVL_GC_MAX_IO_BITS || ovl_pp_out_bits(l) > OVL_GC_MAX_IO_BITS ||
        ovl_pp_evaluator_bits(l) > OVL_GC_MAX_IO_BITS)
        return ovl_err_set(OVL_ERR_LIMIT,
                           "pairs phase: caps %u x %u with %zu cells need %zu circuit outputs "
                           "per bin, at most %u",
                           l->s.cap_r, l->s.cap_c, cells(l), ovl_pp_out_bits(l),
                           OVL_GC_MAX_IO_BITS);
    for (int k = OVL_PP_PROD_ROWS; k <= OVL_PP_PROD_FLAG; k++)
        if (vec_words(l, (ovl_pp_kind)k) > OVL_SHARE_MAX_WORDS ||
            (ovl_pp_cots_per_bin(l, (ovl_pp_kind)k) > 0 &&
             ovl_pp_bins_per_batch(l, (ovl_pp_kind)k) == 0))
            return ovl_err_set(OVL_ERR_LIMIT,
                               "pairs phase: caps %u x %u with %zu cells need %zu products "
                               "per bin, more than one batch carries",
                               l->s.cap_r, l->s.cap_c, cells(l),
                               ovl_pp_cots_per_bin(l, (ovl_pp_kind)k));
    return OVL_OK;
}

/* ---- rows */

static size_t put(uint8_t *bits, size_t at, uint64_t v, uint32_t n)
{
    ovl_bits_from_u64(bits + at, n, v);
    return at + n;
}

static uint64_t width_mask(uint32_t n)
{
    return n >= 64 ? UINT64_MAX : ((uint64_t)1 << n) - 1;
}

static ovl_err row_put(uint8_t *bits, const ovl_pp_layout *l, const ovl_pp_row *r,
                       bool contrib)
{
    uint32_t groups = contrib ? l->s.groups_c : l->s.groups_r;
    if (r->valid && r->group >= groups)
        return ovl_err_set(OVL_ERR_USAGE, "pairs phase: row group %u of %u", r->group, groups);
    size_t at = put(bits, 0, r->valid, 1);
    if (groups > 1)
        for (uint32_t g = 0; g < groups; g++)
            at = put(bits, at, r->valid && r->group == g, 1);
    for (uint32_t k = 0; k < l->s.nconds; k++) {
        const ovl_pc_cond *c = &l->s.conds[k];
        uint32_t words = contrib && c->op == OVL_PC_BETWEEN ? 2 : 1;
        for (uint32_t w = 0; w < words; w++) {
            /* A padding row is zero throughout, whatever its words held. */
            uint64_t v = r->valid ? r->word[k][w] : 0;
            if ((v & ~width_mask(c->width)) != 0)
                return ovl_err_set(OVL_ERR_USAGE, "pairs phase: condition %u word over %u bits",
                                   k, c->width);
            at = put(bits, at, v, c->width);
        }
    }
    return OVL_OK;
}

ovl_err ovl_pp_runner_row_put(uint8_t *bits, const ovl_pp_layout *l, const ovl_pp_row *r)
{
    return row_put(bits, l, r, false);
}

ovl_err ovl_pp_contrib_row_put(uint8_t *bits, const ovl_pp_layout *l, const ovl_pp_row *r)
{
    return row_put(bits, l, r, true);
}

/* ---- the owners' rows */

static ovl_err rows_check(const ovl_pp_rows *rows, uint32_t cap)
{
    if (rows->first == NULL || rows->first[0] != 0)
        return ovl_err_set(OVL_ERR_USAGE, "pairs phase: no rows index");
    for (uint32_t x = 0; x < rows->nids; x++)
        if (rows->first[x + 1] < rows->first[x] || rows->first[x + 1] - rows->first[x] > cap)
            return ovl_err_set(OVL_ERR_USAGE,
                               "pairs phase: identifier %u has more rows than the cap of %u", x,
                               cap);
    return OVL_OK;
}

ovl_err ovl_pp_cpsi_check(const ovl_pp_layout *l)
{
    size_t words = (size_t)l->s.cap_c * l->words_c;
    size_t bit_words = (ovl_pp_contrib_bits(l) + 63) / 64;
    if (words > OVL_CPSI_MAX_WORDS || 1 + words + bit_words > OVL_OKVS_MAX_WORDS ||
        ovl_pp_contrib_bits(l) > OVL_CPSI_MAX_BIT_GROUPS)
        return ovl_err_set(OVL_ERR_LIMIT,
                           "pairs phase: %u contributor rows of %u value words and %zu bits "
                           "exceed circuit PSI's payload (%u words, %u store words)",
                           l->s.cap_c, l->words_c, ovl_pp_contrib_bits(l),
                           OVL_CPSI_MAX_WORDS, OVL_OKVS_MAX_WORDS);
    return OVL_OK;
}

ovl_err ovl_pp_contrib_payload(uint16_t *bits, uint64_t *words, const ovl_pp_layout *l,
                               const ovl_pp_rows *rows)
{
    ovl_err rc = OVL_OK;
    uint8_t *one = NULL;
    size_t cb = ovl_pc_contrib_row_bits(&l->s), nb = ovl_pp_contrib_bits(l);
    size_t nw = (size_t)l->s.cap_c * l->words_c;
    OVL_TRY(ovl_pp_layout_check(l));
    OVL_TRY(ovl_pp_cpsi_check(l));
    OVL_TRY(rows_check(rows, l->s.cap_c));
    OVL_TRY(ovl_calloc((void **)&one, nb, 1));
    for (uint32_t x = 0; x < rows->nids; x++) {
        uint32_t r0 = rows->first[x], n = rows->first[x + 1] - r0;
        ovl_pp_row pad = {0};
        for (uint32_t j = 0; j < l->s.cap_c; j++)
            OVL_TRY(ovl_pp_contrib_row_put(one + j * cb, l, j < n ? &rows->row[r0 + j] : &pad));
        for (size_t i = 0; i < nb; i++)
            bits[(size_t)x * nb + i] = one[i];
        uint64_t *w = words + (size_t)x * nw;
        memset(w, 0, nw * sizeof *w);
        for (uint32_t j = 0; j < n && l->words_c > 0; j++)
            memcpy(w + (size_t)j * l->words_c, rows->words + (size_t)(r0 + j) * l->words_c,
                   l->words_c * sizeof *w);
    }
done:
    ovl_free_secret(one, nb);
    return rc;
}

ovl_err ovl_pp_runner_bins(uint8_t *rrow, uint64_t *rw, const ovl_pp_layout *l,
                           const ovl_pp_rows *rows, const uint32_t *bin_item, size_t bins)
{
    ovl_err rc = OVL_OK;
    size_t rb = ovl_pc_runner_row_bits(&l->s), nb = ovl_pp_runner_bits(l);
    size_t nw = (size_t)l->s.cap_r * l->words_r;
    OVL_TRY(ovl_pp_layout_check(l));
    OVL_TRY(rows_check(rows, l->s.cap_r));
    for (size_t b = 0; b < bins; b++) {
        uint32_t x = bin_item[b], r0 = 0, n = 0;
        OVL_ENSURE(x == UINT32_MAX || x < rows->nids, OVL_ERR_USAGE,
                   "pairs phase: bin %zu holds identifier %u of %u", b, x, rows->nids);
        if (x != UINT32_MAX)
            r0 = rows->first[x], n = rows->first[x + 1] - r0;
        ovl_pp_row pad = {0};
        for (uint32_t i = 0; i < l->s.cap_r; i++)
            OVL_TRY(ovl_pp_runner_row_put(rrow + b * nb + i * rb, l,
                                          i < n ? &rows->row[r0 + i] : &pad));
        uint64_t *w = rw + b * nw;
        memset(w, 0, nw * sizeof *w);
        for (uint32_t i = 0; i < n && l->words_r > 0; i++)
            memcpy(w + (size_t)i * l->words_r, rows->words + (size_t)(r0 + i) * l->words_r,
                   l->words_r * sizeof *w);
    }
done:
    return rc;
}

/* ---- circuit inputs (ovl_circuit_pairs: garbler x, masks; evaluator rows, y) */

ovl_err ovl_pp_garbler_input(uint8_t *in, uint8_t *z, const ovl_pp_layout *l,
                             const uint8_t *crow, size_t bins, ovl_rng *rng)
{
    ovl_err rc = ovl_pp_layout_check(l);
    if (rc != OVL_OK)
        return rc;
    size_t cb = ovl_pp_contrib_bits(l), ob = ovl_pp_out_bits(l), gb = cb + ob;
    uint8_t mask[256];
    for (size_t b = 0; b < bins; b++) {
        uint8_t *x = in + b * gb;
        for (size_t i = 0; i < cb; i++)
            x[i] = crow[b * cb + i] & 1u;
        for (size_t i = 0; i < ob; i += sizeof mask) {
            size_t n = ob - i < sizeof mask ? ob - i : sizeof mask;
            ovl_rng_bytes(rng, mask, n);
            for (size_t t = 0; t < n; t++)
                x[cb + i + t] = z[b * ob + i + t] = mask[t] & 1u;
        }
    }
    sodium_memzero(mask, sizeof mask);
    return OVL_OK;
}

ovl_err ovl_pp_evaluator_input(uint8_t *in, const ovl_pp_layout *l, const uint8_t *rrow,
                               const uint8_t *crow, size_t bins)
{
    ovl_err rc = ovl_pp_layout_check(l);
    if (rc != OVL_OK)
        return rc;
    size_t rb = ovl_pp_runner_bits(l), cb = ovl_pp_contrib_bits(l), eb = rb + cb;
    for (size_t b = 0; b < bins; b++) {
        for (size_t i = 0; i < rb; i++)
            in[b * eb + i] = rrow[b * rb + i] & 1u;
        for (size_t i = 0; i < cb; i++)
            in[b * eb + rb + i] = crow[b * cb + i] & 1u;
    }
    return OVL_OK;
}

/* ---- products */

static ovl_err check_batch(const ovl_cot *b, const ovl_pp_layout *l, ovl_pp_kind k, size_t bins)
{
    ovl_err rc = ovl_pp_layout_check(l);
    if (rc != OVL_OK)
        return rc;
    size_t per = ovl_pp_cots_per_bin(l, k);
    if (per == 0 || bins < 1 || bins > ovl_pp_bins_per_batch(l, k) ||
        (b != NULL && ovl_cot_count(b) != bins * per))
        return ovl_err_set(OVL_ERR_USAGE, "pairs phase: a batch of %zu COTs for %zu bins of %zu",
                           b ? ovl_cot_count(b) : 0, bins, per);
    return OVL_OK;
}

/* The output bit behind COT t of a batch: pair-cell bits in output order for
 * ROWS and CONTRIB, the cell flags for FLAG. */
static uint8_t cot_bit(const ovl_pp_layout *l, ovl_pp_kind k, const uint8_t *z, size_t t)
{
    size_t per = ovl_pp_cots_per_bin(l, k), ob = ovl_pp_out_bits(l);
    size_t bin = t / per, r = t % per;
    size_t at = k == OVL_PP_PROD_FLAG ? pairs(l) * cells(l) + r : r;
    return z[bin * ob + at] & 1u;
}

ovl_err ovl_pp_choices(uint8_t *choices, const ovl_pp_layout *l, ovl_pp_kind k,
                       const uint8_t *z, size_t bins)
{
    ovl_err rc = check_batch(NULL, l, k, bins);
    if (rc != OVL_OK)
        return rc;
    size_t n = bins * ovl_pp_cots_per_bin(l, k);
    memset(choices, 0, (n + 7) / 8);
    for (size_t t = 0; t < n; t++)
        choices[t / 8] |= (uint8_t)(cot_bit(l, k, z, t) << (t % 8));
    return OVL_OK;
}

/* The sender's vector u of COT t (L words). */
static void vector(uint64_t *u, const ovl_pp_layout *l, ovl_pp_kind k, const uint64_t *rw,
                   const uint64_t *x, size_t t)
{
    size_t per = ovl_pp_cots_per_bin(l, k), bin = t / per, r = t % per;
    size_t pair = r / cells(l), i = pair / l->s.cap_c, j = pair % l->s.cap_c;
    const uint64_t *xr = x ? x + (bin * l->s.cap_c + j) * l->words_c : NULL;
    size_t at = 0;
    switch (k) {
    case OVL_PP_PROD_ROWS:
        if (l->star)
            u[at++] = 1;
        for (uint32_t q = 0; q < l->words_r; q++)
            u[at++] = rw[(bin * l->s.cap_r + i) * l->words_r + q];
        for (uint32_t s = 0; s < l->words_c; s++)
            u[at++] = xr[s];
        break;
    case OVL_PP_PROD_CONTRIB:
        for (uint32_t s = 0; s < l->words_c; s++)
            u[at++] = xr[s];
        break;
    default:
        u[0] = 1;
        break;
    }
}

/* cells += the shares of a batch, COT t into the cell its position names. */
static void add(uint64_t *cellw, const ovl_pp_layout *l, ovl_pp_kind k, const uint64_t *share,
                size_t bins)
{
    size_t per = ovl_pp_cots_per_bin(l, k), L = vec_words(l, k), K = cells(l);
    size_t P = 1u + l->star + l->words_r + l->words_c;
    size_t off = k == OVL_PP_PROD_ROWS ? 1 : k == OVL_PP_PROD_CONTRIB ? 1u + l->star + l->words_r
                                                                       : 0;
    for (size_t t = 0; t < bins * per; t++) {
        size_t cell = (t % per) % K;
        for (size_t w = 0; w < L; w++)
            cellw[cell * P + off + w] += share[t * L + w];
    }
}

static void words_free(uint64_t *p, size_t n)
{
    ovl_free_secret(p, n * sizeof *p);
}

ovl_err ovl_pp_send(ovl_cot *b, const ovl_pp_layout *l, ovl_pp_kind k, const uint8_t *z,
                    const uint64_t *rw, const uint64_t *x, size_t bins, ovl_buf *msg,
                    uint64_t *cellw)
{
    ovl_err rc = OVL_OK;
    uint64_t *corr = NULL, *s = NULL, *u = NULL;
    size_t n = 0;
    OVL_TRY(check_batch(b, l, k, bins));
    OVL_ENSURE((k != OVL_PP_PROD_ROWS || l->words_r == 0 || rw != NULL) &&
                   (k == OVL_PP_PROD_FLAG || l->words_c == 0 || x != NULL),
               OVL_ERR_USAGE, "pairs phase: the sender's value words are missing");
    size_t cots = bins * ovl_pp_cots_per_bin(l, k), L = vec_words(l, k);
    n = cots * L;
    OVL_TRY(ovl_calloc((void **)&corr, n, sizeof *corr));
    OVL_TRY(ovl_calloc((void **)&s, n, sizeof *s));
    OVL_TRY(ovl_calloc((void **)&u, n, sizeof *u));
    for (size_t t = 0; t < cots; t++) {
        uint64_t zs = cot_bit(l, k, z, t);
        vector(u + t * L, l, k, rw, x, t);
        for (size_t w = 0; w < L; w++)
            corr[t * L + w] = u[t * L + w] - 2 * zs * u[t * L + w]; /* (1 − 2z_S)·u */
    }
    OVL_TRY(ovl_share_cot_send(b, WORD_BITS, L, corr, s, msg));
    for (size_t t = 0; t < cots; t++) {
        uint64_t zs = cot_bit(l, k, z, t);
        for (size_t w = 0; w < L; w++)
            u[t * L + w] = zs * u[t * L + w] - s[t * L + w]; /* z_S·u − s */
    }
    add(cellw, l, k, u, bins);
done:
    words_free(corr, n);
    words_free(s, n);
    words_free(u, n);
    return rc;
}

ovl_err ovl_pp_recv(ovl_cot *b, const ovl_pp_layout *l, ovl_pp_kind k, size_t bins,
                    ovl_buf *msg, uint64_t *cellw)
{
    ovl_err rc = OVL_OK;
    uint64_t *out = NULL;
    size_t n = 0;
    OVL_TRY(check_batch(b, l, k, bins));
    n = bins * ovl_pp_cots_per_bin(l, k) * vec_words(l, k);
    OVL_TRY(ovl_calloc((void **)&out, n, sizeof *out));
    OVL_TRY(ovl_share_cot_recv(b, WORD_BITS, vec_words(l, k), msg, out)); /* s + z_R·c */
    add(cellw, l, k, out, bins);
done:
    words_free(out, n);
    return rc;
}

/* ---- cost */

ovl_err ovl_pp_cost_eval(ovl_pp_cost *out, const ovl_pp_layout *l, uint64_t n, uint64_t m)
{
    ovl_err rc = OVL_OK;
    ovl_pc_cost pc;
    memset(out, 0, sizeof *out);
    OVL_TRY(ovl_pp_layout_check(l));
    OVL_TRY(ovl_pp_cpsi_check(l));
    OVL_ENSURE(n >= 1 && n <= OVL_CPSI_MAX_SET && m <= OVL_CPSI_MAX_SET, OVL_ERR_USAGE,
               "pairs cost: set sizes outside 1..%u", OVL_CPSI_MAX_SET);
    OVL_TRY(ovl_pc_cost_eval(&pc, &l->s, l->words_r, l->words_c));
    uint64_t L = (uint64_t)l->s.cap_c * l->words_c, G = ovl_pp_contrib_bits(l);
    out->bins = ovl_cpsi_bins(n);
    out->sigma = ovl_cpsi_sigma(out->bins);
    /* The equality: its ANDs, the runner's labels, the match bit's decoding
     * and its frames; no share phase (the gate stride takes the words as the
     * store gives them, cpsi SPEC §6.6). ovl_pc_cost_eval assumes COUNT(*)
     * (L1 = 1 + k_R + k_C): without it, 8 bytes less per pair and cell. */
    uint64_t pk = (uint64_t)l->s.cap_r * l->s.cap_c * l->s.groups_r * l->s.groups_c;
    out->per_bin = 32 * (uint64_t)(out->sigma - 1) + 16 * (uint64_t)out->sigma + 17 +
                   OVL_PC_GC_FRAMING + pc.bytes - (l->star ? 0 : 8 * pk);
    out->oprf = ovl_cpsi_oprf_bytes(n);
    out->store = 8 * (1 + L + (G + 63) / 64) * 3 * ((13 * 3 * m + 29) / 30 + 8);
    out->fixed = 3 * 2 * (uint64_t)OVL_AGG2_OT_BASE_LEN;
    out->total = out->per_bin * out->bins + out->oprf + out->store + out->fixed;
done:
    return rc;
}
