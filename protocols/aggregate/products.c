/* overlap: the products of aggregates version 2 (products.h, SPEC.md §7). */
#include "aggregate/products.h"

#include <string.h>

#include <sodium.h>

#include "aggregate/ident.h"
#include "core/guard.h"
#include "core/mem.h"
#include "mpc/shares.h"

#define WORD_BITS 64u

size_t ovl_agg2_prod_words(const ovl_agg2_layout *l)
{
    return 1u + l->star + l->words_r + l->words_c;
}

size_t ovl_agg2_prod_cells(const ovl_agg2_layout *l)
{
    return (size_t)l->groups_r * l->groups_c;
}

/* N's word in the contributor's payload (type A) or in R's type-B vector. */
static uint32_t star_a(const ovl_agg2_layout *l)
{
    return l->star && l->runner_recv ? 1u : 0u;
}

static uint32_t star_b(const ovl_agg2_layout *l)
{
    return l->star && !l->runner_recv ? 1u : 0u;
}

/* Payload words per contributor group in kind A's slice. */
static size_t a_per_group(const ovl_agg2_layout *l)
{
    return (size_t)l->words_c + star_a(l);
}

size_t ovl_agg2_payload_words(const ovl_agg2_layout *l)
{
    return (size_t)l->groups_c * a_per_group(l) + (l->runner_recv ? l->groups_c : 0u);
}

bool ovl_agg2_prod_runner_chooses(const ovl_agg2_layout *l, ovl_agg2_prod_kind k)
{
    return k == OVL_AGG2_PROD_A || (k == OVL_AGG2_PROD_B_FLAG && l->runner_recv);
}

/* Words per COT of a kind. */
static size_t vec_words(const ovl_agg2_layout *l, ovl_agg2_prod_kind k)
{
    switch (k) {
    case OVL_AGG2_PROD_A:
        return (size_t)l->groups_c * a_per_group(l);
    case OVL_AGG2_PROD_B_COUNT:
        return (size_t)l->groups_r * (star_b(l) + l->words_r);
    default:
        return l->runner_recv ? l->groups_c : l->groups_r;
    }
}

/* The bits of R's factor in a kind it chooses in: nR's, or the flag's one. */
static uint32_t a_bits(const ovl_agg2_layout *l, ovl_agg2_prod_kind k)
{
    return k == OVL_AGG2_PROD_A ? l->bits_r : 1u;
}

size_t ovl_agg2_prod_cots_per_bin(const ovl_agg2_layout *l, ovl_agg2_prod_kind k)
{
    if (vec_words(l, k) == 0)
        return 0;
    if (ovl_agg2_prod_runner_chooses(l, k))
        return (size_t)l->groups_r * a_bits(l, k);
    return k == OVL_AGG2_PROD_B_COUNT ? (size_t)l->groups_c * l->bits_c : l->groups_c;
}

size_t ovl_agg2_prod_bins_per_batch(const ovl_agg2_layout *l, ovl_agg2_prod_kind k)
{
    size_t c = ovl_agg2_prod_cots_per_bin(l, k), L = vec_words(l, k);
    if (c == 0)
        return 0;
    size_t by_cots = OVL_COT_BATCH_MAX / c;
    size_t by_frame = (OVL_SHARE_MAX_MSG - 64) / (c * L * 8);
    return by_cots < by_frame ? by_cots : by_frame;
}

ovl_err ovl_agg2_layout_check(const ovl_agg2_layout *l)
{
    if (l->groups_r < 1 || l->groups_c < 1 || ovl_agg2_prod_cells(l) > OVL_AGG2_MAX_GROUPS ||
        l->words_r > 2 * OVL_AGG2_MAX_COLS || l->words_c > 2 * OVL_AGG2_MAX_COLS ||
        l->bits_r < 1 || l->bits_r > OVL_AGG2_MAX_COUNT_BITS || l->bits_c < 1 ||
        l->bits_c > OVL_AGG2_MAX_COUNT_BITS || l->star > 1 || l->runner_recv > 1)
        return ovl_err_set(OVL_ERR_USAGE, "aggregate products: layout outside the caps");
    /* One COT carries at most OVL_SHARE_MAX_WORDS words of its vector. */
    for (int k = OVL_AGG2_PROD_A; k <= OVL_AGG2_PROD_B_FLAG; k++)
        if (vec_words(l, (ovl_agg2_prod_kind)k) > OVL_SHARE_MAX_WORDS ||
            (ovl_agg2_prod_cots_per_bin(l, (ovl_agg2_prod_kind)k) > 0 &&
             ovl_agg2_prod_bins_per_batch(l, (ovl_agg2_prod_kind)k) == 0))
            return ovl_err_set(OVL_ERR_LIMIT,
                               "aggregate products: %u x %u groups with %u and %u words per "
                               "group need vectors over %u words per OT",
                               l->groups_r, l->groups_c, l->words_r, l->words_c,
                               OVL_SHARE_MAX_WORDS);
    return OVL_OK;
}

