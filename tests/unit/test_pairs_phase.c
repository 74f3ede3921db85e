/* The pairs phase (protocols/aggregate/pairs_phase.h) end to end below the
 * engine: the dealer's circuit-PSI-shaped shares → the bin circuit garbled by
 * the contributor and evaluated by the runner (src/mpc/gc) → the three COT
 * products → shares of the cell product words, which must sum to the join
 * with its conditions evaluated in plain, pair by pair, over the capped rows
 * (date windows, <> with padding rows, caps 1–4, groups 1–4). */
#include "pairs_run.h"

static int64_t check_run(pd_conds conds, uint32_t cap, uint32_t gr, uint32_t gc)
{
    pd_deal *d = calloc(1, sizeof *d);
    int64_t total = -1;
    if (d == NULL)
        return total;
    EXPECT_OK(pd_make(d, conds, cap, gr, gc));
    if (d->slot != NULL)
        total = check_deal(d);
    pd_free(d);
    free(d);
    return total;
}

/* The article's window at every cap, with and without dimensions. */
static void test_attribution_window(void)
{
    for (uint32_t cap = 1; cap <= 4; cap++) {
        check_run(PD_WINDOW, cap, 1, 1);
        check_run(PD_WINDOW, cap, 2, 3);
    }
}

/* <> with padding rows: a padding row's word is 0, which <> would pass
 * against any non-zero word; only validity keeps it out. */
static void test_ne_padding(void)
{
    for (uint32_t cap = 1; cap <= 4; cap++)
        check_run(PD_NE, cap, 1 + cap % 2, 1 + (cap + 1) % 3);
    check_run(PD_NONE, 3, 2, 2);
}

/* Random shapes: caps 1–4, groups 1–4, every condition set. */
static void test_random_shapes(void)
{
    for (int round = 0; round < 8; round++) {
        pd_conds c = (pd_conds)randombytes_uniform(PD_NONE + 1);
        check_run(c, 1 + randombytes_uniform(4), 1 + randombytes_uniform(4),
                  1 + randombytes_uniform(4));
    }
    check_run(PD_WINDOW_NE, 4, 4, 4);
}

/* Shapes and inputs the phase refuses, before any COT or garbling. */
static void test_refused(void)
{
    ovl_pp_layout l = {.s = pd_shape(PD_WINDOW, 8, 64, 64), .words_r = 2, .words_c = 2,
                       .star = 1};
    EXPECT_ERR(OVL_ERR_LIMIT, ovl_pp_layout_check(&l));
    l.s = pd_shape(PD_WINDOW, 2, 1, 1);
    l.words_r = 200;
    EXPECT_ERR(OVL_ERR_USAGE, ovl_pp_layout_check(&l));
    l.words_r = 2;
    EXPECT_OK(ovl_pp_layout_check(&l));
    uint8_t bits[256];
    ovl_pp_row r = {.valid = true, .group = 1};
    EXPECT_ERR(OVL_ERR_USAGE, ovl_pp_runner_row_put(bits, &l, &r)); /* one group only */
    r.group = 0;
    r.word[0][0] = 1u << 17;
    EXPECT_ERR(OVL_ERR_USAGE, ovl_pp_contrib_row_put(bits, &l, &r)); /* over 17 bits */
    r.valid = false;
    EXPECT_OK(ovl_pp_contrib_row_put(bits, &l, &r)); /* padding: all zero */
    size_t zero = 0;
    for (uint32_t i = 0; i < ovl_pc_contrib_row_bits(&l.s); i++)
        zero += bits[i] == 0;
    EXPECT_EQ(zero, ovl_pc_contrib_row_bits(&l.s));
    uint8_t choices[8], z[64] = {0};
    EXPECT_ERR(OVL_ERR_USAGE, ovl_pp_choices(choices, &l, OVL_PP_PROD_ROWS, z, 0));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_pp_choices(choices, &l, OVL_PP_PROD_ROWS, z,
                              ovl_pp_bins_per_batch(&l, OVL_PP_PROD_ROWS) + 1));
    /* No contributor words: no CONTRIB product. */
    l.words_c = 0;
    EXPECT_EQ(ovl_pp_cots_per_bin(&l, OVL_PP_PROD_CONTRIB), 0);
    EXPECT_EQ(ovl_pp_cots_per_bin(&l, OVL_PP_PROD_ROWS), 4);
    EXPECT_EQ(ovl_pp_cots_per_bin(&l, OVL_PP_PROD_FLAG), 1);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    RUN(test_attribution_window);
    RUN(test_ne_padding);
    RUN(test_random_shapes);
    RUN(test_refused);
    return ovl_t_summary("test_pairs_phase");
}
