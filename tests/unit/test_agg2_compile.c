/* Compiling analyses into the aggregates v2 plan, from templates and the ad-hoc options
 * (src/session/agg2_plan.h): the article's query compiled, both paths
 * giving byte-identical plans for the same analysis, every refusal. */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "policy/adhoc.h"
#include "session/agg2_plan.h"
#include "article_sql.h"
#include "test.h"

static ovl_template *tpl(const char *sql)
{
    ovl_template *t = NULL;
    EXPECT_OK(ovl_template_parse(&t, "a.sql", sql, strlen(sql)));
    return t;
}

/* The canonical bytes of a plan (empty on failure). */
static size_t encode(const ovl_agg2_plan *p, uint8_t *out, size_t cap)
{
    ovl_buf b;
    size_t n = 0;
    if (ovl_buf_alloc(&b, 256, OVL_AGG2_PLAN_MAX) != OVL_OK)
        return 0;
    if (ovl_agg2_plan_write(p, &b) == OVL_OK && ovl_buf_len(&b) <= cap) {
        n = ovl_buf_len(&b);
        memcpy(out, b.data, n);
    }
    ovl_buf_free(&b);
    return n;
}

static void test_article(void)
{
    ovl_template *t = tpl(article_sql);
    ovl_agg2_plan p;
    if (!t)
        return;
    /* The advertiser (c, party 0) runs and receives. */
    EXPECT_OK(ovl_agg2_plan_from_template(&p, t, 0, 0));
    EXPECT_EQ(p.having, 100);
    EXPECT_EQ(p.receiver, 0);
    EXPECT_EQ(p.ndims, 5);
    EXPECT_EQ(ovl_agg2_plan_dims_of(&p, OVL_AGG2_SIDE_R), 3);
    EXPECT_EQ(ovl_agg2_plan_dims_of(&p, OVL_AGG2_SIDE_C), 2);
    EXPECT_EQ(p.dims[4].side, OVL_AGG2_SIDE_C);
    EXPECT_EQ(p.dims[4].trunc, OVL_AGG2_TRUNC_WEEK);
    EXPECT_STR_EQ(p.dims[4].name, "purchase_date");
    EXPECT_EQ(p.ncols, 4);
    EXPECT_STR_EQ(p.cols[0].name, "impression_count");
    EXPECT_EQ(p.cols[0].decimals, 0);
    EXPECT_STR_EQ(p.cols[1].name, "spend_amount");
    EXPECT_EQ(p.cols[1].decimals, 2);
    EXPECT_EQ(p.cols[2].side, OVL_AGG2_SIDE_C);
    EXPECT_STR_EQ(p.cols[2].name, "purchase_id");
    EXPECT_STR_EQ(p.cols[3].name, "purchase_amount");
    EXPECT_EQ(p.cols[3].decimals, 2);
    /* SPEC §11's example: k_R = 4, k_C = 3, no COUNT(*). */
    EXPECT_EQ(ovl_agg2_plan_k_r(&p), 4);
    EXPECT_EQ(ovl_agg2_plan_k_c(&p), 3);
    EXPECT_EQ(ovl_agg2_plan_star(&p), 0);
    EXPECT_EQ(ovl_agg2_plan_record_words(&p), 14);
    EXPECT_EQ(p.noutputs, 11);
    EXPECT_STR_EQ(p.outputs[4].name, "purchase_week");
    EXPECT_EQ(p.outputs[4].tok[0].op, OVL_AGG2_OP_DIM);
    EXPECT_EQ(p.outputs[4].tok[0].arg, 4);
    EXPECT_EQ(p.outputs[5].tok[0].op, OVL_AGG2_OP_COUNT_DISTINCT);
    EXPECT_EQ(p.outputs[8].tok[0].op, OVL_AGG2_OP_COUNT);
    EXPECT_EQ(p.outputs[8].tok[0].arg, 2);
    const ovl_agg2_output *roas = &p.outputs[10];
    EXPECT_STR_EQ(roas->name, "roas");
    EXPECT_EQ(roas->ntok, 4);
    EXPECT_TRUE(roas->tok[0].op == OVL_AGG2_OP_SUM && roas->tok[0].arg == 3);
    EXPECT_TRUE(roas->tok[1].op == OVL_AGG2_OP_SUM && roas->tok[1].arg == 1);
    EXPECT_EQ(roas->tok[2].op, OVL_AGG2_OP_NULLIF0);
    EXPECT_EQ(roas->tok[3].op, OVL_AGG2_OP_DIV);
    EXPECT_EQ(p.pairs.nconds, 0);
    /* The encoding reads back to the same bytes. */
    uint8_t a[OVL_AGG2_PLAN_MAX], b[OVL_AGG2_PLAN_MAX];
    size_t na = encode(&p, a, sizeof a);
    ovl_agg2_plan q;
    EXPECT_TRUE(na > 0);
    EXPECT_OK(ovl_agg2_plan_read(&q, a, na));
    size_t nb = encode(&q, b, sizeof b);
    EXPECT_TRUE(na == nb && memcmp(a, b, na) == 0);
    /* The retailer (p, party 1) as runner, the advertiser receiving: sides swap. */
    EXPECT_OK(ovl_agg2_plan_from_template(&p, t, 1, 0));
    EXPECT_EQ(p.receiver, 1);
    EXPECT_EQ(ovl_agg2_plan_dims_of(&p, OVL_AGG2_SIDE_R), 2);
    EXPECT_EQ(p.cols[0].side, OVL_AGG2_SIDE_C);
    EXPECT_EQ(ovl_agg2_plan_k_r(&p), 3);
    EXPECT_EQ(ovl_agg2_plan_k_c(&p), 4);
    EXPECT_ERR(OVL_ERR_USAGE, ovl_agg2_plan_from_template(&p, t, 2, 0));
    ovl_template_free(t);
    /* With the 30-day window: the plan's pairs part (CONDITIONS.md §7). */
    t = tpl(article_with_window_sql);
    if (t) {
        EXPECT_OK(ovl_agg2_plan_from_template(&p, t, 0, 0));
        EXPECT_EQ(p.pairs.nconds, 1);
        const ovl_pc_plan_cond *c = &p.pairs.conds[0];
        /* p.purchase_date BETWEEN c.impression_date AND c.impression_date + 30, with the
         * advertiser (c) running: c.impression_date BETWEEN p.purchase_date - 30 AND p.purchase_date */
        EXPECT_EQ(c->op, OVL_PC_BETWEEN);
        EXPECT_EQ(c->type, OVL_PC_TYPE_DATE);
        EXPECT_EQ(c->width, OVL_PC_DATE_BITS);
        EXPECT_STR_EQ(c->r_col, "impression_date");
        EXPECT_STR_EQ(c->c_col, "purchase_date");
        EXPECT_TRUE(c->lo == -30 && c->hi == 0);
        EXPECT_EQ(p.pairs.cap_rows, 4);
        EXPECT_STR_EQ(p.pairs.r_order, "");
        na = encode(&p, a, sizeof a);
        EXPECT_OK(ovl_agg2_plan_read(&q, a, na));
        EXPECT_EQ(q.pairs.nconds, 1);
        /* the retailer running: the same condition the other way round */
        EXPECT_OK(ovl_agg2_plan_from_template(&p, t, 1, 1));
        c = &p.pairs.conds[0];
        EXPECT_STR_EQ(c->r_col, "purchase_date");
        EXPECT_TRUE(c->op == OVL_PC_BETWEEN && c->lo == 0 && c->hi == 30);
        for (int64_t r = -40; r <= 40; r++)
            OVL_T_RECORD(ovl_pc_cond_holds(c, 1000 + r, 1000) == (r >= 0 && r <= 30),
                         "purchase %lld days after the impression", (long long)r);
    }
    ovl_template_free(t);
}

