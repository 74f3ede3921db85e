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

#include "agg2_dealer.h"
#include "test.h"

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
    EXPECT_TRUE(products_match((ovl_agg2_layout){3, 4, 4, 4, 3, 3, 1, 0}));
    EXPECT_TRUE(products_match((ovl_agg2_layout){1, 1, 4, 4, 2, 4, 1, 0}));
    EXPECT_TRUE(products_match((ovl_agg2_layout){4, 2, 4, 4, 4, 2, 0, 0}));
    EXPECT_TRUE(products_match((ovl_agg2_layout){2, 3, 0, 4, 3, 3, 0, 0})); /* no runner words */
    EXPECT_TRUE(products_match((ovl_agg2_layout){2, 3, 4, 0, 3, 3, 1, 0})); /* no type A */
    EXPECT_TRUE(products_match((ovl_agg2_layout){2, 2, 0, 0, 3, 3, 0, 0})); /* D only */
    /* The runner receiving: D and N by type A over the payload's flags and counts. */
    EXPECT_TRUE(products_match((ovl_agg2_layout){3, 4, 4, 4, 3, 3, 1, 1}));
    EXPECT_TRUE(products_match((ovl_agg2_layout){2, 3, 0, 4, 3, 3, 0, 1}));
    EXPECT_TRUE(products_match((ovl_agg2_layout){2, 3, 4, 0, 3, 3, 1, 1}));
    EXPECT_TRUE(products_match((ovl_agg2_layout){2, 2, 0, 0, 3, 3, 0, 1}));
    /* 64 COTs of 64 words per bin: 31 bins per frame, so three type-A batches. */
    ovl_agg2_layout wide = {16, 16, 4, 4, 4, 3, 1, 0};
    EXPECT_EQ(ovl_agg2_prod_bins_per_batch(&wide, OVL_AGG2_PROD_A), 31);
    EXPECT_TRUE(products_match(wide));
}

static void refuses_bad_layouts(void)
{
    ovl_agg2_layout l = {3, 4, 4, 4, 3, 3, 1, 0};
    EXPECT_OK(ovl_agg2_layout_check(&l));
    l.star = 2;
    EXPECT_ERR(OVL_ERR_USAGE, ovl_agg2_layout_check(&l));
    l = (ovl_agg2_layout){300, 300, 0, 0, 3, 3, 0, 0};
    EXPECT_ERR(OVL_ERR_USAGE, ovl_agg2_layout_check(&l)); /* 90 000 cells */
    l = (ovl_agg2_layout){2, 100, 0, 4, 3, 3, 0, 0};
    EXPECT_ERR(OVL_ERR_LIMIT, ovl_agg2_layout_check(&l)); /* 400 words per OT */
    l = (ovl_agg2_layout){2, 2, 0, 0, 0, 3, 0, 0};
    EXPECT_ERR(OVL_ERR_USAGE, ovl_agg2_layout_check(&l));
    l = (ovl_agg2_layout){3, 4, 4, 0, 3, 3, 1, 0};
    EXPECT_EQ(ovl_agg2_prod_cots_per_bin(&l, OVL_AGG2_PROD_A), 0);
    EXPECT_EQ(ovl_agg2_prod_cots_per_bin(&l, OVL_AGG2_PROD_B_COUNT), 12);
    EXPECT_EQ(ovl_agg2_prod_cots_per_bin(&l, OVL_AGG2_PROD_B_FLAG), 4);
    EXPECT_EQ(ovl_agg2_prod_words(&l), 6);
    /* the runner receiving: N moves to type A, D is G_R flag COTs of G_C words */
    l.runner_recv = 1;
    EXPECT_EQ(ovl_agg2_payload_words(&l), 8);
    EXPECT_EQ(ovl_agg2_prod_cots_per_bin(&l, OVL_AGG2_PROD_A), 9);
    EXPECT_EQ(ovl_agg2_prod_cots_per_bin(&l, OVL_AGG2_PROD_B_COUNT), 12);
    EXPECT_EQ(ovl_agg2_prod_cots_per_bin(&l, OVL_AGG2_PROD_B_FLAG), 3);
    EXPECT_TRUE(ovl_agg2_prod_runner_chooses(&l, OVL_AGG2_PROD_B_FLAG));
    l.runner_recv = 2;
    EXPECT_ERR(OVL_ERR_USAGE, ovl_agg2_layout_check(&l));
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    RUN(products_equal_the_join);
    RUN(refuses_bad_layouts);
    return ovl_t_summary("test_agg_products");
}
