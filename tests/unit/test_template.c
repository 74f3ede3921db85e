/* Templates: the plan, canonical hashing (stable under reformatting, changed
 * by any change of meaning), one pointed error per rejected construct,
 * parameters and filter evaluation. */
#include <stdlib.h>
#include <string.h>

#include "policy/template.h"
#include "test.h"

static const char attribution[] =
    "-- param campaign_id string in ('CAMP_2026_Q3', 'CAMP_2026_Q4')\n"
    "-- param start_date date\n"
    "-- param end_date date\n"
    "SELECT c.campaign_id, c.ad_format,\n"
    "       COUNT(DISTINCT c.email) AS matched_users,\n"
    "       SUM(p.purchase_amount) AS revenue, AVG(p.purchase_amount) AS avg_purchase\n"
    "FROM impressions AS c INNER JOIN purchases AS p ON c.email = p.email\n"
    "WHERE c.campaign_id = :campaign_id\n"
    "  AND p.purchase_date BETWEEN :start_date AND :end_date\n"
    "GROUP BY c.campaign_id, c.ad_format\n"
    "HAVING COUNT(DISTINCT c.email) >= 100;\n";

/* The same template reformatted: other case, spacing, comments, parameter order. */
static const char reformatted[] =
    "/* attribution, reformatted */\n"
    "-- param end_date DATE\n"
    "-- PARAM start_date Date\n"
    "--   param campaign_id STRING IN ('CAMP_2026_Q3','CAMP_2026_Q4')\n"
    "select c.campaign_id as campaign_id, c.ad_format,   count( distinct c.email ) matched_users,\n"
    "sum(p.purchase_amount) as revenue, avg(p.purchase_amount) as avg_purchase -- money\n"
    "from impressions c join purchases p on c.email=p.email\n"
    "where c.campaign_id=:campaign_id and p.purchase_date between :start_date and :end_date\n"
    "group by 1, 2 having count(distinct c.email)>=100";

static ovl_err parse(ovl_template **t, const char *s)
{
    return ovl_template_parse(t, "attribution.sql", s, strlen(s));
}

static void test_plan(void)
{
    ovl_template *t = NULL;
    EXPECT_OK(parse(&t, attribution));
    if (!t)
        return;
    EXPECT_STR_EQ(t->table[0], "impressions");
    EXPECT_STR_EQ(t->alias[1], "p");
    EXPECT_STR_EQ(t->join_column[0], "email");
    EXPECT_EQ(t->group_party, 0);
    EXPECT_EQ(t->value_party, 1);
    EXPECT_EQ(t->ndims, 2);
    EXPECT_EQ(t->naggs, 3);
    EXPECT_EQ(t->threshold, 100);
    EXPECT_EQ(t->nfilters, 2);
    EXPECT_EQ(t->filters[0].party, 0);
    EXPECT_EQ(t->filters[0].op, OVL_CMP_EQ);
    EXPECT_EQ(t->filters[1].party, 1);
    EXPECT_EQ(t->filters[1].op, OVL_CMP_BETWEEN);
    EXPECT_EQ(t->filters[1].values[0].type, OVL_PARAM_DATE);
    EXPECT_EQ(t->functions, OVL_FN_COUNT_DISTINCT | OVL_FN_SUM | OVL_FN_AVG);
    EXPECT_EQ(t->nparams, 3);
    EXPECT_STR_EQ(t->aggs[1].output, "revenue");
    EXPECT_EQ(ovl_template_party(t, "purchases"), 1);
    EXPECT_EQ(ovl_template_party(t, "other"), -1);
    ovl_template_free(t);
}