static void same_plan(const char *sql, int runner, int receiver, const char *group_by,
                      const char *values, uint64_t having, int adhoc_receiver)
{
    ovl_template *t = tpl(sql);
    ovl_agg2_plan p, q;
    uint8_t a[OVL_AGG2_PLAN_MAX], b[OVL_AGG2_PLAN_MAX];
    if (!t)
        return;
    EXPECT_OK(ovl_agg2_plan_from_template(&p, t, runner, receiver));
    EXPECT_OK(ovl_agg2_plan_from_options(&q, group_by, values, having, adhoc_receiver));
    size_t na = encode(&p, a, sizeof a), nb = encode(&q, b, sizeof b);
    OVL_T_RECORD(na > 0 && na == nb && memcmp(a, b, na) == 0,
                 "--group-by '%s' --values '%s' and the template give other plans (%zu, %zu bytes)",
                 group_by ? group_by : "", values ? values : "", na, nb);
    ovl_template_free(t);
}

/* The ad-hoc options and the equivalent template: byte-identical plans. */
static void test_adhoc_equals_template(void)
{
    same_plan("-- decimals c.v 2\n"
              "SELECT r.g AS g, DATE_TRUNC('week', c.d) AS week_d, COUNT(DISTINCT r.id) AS matched,"
              " COUNT(*) AS rows, SUM(c.v) AS sum_v, AVG(c.v) AS avg_v"
              " FROM runner_table r JOIN contributor_table c ON r.id = c.id"
              " GROUP BY 1, 2 HAVING COUNT(DISTINCT r.id) >= 5",
              0, 0, "g,week(contributor:d)", "contributor:v:2", 5, OVL_ADHOC_SIDE_RUNNER);
    /* The runner reads the JOIN table; values of both parties; the
     * contributor receives; unqualified columns keep their old sides. */
    same_plan("-- decimals r.w 1\n"
              "SELECT c.h AS h, r.g AS g, DATE_TRUNC('month', r.d) AS month_d, COUNT(DISTINCT c.id) AS matched,"
              " COUNT(*) AS rows, SUM(c.v) AS sum_v, AVG(c.v) AS avg_v, SUM(r.w) AS sum_w,"
              " AVG(r.w) AS avg_w"
              " FROM contributor_table c JOIN runner_table r ON c.id = r.id"
              " GROUP BY c.h, r.g, DATE_TRUNC('month', r.d) HAVING COUNT(DISTINCT r.id) >= 10",
              1, 0, "contributor:h,runner:g,month(d)", "v,runner:w:1", 10,
              OVL_ADHOC_SIDE_CONTRIBUTOR);
    /* No dimensions, no values, no HAVING. */
    same_plan("SELECT COUNT(DISTINCT r.id) AS matched, COUNT(*) AS rows"
              " FROM runner_table r JOIN contributor_table c ON r.id = c.id",
              0, 0, NULL, "", 0, OVL_ADHOC_SIDE_RUNNER);
}

