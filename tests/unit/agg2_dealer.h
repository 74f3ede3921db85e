/* A test-only dealer standing in for circuit PSI in the aggregate v2 tests:
 * from both parties' plaintext tables it places the runner's identifiers in
 * bins and deals random shares of b_i·payload and XOR shares of the count
 * bits and flags, the shapes protocols/cpsi leaves; plus the products run
 * batch by batch over an in-process OT pair, and the expected cells of SPEC
 * §1 computed straight from the tables. Never part of the product. */
#ifndef OVL_AGG2_DEALER_H
#define OVL_AGG2_DEALER_H

#include <sodium.h>
#include <stdlib.h>

#include "aggregate/ident.h"
#include "aggregate/products.h"
#include "core/guard.h"
#include "ot_harness.h"

enum { NIDS = 48, BINS = 64, COLS = 2, MAXROWS = 160 };

typedef struct {
    uint32_t id[MAXROWS], group[MAXROWS];
    int64_t value[MAXROWS * COLS];
    uint8_t null[MAXROWS * COLS];
} rows_t;

/* Rows of identifiers [lo, hi) only, so the sets overlap partially. */
static inline ovl_err table(ovl_agg_ident *t, rows_t *r, uint32_t lo, uint32_t hi,
                            uint32_t groups, uint32_t bits)
{
    static uint32_t seen[NIDS * 16];
    memset(seen, 0, sizeof seen);
    size_t cap = (size_t)(hi - lo) * groups * ((1u << bits) - 1) / 2;
    size_t nrows = cap < MAXROWS ? cap : MAXROWS;
    for (size_t i = 0; i < nrows; i++) {
        /* Never more rows per identifier and group than the width allows. */
        do {
            r->id[i] = lo + randombytes_uniform(hi - lo);
            r->group[i] = randombytes_uniform(groups);
        } while (seen[r->id[i] * 16 + r->group[i]] + 1 >= (1u << bits));
        seen[r->id[i] * 16 + r->group[i]]++;
        for (int s = 0; s < COLS; s++) {
            r->value[i * COLS + s] = (int64_t)randombytes_uniform(2000001) - 1000000;
            r->null[i * COLS + s] = randombytes_uniform(5) == 0;
        }
    }
    ovl_agg_ident_shape sh = {NIDS, groups, COLS, bits, 40, 1000};
    ovl_agg_rows v = {r->id, r->group, r->value, r->null, nrows};
    return ovl_agg_ident_build(t, &sh, &v);
}

/* n(id, g) and the 2·COLS words of (id, g), or 0. */
static inline uint32_t lookup(const ovl_agg_ident *t, uint32_t id, uint32_t g, const int64_t **w)
{
    for (uint32_t e = t->first[id]; e < t->first[id + 1]; e++)
        if (t->group[e] == g) {
            *w = t->words + (size_t)e * 2 * COLS;
            return t->count[e];
        }
    *w = NULL;
    return 0;
}

typedef struct {
    ovl_agg2_layout l;
    uint32_t *nr;          /* R: bins × G_R */
    uint64_t *rw;          /* R: bins × G_R × k_R */
    uint64_t *pay[2];      /* shares of b·payload, bins × G_C·k_C */
    uint8_t *beta[2];      /* XOR shares, bins × G_C × w_C */
    uint8_t *phi[2];       /* XOR shares, bins × G_C */
} dealt;

static inline void deal_bin(dealt *d, const ovl_agg_ident *tr, const ovl_agg_ident *tc,
                            size_t i, uint32_t x)
{
    const ovl_agg2_layout *l = &d->l;
    const int64_t *w;
    int matched = x != UINT32_MAX && tc->first[x] < tc->first[x + 1];
    for (uint32_t g = 0; x != UINT32_MAX && g < l->groups_r; g++) {
        d->nr[i * l->groups_r + g] = lookup(tr, x, g, &w);
        for (uint32_t q = 0; w && q < l->words_r; q++)
            d->rw[(i * l->groups_r + g) * l->words_r + q] = (uint64_t)w[q];
    }
    /* the payload of products.h: per group [nC] and its words, then the flags */
    size_t PW = ovl_agg2_payload_words(l), sa = l->star && l->runner_recv,
           per = l->words_c + sa;
    for (uint32_t c = 0; c < l->groups_c; c++) {
        uint32_t n = matched ? lookup(tc, x, c, &w) : 0;
        for (size_t s = 0; s < per + (l->runner_recv ? 1 : 0); s++) {
            size_t at = i * PW + (s < per ? (size_t)c * per + s : (size_t)l->groups_c * per + c);
            uint64_t v = s == per ? (uint64_t)(n > 0)
                         : s < sa ? n
                                  : (n ? (uint64_t)w[s - sa] : 0),
                     r;
            randombytes_buf(&r, sizeof r);
            d->pay[0][at] = r;
            d->pay[1][at] = v - r;
        }
        for (uint32_t j = 0; j < l->bits_c; j++) {
            size_t at = (i * l->groups_c + c) * l->bits_c + j;
            uint8_t r = (uint8_t)randombytes_uniform(2);
            d->beta[0][at] = r;
            d->beta[1][at] = r ^ ((n >> j) & 1u);
        }
        uint8_t r = (uint8_t)randombytes_uniform(2);
        d->phi[0][i * l->groups_c + c] = r;
        d->phi[1][i * l->groups_c + c] = r ^ (n > 0);
    }
}