static ovl_err check_batch(const ovl_cot *b, const ovl_agg2_layout *l, ovl_agg2_prod_kind k,
                           size_t bins, bool runner_chooses)
{
    ovl_err rc = ovl_agg2_layout_check(l);
    if (rc != OVL_OK)
        return rc;
    if (ovl_agg2_prod_runner_chooses(l, k) != runner_chooses)
        return ovl_err_set(OVL_ERR_USAGE, "aggregate products: kind %d is type %s here", (int)k,
                           runner_chooses ? "B" : "A");
    size_t per = ovl_agg2_prod_cots_per_bin(l, k);
    if (per == 0 || bins < 1 || bins > ovl_agg2_prod_bins_per_batch(l, k) ||
        ovl_cot_count(b) != bins * per)
        return ovl_err_set(OVL_ERR_USAGE, "aggregate products: a batch of %zu COTs for %zu bins "
                           "of %zu", ovl_cot_count(b), bins, per);
    return OVL_OK;
}

static void words_free(uint64_t *p, size_t n)
{
    ovl_free_secret(p, n * sizeof *p);
}

/* ---- Type A */

/* Where a kind's slice starts in a bin's payload. */
static size_t a_offset(const ovl_agg2_layout *l, ovl_agg2_prod_kind k)
{
    return k == OVL_AGG2_PROD_A ? 0 : (size_t)l->groups_c * a_per_group(l);
}

/* R's factor of (bin, g) in a kind: nR, or fR = [nR > 0]. */
static uint64_t a_factor(ovl_agg2_prod_kind k, uint32_t n)
{
    return k == OVL_AGG2_PROD_A ? n : (uint64_t)(n > 0);
}

ovl_err ovl_agg2_prod_a_choices(uint8_t *choices, ovl_agg2_prod_kind k, const ovl_agg2_layout *l,
                                const uint32_t *nr, size_t bins)
{
    ovl_err rc = OVL_OK;
    size_t count = bins * l->groups_r;
    uint64_t *v = NULL;
    OVL_TRY(ovl_agg2_layout_check(l));
    OVL_ENSURE(ovl_agg2_prod_runner_chooses(l, k), OVL_ERR_USAGE,
               "aggregate products: kind %d is type B here", (int)k);
    OVL_TRY(ovl_calloc((void **)&v, count, sizeof *v));
    for (size_t i = 0; i < count; i++)
        v[i] = a_factor(k, nr[i]);
    ovl_share_value_bits(choices, v, count, a_bits(l, k));
done:
    words_free(v, count);
    return rc;
}

/* cells(g, c) += share of (bin, g): kind A's N and contributor words, or D */
static void add_a(uint64_t *cells, ovl_agg2_prod_kind k, const ovl_agg2_layout *l,
                  const uint64_t *share, size_t bins)
{
    size_t P = ovl_agg2_prod_words(l), L = vec_words(l, k), per = a_per_group(l);
    size_t off = 1u + l->star + l->words_r;
    uint32_t sa = star_a(l);
    for (size_t i = 0; i < bins; i++)
        for (uint32_t g = 0; g < l->groups_r; g++) {
            const uint64_t *sh = share + (i * l->groups_r + g) * L;
            for (uint32_t c = 0; c < l->groups_c; c++) {
                uint64_t *cell = cells + ((size_t)g * l->groups_c + c) * P;
                if (k != OVL_AGG2_PROD_A) {
                    cell[0] += sh[c];
                    continue;
                }
                if (sa)
                    cell[1] += sh[(size_t)c * per];
                for (uint32_t s = 0; s < l->words_c; s++)
                    cell[off + s] += sh[(size_t)c * per + sa + s];
            }
        }
}