static void test_hash_canonical(void)
{
    ovl_template *a = NULL, *b = NULL;
    EXPECT_OK(parse(&a, attribution));
    EXPECT_OK(parse(&b, reformatted));
    if (a && b) {
        EXPECT_BYTES_EQ(a->hash, b->hash, OVL_HASH_LEN);
        EXPECT_STR_EQ(a->canonical, b->canonical);
    }
    /* any change of meaning changes the hash */
    static const struct {
        const char *from, *to;
    } edits[] = {
        {">= 100", ">= 101"},
        {"'CAMP_2026_Q4')", "'CAMP_2026_Q5')"},
        {"AVG(p.purchase_amount)", "SUM(p.item_count)"},
        {"BETWEEN :start_date AND :end_date", "BETWEEN :end_date AND :start_date"},
        {"AS revenue", "AS turnover"},
        {"c.ad_format,\n", "c.ad_format,c.campaign_name,\n"},
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        char buf[4096];
        ovl_template *c = NULL;
        const char *at = strstr(attribution, edits[i].from);
        snprintf(buf, sizeof buf, "%.*s%s%s", (int)(at - attribution), attribution, edits[i].to,
                 at + strlen(edits[i].from));
        if (i == 5) /* keep GROUP BY in step with the select list */
            strcpy(strstr(buf, "GROUP BY"), "GROUP BY c.campaign_id, c.ad_format, c.campaign_name\n");
        EXPECT_OK(parse(&c, buf));
        if (a && c)
            OVL_T_RECORD(memcmp(a->hash, c->hash, OVL_HASH_LEN) != 0, "edit %zu kept the hash", i);
        ovl_template_free(c);
    }
    ovl_template_free(a);
    ovl_template_free(b);
}

static const char *const Q = "SELECT a.g, COUNT(*) FROM t1 AS a INNER JOIN t2 AS b ON a.k = b.k ";

static void expect_reject(const char *sql, const char *want)
{
    ovl_template *t = NULL;
    EXPECT_ERR(OVL_ERR_INPUT, parse(&t, sql));
    OVL_T_RECORD(strstr(ovl_err_detail(), want) != NULL, "'%s' not in '%s'", want, ovl_err_detail());
    EXPECT_TRUE(t == NULL);
}

static void expect_reject_q(const char *tail, const char *want)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s%s", Q, tail);
    expect_reject(buf, want);
}

