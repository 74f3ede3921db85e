/* The pairs phase (protocols/aggregate/pairs_phase.h) end to end below the
 * engine: the dealer's circuit-PSI-shaped shares → the bin circuit garbled by
 * the contributor and evaluated by the runner (src/mpc/gc) → the three COT
 * products → shares of the cell product words, which must sum to the join
 * with its conditions evaluated in plain, pair by pair, over the capped rows
 * (date windows, <> with padding rows, caps 1–4, groups 1–4). */
#include "aggregate/products.h"
#include "mpc/gc.h"
#include "ot_harness.h"
#include "pairs_dealer.h"
#include "psi_harness.h"
#include "test.h"

/* R = party 0 (evaluator), C = party 1 (garbler). z[p]: bins × O shares. */
static ovl_err run_gc(const pd_deal *d, uint8_t *z[2], uint64_t *and_gates)
{
    ovl_err rc = OVL_OK;
    const ovl_pp_layout *l = &d->l;
    ovl_circuit circ = {0};
    ovl_gc *g = NULL, *e = NULL;
    ovl_rng rng[2];
    hx_side side[2] = {0};
    size_t ob = ovl_pp_out_bits(l);
    uint8_t *gin = calloc((size_t)PD_BINS * ovl_pp_garbler_bits(l), 1);
    uint8_t *ein = calloc((size_t)PD_BINS * ovl_pp_evaluator_bits(l), 1);
    OVL_ENSURE(gin && ein, OVL_ERR_NOMEM, "test");
    ovl_rng_init_system(&rng[0]);
    ovl_rng_init_system(&rng[1]);
    OVL_TRY(ovl_circuit_pairs(&circ, &l->s));
    OVL_ENSURE(circ.in_width[0] + circ.in_width[1] == ovl_pp_garbler_bits(l) &&
                   circ.in_width[2] + circ.in_width[3] == ovl_pp_evaluator_bits(l),
               OVL_ERR_INTERNAL, "circuit inputs differ from the phase's layout");
    OVL_TRY(ovl_pp_garbler_input(gin, z[1], l, d->crow[1], PD_BINS, &rng[1]));
    OVL_TRY(ovl_pp_evaluator_input(ein, l, d->rrow, d->crow[0], PD_BINS));
    ovl_gc_config gc = {.role = OVL_GC_GARBLER, .party = 1, .circuit = &circ,
                        .garbler_inputs = 2, .instances = PD_BINS,
                        .reveal = OVL_GC_REVEAL_EVALUATOR, .input = gin, .rng = &rng[1],
                        .fold_garbler_inputs = true};
    ovl_gc_config ec = gc;
    ec.role = OVL_GC_EVALUATOR, ec.party = 0, ec.input = ein, ec.rng = &rng[0];
    OVL_TRY(ovl_gc_new(&g, &gc));
    OVL_TRY(ovl_gc_new(&e, &ec));
    hx_init(&side[0], &ovl_gc_ops, e);
    hx_init(&side[1], &ovl_gc_ops, g);
    hx_run(&side[0], &side[1], NULL, NULL);
    OVL_ENSURE(side[0].rc == OVL_OK && side[1].rc == OVL_OK, OVL_ERR_INTERNAL, "gc: %s / %s",
               side[0].detail, side[1].detail);
    for (uint32_t b = 0; b < PD_BINS; b++) {
        const uint8_t *o = ovl_gc_output(e, b);
        OVL_ENSURE(o != NULL && ovl_gc_output(g, b) == NULL, OVL_ERR_INTERNAL,
                   "the evaluator only learns the masked outputs");
        memcpy(z[0] + b * ob, o, ob);
    }
    *and_gates = ovl_gc_and_gates(e);
done:
    hx_free(&side[0]);
    hx_free(&side[1]);
    ovl_gc_free(g);
    ovl_gc_free(e);
    ovl_circuit_free(&circ);
    free(gin), free(ein);
    return rc;
}

