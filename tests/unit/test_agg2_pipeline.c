/* aggregate v2 end to end below the engine (SPEC.md §6–§8): the dealer's
 * circuit-PSI-shaped shares → products → records → two Permute+Share passes →
 * the garbled threshold comparison (helper garbles, both learn) → RELEASE →
 * the receiver's opened records. The released cells are exactly the cells of
 * the join whose COUNT(DISTINCT) reaches T, with all their words and the
 * helper's label; cells under T stay shares; the shuffled pass bits are the
 * only thing the helper learns, and their number is the released count. */
#include "agg2_dealer.h"
#include "aggregate/release.h"
#include "aggregate/threshold.h"
#include "mpc/gc.h"
#include "mpc/shuffle.h"
#include "psi_harness.h"
#include "shuffle_pass.h"
#include "test.h"

/* Garbler = party 1 (the helper, the contributor), evaluator = party 0 (the
 * receiver, the runner); both learn pass[i] for every shuffled record. */
static ovl_err compare(uint8_t *pass, uint64_t *rec[2], size_t k, size_t w, uint64_t t)
{
    ovl_err rc = OVL_OK;
    ovl_circuit c = {0};
    ovl_gc *g = NULL, *e = NULL;
    ovl_rng rng[2];
    uint8_t *in_g = calloc(k * OVL_AGG2_D_BITS, 1), *in_e = calloc(k * OVL_AGG2_D_BITS, 1);
    hx_side side[2] = {0};
    OVL_ENSURE(in_g && in_e, OVL_ERR_NOMEM, "test");
    for (size_t i = 0; i < k; i++) {
        ovl_agg2_threshold_bits(in_g + i * OVL_AGG2_D_BITS, rec[1][i * w]);
        ovl_agg2_threshold_bits(in_e + i * OVL_AGG2_D_BITS, rec[0][i * w]);
    }
    OVL_TRY(ovl_agg2_threshold_circuit(&c, t));
    ovl_rng_init_system(&rng[0]);
    ovl_rng_init_system(&rng[1]);
    ovl_gc_config gc = {.role = OVL_GC_GARBLER, .party = 1, .circuit = &c, .garbler_inputs = 1,
                        .instances = (uint32_t)k, .reveal = OVL_GC_REVEAL_BOTH, .input = in_g,
                        .rng = &rng[1]};
    ovl_gc_config ec = gc;
    ec.role = OVL_GC_EVALUATOR, ec.party = 0, ec.input = in_e, ec.rng = &rng[0];
    OVL_TRY(ovl_gc_new(&g, &gc));
    OVL_TRY(ovl_gc_new(&e, &ec));
    hx_init(&side[0], &ovl_gc_ops, e);
    hx_init(&side[1], &ovl_gc_ops, g);
    hx_run(&side[0], &side[1], NULL, NULL);
    OVL_ENSURE(side[0].rc == OVL_OK && side[1].rc == OVL_OK, OVL_ERR_INTERNAL, "gc: %s / %s",
               side[0].detail, side[1].detail);
    for (uint32_t i = 0; i < k; i++) {
        const uint8_t *oe = ovl_gc_output(e, i), *og = ovl_gc_output(g, i);
        OVL_ENSURE(oe && og && oe[0] == og[0], OVL_ERR_INTERNAL, "gc outputs differ");
        pass[i] = oe[0];
    }
done:
    hx_free(&side[0]);
    hx_free(&side[1]);
    ovl_gc_free(g);
    ovl_gc_free(e);
    ovl_circuit_free(&c);
    free(in_g), free(in_e);
    return rc;
}

