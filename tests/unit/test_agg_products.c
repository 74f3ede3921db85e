/* aggregate v2 products (protocols/aggregate/products.h, SPEC.md §7) over the
 * OT layer, fed by a test-only dealer standing in for circuit PSI: from both
 * parties' plaintext tables it places the runner's identifiers in bins and
 * deals random shares of b_i·payload and XOR shares of the count bits and
 * flags, exactly the shapes protocols/cpsi leaves (the dealer lives here, in
 * tests/, never in the product). The opened cells must equal the SQL join's
 * (the factorisation of SPEC §1, checked against a brute-force join in
 * test_agg_ident), with overlapping groups, negatives and NULLs; neither
 * party's cell shares alone equal the cells. */
#include <sodium.h>
#include <stdlib.h>

#include "aggregate/ident.h"
#include "aggregate/products.h"
#include "core/guard.h"
#include "ot_harness.h"
#include "test.h"

enum { NIDS = 48, BINS = 64, COLS = 2, MAXROWS = 160 };

typedef struct {
    uint32_t id[MAXROWS], group[MAXROWS];
    int64_t value[MAXROWS * COLS];
    uint8_t null[MAXROWS * COLS];
} rows_t;

/* Rows of identifiers [lo, hi) only, so the sets overlap partially. */
static ovl_err table(ovl_agg_ident *t, rows_t *r, uint32_t lo, uint32_t hi, uint32_t groups,
                     uint32_t bits)
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
static uint32_t lookup(const ovl_agg_ident *t, uint32_t id, uint32_t g, const int64_t **w)
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