static ovl_err run_kind(ot_pair *pair, const pd_deal *d, ovl_pp_kind k, uint8_t *z[2],
                        uint64_t *cells[2])
{
    ovl_err rc = OVL_OK;
    const ovl_pp_layout *l = &d->l;
    size_t per = ovl_pp_cots_per_bin(l, k), step = ovl_pp_bins_per_batch(l, k);
    size_t ob = ovl_pp_out_bits(l), xw = (size_t)l->s.cap_c * l->words_c;
    unsigned recv = ovl_pp_runner_receives(k) ? 0 : 1, send = 1 - recv;
    uint8_t *choices = calloc(OVL_COT_BATCH_MAX / 8 + 1, 1);
    ovl_buf msg = {0};
    OVL_ENSURE(choices != NULL, OVL_ERR_NOMEM, "test");
    OVL_TRY(ovl_buf_alloc(&msg, 256, 2u << 20));
    for (size_t b0 = 0; per && b0 < PD_BINS; b0 += step) {
        size_t bins = PD_BINS - b0 < step ? PD_BINS - b0 : step;
        ovl_cot *bs = NULL, *br = NULL;
        ovl_buf_clear(&msg);
        OVL_TRY(ovl_pp_choices(choices, l, k, z[recv] + b0 * ob, bins));
        rc = ot_cot_run(pair, send, choices, bins * per, &bs, &br, NULL, NULL);
        const uint64_t *rw = send == 0 ? d->rw + b0 * l->s.cap_r * l->words_r : NULL;
        if (rc == OVL_OK)
            rc = ovl_pp_send(bs, l, k, z[send] + b0 * ob, rw, d->x[send] + b0 * xw, bins, &msg,
                             cells[send]);
        if (rc == OVL_OK)
            rc = ovl_pp_recv(br, l, k, bins, &msg, cells[recv]);
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

static const char *cond_name[] = {"window", "<>", "window and <>", ">= +7", "none"};

/* One whole run: returns the joined rows (COUNT(*) over all cells). */
static int64_t check_run(pd_conds conds, uint32_t cap, uint32_t gr, uint32_t gc)
{
    pd_deal d;
    ot_pair pair;
    int64_t total = 0;
    uint64_t ands = 0;
    EXPECT_OK(pd_make(&d, conds, cap, gr, gc));
    const ovl_pp_layout *l = &d.l;
    size_t K = (size_t)gr * gc, P = 1u + l->star + l->words_r + l->words_c;
    size_t ob = ovl_pp_out_bits(l);
    uint8_t *z[2] = {calloc(PD_BINS * ob, 1), calloc(PD_BINS * ob, 1)};
    uint64_t *cells[2] = {calloc(K * P, 8), calloc(K * P, 8)};
    int64_t *want = calloc(K * P, 8);
    ovl_agg2_layout al;
    ovl_pp_cells_layout(&al, l);
    EXPECT_OK(ovl_agg2_layout_check(&al));
    EXPECT_EQ(ovl_agg2_prod_words(&al), P);
    EXPECT_OK(run_gc(&d, z, &ands));
    EXPECT_EQ(ands, (uint64_t)PD_BINS * ovl_pc_and_count(&l->s));
    EXPECT_OK(ot_pair_new(&pair, NULL, NULL, NULL, NULL, NULL));
    for (int k = OVL_PP_PROD_ROWS; k <= OVL_PP_PROD_FLAG; k++)
        EXPECT_OK(run_kind(&pair, &d, (ovl_pp_kind)k, z, cells));
    pd_expected(want, &d);
    size_t bad = 0;
    for (size_t i = 0; i < K * P; i++)
        bad += (int64_t)(cells[0][i] + cells[1][i]) != want[i];
    EXPECT_EQ(bad, 0);
    int64_t distinct = 0;
    for (size_t c = 0; c < K; c++)
        total += want[c * P + 1], distinct += want[c * P];
    printf("pairs phase: %-13s cap %u, %u x %u groups: %lld joined rows, %lld distinct, "
           "capped %u / %u identifiers\n",
           cond_name[conds], cap, gr, gc, (long long)total,
           (long long)distinct,
           d.r.capped, d.c.capped);
    ot_pair_free(&pair);
    pd_free(&d);
    free(z[0]), free(z[1]), free(cells[0]), free(cells[1]), free(want);
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