static void test_rejections(void)
{
    expect_reject("SELECT a.g,\n       SUM(a.x * b.y) FROM t1 AS a JOIN t2 AS b ON a.k = b.k GROUP BY a.g",
                  "attribution.sql:2:8: SUM(a.x * b.y): expressions inside aggregates cannot be computed privately");
    expect_reject("SELECT COUNT(*) FROM t1 a JOIN t2 b ON a.k = b.k AND a.d > 3",
                  "ON holds the join equality and conditions comparing a column of each table");
    expect_reject("SELECT COUNT(*) FROM t1 a JOIN t2 b ON a.k = b.k AND a.d > a.e",
                  "comparing two columns of one table is not supported");
    expect_reject("SELECT COUNT(*) FROM t1 a JOIN t2 b ON a.k < b.k", "by equality only");
    expect_reject("SELECT COUNT(*) FROM t1 a JOIN t2 b ON a.k = a.j", "a join matches a column of each table");
    expect_reject("SELECT COUNT(*) FROM t1 a LEFT JOIN t2 b ON a.k = b.k", "only INNER JOIN");
    expect_reject("SELECT COUNT(*) FROM t1 a, t2 b", "comma joins are not supported");
    expect_reject("SELECT COUNT(*) FROM (SELECT 1) a JOIN t2 b ON a.k = b.k", "subqueries are not supported");
    expect_reject_q("WHERE a.x = 1 OR a.y = 2 GROUP BY a.g", "OR: OR is not supported");
    expect_reject_q("WHERE a.x + b.y > 3 GROUP BY a.g",
                    "a.x + b.y > 3: arithmetic across parties' columns cannot be computed privately");
    expect_reject_q("WHERE a.x IN (1, b.y) GROUP BY a.g", "a condition across parties compares two columns");
    expect_reject_q("WHERE a.x IN (SELECT z FROM q) GROUP BY a.g", "subqueries are not supported");
    expect_reject_q("WHERE z.x = 1 GROUP BY a.g", "unknown table alias 'z'");
    expect_reject_q("WHERE x = 1 GROUP BY a.g", "qualify columns with their table alias");
    expect_reject_q("WHERE a.x = :p GROUP BY a.g", ":p: unknown parameter");
    expect_reject_q("WHERE NOT a.x = 1 GROUP BY a.g", "NOT and EXISTS are not supported");
    expect_reject_q("WHERE a.x IN (1, 'x') GROUP BY a.g", "compared values must all be of one type");
    expect_reject_q("WHERE a.d = DATE '2026-02-30' GROUP BY a.g", "not a valid date");
    expect_reject_q("GROUP BY a.g ORDER BY a.g", "ORDER BY is not supported");
    expect_reject_q("GROUP BY a.g HAVING SUM(b.v) >= 3", "HAVING must be COUNT(*) >= k");
    expect_reject_q("GROUP BY a.g HAVING COUNT(*) > 3", "HAVING must compare the count with >=");
    expect_reject_q("GROUP BY a.g HAVING COUNT(*) >= 0", "the threshold must be a whole number from 2");
    expect_reject_q("GROUP BY a.g HAVING COUNT(*) >= 1", "the threshold must be a whole number from 2");
    expect_reject_q("", "selected columns must be in GROUP BY");
    expect_reject_q("GROUP BY a.g, a.h", "grouped columns must also be selected");
    expect_reject("SELECT a.g, SUM(a.v) FROM t1 a JOIN t2 b ON a.k = b.k GROUP BY a.g",
                  "SUM(a.v): aggregates must be over the other party's columns than the GROUP BY columns (a)");
    expect_reject("SELECT a.g, b.h, COUNT(*) FROM t1 a JOIN t2 b ON a.k = b.k GROUP BY a.g, b.h",
                  "dimensions must all come from one party");
    expect_reject("SELECT SUM(a.v), SUM(b.w) FROM t1 a JOIN t2 b ON a.k = b.k",
                  "aggregated columns must all come from one party");
    expect_reject("SELECT a.g, SUM(b.v) / NULLIF(SUM(b.w), 0) FROM t1 a JOIN t2 b ON a.k = b.k GROUP BY a.g",
                  "expressions on columns or aggregates are not supported");
    expect_reject("SELECT DATE_TRUNC('week', a.d), COUNT(*) FROM t1 a JOIN t2 b ON a.k = b.k",
                  "DATE_TRUNC('week', a.d): functions other than COUNT, SUM and AVG");
    expect_reject("SELECT COUNT(a.x) FROM t1 a JOIN t2 b ON a.k = b.k", "count rows with COUNT(*)");
    expect_reject("SELECT COUNT(DISTINCT a.x) FROM t1 a JOIN t2 b ON a.k = b.k",
                  "only the join column (a.k) can be counted distinct");
    expect_reject("SELECT * FROM t1 a JOIN t2 b ON a.k = b.k", "SELECT * would release rows");
    expect_reject("SELECT a.g FROM t1 a JOIN t2 b ON a.k = b.k GROUP BY a.g", "at least one aggregate");
    expect_reject("SELECT COUNT(*) FROM t1 a JOIN t2 b ON a.k = b.k JOIN t3 c ON a.k = c.k",
                  "a template joins exactly two tables");
    expect_reject("SELECT COUNT(*) AS n, SUM(b.v) AS n FROM t1 a JOIN t2 b ON a.k = b.k", "appears twice");
    expect_reject("SELECT COUNT(*) FROM t1 a JOIN t1 b ON a.k = b.k", "must differ");
    expect_reject("SELECT COUNT(*) FROM t1 a JOIN t2 b ON a.k = b.k WHERE a.x = 'open", "unterminated string");
    expect_reject("SELECT COUNT(*) FROM t1 a JOIN t2 b ON a.k = b.k WHERE a.x = 1 @", "unexpected character '@'");
    expect_reject("-- param p string\nSELECT COUNT(*) FROM t1 a JOIN t2 b ON a.k = b.k",
                  "parameter p is declared but not used");
    expect_reject("-- param p text\nSELECT COUNT(*) FROM t1 a JOIN t2 b ON a.k = b.k WHERE a.x = :p",
                  "attribution.sql:1:10: -- param: p: expected a type");
    expect_reject("-- param p integer in ('x')\nSELECT COUNT(*) FROM t1 a JOIN t2 b ON a.k = b.k WHERE a.x = :p",
                  "allowed values must be integer literals");
    expect_reject("-- param p date\n-- param p date\nSELECT COUNT(*) FROM t1 a JOIN t2 b ON a.k = b.k WHERE a.x = :p",
                  "declared twice");
    expect_reject("", "end of template: expected SELECT");
    expect_reject("SELECT COUNT(*) FROM t1 a JOIN t2 b", "end of template: expected ON");
}

