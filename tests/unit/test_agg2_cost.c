/* The cost formula of aggregates version 2 (protocols/aggregate/cost.h,
 * SPEC §11) against the bytes the engines actually send: both parties'
 * ovl_agg2_bytes_sent summed, at a few shapes, within 1.1x of
 * ovl_agg2_cost_eval. */
#include "agg2_world.h"
#include "aggregate/cost.h"
#include "psi_harness.h"
#include "test.h"

static void shape(uint32_t n_r, uint32_t n_c, uint32_t common, uint32_t gr, uint32_t gc,
                  uint8_t receiver, bool star)
{
    static w_party R, C;
    ovl_agg2_plan plan;
    EXPECT_OK(w_party_make(&R, true, 0, n_r, gr, 2, 3, 2 * n_r));
    EXPECT_OK(w_party_make(&C, false, n_r - common, n_r - common + n_c, gc, 2, 3, 2 * n_c));
    w_plan(&plan, receiver, star, gr > 1, gc > 1);
    ovl_agg2_config a = w_config(&R, &plan, true, 2, 1000);
    ovl_agg2_config b = w_config(&C, &plan, false, 2, 1000);
    ovl_agg2 *e[2] = {NULL, NULL};
    hx_side s[2];
    ovl_agg2_cost_in got;
    EXPECT_OK(ovl_agg2_new(&e[0], &a));
    EXPECT_OK(ovl_agg2_new(&e[1], &b));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_agg2_cost_inputs(&got, e[0]));
    hx_init(&s[0], &ovl_agg2_ops, e[0]);
    hx_init(&s[1], &ovl_agg2_ops, e[1]);
    hx_run(&s[0], &s[1], NULL, NULL);
    EXPECT_OK(s[0].rc);
    EXPECT_OK(s[1].rc);
    uint64_t measured = ovl_agg2_bytes_sent(e[0]) + ovl_agg2_bytes_sent(e[1]);
    EXPECT_EQ(measured, ovl_buf_len(&s[0].log) + ovl_buf_len(&s[1].log));
    ovl_agg2_cost_in in = {
        .n = n_r,
        .m = n_c,
        .groups_r = gr,
        .groups_c = gc,
        .words_r = ovl_agg2_plan_k_r(&plan),
        .words_c = ovl_agg2_plan_k_c(&plan),
        .star = ovl_agg2_plan_star(&plan),
        .bits_r = 3,
        .bits_c = 3,
        .released = (uint32_t)ovl_agg2_released_count(e[0]),
        .helper_groups = receiver == 0 ? gc : gr,
        .runner_receives = receiver == 0,
    };
    /* the engine reports the same shape, at both parties (the summary's) */
    for (int i = 0; i < 2; i++) {
        EXPECT_OK(ovl_agg2_cost_inputs(&got, e[i]));
        EXPECT_BYTES_EQ(&got, &in, sizeof in);
    }
    ovl_agg2_cost c;
    EXPECT_OK(ovl_agg2_cost_eval(&c, &in));
    double ratio = (double)measured / (double)c.total;
    printf("cost: n=%u m=%u cells %ux%u: measured %llu B, formula %llu B, ratio %.3f\n", n_r, n_c,
           gr, gc, (unsigned long long)measured, (unsigned long long)c.total, ratio);
    OVL_T_RECORD(ratio >= 1 / 1.1 && ratio <= 1.1, "measured/formula = %.3f", ratio);
    for (int i = 0; i < 2; i++) {
        hx_free(&s[i]);
        ovl_agg2_free(e[i]);
    }
    w_party_free(&R);
    w_party_free(&C);
}

static void formula_matches_measured_bytes(void)
{
    shape(40, 40, 24, 3, 2, 0, true);
    shape(60, 50, 30, 4, 4, 1, false);
    shape(24, 30, 10, 1, 1, 0, true);
    shape(64, 64, 40, 8, 2, 0, true);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    RUN(formula_matches_measured_bytes);
    return ovl_t_summary("test_agg2_cost");
}