static inline int deal(dealt *d, const ovl_agg_ident *tr, const ovl_agg_ident *tc)
{
    const ovl_agg2_layout *l = &d->l;
    d->nr = calloc((size_t)BINS * l->groups_r, 4);
    d->rw = calloc((size_t)BINS * l->groups_r * l->words_r + 1, 8);
    for (int p = 0; p < 2; p++) {
        d->pay[p] = calloc((size_t)BINS * ovl_agg2_payload_words(l) + 1, 8);
        d->beta[p] = calloc((size_t)BINS * l->groups_c * l->bits_c, 1);
        d->phi[p] = calloc((size_t)BINS * l->groups_c, 1);
        if (!d->pay[p] || !d->beta[p] || !d->phi[p])
            return 0;
    }
    if (!d->nr || !d->rw)
        return 0;
    /* Every runner identifier in one bin, the other bins empty. */
    uint32_t slot[BINS];
    for (uint32_t i = 0; i < BINS; i++)
        slot[i] = i < NIDS ? i : UINT32_MAX;
    for (uint32_t i = BINS; i > 1; i--) {
        uint32_t j = randombytes_uniform(i), t = slot[i - 1];
        slot[i - 1] = slot[j];
        slot[j] = t;
    }
    for (size_t i = 0; i < BINS; i++)
        deal_bin(d, tr, tc, i, slot[i]);
    return 1;
}

static inline void dealt_free(dealt *d)
{
    free(d->nr), free(d->rw);
    for (int p = 0; p < 2; p++)
        free(d->pay[p]), free(d->beta[p]), free(d->phi[p]);
}

/* One kind over all bins, batch by batch: R = party 0, C = party 1. */
static inline ovl_err run_kind(ot_pair *pair, const dealt *d, ovl_agg2_prod_kind k,
                               uint64_t *cells[2])
{
    ovl_err rc = OVL_OK;
    const ovl_agg2_layout *l = &d->l;
    size_t per = ovl_agg2_prod_cots_per_bin(l, k), step = ovl_agg2_prod_bins_per_batch(l, k);
    uint8_t *choices = calloc(OVL_COT_BATCH_MAX / 8 + 1, 1);
    ovl_buf msg = {0};
    OVL_ENSURE(choices != NULL, OVL_ERR_NOMEM, "test");
    OVL_TRY(ovl_buf_alloc(&msg, 256, 2u << 20));
    for (size_t i0 = 0; per && i0 < BINS; i0 += step) {
        size_t bins = BINS - i0 < step ? BINS - i0 : step;
        size_t La = ovl_agg2_payload_words(l);
        size_t off = k == OVL_AGG2_PROD_B_COUNT ? (size_t)l->groups_c * l->bits_c : l->groups_c;
        const uint8_t *b0 = (k == OVL_AGG2_PROD_B_COUNT ? d->beta[0] : d->phi[0]) + i0 * off;
        const uint8_t *b1 = (k == OVL_AGG2_PROD_B_COUNT ? d->beta[1] : d->phi[1]) + i0 * off;
        const uint32_t *nr = d->nr + i0 * l->groups_r;
        ovl_cot *bs = NULL, *br = NULL;
        ovl_buf_clear(&msg);
        if (ovl_agg2_prod_runner_chooses(l, k)) {
            OVL_TRY(ovl_agg2_prod_a_choices(choices, k, l, nr, bins));
            rc = ot_cot_run(pair, 1, choices, bins * per, &bs, &br, NULL, NULL);
            if (rc == OVL_OK)
                rc = ovl_agg2_prod_a_send(bs, k, l, d->pay[1] + i0 * La, bins, &msg, cells[1]);
            if (rc == OVL_OK)
                rc = ovl_agg2_prod_a_recv(br, k, l, nr, d->pay[0] + i0 * La, bins, &msg,
                                          cells[0]);
        } else {
            OVL_TRY(ovl_agg2_prod_b_choices(choices, k, l, b1, bins));
            rc = ot_cot_run(pair, 0, choices, bins * per, &bs, &br, NULL, NULL);
            if (rc == OVL_OK)
                rc = ovl_agg2_prod_b_send(bs, k, l, b0, nr,
                                          d->rw + i0 * l->groups_r * l->words_r, bins, &msg,
                                          cells[0]);
            if (rc == OVL_OK)
                rc = ovl_agg2_prod_b_recv(br, k, l, bins, &msg, cells[1]);
        }
        ovl_cot_free(bs);
        ovl_cot_free(br);
        if (rc != OVL_OK)
            goto done;
    }
done:
    ovl_buf_free(&msg);
    free(choices);
    return rc;
}

/* The cells of SPEC §1 straight from the two tables. */
static inline void expected(int64_t *want, const ovl_agg2_layout *l, const ovl_agg_ident *tr,
                            const ovl_agg_ident *tc)
{
    size_t P = ovl_agg2_prod_words(l);
    for (uint32_t id = 0; id < NIDS; id++)
        for (uint32_t g = 0; g < l->groups_r; g++)
            for (uint32_t c = 0; c < l->groups_c; c++) {
                const int64_t *wr, *wc;
                int64_t nr = lookup(tr, id, g, &wr), nc = lookup(tc, id, c, &wc);
                int64_t *x = want + ((size_t)g * l->groups_c + c) * P;
                x[0] += nr > 0 && nc > 0;
                if (l->star)
                    x[1] += nr * nc;
                for (uint32_t q = 0; wr && q < l->words_r; q++)
                    x[1 + l->star + q] += wr[q] * nc;
                for (uint32_t s = 0; wc && s < l->words_c; s++)
                    x[1 + l->star + l->words_r + s] += nr * wc[s];
            }
}

#endif