static void test_params(void)
{
    ovl_template *t = NULL;
    EXPECT_OK(parse(&t, attribution));
    if (!t)
        return;
    ovl_param_value ok[] = {{"campaign_id", "CAMP_2026_Q3"}, {"start_date", "2026-07-01"},
                            {"end_date", "2026-07-31"}};
    EXPECT_OK(ovl_template_check_params(t, ok, 3));
    ovl_param_value outside[] = {{"campaign_id", "CAMP_2025"}, {"start_date", "2026-07-01"},
                                 {"end_date", "2026-07-31"}};
    EXPECT_ERR(OVL_ERR_USAGE, ovl_template_check_params(t, outside, 3));
    EXPECT_TRUE(strstr(ovl_err_detail(), "campaign_id: value is not in its allowed list") != NULL);
    ovl_param_value baddate[] = {{"campaign_id", "CAMP_2026_Q3"}, {"start_date", "2026-13-01"},
                                 {"end_date", "2026-07-31"}};
    EXPECT_ERR(OVL_ERR_USAGE, ovl_template_check_params(t, baddate, 3));
    EXPECT_TRUE(strstr(ovl_err_detail(), "start_date: must be a date") != NULL);
    EXPECT_ERR(OVL_ERR_USAGE, ovl_template_check_params(t, ok, 2));
    EXPECT_TRUE(strstr(ovl_err_detail(), "end_date: no value given") != NULL);
    ovl_param_value extra[] = {{"campaign_id", "CAMP_2026_Q3"}, {"start_date", "2026-07-01"},
                               {"end_date", "2026-07-31"}, {"region", "north"}};
    EXPECT_ERR(OVL_ERR_USAGE, ovl_template_check_params(t, extra, 4));
    ovl_param_value twice[] = {{"campaign_id", "CAMP_2026_Q3"}, {"campaign_id", "CAMP_2026_Q4"},
                               {"start_date", "2026-07-01"}, {"end_date", "2026-07-31"}};
    EXPECT_ERR(OVL_ERR_USAGE, ovl_template_check_params(t, twice, 4));
    ovl_template_free(t);

    EXPECT_TRUE(ovl_param_value_ok(OVL_PARAM_INTEGER, "-42"));
    EXPECT_TRUE(!ovl_param_value_ok(OVL_PARAM_INTEGER, "4.2"));
    EXPECT_TRUE(ovl_param_value_ok(OVL_PARAM_DECIMAL, "4.25"));
    EXPECT_TRUE(!ovl_param_value_ok(OVL_PARAM_DECIMAL, "4."));
    EXPECT_TRUE(ovl_param_value_ok(OVL_PARAM_DATE, "2024-02-29"));
    EXPECT_TRUE(!ovl_param_value_ok(OVL_PARAM_DATE, "2026-02-29"));
    EXPECT_TRUE(!ovl_param_value_ok(OVL_PARAM_STRING, "a\nb"));
    EXPECT_TRUE(!ovl_param_value_ok(OVL_PARAM_STRING, ""));
}

static bool match(const ovl_tpl_filter *f, const ovl_param_value *v, size_t n, const char *cell)
{
    bool m = false;
    EXPECT_OK(ovl_tpl_filter_match(f, v, n, cell, strlen(cell), &m));
    return m;
}

static void test_filters(void)
{
    ovl_template *t = NULL;
    EXPECT_OK(parse(&t, "-- param lo decimal\n"
                        "SELECT COUNT(*) FROM t1 a JOIN t2 b ON a.k = b.k\n"
                        "WHERE a.amount >= :lo AND a.d BETWEEN DATE '2026-07-01' AND DATE '2026-07-31'\n"
                        "AND a.region IN ('north', 'south') AND a.n <> 7 AND a.n < 100"));
    if (!t)
        return;
    ovl_param_value v[] = {{"lo", "10.5"}};
    EXPECT_TRUE(match(&t->filters[0], v, 1, "10.50"));
    EXPECT_TRUE(match(&t->filters[0], v, 1, " 11 "));
    EXPECT_TRUE(!match(&t->filters[0], v, 1, "9.99"));
    EXPECT_TRUE(!match(&t->filters[0], v, 1, "-20"));
    EXPECT_TRUE(!match(&t->filters[0], v, 1, "n/a"));
    EXPECT_TRUE(match(&t->filters[1], v, 1, "2026-07-01"));
    EXPECT_TRUE(match(&t->filters[1], v, 1, "2026-07-31"));
    EXPECT_TRUE(!match(&t->filters[1], v, 1, "2026-08-01"));
    EXPECT_TRUE(!match(&t->filters[1], v, 1, "July"));
    EXPECT_TRUE(match(&t->filters[2], v, 1, "south"));
    EXPECT_TRUE(!match(&t->filters[2], v, 1, "South"));
    EXPECT_TRUE(match(&t->filters[3], v, 1, "8"));
    EXPECT_TRUE(!match(&t->filters[3], v, 1, "7.0"));
    EXPECT_TRUE(match(&t->filters[4], v, 1, "99"));
    EXPECT_TRUE(!match(&t->filters[4], v, 1, "100"));
    bool m;
    EXPECT_ERR(OVL_ERR_USAGE, ovl_tpl_filter_match(&t->filters[0], NULL, 0, "1", 1, &m));
    ovl_template_free(t);
}

