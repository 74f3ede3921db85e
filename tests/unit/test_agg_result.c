/* The receiver's rows of aggregates v2 (aggregate/result.h, SPEC.md §8.4):
 * counts, sums with decimals, AVG rounded half to even to decimals + 4,
 * expressions with '/' to 6 digits, NULLIF and NULLs as empty fields, rows
 * sorted by label bytes; malformed labels and overflow refused. */
#include <stdlib.h>

#include "aggregate/result.h"
#include "test.h"

static void dim(ovl_agg2_plan *p, uint8_t side, uint8_t trunc, const char *name)
{
    ovl_agg2_dim *d = &p->dims[p->ndims++];
    d->side = side;
    d->trunc = trunc;
    snprintf(d->name, sizeof d->name, "%s", name);
}

static void col(ovl_agg2_plan *p, uint8_t side, uint8_t decimals, const char *name)
{
    ovl_agg2_col *c = &p->cols[p->ncols++];
    c->side = side;
    c->decimals = decimals;
    snprintf(c->name, sizeof c->name, "%s", name);
}

/* An output from a token list: (op, arg) pairs, literal values separately. */
static ovl_agg2_output *out(ovl_agg2_plan *p, const char *name)
{
    ovl_agg2_output *o = &p->outputs[p->noutputs++];
    snprintf(o->name, sizeof o->name, "%s", name);
    return o;
}

static void tok(ovl_agg2_output *o, uint8_t op, uint8_t arg)
{
    o->tok[o->ntok++] = (ovl_agg2_token){.op = op, .arg = arg};
}

static void lit(ovl_agg2_output *o, uint8_t op, int64_t v, uint8_t decimals)
{
    o->tok[o->ntok++] = (ovl_agg2_token){.op = op, .value = v, .decimals = decimals};
}

enum { SPEND = 0, AMOUNT = 1, PID = 2 };

/* The attribution shape: runner campaign, contributor week; the runner's
 * spend (summed), the contributor's amount (summed, averaged) and purchase
 * id (counted). Cell words: D, N, spend (count, sum), amount (count, sum),
 * pid (count). */
static void attribution(ovl_agg2_plan *p)
{
    memset(p, 0, sizeof *p);
    p->having = 2;
    dim(p, OVL_AGG2_SIDE_R, OVL_AGG2_TRUNC_NONE, "campaign");
    dim(p, OVL_AGG2_SIDE_C, OVL_AGG2_TRUNC_WEEK, "day");
    col(p, OVL_AGG2_SIDE_R, 2, "spend");
    col(p, OVL_AGG2_SIDE_C, 2, "amount");
    col(p, OVL_AGG2_SIDE_C, 0, "pid");
    tok(out(p, "campaign"), OVL_AGG2_OP_DIM, 0);
    tok(out(p, "week"), OVL_AGG2_OP_DIM, 1);
    tok(out(p, "buyers"), OVL_AGG2_OP_COUNT_DISTINCT, 0);
    tok(out(p, "rows"), OVL_AGG2_OP_COUNT_STAR, 0);
    tok(out(p, "spend"), OVL_AGG2_OP_SUM, SPEND);
    tok(out(p, "purchases"), OVL_AGG2_OP_COUNT, PID);
    tok(out(p, "revenue"), OVL_AGG2_OP_SUM, AMOUNT);
    tok(out(p, "avg"), OVL_AGG2_OP_AVG, AMOUNT);
    ovl_agg2_output *o = out(p, "roas");
    tok(o, OVL_AGG2_OP_SUM, AMOUNT);
    tok(o, OVL_AGG2_OP_SUM, SPEND);
    tok(o, OVL_AGG2_OP_NULLIF0, 0);
    tok(o, OVL_AGG2_OP_DIV, 0);
    o = out(p, "mixed"); /* SUM(amount) + SUM(spend) * 2 */
    tok(o, OVL_AGG2_OP_SUM, AMOUNT);
    tok(o, OVL_AGG2_OP_SUM, SPEND);
    lit(o, OVL_AGG2_OP_INT, 2, 0);
    tok(o, OVL_AGG2_OP_MUL, 0);
    tok(o, OVL_AGG2_OP_ADD, 0);
    o = out(p, "scaled"); /* 1.5 * COUNT(*) */
    lit(o, OVL_AGG2_OP_DEC, 15, 1);
    tok(o, OVL_AGG2_OP_COUNT_STAR, 0);
    tok(o, OVL_AGG2_OP_MUL, 0);
}

typedef struct {
    uint8_t r[64], c[64];
    uint16_t rl, cl;
    int64_t w[7];
} cell_data;