ovl_err ovl_agg2_prod_a_recv(ovl_cot *b, ovl_agg2_prod_kind k, const ovl_agg2_layout *l,
                             const uint32_t *nr, const uint64_t *own, size_t bins, ovl_buf *msg,
                             uint64_t *cells)
{
    ovl_err rc = OVL_OK;
    size_t L = vec_words(l, k), n = bins * l->groups_r * L;
    size_t PW = ovl_agg2_payload_words(l), at = a_offset(l, k);
    uint64_t *share = NULL;
    OVL_TRY(check_batch(b, l, k, bins, true));
    OVL_TRY(ovl_calloc((void **)&share, n, sizeof *share));
    OVL_TRY(ovl_share_mul_recv(b, WORD_BITS, L, a_bits(l, k), msg, share));
    /* The runner's own share times its own factor is local. */
    for (size_t i = 0; i < bins; i++)
        for (uint32_t g = 0; g < l->groups_r; g++) {
            uint64_t f = a_factor(k, nr[i * l->groups_r + g]);
            for (size_t w = 0; w < L; w++)
                share[(i * l->groups_r + g) * L + w] += f * own[i * PW + at + w];
        }
    add_a(cells, k, l, share, bins);
done:
    words_free(share, n);
    return rc;
}

ovl_err ovl_agg2_prod_a_send(ovl_cot *b, ovl_agg2_prod_kind k, const ovl_agg2_layout *l,
                             const uint64_t *payload, size_t bins, ovl_buf *msg, uint64_t *cells)
{
    ovl_err rc = OVL_OK;
    size_t L = vec_words(l, k), n = bins * l->groups_r * L;
    size_t PW = ovl_agg2_payload_words(l), at = a_offset(l, k);
    uint64_t *v = NULL, *share = NULL;
    OVL_TRY(check_batch(b, l, k, bins, true));
    OVL_TRY(ovl_calloc((void **)&v, n, sizeof *v));
    OVL_TRY(ovl_calloc((void **)&share, n, sizeof *share));
    for (size_t i = 0; i < bins; i++)
        for (uint32_t g = 0; g < l->groups_r; g++)
            memcpy(v + (i * l->groups_r + g) * L, payload + i * PW + at, L * sizeof *v);
    OVL_TRY(ovl_share_mul_send(b, WORD_BITS, L, a_bits(l, k), v, share, msg));
    add_a(cells, k, l, share, bins);
done:
    words_free(v, n);
    words_free(share, n);
    return rc;
}

/* ---- Type B */

static size_t bits_per_cell(const ovl_agg2_layout *l, ovl_agg2_prod_kind k)
{
    return k == OVL_AGG2_PROD_B_COUNT ? l->bits_c : 1u;
}

ovl_err ovl_agg2_prod_b_choices(uint8_t *choices, ovl_agg2_prod_kind k, const ovl_agg2_layout *l,
                                const uint8_t *beta, size_t bins)
{
    ovl_err rc = ovl_agg2_layout_check(l);
    if (rc != OVL_OK)
        return rc;
    if (ovl_agg2_prod_runner_chooses(l, k))
        return ovl_err_set(OVL_ERR_USAGE, "aggregate products: kind %d is type A here", (int)k);
    size_t n = bins * l->groups_c * bits_per_cell(l, k);
    memset(choices, 0, (n + 7) / 8);
    for (size_t t = 0; t < n; t++)
        choices[t / 8] |= (uint8_t)((beta[t] & 1u) << (t % 8));
    return OVL_OK;
}

/* R's vector for COT t = (i·G_C + c)·bits + j: 2^j·(nR, runner words) per g,
 * or the flags fR per g. */