static void deal_bin(dealt *d, const ovl_agg_ident *tr, const ovl_agg_ident *tc, size_t i,
                     uint32_t x)
{
    const ovl_agg2_layout *l = &d->l;
    const int64_t *w;
    int matched = x != UINT32_MAX && tc->first[x] < tc->first[x + 1];
    for (uint32_t g = 0; x != UINT32_MAX && g < l->groups_r; g++) {
        d->nr[i * l->groups_r + g] = lookup(tr, x, g, &w);
        for (uint32_t q = 0; w && q < l->words_r; q++)
            d->rw[(i * l->groups_r + g) * l->words_r + q] = (uint64_t)w[q];
    }
    for (uint32_t c = 0; c < l->groups_c; c++) {
        uint32_t n = matched ? lookup(tc, x, c, &w) : 0;
        for (uint32_t s = 0; s < l->words_c; s++) {
            size_t at = i * l->groups_c * l->words_c + (size_t)c * l->words_c + s;
            uint64_t v = n ? (uint64_t)w[s] : 0, r;
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

static int deal(dealt *d, const ovl_agg_ident *tr, const ovl_agg_ident *tc)
{
    const ovl_agg2_layout *l = &d->l;
    d->nr = calloc((size_t)BINS * l->groups_r, 4);
    d->rw = calloc((size_t)BINS * l->groups_r * l->words_r + 1, 8);
    for (int p = 0; p < 2; p++) {
        d->pay[p] = calloc((size_t)BINS * l->groups_c * l->words_c + 1, 8);
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

static void dealt_free(dealt *d)
{
    free(d->nr), free(d->rw);
    for (int p = 0; p < 2; p++)
        free(d->pay[p]), free(d->beta[p]), free(d->phi[p]);
}

/* One kind over all bins, batch by batch: R = party 0, C = party 1. */
static ovl_err run_kind(ot_pair *pair, const dealt *d, ovl_agg2_prod_kind k, uint64_t *cells[2])
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
        size_t La = (size_t)l->groups_c * l->words_c;
        size_t off = k == OVL_AGG2_PROD_B_COUNT ? (size_t)l->groups_c * l->bits_c : l->groups_c;
        const uint8_t *b0 = (k == OVL_AGG2_PROD_B_COUNT ? d->beta[0] : d->phi[0]) + i0 * off;
        const uint8_t *b1 = (k == OVL_AGG2_PROD_B_COUNT ? d->beta[1] : d->phi[1]) + i0 * off;
        const uint32_t *nr = d->nr + i0 * l->groups_r;
        ovl_cot *bs = NULL, *br = NULL;
        ovl_buf_clear(&msg);
        if (k == OVL_AGG2_PROD_A) {
            OVL_TRY(ovl_agg2_prod_a_choices(choices, l, nr, bins));
            rc = ot_cot_run(pair, 1, choices, bins * per, &bs, &br, NULL, NULL);
            if (rc == OVL_OK)
                rc = ovl_agg2_prod_a_send(bs, l, d->pay[1] + i0 * La, bins, &msg, cells[1]);
            if (rc == OVL_OK)
                rc = ovl_agg2_prod_a_recv(br, l, nr, d->pay[0] + i0 * La, bins, &msg, cells[0]);
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
static void expected(int64_t *want, const ovl_agg2_layout *l, const ovl_agg_ident *tr,
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

static int products_match(ovl_agg2_layout l)
{
    static rows_t rr, rc_;
    ovl_agg_ident tr, tc;
    dealt d = {.l = l};
    ot_pair pair;
    size_t K = ovl_agg2_prod_cells(&l), P = ovl_agg2_prod_words(&l);
    uint64_t *cells[2] = {calloc(K * P, 8), calloc(K * P, 8)};
    int64_t *want = calloc(K * P, 8);
    int ok = cells[0] && cells[1] && want;
    ok = ok && table(&tr, &rr, 0, NIDS, l.groups_r, l.bits_r) == OVL_OK;
    ok = ok && table(&tc, &rc_, NIDS / 3, NIDS, l.groups_c, l.bits_c) == OVL_OK;
    ok = ok && deal(&d, &tr, &tc);
    ok = ok && ot_pair_new(&pair, NULL, NULL, NULL, NULL, NULL) == OVL_OK;
    for (int k = OVL_AGG2_PROD_A; ok && k <= OVL_AGG2_PROD_B_FLAG; k++)
        ok = run_kind(&pair, &d, (ovl_agg2_prod_kind)k, cells) == OVL_OK;
    if (ok) {
        expected(want, &l, &tr, &tc);
        int alone = 1;
        for (size_t i = 0; i < K * P; i++) {
            ok = ok && (int64_t)(cells[0][i] + cells[1][i]) == want[i];
            alone = alone && (int64_t)cells[0][i] == want[i];
        }
        ok = ok && !alone;
        ot_pair_free(&pair);
    }
    if (!ok)
        fprintf(stderr, "    layout %ux%u k %u/%u w %u/%u star %u\n", l.groups_r, l.groups_c,
                l.words_r, l.words_c, l.bits_r, l.bits_c, l.star);
    ovl_agg_ident_free(&tr);
    ovl_agg_ident_free(&tc);
    dealt_free(&d);
    free(cells[0]), free(cells[1]), free(want);
    return ok;
}

static void products_equal_the_join(void)
{
    /* words 2·COLS: (count, sum) per column, as the ident table holds them */
    EXPECT_TRUE(products_match((ovl_agg2_layout){3, 4, 4, 4, 3, 3, 1}));
    EXPECT_TRUE(products_match((ovl_agg2_layout){1, 1, 4, 4, 2, 4, 1}));
    EXPECT_TRUE(products_match((ovl_agg2_layout){4, 2, 4, 4, 4, 2, 0}));
    EXPECT_TRUE(products_match((ovl_agg2_layout){2, 3, 0, 4, 3, 3, 0})); /* no runner words */
    EXPECT_TRUE(products_match((ovl_agg2_layout){2, 3, 4, 0, 3, 3, 1})); /* no type A */
    EXPECT_TRUE(products_match((ovl_agg2_layout){2, 2, 0, 0, 3, 3, 0})); /* D only */
    /* 64 COTs of 64 words per bin: 31 bins per frame, so three type-A batches. */
    ovl_agg2_layout wide = {16, 16, 4, 4, 4, 3, 1};
    EXPECT_EQ(ovl_agg2_prod_bins_per_batch(&wide, OVL_AGG2_PROD_A), 31);
    EXPECT_TRUE(products_match(wide));
}

static void refuses_bad_layouts(void)
{
    ovl_agg2_layout l = {3, 4, 4, 4, 3, 3, 1};
    EXPECT_OK(ovl_agg2_layout_check(&l));
    l.star = 2;
    EXPECT_ERR(OVL_ERR_USAGE, ovl_agg2_layout_check(&l));
    l = (ovl_agg2_layout){300, 300, 0, 0, 3, 3, 0};
    EXPECT_ERR(OVL_ERR_USAGE, ovl_agg2_layout_check(&l)); /* 90 000 cells */
    l = (ovl_agg2_layout){2, 100, 0, 4, 3, 3, 0};
    EXPECT_ERR(OVL_ERR_LIMIT, ovl_agg2_layout_check(&l)); /* 400 words per OT */
    l = (ovl_agg2_layout){2, 2, 0, 0, 0, 3, 0};
    EXPECT_ERR(OVL_ERR_USAGE, ovl_agg2_layout_check(&l));
    l = (ovl_agg2_layout){3, 4, 4, 0, 3, 3, 1};
    EXPECT_EQ(ovl_agg2_prod_cots_per_bin(&l, OVL_AGG2_PROD_A), 0);
    EXPECT_EQ(ovl_agg2_prod_cots_per_bin(&l, OVL_AGG2_PROD_B_COUNT), 12);
    EXPECT_EQ(ovl_agg2_prod_cots_per_bin(&l, OVL_AGG2_PROD_B_FLAG), 4);
    EXPECT_EQ(ovl_agg2_prod_words(&l), 6);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    RUN(products_equal_the_join);
    RUN(refuses_bad_layouts);
    return ovl_t_summary("test_agg_products");
}