static void label(uint8_t *b, uint16_t *len, const char *v)
{
    size_t n = strlen(v);
    b[0] = (uint8_t)(n >> 8);
    b[1] = (uint8_t)n;
    memcpy(b + 2, v, n);
    *len = (uint16_t)(n + 2);
}

static void make(cell_data *d, ovl_agg2_cell *c, const char *camp, const char *week,
                 const int64_t w[7])
{
    label(d->r, &d->rl, camp);
    label(d->c, &d->cl, week);
    memcpy(d->w, w, sizeof d->w);
    *c = (ovl_agg2_cell){.label_r = d->r, .label_r_len = d->rl, .label_c = d->c,
                         .label_c_len = d->cl, .words = d->w};
}

static void expect_row(const ovl_agg2_result *r, size_t row, const char *const *want)
{
    for (size_t i = 0; i < r->ncols; i++)
        OVL_T_RECORD(strcmp(ovl_agg2_result_field(r, row, i), want[i]) == 0,
                     "row %zu column %s: got '%s', want '%s'", row, r->header[i],
                     ovl_agg2_result_field(r, row, i), want[i]);
}

static void test_values(void)
{
    ovl_agg2_plan p;
    attribution(&p);
    EXPECT_OK(ovl_agg2_plan_check(&p));
    /* D, N, spend n, spend sum, amount n, amount sum, pid n */
    static const int64_t w0[7] = {5, 9, 9, 10000, 9, 123456, 7};   /* 100.00, 1234.56 */
    static const int64_t w1[7] = {3, 32, 32, 0, 32, 5, 0};         /* spend 0: roas NULL */
    static const int64_t w2[7] = {4, 32, 32, 8000000, 32, -5, 32}; /* negative ties */
    static const int64_t w3[7] = {2, 3, 3, -250, 0, 0, 0};         /* no amounts: NULL */
    static const int64_t w4[7] = {2, 32, 32, 8000000, 32, 7, 1};   /* tie rounding up */
    cell_data d[5];
    ovl_agg2_cell cells[5];
    /* Unsorted on purpose; "B" (u16 1) sorts before "AA" (u16 2) by bytes. */
    make(&d[0], &cells[0], "AA", "2026-06-29", w0);
    make(&d[1], &cells[1], "B", "2026-07-06", w1);
    make(&d[2], &cells[2], "B", "2026-06-29", w2);
    make(&d[3], &cells[3], "AA", "2026-07-06", w3);
    make(&d[4], &cells[4], "AA", "2026-06-22", w4);
    ovl_agg2_result r;
    EXPECT_OK(ovl_agg2_result_build(&r, &p, cells, 5));
    EXPECT_EQ(r.nrows, 5);
    EXPECT_EQ(r.ncols, 11);
    if (r.nrows != 5 || r.ncols != 11)
        goto done;
    EXPECT_STR_EQ(r.header[0], "campaign");
    EXPECT_STR_EQ(r.header[8], "roas");
    /* avg: 0.05/32 = 0.0015625 -> 0.001562 (even); -0.05/32 -> -0.001562;
     * 0.07/32 = 0.0021875 -> 0.002188. roas: 0.07/80000 = 0.000000875 ->
     * 0.000001; -0.05/80000 = -0.000000625 -> -0.000001; 1234.56/100 exact. */
    expect_row(&r, 0, (const char *const[]){"B", "2026-06-29", "4", "32", "80000.00", "32",
                                            "-0.05", "-0.001562", "-0.000001", "159999.95",
                                            "48.0"});
    expect_row(&r, 1, (const char *const[]){"B", "2026-07-06", "3", "32", "0.00", "0", "0.05",
                                            "0.001562", "", "0.05", "48.0"});
    expect_row(&r, 2, (const char *const[]){"AA", "2026-06-22", "2", "32", "80000.00", "1",
                                            "0.07", "0.002188", "0.000001", "160000.07",
                                            "48.0"});
    expect_row(&r, 3, (const char *const[]){"AA", "2026-06-29", "5", "9", "100.00", "7",
                                            "1234.56", "137.173333", "12.345600", "1434.56",
                                            "13.5"});
    expect_row(&r, 4, (const char *const[]){"AA", "2026-07-06", "2", "3", "-2.50", "0", "", "",
                                            "", "", "4.5"});
done:
    ovl_agg2_result_free(&r);
}