/* Conditions across parties (protocols/aggregate/CONDITIONS.md §2, §8). */
static const char *const PAIR_HEAD =
    "SELECT a.g, COUNT(DISTINCT a.k) FROM imp AS a INNER JOIN pur AS b ON a.k = b.k";

static ovl_template *pair_tpl(const char *cond, const char *tail)
{
    char buf[1024];
    ovl_template *t = NULL;
    snprintf(buf, sizeof buf, "%s%s GROUP BY a.g%s", PAIR_HEAD, cond, tail);
    EXPECT_OK(parse(&t, buf));
    return t;
}

static void same_hash(const char *c1, const char *c2)
{
    ovl_template *a = pair_tpl(c1, ""), *b = pair_tpl(c2, "");
    if (a && b)
        OVL_T_RECORD(memcmp(a->hash, b->hash, OVL_HASH_LEN) == 0, "'%s' and '%s' hash apart",
                     c1, c2);
    ovl_template_free(a);
    ovl_template_free(b);
}

static void test_pair_conditions(void)
{
    /* The article's window, party 1 (b) on the left: canonical is a's column
     * left, so b.p BETWEEN a.i AND a.i + 30 becomes a.i BETWEEN b.p - 30 AND b.p. */
    ovl_template *t = pair_tpl(
        " AND b.p BETWEEN a.i AND a.i + INTERVAL '30 days'", "");
    if (t) {
        EXPECT_EQ(t->npairs, 1);
        EXPECT_EQ(t->pairs[0].op, OVL_CMP_BETWEEN);
        EXPECT_STR_EQ(t->pairs[0].column[0], "i");
        EXPECT_STR_EQ(t->pairs[0].column[1], "p");
        EXPECT_EQ(t->pairs[0].offset[0], -30);
        EXPECT_EQ(t->pairs[0].offset[1], 0);
        EXPECT_TRUE(t->pairs[0].interval);
        EXPECT_EQ(t->cap_rows, OVL_TPL_DEFAULT_CAP_ROWS);
        OVL_T_RECORD(strstr(t->canonical, "-- cap rows 4\n") != NULL &&
                     strstr(t->canonical, "ON a.k = b.k AND a.i BETWEEN b.p - INTERVAL '30 days' "
                                          "AND b.p\n") != NULL, "canonical: %s", t->canonical);
    }
    ovl_template_free(t);
    /* The same window written either way round, in weeks or days, in ON or
     * WHERE: one meaning, one hash. */
    same_hash(" AND b.p BETWEEN a.i AND a.i + INTERVAL '30 days'",
              " AND a.i BETWEEN b.p - INTERVAL '30 days' AND b.p");
    same_hash(" AND a.i < b.p + INTERVAL '2 weeks'", " AND b.p + INTERVAL '14 days' > a.i");
    same_hash(" AND a.i >= b.p - INTERVAL '1 week'", " AND b.p <= a.i + INTERVAL '7 days'");
    same_hash(" AND a.i <> b.p", " WHERE b.p != a.i");
    same_hash(" AND a.i + INTERVAL '3 days' BETWEEN b.p AND b.p + INTERVAL '10 days'",
              " AND a.i BETWEEN b.p - INTERVAL '3 days' AND b.p + INTERVAL '7 days'");
    same_hash(" AND a.x = b.y AND a.i <= b.p", " AND a.x = b.y WHERE a.i <= b.p");
    same_hash(" AND a.i < b.p - INTERVAL '14 days'", " AND b.p - INTERVAL '14 days' > a.i");
    same_hash(" AND a.i < b.p - INTERVAL '14 days'", " AND b.p > a.i + INTERVAL '2 weeks'");
    /* Meaning changes change the hash: the operator, the interval, the cap. */
    ovl_template *a = pair_tpl(" AND a.i < b.p", ""), *b = pair_tpl(" AND a.i <= b.p", "");
    ovl_template *c = pair_tpl(" AND a.i < b.p + INTERVAL '1 day'", "");
    ovl_template *d = pair_tpl(" AND a.i < b.p", "\n-- cap rows 2 by a.i, b.p\n");
    if (a && b && c && d) {
        EXPECT_TRUE(memcmp(a->hash, b->hash, OVL_HASH_LEN) != 0);
        EXPECT_TRUE(memcmp(a->hash, c->hash, OVL_HASH_LEN) != 0);
        EXPECT_TRUE(memcmp(a->hash, d->hash, OVL_HASH_LEN) != 0);
        EXPECT_EQ(d->cap_rows, 2);
        EXPECT_STR_EQ(d->cap_order[0], "i");
        EXPECT_STR_EQ(d->cap_order[1], "p");
        OVL_T_RECORD(strstr(d->canonical, "-- cap rows 2 by a.i, b.p\n") != NULL, "canonical: %s",
                     d->canonical);
        /* The canonical form parses back to itself. */
        ovl_template *e = NULL;
        EXPECT_OK(parse(&e, d->canonical));
        if (e)
            EXPECT_BYTES_EQ(e->hash, d->hash, OVL_HASH_LEN);
        ovl_template_free(e);
    }
    ovl_template_free(a);
    ovl_template_free(b);
    ovl_template_free(c);
    ovl_template_free(d);
}