static void b_vector(uint64_t *u, ovl_agg2_prod_kind k, const ovl_agg2_layout *l,
                     const uint32_t *nr, const uint64_t *rw, size_t i, uint32_t j)
{
    size_t sb = star_b(l), per = sb + l->words_r;
    for (uint32_t g = 0; g < l->groups_r; g++) {
        uint32_t n = nr[i * l->groups_r + g];
        if (k == OVL_AGG2_PROD_B_FLAG) {
            u[g] = n > 0;
            continue;
        }
        uint64_t *ug = u + (size_t)g * per;
        if (sb)
            ug[0] = (uint64_t)n << j;
        for (uint32_t q = 0; q < l->words_r; q++)
            ug[sb + q] = rw[(i * l->groups_r + g) * l->words_r + q] << j;
    }
}

/* cells(g, c) D or (N, runner words) += share of COT t */
static void add_b(uint64_t *cells, ovl_agg2_prod_kind k, const ovl_agg2_layout *l,
                  const uint64_t *share, size_t bins)
{
    size_t P = ovl_agg2_prod_words(l), L = vec_words(l, k), bits = bits_per_cell(l, k);
    /* B_COUNT: N (without runner_recv), then the runner's words after N's place */
    size_t per = k == OVL_AGG2_PROD_B_FLAG ? 1 : star_b(l) + l->words_r;
    size_t off = k == OVL_AGG2_PROD_B_FLAG ? 0 : 1u + l->star - star_b(l);
    for (size_t i = 0; i < bins; i++)
        for (uint32_t c = 0; c < l->groups_c; c++)
            for (size_t j = 0; j < bits; j++) {
                const uint64_t *sh = share + ((i * l->groups_c + c) * bits + j) * L;
                for (uint32_t g = 0; g < l->groups_r; g++)
                    for (size_t q = 0; q < per; q++)
                        cells[((size_t)g * l->groups_c + c) * P + off + q] += sh[g * per + q];
            }
}

ovl_err ovl_agg2_prod_b_send(ovl_cot *b, ovl_agg2_prod_kind k, const ovl_agg2_layout *l,
                             const uint8_t *beta, const uint32_t *nr, const uint64_t *rw,
                             size_t bins, ovl_buf *msg, uint64_t *cells)
{
    ovl_err rc = OVL_OK;
    size_t L = vec_words(l, k), bits = bits_per_cell(l, k);
    size_t cots = bins * l->groups_c * bits, n = cots * L;
    uint64_t *corr = NULL, *s = NULL, *u = NULL;
    OVL_TRY(check_batch(b, l, k, bins, false));
    OVL_TRY(ovl_calloc((void **)&corr, n, sizeof *corr));
    OVL_TRY(ovl_calloc((void **)&s, n, sizeof *s));
    OVL_TRY(ovl_calloc((void **)&u, n, sizeof *u));
    for (size_t t = 0; t < cots; t++) {
        size_t i = t / (l->groups_c * bits);
        b_vector(u + t * L, k, l, nr, rw, i, (uint32_t)(t % bits));
        uint64_t br = beta[t] & 1u;
        for (size_t w = 0; w < L; w++)
            corr[t * L + w] = u[t * L + w] - 2 * br * u[t * L + w]; /* (1 − 2β_R)·u */
    }
    OVL_TRY(ovl_share_cot_send(b, WORD_BITS, L, corr, s, msg));
    for (size_t t = 0; t < cots; t++)
        for (size_t w = 0; w < L; w++)
            u[t * L + w] = (beta[t] & 1u) * u[t * L + w] - s[t * L + w]; /* β_R·u − s */
    add_b(cells, k, l, u, bins);
done:
    words_free(corr, n);
    words_free(s, n);
    words_free(u, n);
    return rc;
}

ovl_err ovl_agg2_prod_b_recv(ovl_cot *b, ovl_agg2_prod_kind k, const ovl_agg2_layout *l,
                             size_t bins, ovl_buf *msg, uint64_t *cells)
{
    ovl_err rc = OVL_OK;
    size_t L = vec_words(l, k), n = bins * l->groups_c * bits_per_cell(l, k) * L;
    uint64_t *out = NULL;
    OVL_TRY(check_batch(b, l, k, bins, false));
    OVL_TRY(ovl_calloc((void **)&out, n, sizeof *out));
    OVL_TRY(ovl_share_cot_recv(b, WORD_BITS, L, msg, out)); /* s + β_C·(1 − 2β_R)·u */
    add_b(cells, k, l, out, bins);
done:
    words_free(out, n);
    return rc;
}