static void test_division_ties(void)
{
    ovl_agg2_plan p;
    attribution(&p);
    /* revenue / spend at exact ties of the 7th digit: 1.00/80000.00 =
     * 0.0000125 -> 0.000012 (even), 3.00/80000.00 = 0.0000375 -> 0.000038. */
    static const int64_t a[7] = {2, 2, 2, 8000000, 2, 100, 2};
    static const int64_t b[7] = {2, 2, 2, 8000000, 2, 300, 2};
    cell_data d[2];
    ovl_agg2_cell cells[2];
    make(&d[0], &cells[0], "x", "2026-01-05", a);
    make(&d[1], &cells[1], "y", "2026-01-05", b);
    ovl_agg2_result r;
    EXPECT_OK(ovl_agg2_result_build(&r, &p, cells, 2));
    if (r.nrows == 2) {
        EXPECT_STR_EQ(ovl_agg2_result_field(&r, 0, 8), "0.000012");
        EXPECT_STR_EQ(ovl_agg2_result_field(&r, 1, 8), "0.000038");
    }
    ovl_agg2_result_free(&r);
}

/* Without dimension outputs, the dimensions lead (named by their columns);
 * without dimensions, the one cell has no label bytes. */
static void test_shapes(void)
{
    ovl_agg2_plan p;
    memset(&p, 0, sizeof p);
    dim(&p, OVL_AGG2_SIDE_C, OVL_AGG2_TRUNC_NONE, "category");
    dim(&p, OVL_AGG2_SIDE_C, OVL_AGG2_TRUNC_MONTH, "day");
    tok(out(&p, "n"), OVL_AGG2_OP_COUNT_DISTINCT, 0);
    EXPECT_OK(ovl_agg2_plan_check(&p));
    uint8_t lc[32] = {0, 4, 't', 'o', 'y', 's', 0, 10};
    memcpy(lc + 8, "2026-07-01", 10);
    int64_t w[6] = {7};
    ovl_agg2_cell c = {.label_c = lc, .label_c_len = 18, .words = w};
    ovl_agg2_result r;
    EXPECT_OK(ovl_agg2_result_build(&r, &p, &c, 1));
    EXPECT_EQ(r.ncols, 3);
    if (r.nrows == 1 && r.ncols == 3) {
        EXPECT_STR_EQ(r.header[0], "category");
        EXPECT_STR_EQ(r.header[1], "day");
        expect_row(&r, 0, (const char *const[]){"toys", "2026-07-01", "7"});
    }
    ovl_agg2_result_free(&r);
    /* No released cell: the header alone. */
    EXPECT_OK(ovl_agg2_result_build(&r, &p, NULL, 0));
    EXPECT_EQ(r.nrows, 0);
    EXPECT_EQ(r.ncols, 3);
    ovl_agg2_result_free(&r);
    /* A label without its second dimension, or with a NUL in a value. */
    c.label_c_len = 12;
    EXPECT_ERR(OVL_ERR_PROTOCOL, ovl_agg2_result_build(&r, &p, &c, 1));
    EXPECT_TRUE(r.fields == NULL && r.nrows == 0);
    c.label_c_len = 18;
    lc[3] = 0;
    EXPECT_ERR(OVL_ERR_PROTOCOL, ovl_agg2_result_build(&r, &p, &c, 1));
}

static void test_overflow(void)
{
    ovl_agg2_plan p;
    attribution(&p);
    ovl_agg2_output *o = out(&p, "cube"); /* SUM(spend)^3 leaves 128 bits */
    tok(o, OVL_AGG2_OP_SUM, SPEND);
    tok(o, OVL_AGG2_OP_SUM, SPEND);
    tok(o, OVL_AGG2_OP_MUL, 0);
    tok(o, OVL_AGG2_OP_SUM, SPEND);
    tok(o, OVL_AGG2_OP_MUL, 0);
    EXPECT_OK(ovl_agg2_plan_check(&p));
    static const int64_t big[7] = {2, 2, 2, INT64_MAX, 2, 1, 2};
    static const int64_t small[7] = {2, 2, 2, 1000, 2, 1, 2};
    cell_data d;
    ovl_agg2_cell c;
    ovl_agg2_result r;
    make(&d, &c, "x", "2026-01-05", small);
    EXPECT_OK(ovl_agg2_result_build(&r, &p, &c, 1));
    if (r.nrows == 1)
        EXPECT_STR_EQ(ovl_agg2_result_field(&r, 0, 11), "1000.000000"); /* 10.00^3 */
    ovl_agg2_result_free(&r);
    make(&d, &c, "x", "2026-01-05", big);
    EXPECT_ERR(OVL_ERR_LIMIT, ovl_agg2_result_build(&r, &p, &c, 1));
    /* A plan the codec would refuse is refused here too. */
    attribution(&p);
    p.outputs[2].tok[0].arg = 9;
    p.outputs[2].tok[0].op = OVL_AGG2_OP_SUM;
    EXPECT_ERR(OVL_ERR_MALFORMED, ovl_agg2_result_build(&r, &p, &c, 1));
}

int main(void)
{
    RUN(test_values);
    RUN(test_division_ties);
    RUN(test_shapes);
    RUN(test_overflow);
    return ovl_t_summary("test_agg_result");
}
