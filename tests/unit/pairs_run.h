/* The pairs phase run in one process for the tests: the bin circuit garbled
 * by the contributor (party 1) and evaluated by the runner (party 0), the
 * three products over an in-process OT pair, and the summed cells checked
 * against the dealer's plain join. Shared by test_pairs_phase (the dealer's
 * shares) and test_pairs_cpsi (circuit PSI's). */
#ifndef OVL_PAIRS_RUN_H
#define OVL_PAIRS_RUN_H

#include "aggregate/products.h"
#include "mpc/gc.h"
#include "ot_harness.h"
#include "pairs_dealer.h"
#include "psi_harness.h"
#include "test.h"

/* R = party 0 (evaluator), C = party 1 (garbler). z[p]: bins × O shares. */
static inline ovl_err run_gc(const pd_deal *d, uint8_t *z[2], uint64_t *and_gates)
{
    ovl_err rc = OVL_OK;
    const ovl_pp_layout *l = &d->l;
    ovl_circuit circ = {0};
    ovl_gc *g = NULL, *e = NULL;
    ovl_rng rng[2];
    hx_side side[2] = {0};
    size_t ob = ovl_pp_out_bits(l);
    uint8_t *gin = calloc((size_t)d->bins * ovl_pp_garbler_bits(l), 1);
    uint8_t *ein = calloc((size_t)d->bins * ovl_pp_evaluator_bits(l), 1);
    OVL_ENSURE(gin && ein, OVL_ERR_NOMEM, "test");
    ovl_rng_init_system(&rng[0]);
    ovl_rng_init_system(&rng[1]);
    OVL_TRY(ovl_circuit_pairs(&circ, &l->s));
    OVL_ENSURE(circ.in_width[0] + circ.in_width[1] == ovl_pp_garbler_bits(l) &&
                   circ.in_width[2] + circ.in_width[3] == ovl_pp_evaluator_bits(l),
               OVL_ERR_INTERNAL, "circuit inputs differ from the phase's layout");
    OVL_TRY(ovl_pp_garbler_input(gin, z[1], l, d->crow[1], d->bins, &rng[1]));
    OVL_TRY(ovl_pp_evaluator_input(ein, l, d->rrow, d->crow[0], d->bins));
    ovl_gc_config gc = {.role = OVL_GC_GARBLER, .party = 1, .circuit = &circ,
                        .garbler_inputs = 2, .instances = d->bins,
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
    for (uint32_t b = 0; b < d->bins; b++) {
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

static inline ovl_err run_kind(ot_pair *pair, const pd_deal *d, ovl_pp_kind k, uint8_t *z[2],
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
    for (size_t b0 = 0; per && b0 < d->bins; b0 += step) {
        size_t bins = d->bins - b0 < step ? d->bins - b0 : step;
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
static inline int64_t check_deal(pd_deal *dp)
{
    const pd_deal *d = dp;
    ot_pair pair;
    int64_t total = 0;
    uint64_t ands = 0;
    pd_conds conds = d->conds;
    uint32_t cap = d->l.s.cap_r, gr = d->l.s.groups_r, gc = d->l.s.groups_c;
    const ovl_pp_layout *l = &d->l;
    size_t K = (size_t)gr * gc, P = 1u + l->star + l->words_r + l->words_c;
    size_t ob = ovl_pp_out_bits(l);
    uint8_t *z[2] = {calloc(d->bins * ob, 1), calloc(d->bins * ob, 1)};
    uint64_t *cells[2] = {calloc(K * P, 8), calloc(K * P, 8)};
    int64_t *want = calloc(K * P, 8);
    ovl_agg2_layout al;
    ovl_pp_cells_layout(&al, l);
    EXPECT_OK(ovl_agg2_layout_check(&al));
    EXPECT_EQ(ovl_agg2_prod_words(&al), P);
    EXPECT_OK(run_gc(d, z, &ands));
    EXPECT_EQ(ands, (uint64_t)d->bins * ovl_pc_and_count(&l->s));
    EXPECT_OK(ot_pair_new(&pair, NULL, NULL, NULL, NULL, NULL));
    for (int k = OVL_PP_PROD_ROWS; k <= OVL_PP_PROD_FLAG; k++)
        EXPECT_OK(run_kind(&pair, d, (ovl_pp_kind)k, z, cells));
    pd_expected(want, d);
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
           d->r.capped, d->c.capped);
    ot_pair_free(&pair);
    free(z[0]), free(z[1]), free(cells[0]), free(cells[1]), free(want);
    return total;
}

#endif