static void expect_pair_reject(const char *cond, const char *tail, const char *want)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s%s GROUP BY a.g%s", PAIR_HEAD, cond, tail);
    expect_reject(buf, want);
}

static void test_pair_rejections(void)
{
    expect_pair_reject(" AND a.i BETWEEN b.p AND b.q", "", "BETWEEN bounds must be one column");
    expect_pair_reject(" AND a.i < b.p + INTERVAL '3 months'", "", "INTERVAL 'n days' or 'n weeks'");
    expect_pair_reject(" AND a.i < b.p + INTERVAL '36501 days'", "", "at most 36500 days");
    expect_pair_reject(" AND a.i < b.p + INTERVAL '5300 weeks'", "", "at most 36500 days");
    expect_pair_reject(" AND a.i + INTERVAL '30000 days' < b.p - INTERVAL '30000 days'", "",
                       "the intervals add up to more than 36500 days");
    expect_pair_reject(" AND a.i < b.p * 2", "", "arithmetic across parties' columns");
    expect_pair_reject(" OR a.i < b.p", "", "OR is not supported");
    expect_pair_reject(" AND a.i < b.p", "\n-- cap rows 9\n", "N must be an integer from 1 to 8");
    expect_pair_reject(" AND a.i < b.p", "\n-- cap rows 0\n", "N must be an integer from 1 to 8");
    expect_pair_reject(" AND a.i < b.p", "\n-- cap rows 2 by z.i\n", "unknown table alias 'z'");
    expect_pair_reject(" AND a.i < b.p", "\n-- cap rows 2 by a.i, a.j\n", "one ordering column");
    expect_pair_reject(" AND a.i < b.p", "\n-- cap rows 2 by a.i junk\n", "end of the line");
    expect_pair_reject(" AND a.i < b.p", "\n-- cap rows 2\n-- cap rows 3\n", "given twice");
    expect_pair_reject("", "\n-- cap rows 2\n", "a cap applies only with conditions across parties");
    char many[1024] = "";
    for (int i = 0; i < 9; i++)
        strcat(many, " AND a.i < b.p");
    expect_pair_reject(many, "", "more than 8 conditions across parties");
}

int main(void)
{
    RUN(test_plan);
    RUN(test_hash_canonical);
    RUN(test_rejections);
    RUN(test_pair_conditions);
    RUN(test_pair_rejections);
    RUN(test_params);
    RUN(test_filters);
    return ovl_t_summary("test_template");
}
