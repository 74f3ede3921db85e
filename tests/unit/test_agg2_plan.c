/* The aggregate v2 plan codec (protocols/aggregate/plan.h): canonical
 * round trips, the shapes k_R, k_C, s*, W, and every refusal of the reader
 * (truncation anywhere, trailing bytes, bad fields, bad expressions). */
#include <sodium.h>

#include "agg2_world.h"
#include "test.h"

static ovl_err enc(const ovl_agg2_plan *p, ovl_buf *b)
{
    ovl_buf_clear(b);
    return ovl_agg2_plan_write(p, b);
}

static void attribution(ovl_agg2_plan *p)
{
    w_plan(p, 0, true, true, true);
    ovl_agg2_output *o = &p->outputs[p->noutputs++];
    snprintf(o->name, sizeof o->name, "roas");
    o->ntok = 4;
    o->tok[0] = (ovl_agg2_token){.op = OVL_AGG2_OP_SUM, .arg = 2};
    o->tok[1] = (ovl_agg2_token){.op = OVL_AGG2_OP_SUM, .arg = 0};
    o->tok[2] = (ovl_agg2_token){.op = OVL_AGG2_OP_NULLIF0};
    o->tok[3] = (ovl_agg2_token){.op = OVL_AGG2_OP_DIV};
    o = &p->outputs[p->noutputs++];
    snprintf(o->name, sizeof o->name, "campaign");
    o->ntok = 1;
    o->tok[0] = (ovl_agg2_token){.op = OVL_AGG2_OP_DIM, .arg = 0};
    o = &p->outputs[p->noutputs++];
    snprintf(o->name, sizeof o->name, "scaled");
    o->ntok = 3;
    o->tok[0] = (ovl_agg2_token){.op = OVL_AGG2_OP_DEC, .value = -125, .decimals = 2};
    o->tok[1] = (ovl_agg2_token){.op = OVL_AGG2_OP_INT, .value = INT64_MIN};
    o->tok[2] = (ovl_agg2_token){.op = OVL_AGG2_OP_MUL};
}

static void round_trips_canonically(void)
{
    static ovl_agg2_plan p, q;
    ovl_buf a, b;
    EXPECT_OK(ovl_buf_alloc(&a, 64, OVL_AGG2_PLAN_MAX));
    EXPECT_OK(ovl_buf_alloc(&b, 64, OVL_AGG2_PLAN_MAX));
    attribution(&p);
    EXPECT_OK(enc(&p, &a));
    EXPECT_OK(ovl_agg2_plan_read(&q, a.data, a.wpos));
    EXPECT_OK(enc(&q, &b));
    EXPECT_EQ(a.wpos, b.wpos);
    EXPECT_BYTES_EQ(a.data, b.data, a.wpos);
    EXPECT_TRUE(memcmp(&p.outputs[6], &q.outputs[6], sizeof p.outputs[6]) == 0);
    /* shapes: r.spend summed (2 words), r.impressions counted (1); c.amount
     * summed and c.purchases averaged (2 + 2); COUNT(*) */
    EXPECT_EQ(ovl_agg2_plan_k_r(&q), 3);
    EXPECT_EQ(ovl_agg2_plan_k_c(&q), 4);
    EXPECT_EQ(ovl_agg2_plan_star(&q), 1);
    EXPECT_EQ(ovl_agg2_plan_record_words(&q), 15);
    EXPECT_EQ(ovl_agg2_plan_count_word(&q, 1), 2);
    EXPECT_EQ(ovl_agg2_plan_sum_word(&q, 1), UINT32_MAX);
    EXPECT_EQ(ovl_agg2_plan_sum_word(&q, 3), 3);
    EXPECT_EQ(ovl_agg2_plan_dims_of(&q, 1), 1);
    EXPECT_EQ(ovl_agg2_plan_cols_of(&q, 0), 2);
    /* every truncation and a trailing byte are refused */
    for (size_t n = 0; n < a.wpos; n++)
        EXPECT_ERR(OVL_ERR_MALFORMED, ovl_agg2_plan_read(&q, a.data, n));
    EXPECT_OK(ovl_buf_put_u8(&a, 0));
    EXPECT_ERR(OVL_ERR_MALFORMED, ovl_agg2_plan_read(&q, a.data, a.wpos));
    ovl_buf_free(&a);
    ovl_buf_free(&b);
}

static void refuses_bad_fields(void)
{
    static ovl_agg2_plan p, base;
    ovl_buf b;
    EXPECT_OK(ovl_buf_alloc(&b, 64, OVL_AGG2_PLAN_MAX));
    attribution(&base);
    p = base, p.receiver = 2;
    EXPECT_ERR(OVL_ERR_MALFORMED, enc(&p, &b));
    p = base, p.having = (1u << 23) + 1;
    EXPECT_ERR(OVL_ERR_MALFORMED, enc(&p, &b));
    p = base, p.dims[0].trunc = 4;
    EXPECT_ERR(OVL_ERR_MALFORMED, enc(&p, &b));
    p = base, p.cols[1].decimals = 19;
    EXPECT_ERR(OVL_ERR_MALFORMED, enc(&p, &b));
    p = base, p.cols[0].name[0] = '\0';
    EXPECT_ERR(OVL_ERR_MALFORMED, enc(&p, &b));
    p = base, p.cols[0].name[1] = '\n';
    EXPECT_ERR(OVL_ERR_MALFORMED, enc(&p, &b));
    /* expressions: an operator without operands, two values left, an index
     * out of range, a dimension inside an expression, an unknown operator */
    p = base, p.outputs[6].tok[0].op = OVL_AGG2_OP_ADD;
    EXPECT_ERR(OVL_ERR_MALFORMED, enc(&p, &b));
    p = base, p.outputs[6].ntok = 2;
    EXPECT_ERR(OVL_ERR_MALFORMED, enc(&p, &b));
    p = base, p.outputs[2].tok[0].arg = 4;
    EXPECT_ERR(OVL_ERR_MALFORMED, enc(&p, &b));
    p = base, p.outputs[6].tok[1] = (ovl_agg2_token){.op = OVL_AGG2_OP_DIM};
    EXPECT_ERR(OVL_ERR_MALFORMED, enc(&p, &b));
    p = base, p.outputs[0].tok[0].op = 14;
    EXPECT_ERR(OVL_ERR_MALFORMED, enc(&p, &b));
    p = base, p.noutputs = 0;
    EXPECT_ERR(OVL_ERR_MALFORMED, enc(&p, &b));
    /* a side's dimension count that its dimensions' sides contradict */
    p = base;
    EXPECT_OK(enc(&p, &b));
    b.data[9] = 2; /* dims_R */
    b.data[10] = 0; /* dims_C */
    EXPECT_ERR(OVL_ERR_MALFORMED, ovl_agg2_plan_read(&p, b.data, b.wpos));
    ovl_buf_free(&b);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    RUN(round_trips_canonically);
    RUN(refuses_bad_fields);
    return ovl_t_summary("test_agg2_plan");
}