static void expect_adhoc_err(ovl_err code, const char *group_by, const char *values,
                             uint64_t having, const char *want)
{
    ovl_agg2_plan p;
    EXPECT_ERR(code, ovl_agg2_plan_from_options(&p, group_by, values, having, 0));
    OVL_T_RECORD(strstr(ovl_err_detail(), want) != NULL, "'%s' not in '%s'", want, ovl_err_detail());
    EXPECT_EQ(p.noutputs, 0);
}

static void test_refusals(void)
{
    expect_adhoc_err(OVL_ERR_USAGE, "year(d)", NULL, 0,
                     "--group-by: 'year(d)': a date is truncated with day(COL), week(COL) or month(COL)");
    expect_adhoc_err(OVL_ERR_USAGE, "week()", NULL, 0, "--group-by: empty column name");
    expect_adhoc_err(OVL_ERR_USAGE, "g,,h", NULL, 0, "--group-by: empty column name");
    expect_adhoc_err(OVL_ERR_USAGE, "g,g", NULL, 0, "--group-by: 'g' is named twice");
    expect_adhoc_err(OVL_ERR_USAGE, "g,runner:g", NULL, 0, "output column 'g' appears twice");
    expect_adhoc_err(OVL_ERR_USAGE, NULL, "v:19", 0, "--values: decimals must be 0..18");
    expect_adhoc_err(OVL_ERR_USAGE, NULL, "v:", 0, "--values: empty decimal count");
    expect_adhoc_err(OVL_ERR_USAGE, NULL, "v:x", 0, "--values: decimals must be 0..18");
    expect_adhoc_err(OVL_ERR_USAGE, NULL, "runner:amount,contributor:amount", 0,
                     "output column 'sum_amount' appears twice");
    expect_adhoc_err(OVL_ERR_USAGE, NULL, "v:2,contributor:v:3", 0,
                     "output column 'sum_v' appears twice");
    {
        /* one column asked twice (a request) with two scales */
        const char *vals[] = {"contributor:v", "v"};
        ovl_aggfn fns[] = {OVL_FN_SUM, OVL_FN_COUNT};
        unsigned dec[] = {2, 3};
        ovl_agg2_adhoc a = {.values = vals, .fns = fns, .decimals = dec, .nvalues = 2};
        ovl_agg2_plan p;
        EXPECT_ERR(OVL_ERR_USAGE, ovl_agg2_plan_from_adhoc(&p, &a));
        EXPECT_TRUE(strstr(ovl_err_detail(), "value column v is given 2 and 3 decimal places"));
        fns[1] = OVL_FN_COUNT_DISTINCT;
        EXPECT_ERR(OVL_ERR_USAGE, ovl_agg2_plan_from_adhoc(&p, &a));
        EXPECT_TRUE(strstr(ovl_err_detail(), "summed, averaged or counted"));
    }
    expect_adhoc_err(OVL_ERR_LIMIT, NULL, "v", (1u << 23) + 1, "exceeds the aggregate threshold cap");
    char many[512] = "";
    for (int i = 0; i < 17; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "%sg%d", i ? "," : "", i);
    expect_adhoc_err(OVL_ERR_USAGE, many, NULL, 0, "more than 16 dimensions of the runner");
    char sql[2048] = "SELECT ";
    for (int i = 0; i < 17; i++)
        snprintf(sql + strlen(sql), sizeof sql - strlen(sql), "a.g%d, ", i);
    strcat(sql, "COUNT(*) FROM t1 a JOIN t2 b ON a.k = b.k GROUP BY ");
    for (int i = 0; i < 17; i++)
        snprintf(sql + strlen(sql), sizeof sql - strlen(sql), "%sa.g%d", i ? ", " : "", i);
    ovl_template *t = tpl(sql);
    ovl_agg2_plan p;
    if (t) {
        EXPECT_ERR(OVL_ERR_INPUT, ovl_agg2_plan_from_template(&p, t, 0, 0));
        EXPECT_TRUE(strstr(ovl_err_detail(), "a.sql: more than 16 dimensions of the runner") != NULL);
        /* the other party running: the same 17 columns are the contributor's */
        EXPECT_ERR(OVL_ERR_INPUT, ovl_agg2_plan_from_template(&p, t, 1, 1));
    }
    ovl_template_free(t);
    t = tpl("SELECT COUNT(*) AS \"a\tb\" FROM t1 a JOIN t2 b ON a.k = b.k");
    if (t) {
        EXPECT_ERR(OVL_ERR_INPUT, ovl_agg2_plan_from_template(&p, t, 0, 0));
        EXPECT_TRUE(strstr(ovl_err_detail(), "a.sql: output column") != NULL);
    }
    ovl_template_free(t);
    ovl_agg2_adhoc bad = {.receiver = 2};
    EXPECT_ERR(OVL_ERR_USAGE, ovl_agg2_plan_from_adhoc(&p, &bad));
}