static void releases_the_cells_over_the_threshold(void)
{
    static rows_t rr, rc_;
    ovl_agg2_layout l = {3, 2, 4, 4, 3, 3, 1, 0};
    ovl_agg_ident tr, tc;
    dealt d = {.l = l};
    ot_pair pair;
    size_t K = ovl_agg2_prod_cells(&l), P = ovl_agg2_prod_words(&l), W = ovl_agg2_record_width(&l);
    uint64_t *cells[2] = {calloc(K * P, 8), calloc(K * P, 8)};
    uint64_t *rec[2] = {calloc(K * W, 8), calloc(K * W, 8)};
    uint64_t *mid[2] = {calloc(K * W, 8), calloc(K * W, 8)};
    uint64_t *fin[2] = {calloc(K * W, 8), calloc(K * W, 8)};
    uint64_t *opened = calloc(K * W, 8);
    int64_t *want = calloc(K * P, 8);
    uint8_t keys[2][OVL_AGG2_KEY_LEN], cts[2][OVL_AGG2_LABEL_CT], th[32], pass[6], ok[6];
    uint32_t p0[6], p1[6];
    ovl_permnet net;
    ovl_rng rng;
    ovl_rng_init_system(&rng);
    randombytes_buf(th, sizeof th);
    EXPECT_OK(table(&tr, &rr, 0, NIDS, l.groups_r, l.bits_r));
    EXPECT_OK(table(&tc, &rc_, NIDS / 3, NIDS, l.groups_c, l.bits_c));
    EXPECT_TRUE(deal(&d, &tr, &tc));
    EXPECT_OK(ot_pair_new(&pair, NULL, NULL, NULL, NULL, NULL));
    for (int k = OVL_AGG2_PROD_A; k <= OVL_AGG2_PROD_B_FLAG; k++)
        EXPECT_OK(run_kind(&pair, &d, (ovl_agg2_prod_kind)k, cells));
    /* The contributor helps: its labels "c0", "c1" under fresh keys. */
    for (uint32_t c = 0; c < 2; c++) {
        uint8_t label[2] = {'c', (uint8_t)('0' + c)};
        EXPECT_OK(ovl_agg2_label_seal(cts[c], keys[c], label, 2, c, th, &rng));
    }
    EXPECT_OK(ovl_agg2_records_build(rec[0], &l, cells[0], true, NULL));
    EXPECT_OK(ovl_agg2_records_build(rec[1], &l, cells[1], false, (const uint8_t(*)[32])keys));
    EXPECT_OK(ovl_permnet_new(&net, (uint32_t)K));
    for (uint32_t i = 0; i < K; i++)
        p0[i] = p1[i] = i;
    ovl_rng_shuffle_u32(&rng, p0, K);
    ovl_rng_shuffle_u32(&rng, p1, K);
    EXPECT_OK(sp_pass(&pair, 0, &net, W, p0, rec, mid, ovl_shuffle_batch_max(W), NULL));
    EXPECT_OK(sp_pass(&pair, 1, &net, W, p1, mid, fin, ovl_shuffle_batch_max(W), NULL));
    /* T between the cells' distinct counts, so some cells stay under it. */
    expected(want, &l, &tr, &tc);
    uint64_t T = 0, lo = UINT64_MAX;
    for (size_t cell = 0; cell < K; cell++) {
        T = (uint64_t)want[cell * P] > T ? (uint64_t)want[cell * P] : T;
        lo = (uint64_t)want[cell * P] < lo ? (uint64_t)want[cell * P] : lo;
    }
    T = lo + (T - lo + 1) / 2 > 2 ? lo + (T - lo + 1) / 2 : 2;
    EXPECT_OK(compare(pass, fin, K, W, T));
    ovl_buf m = {0};
    size_t r = 0;
    EXPECT_OK(ovl_buf_alloc(&m, 64, 1 << 20));
    EXPECT_OK(ovl_agg2_release_write(&m, fin[1], W, pass, K));
    EXPECT_OK(ovl_agg2_release_read(&m, fin[0], W, pass, K, opened, &r));
    EXPECT_EQ(ovl_agg2_release_classify(ok, opened, r, &l, T), 0);

    size_t over = 0, found = 0;
    for (size_t cell = 0; cell < K; cell++)
        over += (uint64_t)want[cell * P] >= T;
    EXPECT_EQ(r, over);
    for (size_t i = 0; i < r; i++) {
        const uint64_t *x = opened + i * W;
        size_t cell = x[P] * l.groups_c + x[P + 1];
        if (x[P] >= l.groups_r || x[P + 1] >= l.groups_c)
            continue;
        int same = memcmp(x, want + cell * P, P * 8) == 0;
        uint8_t key[OVL_AGG2_KEY_LEN], label[OVL_AGG2_LABEL_MAX];
        size_t len = 0;
        ovl_agg2_record_key(key, x, &l);
        same &= ovl_agg2_label_open(label, &len, cts[x[P + 1]], key, (uint32_t)x[P + 1], th);
        same &= len == 2 && label[1] == '0' + x[P + 1];
        found += same;
    }
    EXPECT_EQ(found, over);
    printf("pipeline: %zu of %zu cells released at T = %llu (distinct counts %llu..)\n", r, K,
           (unsigned long long)T, (unsigned long long)lo);

    ovl_buf_free(&m);
    ovl_permnet_free(&net);
    ot_pair_free(&pair);
    ovl_agg_ident_free(&tr);
    ovl_agg_ident_free(&tc);
    dealt_free(&d);
    for (int i = 0; i < 2; i++)
        free(cells[i]), free(rec[i]), free(mid[i]), free(fin[i]);
    free(opened), free(want);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    for (int round = 0; round < 3; round++)
        RUN(releases_the_cells_over_the_threshold);
    return ovl_t_summary("test_agg2_pipeline");
}