static void test_items(void)
{
    ovl_adhoc_dim d;
    ovl_adhoc_col c;
    EXPECT_OK(ovl_adhoc_dim_parse(&d, "campaign_id"));
    EXPECT_TRUE(d.side == OVL_ADHOC_SIDE_RUNNER && d.trunc == OVL_TRUNC_NONE);
    EXPECT_OK(ovl_adhoc_dim_parse(&d, "Week(contributor:purchase_date)"));
    EXPECT_TRUE(d.side == OVL_ADHOC_SIDE_CONTRIBUTOR && d.trunc == OVL_TRUNC_WEEK);
    EXPECT_STR_EQ(d.column, "purchase_date");
    EXPECT_OK(ovl_adhoc_dim_parse(&d, "contributor:"));
    EXPECT_TRUE(d.side == OVL_ADHOC_SIDE_RUNNER);
    EXPECT_STR_EQ(d.column, "contributor:");
    EXPECT_OK(ovl_adhoc_col_parse(&c, "amount", true));
    EXPECT_TRUE(c.side == OVL_ADHOC_SIDE_CONTRIBUTOR && c.decimals == 0);
    EXPECT_OK(ovl_adhoc_col_parse(&c, "runner:spend:2", true));
    EXPECT_TRUE(c.side == OVL_ADHOC_SIDE_RUNNER && c.decimals == 2);
    EXPECT_STR_EQ(c.column, "spend");
    EXPECT_OK(ovl_adhoc_col_parse(&c, "runner:2", true));
    EXPECT_TRUE(c.side == OVL_ADHOC_SIDE_RUNNER && c.decimals == 0);
    EXPECT_STR_EQ(c.column, "2");
    /* without decimals (a request's spelling) a colon is part of the name */
    EXPECT_OK(ovl_adhoc_col_parse(&c, "contributor:a:b", false));
    EXPECT_STR_EQ(c.column, "a:b");
    EXPECT_ERR(OVL_ERR_USAGE, ovl_adhoc_col_parse(&c, "a\tb", false));
    char long_name[200];
    memset(long_name, 'x', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    EXPECT_ERR(OVL_ERR_USAGE, ovl_adhoc_dim_parse(&d, long_name));
    EXPECT_TRUE(strstr(ovl_err_detail(), "longer than 128 bytes") != NULL);
}

/* Labels: each side's dimensions in plan order, dates truncated by the owner. */
static void test_labels(void)
{
    ovl_template *t = tpl(article_sql);
    ovl_agg2_plan p;
    uint8_t lab[OVL_AGG2_LABEL_MAX];
    size_t n = 0, fl = 0;
    const uint8_t *f = NULL;
    if (!t)
        return;
    EXPECT_OK(ovl_agg2_plan_from_template(&p, t, 0, 0));
    const char *cells[] = {"toys", " 2026-07-15 "};
    const size_t lens[] = {4, 12};
    EXPECT_OK(ovl_agg2_group_label(lab, &n, &p, OVL_AGG2_SIDE_C, cells, lens));
    static const uint8_t want[] = {0, 4, 't', 'o', 'y', 's', 0, 10, '2', '0', '2', '6', '-',
                                   '0', '7', '-', '1', '3'};
    EXPECT_TRUE(n == sizeof want && memcmp(lab, want, n) == 0);
    EXPECT_TRUE(ovl_agg2_label_field(lab, n, 1, &f, &fl) && fl == 10 && memcmp(f, "2026-07-13", 10) == 0);
    EXPECT_TRUE(ovl_agg2_label_field(lab, n, 0, &f, &fl) && fl == 4);
    EXPECT_TRUE(!ovl_agg2_label_field(lab, n, 2, &f, &fl));
    EXPECT_TRUE(!ovl_agg2_label_field(lab, n - 1, 1, &f, &fl));
    const char *bad[] = {"toys", "July"};
    const size_t blens[] = {4, 4};
    EXPECT_ERR(OVL_ERR_INPUT, ovl_agg2_group_label(lab, &n, &p, OVL_AGG2_SIDE_C, bad, blens));
    EXPECT_TRUE(strstr(ovl_err_detail(), "column purchase_date: DATE_TRUNC('week')") != NULL);
    EXPECT_TRUE(strstr(ovl_err_detail(), "July") == NULL);
    /* the runner's three dimensions, one of them empty */
    const char *r[] = {"CAMP_1", "", "video"};
    const size_t rl[] = {6, 0, 5};
    EXPECT_OK(ovl_agg2_group_label(lab, &n, &p, OVL_AGG2_SIDE_R, r, rl));
    EXPECT_EQ(n, 2 + 6 + 2 + 0 + 2 + 5);
    char big[300];
    memset(big, 'x', sizeof big);
    const char *l1[] = {big, big, big};
    const size_t ll[] = {200, 60, 1};
    EXPECT_ERR(OVL_ERR_INPUT, ovl_agg2_group_label(lab, &n, &p, OVL_AGG2_SIDE_R, l1, ll));
    EXPECT_TRUE(strstr(ovl_err_detail(), "up to column campaign_name") != NULL);
    ovl_template_free(t);
}

/* Conditions across parties: types, orientation and the cap (CONDITIONS.md §2, §7). */
static void test_pairs(void)
{
    ovl_template *t = tpl("-- cap rows 2 by b.t, a.s\n-- decimals b.p 2\n"
                          "SELECT COUNT(*) FROM t1 a JOIN t2 b ON a.k = b.k AND a.q < b.p"
                          " AND a.n >= b.m AND a.d <= b.e - INTERVAL '2 weeks'");
    ovl_agg2_plan p;
    if (!t)
        return;
    EXPECT_OK(ovl_agg2_plan_from_template(&p, t, 0, 0));
    EXPECT_EQ(p.pairs.nconds, 3);
    EXPECT_TRUE(p.pairs.conds[0].type == OVL_PC_TYPE_DECIMAL && p.pairs.conds[0].decimals == 2 &&
                p.pairs.conds[0].width == OVL_AGG2_COND_BITS && p.pairs.conds[0].op == OVL_PC_LT);
    EXPECT_TRUE(p.pairs.conds[1].type == OVL_PC_TYPE_INT && p.pairs.conds[1].decimals == 0 &&
                p.pairs.conds[1].op == OVL_PC_GE);
    EXPECT_TRUE(p.pairs.conds[2].type == OVL_PC_TYPE_DATE && p.pairs.conds[2].lo == -14 &&
                p.pairs.conds[2].op == OVL_PC_LE);
    EXPECT_TRUE(p.pairs.cap_rows == 2 && strcmp(p.pairs.r_order, "s") == 0 &&
                strcmp(p.pairs.c_order, "t") == 0);
    /* b running: b.e >= a.d + 14 */
    EXPECT_OK(ovl_agg2_plan_from_template(&p, t, 1, 0));
    EXPECT_TRUE(p.pairs.conds[2].op == OVL_PC_GE && p.pairs.conds[2].lo == 14 &&
                strcmp(p.pairs.conds[2].r_col, "e") == 0);
    EXPECT_TRUE(p.pairs.conds[0].op == OVL_PC_GT && strcmp(p.pairs.conds[0].r_col, "p") == 0);
    EXPECT_TRUE(strcmp(p.pairs.r_order, "t") == 0 && strcmp(p.pairs.c_order, "s") == 0);
    ovl_template_free(t);
    /* a scale on a date condition is the template compiler's to refuse */
    static const char bad[] = "-- decimals b.e 1\nSELECT COUNT(*) FROM t1 a JOIN t2 b ON a.k = "
                              "b.k AND a.d <= b.e + INTERVAL '1 day'";
    t = NULL;
    EXPECT_ERR(OVL_ERR_INPUT, ovl_template_parse(&t, "a.sql", bad, strlen(bad)));
    EXPECT_STR_EQ(ovl_err_detail(), "a.sql:2:54: a.d <= b.e + INTERVAL '1 day': an INTERVAL "
                                    "compares dates, but b.e has -- decimals 1; compare numbers "
                                    "without INTERVAL, or drop its -- decimals");
    EXPECT_TRUE(t == NULL);
}

/* -- dates types a condition without INTERVAL as dates (CONDITIONS.md §2.1):
 * the plan both parties state in HELLO says so, and it names the aliases
 * for the owners' own errors (not encoded). */
static void test_declared_dates(void)
{
    ovl_template *t = tpl("-- dates b.seen\nSELECT COUNT(*) FROM pur p JOIN imp b ON p.k = b.k "
                          "AND p.day >= b.seen AND p.n < b.m");
    ovl_agg2_plan p, q;
    uint8_t a[OVL_AGG2_PLAN_MAX], c[OVL_AGG2_PLAN_MAX];
    if (!t)
        return;
    EXPECT_OK(ovl_agg2_plan_from_template(&p, t, 0, 0));
    EXPECT_EQ(p.pairs.nconds, 2);
    EXPECT_TRUE(p.pairs.conds[0].type == OVL_PC_TYPE_DATE && p.pairs.conds[0].width == 17 &&
                p.pairs.conds[0].lo == 0 && p.pairs.conds[0].hi == 0 &&
                p.pairs.conds[0].op == OVL_PC_GE);
    EXPECT_TRUE(p.pairs.conds[1].type == OVL_PC_TYPE_INT);
    EXPECT_STR_EQ(p.pairs.r_alias, "p");
    EXPECT_STR_EQ(p.pairs.c_alias, "b");
    /* the other party running: mirrored, aliases swapped */
    EXPECT_OK(ovl_agg2_plan_from_template(&q, t, 1, 1));
    EXPECT_TRUE(q.pairs.conds[0].type == OVL_PC_TYPE_DATE && q.pairs.conds[0].op == OVL_PC_LE &&
                strcmp(q.pairs.conds[0].r_col, "seen") == 0);
    EXPECT_STR_EQ(q.pairs.r_alias, "b");
    /* the aliases are not in the encoding: read back, the plan has none and
     * the same bytes */
    size_t na = encode(&p, a, sizeof a);
    ovl_agg2_plan back;
    EXPECT_OK(ovl_agg2_plan_read(&back, a, na));
    EXPECT_STR_EQ(back.pairs.r_alias, "");
    size_t nc = encode(&back, c, sizeof c);
    EXPECT_TRUE(na > 0 && na == nc && memcmp(a, c, na) == 0);
    ovl_template_free(t);
    /* the same condition written with + INTERVAL '0 days': the same plan bytes */
    t = tpl("SELECT COUNT(*) FROM pur p JOIN imp b ON p.k = b.k AND p.day >= b.seen + "
            "INTERVAL '0 days' AND p.n < b.m");
    if (t) {
        EXPECT_OK(ovl_agg2_plan_from_template(&q, t, 0, 0));
        nc = encode(&q, c, sizeof c);
        EXPECT_TRUE(na > 0 && na == nc && memcmp(a, c, na) == 0);
    }
    ovl_template_free(t);
}

int main(void)
{
    RUN(test_article);
    RUN(test_adhoc_equals_template);
    RUN(test_refusals);
    RUN(test_items);
    RUN(test_labels);
    RUN(test_pairs);
    RUN(test_declared_dates);
    return ovl_t_summary("test_agg2_compile");
}
