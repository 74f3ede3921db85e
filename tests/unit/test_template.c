/* Templates: the plan, canonical hashing (stable under reformatting, changed
 * by any change of meaning), one pointed error per rejected construct,
 * parameters and filter evaluation. */
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "policy/template.h"
#include "article_sql.h"
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
    expect_reject_q("GROUP BY a.g HAVING SUM(b.v) >= 3",
                    "HAVING must be COUNT(DISTINCT a.<join column>) >= k");
    expect_reject_q("GROUP BY a.g HAVING COUNT(DISTINCT a.k) > 3",
                    "HAVING must compare the count with >=");
    expect_reject_q("GROUP BY a.g HAVING COUNT(DISTINCT a.k) >= 0",
                    "the threshold must be a whole number from 2");
    expect_reject_q("GROUP BY a.g HAVING COUNT(DISTINCT b.k) >= 1",
                    "the threshold must be a whole number from 2");
    /* One customer with 100 rows would pass a threshold on COUNT(*). */
    expect_reject_q("GROUP BY a.g HAVING COUNT(*) >= 5",
                    "COUNT(*) >= 5: HAVING COUNT(*) is refused: one customer with many rows would "
                    "pass it");
    expect_reject_q("GROUP BY a.g HAVING COUNT(a.x) >= 5",
                    "HAVING must be COUNT(DISTINCT a.<join column>) >= k");
    expect_reject_q("GROUP BY a.g HAVING COUNT(DISTINCT a.g) >= 5",
                    "only the join column (a.k) can be counted distinct");
    expect_reject_q("", "selected columns must be in GROUP BY");
    expect_reject_q("GROUP BY a.g, a.h", "grouped columns must also be selected");
    expect_reject("SELECT a.g, SUM(b.v) / NULLIF(SUM(b.w), 0) FROM t1 a JOIN t2 b ON a.k = b.k GROUP BY a.g",
                  "name the expression's output column with AS");
    expect_reject("SELECT DATE_TRUNC('week', a.d), COUNT(*) FROM t1 a JOIN t2 b ON a.k = b.k",
                  "DATE_TRUNC('week', a.d): selected columns must be in GROUP BY");
    expect_reject("SELECT DATE_TRUNC('year', a.d), COUNT(*) FROM t1 a JOIN t2 b ON a.k = b.k GROUP BY 1",
                  "DATE_TRUNC truncates to 'day', 'week' or 'month'");
    expect_reject("SELECT DATE_TRUNC('week', a.d + 1), COUNT(*) FROM t1 a JOIN t2 b ON a.k = b.k GROUP BY 1",
                  "DATE_TRUNC takes a date column");
    expect_reject("SELECT DATE_TRUNC('week', a.d), COUNT(*) FROM t1 a JOIN t2 b ON a.k = b.k GROUP BY a.d",
                  "grouped columns must also be selected");
    expect_reject("SELECT DATE_TRUNC('week', a.d), COUNT(*) FROM t1 a JOIN t2 b ON a.k = b.k "
                  "GROUP BY DATE_TRUNC('day', a.d)", "grouped columns must also be selected");
    expect_reject("SELECT a.g, a.g AS h, COUNT(*) FROM t1 a JOIN t2 b ON a.k = b.k GROUP BY a.g",
                  "1:13: a.g: selected twice");
    expect_reject("SELECT UPPER(a.g), COUNT(*) FROM t1 a JOIN t2 b ON a.k = b.k",
                  "functions other than COUNT, SUM, AVG, NULLIF and DATE_TRUNC");
    expect_reject("SELECT SUM(b.v) + a.w AS s FROM t1 a JOIN t2 b ON a.k = b.k",
                  "SUM(b.v) + a.w: arithmetic in the select list combines aggregates and numbers, "
                  "not columns");
    expect_reject("SELECT SUM(b.v) % 2 AS s FROM t1 a JOIN t2 b ON a.k = b.k",
                  "arithmetic on aggregates is +, -, * and /");
    expect_reject("SELECT NULLIF(SUM(b.v), 1) AS s FROM t1 a JOIN t2 b ON a.k = b.k",
                  "NULLIF is supported as NULLIF(expression, 0)");
    expect_reject("SELECT SUM(b.v) / 0.00 AS s FROM t1 a JOIN t2 b ON a.k = b.k",
                  "SUM(b.v) / 0.00: division by zero");
    expect_reject("SELECT 2 * 3 AS s FROM t1 a JOIN t2 b ON a.k = b.k",
                  "constants in SELECT are not supported");
    expect_reject("SELECT SUM(b.v) * 1234567890123456789 AS s FROM t1 a JOIN t2 b ON a.k = b.k",
                  "a number in an expression has at most 18 digits");
    expect_reject("SELECT SUM(b.v) * :p AS s FROM t1 a JOIN t2 b ON a.k = b.k",
                  "parameters are not supported in the select list");
    expect_reject("SELECT (SUM(b.v) AS s FROM t1 a JOIN t2 b ON a.k = b.k", "expected ')'");
    expect_reject("SELECT SUM(b.v) / COUNT(DISTINCT b.v) AS s FROM t1 a JOIN t2 b ON a.k = b.k",
                  "only the join column (b.k) can be counted distinct");
    expect_reject("SELECT SUM(b.v) AS s, SUM(b.v) / 2 AS s FROM t1 a JOIN t2 b ON a.k = b.k",
                  "output column 's' appears twice");
    expect_reject("SELECT SUM(b.v) + SUM(b.v) + SUM(b.v) + SUM(b.v) + SUM(b.v) + SUM(b.v) + SUM(b.v) "
                  "+ SUM(b.v) + SUM(b.v) + SUM(b.v) + SUM(b.v) + SUM(b.v) + SUM(b.v) + SUM(b.v) + "
                  "SUM(b.v) + SUM(b.v) + SUM(b.v) AS s FROM t1 a JOIN t2 b ON a.k = b.k",
                  "an expression has at most 32 aggregates, numbers and operators");
    expect_reject("-- decimals b.w 2\nSELECT SUM(b.v) FROM t1 a JOIN t2 b ON a.k = b.k",
                  "attribution.sql:1:13: -- decimals: b.w is not summed, averaged, counted or compared");
    expect_reject("-- decimals b.v 19\nSELECT SUM(b.v) FROM t1 a JOIN t2 b ON a.k = b.k",
                  "-- decimals: N must be an integer from 0 to 18");
    expect_reject("-- decimals b.v 2, b.v 3\nSELECT SUM(b.v) FROM t1 a JOIN t2 b ON a.k = b.k",
                  "b.v is declared twice");
    expect_reject("-- decimals z.v 2\nSELECT SUM(b.v) FROM t1 a JOIN t2 b ON a.k = b.k",
                  "unknown table alias 'z'");
    expect_reject("-- decimals b.v\nSELECT SUM(b.v) FROM t1 a JOIN t2 b ON a.k = b.k",
                  "expected -- decimals alias.col N");
    expect_reject("-- decimals b.v 2 b.w 1\nSELECT SUM(b.v), SUM(b.w) FROM t1 a JOIN t2 b ON a.k = b.k",
                  "expected ',' or the end of the line");
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


/* ---- "-- dates" (CONDITIONS.md §2.1): a condition's type from the template ---- */

static const char *const DH = "SELECT a.g, COUNT(DISTINCT a.k) FROM imp AS a INNER JOIN pur AS b "
                              "ON a.k = b.k";

/* DH with declarations before it and a tail after it. */
static ovl_template *dates_tpl(const char *decl, const char *tail)
{
    char buf[1024];
    ovl_template *t = NULL;
    snprintf(buf, sizeof buf, "%s%s%s GROUP BY a.g", decl, DH, tail);
    EXPECT_OK(parse(&t, buf));
    return t;
}

static void expect_dates_reject(const char *decl, const char *tail, const char *want)
{
    char buf[1024];
    ovl_template *t = NULL;
    snprintf(buf, sizeof buf, "%s%s%s GROUP BY a.g", decl, DH, tail);
    EXPECT_ERR(OVL_ERR_INPUT, parse(&t, buf));
    EXPECT_STR_EQ(ovl_err_detail(), want);
    EXPECT_TRUE(t == NULL);
}

static void dates_hash(const char *d1, const char *t1, const char *d2, const char *t2, bool same)
{
    ovl_template *a = dates_tpl(d1, t1), *b = dates_tpl(d2, t2);
    if (a && b)
        OVL_T_RECORD((memcmp(a->hash, b->hash, OVL_HASH_LEN) == 0) == same,
                     "'%s%s' and '%s%s' hash %s", d1, t1, d2, t2, same ? "apart" : "alike");
    ovl_template_free(a);
    ovl_template_free(b);
}

static void test_dates_declared(void)
{
    /* A condition naming a -- dates column compares dates, without INTERVAL. */
    ovl_template *t = dates_tpl("-- dates b.day\n", " AND b.day >= a.seen");
    if (t) {
        EXPECT_EQ(t->npairs, 1);
        EXPECT_TRUE(t->pairs[0].dates && !t->pairs[0].interval);
        EXPECT_EQ(t->pairs[0].op, OVL_CMP_LE);
        EXPECT_TRUE(ovl_template_is_date(t, 1, "day") && !ovl_template_is_date(t, 0, "seen"));
        EXPECT_STR_EQ(t->canonical, "-- cap rows 4\n-- dates b.day\n"
                                    "SELECT a.g AS g, COUNT(DISTINCT a.k) AS count_distinct_k\n"
                                    "FROM imp AS a INNER JOIN pur AS b ON a.k = b.k AND a.seen <= "
                                    "b.day\nGROUP BY a.g\n");
        /* the canonical form is a template with the same hash */
        ovl_template *c = NULL;
        EXPECT_OK(parse(&c, t->canonical));
        if (c)
            EXPECT_BYTES_EQ(c->hash, t->hash, OVL_HASH_LEN);
        ovl_template_free(c);
    }
    ovl_template_free(t);
    /* without the line the same condition compares numbers, as before */
    t = dates_tpl("", " AND b.day >= a.seen");
    if (t)
        EXPECT_TRUE(!t->pairs[0].dates && t->ndates == 0);
    ovl_template_free(t);
    /* an INTERVAL still implies dates */
    t = dates_tpl("", " AND b.day >= a.seen + INTERVAL '1 day'");
    if (t)
        EXPECT_TRUE(t->pairs[0].dates);
    ovl_template_free(t);
    /* Reformatting keeps the hash: order, lines, case; the declaration of
     * one column or of both types the condition alike, but is written as
     * given; a redundant "+ INTERVAL '0 days'" beside a declaration. */
    dates_hash("-- dates b.day, a.seen\n", " AND b.day >= a.seen",
               "-- DATES a.seen\n--   dates b.day\n", " WHERE a.seen <= b.day", true);
    dates_hash("-- dates b.day\n", " AND b.day >= a.seen",
               "-- dates b.day\n", " AND b.day >= a.seen + INTERVAL '0 days'", true);
    dates_hash("-- dates b.day\n", " AND b.day BETWEEN a.seen AND a.seen + INTERVAL '0 weeks'",
               "-- dates b.day\n", " AND a.seen BETWEEN b.day AND b.day", true);
    /* Meaning: the declaration changes the hash; so does what it declares. */
    dates_hash("", " AND b.day >= a.seen", "-- dates b.day\n", " AND b.day >= a.seen", false);
    dates_hash("-- dates b.day\n", " AND b.day >= a.seen",
               "-- dates a.seen\n", " AND b.day >= a.seen", false);
    dates_hash("-- dates b.day\n", " AND b.day >= a.seen",
               "", " AND b.day >= a.seen + INTERVAL '0 days'", false);
}

/* Templates that do not use the line keep their hashes (test_hash_stable);
 * this one pins how the line itself is written. */
static void test_dates_hash_pinned(void)
{
    static const char sql[] =
        "-- dates p.purchase_date, c.impression_date\n"
        "SELECT c.campaign, COUNT(DISTINCT c.id), COUNT(*)\n"
        "FROM impressions c INNER JOIN purchases p ON c.id = p.id\n"
        " AND p.purchase_date >= c.impression_date\n"
        "WHERE p.purchase_date < '2027-01-01'\n"
        "GROUP BY 1 HAVING COUNT(DISTINCT c.id) >= 50\n";
    ovl_template *t = NULL;
    char hex[2 * OVL_HASH_LEN + 1];
    EXPECT_OK(parse(&t, sql));
    if (!t)
        return;
    EXPECT_STR_EQ(t->canonical,
                  "-- cap rows 4\n-- dates c.impression_date, p.purchase_date\n"
                  "SELECT c.campaign AS campaign, COUNT(DISTINCT c.id) AS count_distinct_id, "
                  "COUNT(*) AS \"count\"\n"
                  "FROM impressions AS c INNER JOIN purchases AS p ON c.id = p.id AND "
                  "c.impression_date <= p.purchase_date\n"
                  "WHERE p.purchase_date < DATE '2027-01-01'\n"
                  "GROUP BY c.campaign\nHAVING COUNT(DISTINCT c.id) >= 50\n");
    ovl_hex_encode(hex, t->hash, OVL_HASH_LEN);
    EXPECT_STR_EQ(hex, "d64071f46a3d9eb7080413d2d72bf6e1d582123bb608484108dcd0b847e9981e");
    ovl_template_free(t);
}

/* WHERE on a -- dates column compares dates: a 'YYYY-MM-DD' literal is a
 * DATE (as SQL reads a string compared with a date column). */
static void test_dates_where(void)
{
    ovl_template *t = dates_tpl("-- dates b.day\n", " AND b.day >= a.seen WHERE b.day BETWEEN "
                                "'2026-01-01' AND DATE '2026-01-31'");
    if (t) {
        EXPECT_EQ(t->nfilters, 1);
        EXPECT_EQ(t->filters[0].values[0].type, OVL_PARAM_DATE);
        EXPECT_EQ(t->filters[0].values[1].type, OVL_PARAM_DATE);
        OVL_T_RECORD(strstr(t->canonical, "WHERE b.day BETWEEN DATE '2026-01-01' AND DATE "
                                          "'2026-01-31'\n") != NULL, "canonical: %s",
                     t->canonical);
        EXPECT_TRUE(match(&t->filters[0], NULL, 0, "2026-01-05"));
        EXPECT_TRUE(match(&t->filters[0], NULL, 0, " 2026-01-31 "));
        EXPECT_TRUE(!match(&t->filters[0], NULL, 0, "2026-02-01"));
        EXPECT_TRUE(!match(&t->filters[0], NULL, 0, "2026-01-5"));
    }
    ovl_template_free(t);
    /* undeclared, the literal stays a string compared as text */
    t = dates_tpl("", " AND b.day >= a.seen WHERE b.day >= '2026-01-01'");
    if (t)
        EXPECT_EQ(t->filters[0].values[0].type, OVL_PARAM_STRING);
    ovl_template_free(t);
    /* a date parameter is a date; a column only filtered may be declared */
    t = dates_tpl("-- param d date\n-- dates a.seen\n", " WHERE a.seen >= :d");
    if (t)
        EXPECT_TRUE(t->filters[0].values[0].type == OVL_PARAM_DATE && t->npairs == 0);
    ovl_template_free(t);
}

static void test_dates_rejections(void)
{
    /* the declaration itself */
    expect_dates_reject("-- dates b.z\n", " AND b.day >= a.seen",
                        "attribution.sql:1:10: -- dates: b.z is not compared by the template (the "
                        "declaration types the columns of conditions)");
    expect_dates_reject("-- dates z.day\n", " AND b.day >= a.seen",
                        "attribution.sql:1:10: -- dates: unknown table alias 'z'");
    expect_dates_reject("-- dates b.day, b.day\n", " AND b.day >= a.seen",
                        "attribution.sql:1:17: -- dates: b.day is declared twice");
    expect_dates_reject("-- dates b.day a.seen\n", " AND b.day >= a.seen",
                        "attribution.sql:1:16: -- dates: expected ',' or the end of the line");
    expect_dates_reject("-- dates are in UTC\n", " AND b.day >= a.seen",
                        "attribution.sql:1:10: -- dates: expected -- dates alias.col [, alias.col]");
    expect_dates_reject("-- dates b.day\n-- decimals b.day 0\n", " AND b.day >= a.seen",
                        "attribution.sql:1:10: -- dates: b.day is declared with -- decimals too: "
                        "a column holds dates or numbers");
    {
        ovl_template *t = NULL;
        static const char sum[] = "-- dates b.day\nSELECT SUM(b.day) FROM imp a JOIN pur b ON a.k "
                                  "= b.k AND b.day >= a.seen";
        EXPECT_ERR(OVL_ERR_INPUT, parse(&t, sum));
        EXPECT_STR_EQ(ovl_err_detail(), "attribution.sql:1:10: -- dates: b.day is summed or "
                                        "averaged: a date can be compared, truncated or counted");
    }
    /* a date condition and a column with decimals */
    expect_dates_reject("-- dates b.day\n-- decimals a.seen 2\n", " AND b.day >= a.seen",
                        "attribution.sql:3:84: b.day >= a.seen: b.day is declared a date (-- "
                        "dates), but a.seen has -- decimals 2: a condition compares two columns "
                        "of one type");
    expect_dates_reject("-- decimals a.seen 2\n", " AND b.day >= a.seen + INTERVAL '1 day'",
                        "attribution.sql:2:84: b.day >= a.seen + INTERVAL '1 day': an INTERVAL "
                        "compares dates, but a.seen has -- decimals 2; compare numbers without "
                        "INTERVAL, or drop its -- decimals");
    /* a condition comparing numbers on a column the template uses as a date */
    {
        ovl_template *t = NULL;
        static const char trunc[] = "SELECT DATE_TRUNC('week', b.day) AS w, COUNT(*) FROM imp a "
                                    "JOIN pur b ON a.k = b.k AND b.day >= a.seen GROUP BY 1";
        EXPECT_ERR(OVL_ERR_INPUT, parse(&t, trunc));
        EXPECT_STR_EQ(ovl_err_detail(), "attribution.sql:1:88: b.day >= a.seen: b.day is a date "
                                        "(it is truncated with DATE_TRUNC), but this condition "
                                        "compares numbers: declare the dates (-- dates a.seen, "
                                        "b.day)");
    }
    expect_dates_reject("", " AND b.day >= a.seen WHERE a.seen >= DATE '2026-01-01'",
                        "attribution.sql:1:84: b.day >= a.seen: a.seen is a date (WHERE compares "
                        "it with a date), but this condition compares numbers: declare the dates "
                        "(-- dates a.seen, b.day)");
    expect_dates_reject("", " AND b.day >= a.seen + INTERVAL '2 days' AND b.day <> a.other",
                        "attribution.sql:1:124: b.day <> a.other: b.day is a date (another "
                        "condition compares it as a date), but this condition compares numbers: "
                        "declare the dates (-- dates a.other, b.day)");
    /* WHERE values on a -- dates column */
    expect_dates_reject("-- dates b.day\n", " AND b.day >= a.seen WHERE b.day >= 20260101",
                        "attribution.sql:2:115: 20260101: b.day is declared a date (-- dates): "
                        "compare it with DATE 'YYYY-MM-DD' or a date parameter");
    expect_dates_reject("-- dates b.day\n", " AND b.day >= a.seen WHERE b.day < '2026-02-30'",
                        "attribution.sql:2:114: '2026-02-30': b.day is declared a date (-- "
                        "dates), and this is not a date (YYYY-MM-DD)");
    /* undeclared, a string and a date are two types, as before */
    expect_dates_reject("", " AND b.day >= a.seen + INTERVAL '1 day' WHERE b.day BETWEEN "
                        "'2026-01-01' AND DATE '2026-01-31'",
                        "attribution.sql:1:125: b.day BETWEEN '2026-01-01' AND DATE: compared "
                        "values must all be of one type (string vs date)");
    expect_dates_reject("-- param d string\n-- dates b.day\n", " AND b.day >= a.seen WHERE b.day = :d",
                        "attribution.sql:3:114: :d: b.day is declared a date (-- dates), but :d is a "
                        "string parameter; declare it -- param d date");
}

/* BETWEEN with its bounds reversed holds for no row: refused (G10). */
static void test_empty_window(void)
{
    expect_pair_reject(" AND a.i BETWEEN b.p + INTERVAL '5 days' AND b.p", "",
                       "a.i BETWEEN b.p + INTERVAL '5 days' AND b.p: empty window: the lower "
                       "bound is after the upper bound (by 5 days); write the earlier bound first");
    /* mirrored: b.p BETWEEN a.i AND a.i - 1 is a.i BETWEEN b.p + 1 AND b.p */
    expect_pair_reject(" AND b.p BETWEEN a.i AND a.i - INTERVAL '1 day'", "",
                       "empty window: the lower bound is after the upper bound (by 1 days)");
    expect_pair_reject(" AND a.i + INTERVAL '1 week' BETWEEN b.p + INTERVAL '10 days' AND "
                       "b.p", "", "empty window");
    /* equal bounds are a window of one day */
    ovl_template *t = pair_tpl(" AND a.i BETWEEN b.p + INTERVAL '3 days' AND b.p + INTERVAL "
                               "'3 days'", "");
    if (t)
        EXPECT_TRUE(t->pairs[0].offset[0] == 3 && t->pairs[0].offset[1] == 3);
    ovl_template_free(t);
}

static void same_hash_sql(const char *x, const char *y, bool same)
{
    ovl_template *a = NULL, *b = NULL;
    EXPECT_OK(parse(&a, x));
    EXPECT_OK(parse(&b, y));
    if (a && b)
        OVL_T_RECORD((memcmp(a->hash, b->hash, OVL_HASH_LEN) == 0) == same, "'%s' and '%s' hash %s",
                     x, y, same ? "apart" : "alike");
    ovl_template_free(a);
    ovl_template_free(b);
}

/* Templates valid before aggregates v2 keep their hashes: these were
 * computed by the dialect of that time (GRAMMAR.md, "Canonical form"). */
static void test_hash_stable(void)
{
    static const struct {
        const char *sql, *hex;
    } gold[] = {
        {attribution, "0979e48c8708c74e51bb2f8680f4328b5a5edddb3be96fa37fbc3214a8188c43"},
        {"SELECT COUNT(*) FROM t1 a JOIN t2 b ON a.k = b.k",
         "8b1ed796abae60584c4a8b3944cbc76856fdcab0af52013e54be89c41e9f4586"},
        {"SELECT a.g, COUNT(*) FROM t1 AS a INNER JOIN t2 AS b ON a.k = b.k GROUP BY a.g",
         "8c2a31b2e04b09d5506d896db9a5bff06ecfeb3d343e392f7dd6025174642d6c"},
        {"SELECT b.\"date\", SUM(a.v), AVG(a.v), COUNT(DISTINCT b.k), COUNT(*) FROM t1 a JOIN "
         "\"t 2\" b ON a.k = b.k WHERE a.x IN (1, 2) AND b.d BETWEEN DATE '2026-01-01' AND DATE "
         "'2026-12-31' AND a.s <> 'it''s' GROUP BY 1 HAVING COUNT(DISTINCT a.k) >= 5",
         "d621771918f523c0c3ab0c85dc3ccd2a8a774b9176224303c08715bc86ccfb30"},
        {"SELECT a.g, COUNT(*) FROM t1 AS a JOIN t2 AS b ON a.k = b.k AND b.x <> a.y AND a.d < "
         "b.e - INTERVAL '2 weeks'\nWHERE b.n >= a.m GROUP BY a.g\n",
         "2e9f2c84289e929d6b21d8f3ec23a8ba8fcec08b428a9a4d6aae0bb393647408"},
        {"-- cap rows 2 by c.impression_date, p.purchase_date\n"
         "SELECT c.campaign, COUNT(DISTINCT c.id), SUM(p.amount)\n"
         "FROM impressions c INNER JOIN purchases p ON c.id = p.id\n"
         " AND p.purchase_date BETWEEN c.impression_date AND c.impression_date + INTERVAL '30 "
         "days'\nWHERE c.campaign <> 'test' AND p.purchase_date - INTERVAL '1 week' >= "
         "c.impression_date\nGROUP BY 1 HAVING COUNT(DISTINCT c.id) >= 50\n",
         "701ed57f19e338a99ff7801aa7eb67f8297e244ad6c547b238dc91b528c08d1f"},
    };
    for (size_t i = 0; i < sizeof gold / sizeof gold[0]; i++) {
        ovl_template *t = NULL;
        char hex[2 * OVL_HASH_LEN + 1];
        EXPECT_OK(parse(&t, gold[i].sql));
        if (!t)
            continue;
        ovl_hex_encode(hex, t->hash, OVL_HASH_LEN);
        OVL_T_RECORD(strcmp(hex, gold[i].hex) == 0, "template %zu: hash %s, was %s", i, hex,
                     gold[i].hex);
        ovl_template_free(t);
    }
}

/* The article's query, in the dialect: both parties' dimensions, a week,
 * sums over both parties, COUNT(col) and ROAS. */
static void test_article(void)
{
    ovl_template *t = NULL, *w = NULL;
    EXPECT_OK(parse(&t, article_sql));
    if (!t)
        return;
    EXPECT_EQ(t->ndims, 5);
    EXPECT_EQ(t->dims[3].party, 1);
    EXPECT_EQ(t->dims[4].party, 1);
    EXPECT_EQ(t->dims[4].trunc, OVL_TRUNC_WEEK);
    EXPECT_STR_EQ(t->dims[4].column, "purchase_date");
    EXPECT_STR_EQ(t->dims[4].output, "purchase_week");
    EXPECT_EQ(t->group_party, -1);
    EXPECT_EQ(t->value_party, -1);
    EXPECT_EQ(t->naggs, 5);
    EXPECT_EQ(t->aggs[3].fn, OVL_FN_COUNT);
    EXPECT_STR_EQ(t->aggs[3].column, "purchase_id");
    EXPECT_TRUE(!ovl_tpl_agg_star(&t->aggs[3]));
    EXPECT_EQ(t->nexprs, 1);
    EXPECT_EQ(t->nitems, 11);
    EXPECT_EQ(t->items[10].kind, OVL_TPL_ITEM_EXPR);
    EXPECT_STR_EQ(ovl_template_output(t, 10), "roas");
    const ovl_tpl_expr *e = &t->exprs[0];
    EXPECT_EQ(e->ntok, 4);
    if (e->ntok == 4) {
        EXPECT_EQ(e->tok[0].op, OVL_TPL_X_AGG);
        EXPECT_EQ(e->tok[0].agg.fn, OVL_FN_SUM);
        EXPECT_EQ(e->tok[0].agg.party, 1);
        EXPECT_EQ(e->tok[1].agg.party, 0);
        EXPECT_STR_EQ(e->tok[1].agg.column, "spend_amount");
        EXPECT_EQ(e->tok[2].op, OVL_TPL_X_NULLIF0);
        EXPECT_EQ(e->tok[3].op, OVL_TPL_X_DIV);
    }
    EXPECT_EQ(t->threshold, 100);
    EXPECT_EQ(ovl_template_decimals(t, 0, "spend_amount"), 2);
    EXPECT_EQ(ovl_template_decimals(t, 1, "purchase_amount"), 2);
    EXPECT_EQ(ovl_template_decimals(t, 0, "impression_count"), 0);
    EXPECT_EQ(t->functions, OVL_FN_COUNT | OVL_FN_COUNT_DISTINCT | OVL_FN_SUM);
    EXPECT_TRUE(strstr(t->canonical, "-- decimals c.spend_amount 2, p.purchase_amount 2\n") != NULL);
    EXPECT_TRUE(strstr(t->canonical, ", DATE_TRUNC('week', p.purchase_date) AS purchase_week, ") !=
                NULL);
    EXPECT_TRUE(strstr(t->canonical, "SUM(p.purchase_amount) / NULLIF(SUM(c.spend_amount), 0) AS "
                                     "roas\n") != NULL);
    EXPECT_TRUE(strstr(t->canonical, "GROUP BY c.campaign_id, c.campaign_name, c.ad_format, "
                                     "p.product_category, DATE_TRUNC('week', p.purchase_date)\n") !=
                NULL);
    /* The window (issue 19) parses as a condition across parties. */
    EXPECT_OK(parse(&w, article_with_window_sql));
    if (w) {
        EXPECT_EQ(w->npairs, 1);
        EXPECT_TRUE(memcmp(w->hash, t->hash, OVL_HASH_LEN) != 0);
    }
    ovl_template_free(w);
    ovl_template_free(t);
}

static void canon_is(const char *sql, const char *want)
{
    ovl_template *t = NULL;
    EXPECT_OK(parse(&t, sql));
    if (!t)
        return;
    OVL_T_RECORD(strstr(t->canonical, want) != NULL, "'%s' not in '%s'", want, t->canonical);
    ovl_template_free(t);
}

/* Every new construct is in the canonical form, reformatting keeps the
 * hash, and every change of meaning changes it. */
static void test_v2_canonical(void)
{
    static const char *const H = " FROM t1 a JOIN t2 b ON a.k = b.k";
    char x[1024], y[1024];
    canon_is("SELECT a.g, b.h, COUNT(*) FROM t1 a JOIN t2 b ON a.k = b.k GROUP BY a.g, b.h",
             "SELECT a.g AS g, b.h AS h, COUNT(*) AS \"count\"\n");
    canon_is("SELECT DATE_TRUNC('MONTH', b.d), COUNT(b.v) FROM t1 a JOIN t2 b ON a.k = b.k GROUP BY 1",
             "SELECT DATE_TRUNC('month', b.d) AS month_d, COUNT(b.v) AS count_v\n");
    canon_is("SELECT DATE_TRUNC('day', b.d) AS day, COUNT(*) FROM t1 a JOIN t2 b ON a.k = b.k "
             "GROUP BY DATE_TRUNC('day', b.d)", "GROUP BY DATE_TRUNC('day', b.d)\n");
    canon_is("SELECT ((SUM(a.x) + SUM(b.y)) + 1) * (2 - 0.50) / -3 AS z FROM t1 a JOIN t2 b ON a.k = b.k",
             "SELECT (SUM(a.x) + SUM(b.y) + 1) * (2 - 0.50) / -3 AS z\n");
    canon_is("SELECT SUM(a.x) - (SUM(b.y) - COUNT(*)) AS z, SUM(a.x) / (SUM(b.y) * 2) AS w"
             " FROM t1 a JOIN t2 b ON a.k = b.k",
             "SELECT SUM(a.x) - (SUM(b.y) - COUNT(*)) AS z, SUM(a.x) / (SUM(b.y) * 2) AS w\n");
    canon_is("SELECT (SUM(a.x)) AS s FROM t1 a JOIN t2 b ON a.k = b.k", "SELECT SUM(a.x) AS s\n");
    canon_is("SELECT NULLIF(AVG(a.x) * 100, 0) AS p, 0.05 * SUM(b.y) AS q FROM t1 a JOIN t2 b ON a.k = b.k",
             "SELECT NULLIF(AVG(a.x) * 100, 0) AS p, 0.05 * SUM(b.y) AS q\n");
    canon_is("-- decimals b.y 0, a.x 3\nSELECT SUM(b.y), AVG(a.x) FROM t1 a JOIN t2 b ON a.k = b.k",
             "-- decimals a.x 3\nSELECT");
    /* Reformatting: same hash. */
    static const char *const same[][2] = {
        {"select date_trunc('Week', b.d) wk, count(*) %s group by 1",
         "SELECT DATE_TRUNC('week', b.d) AS wk, COUNT(*)%s GROUP BY DATE_TRUNC('week', b.d)"},
        {"SELECT (SUM(a.x) + SUM(b.y)) + 1 AS s%s", "SELECT SUM(a.x)+SUM(b.y)+1 s%s"},
        {"-- decimals a.x 2, b.y 1\nSELECT SUM(a.x), SUM(b.y)%s",
         "-- decimals b.y 1\n-- DECIMALS a.x 2\nSELECT SUM(a.x), SUM(b.y)%s"},
        {"SELECT SUM(a.x)%s", "-- decimals a.x 0\nSELECT SUM(a.x)%s"},
    };
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        snprintf(x, sizeof x, same[i][0], H);
        snprintf(y, sizeof y, same[i][1], H);
        same_hash_sql(x, y, true);
    }
    /* A condition written with INTERVAL compares dates, even at 0 days. */
    canon_is("SELECT COUNT(*) FROM t1 a JOIN t2 b ON a.k = b.k AND a.d >= b.e + INTERVAL '0 days'",
             "ON a.k = b.k AND a.d >= b.e + INTERVAL '0 days'\n");
    canon_is("SELECT COUNT(*) FROM t1 a JOIN t2 b ON a.k = b.k AND a.d BETWEEN b.e AND b.e",
             "ON a.k = b.k AND a.d BETWEEN b.e AND b.e\n");
    canon_is("SELECT COUNT(*) FROM t1 a JOIN t2 b ON a.k = b.k AND a.d - INTERVAL '1 week' "
             "BETWEEN b.e - INTERVAL '7 days' AND b.e - INTERVAL '1 week'",
             "AND a.d BETWEEN b.e + INTERVAL '0 days' AND b.e\n");
    /* ... and a number column's scale may be declared */
    canon_is("-- decimals b.p 2\nSELECT COUNT(*) FROM t1 a JOIN t2 b ON a.k = b.k AND a.q < b.p",
             "-- decimals b.p 2\nSELECT");
    /* Changes of meaning: another hash. */
    static const char *const differ[][2] = {
        {"SELECT DATE_TRUNC('week', b.d) AS w, COUNT(*)%s GROUP BY 1",
         "SELECT DATE_TRUNC('month', b.d) AS w, COUNT(*)%s GROUP BY 1"},
        {"SELECT DATE_TRUNC('week', b.d) AS w, COUNT(*)%s GROUP BY 1",
         "SELECT b.d AS w, COUNT(*)%s GROUP BY 1"},
        {"SELECT SUM(a.x) + SUM(b.y) + 1 AS s%s", "SELECT SUM(a.x) + (SUM(b.y) + 1) AS s%s"},
        {"SELECT SUM(a.x) / 2 AS s%s", "SELECT SUM(a.x) / 2.0 AS s%s"},
        {"SELECT SUM(a.x) / NULLIF(SUM(b.y), 0) AS s%s", "SELECT SUM(a.x) / SUM(b.y) AS s%s"},
        {"SELECT COUNT(b.y)%s", "SELECT COUNT(*)%s"},
        {"-- decimals a.x 2\nSELECT SUM(a.x)%s", "-- decimals a.x 3\nSELECT SUM(a.x)%s"},
        {"SELECT SUM(a.x)%s", "-- decimals a.x 1\nSELECT SUM(a.x)%s"},
        {"SELECT COUNT(*)%s AND a.d >= b.e", "SELECT COUNT(*)%s AND a.d >= b.e + INTERVAL '0 days'"},
    };
    for (size_t i = 0; i < sizeof differ / sizeof differ[0]; i++) {
        snprintf(x, sizeof x, differ[i][0], H);
        snprintf(y, sizeof y, differ[i][1], H);
        same_hash_sql(x, y, false);
    }
    /* The canonical form is itself a template with the same hash. */
    ovl_template *a = NULL, *b = NULL;
    EXPECT_OK(parse(&a, article_sql));
    if (a)
        EXPECT_OK(parse(&b, a->canonical));
    if (a && b) {
        EXPECT_STR_EQ(a->canonical, b->canonical);
        EXPECT_BYTES_EQ(a->hash, b->hash, OVL_HASH_LEN);
    }
    ovl_template_free(a);
    ovl_template_free(b);
}

static void test_v2_plan(void)
{
    ovl_template *t = NULL;
    EXPECT_OK(parse(&t, "SELECT a.g, SUM(a.v), AVG(b.w), COUNT(a.v) AS n, COUNT(DISTINCT b.k) "
                        "FROM t1 a JOIN t2 b ON a.k = b.k GROUP BY a.g HAVING COUNT(DISTINCT b.k) >= 3"));
    if (t) {
        /* Sums over the grouped party's own columns and over both parties. */
        EXPECT_EQ(t->group_party, 0);
        EXPECT_EQ(t->value_party, -1);
        EXPECT_EQ(t->aggs[0].party, 0);
        EXPECT_EQ(t->aggs[1].party, 1);
        EXPECT_STR_EQ(t->aggs[2].output, "n");
        EXPECT_STR_EQ(t->aggs[3].output, "count_distinct_k");
        EXPECT_EQ(t->threshold, 3);
    }
    ovl_template_free(t);
    EXPECT_OK(parse(&t, "SELECT SUM(b.v) * 1.25 - 3 AS s FROM t1 a JOIN t2 b ON a.k = b.k"));
    if (t && t->nexprs == 1 && t->exprs[0].ntok == 5) {
        EXPECT_EQ(t->exprs[0].tok[1].op, OVL_TPL_X_DEC);
        EXPECT_EQ(t->exprs[0].tok[1].value, 125);
        EXPECT_EQ(t->exprs[0].tok[1].decimals, 2);
        EXPECT_EQ(t->exprs[0].tok[2].op, OVL_TPL_X_MUL);
        EXPECT_EQ(t->exprs[0].tok[3].op, OVL_TPL_X_INT);
        EXPECT_EQ(t->exprs[0].tok[3].value, 3);
        EXPECT_EQ(t->exprs[0].tok[4].op, OVL_TPL_X_SUB);
    } else {
        OVL_T_RECORD(false, "SUM(b.v) * 1.25 - 3: expected one expression of 5 tokens");
    }
    ovl_template_free(t);
}

/* DATE_TRUNC as the owner computes it, against dates whose weekdays and
 * periods are known from the calendar (2024 is a leap year, 2000 is one
 * as a multiple of 400, 1900 is not). */
static void test_date_trunc(void)
{
    static const struct {
        ovl_trunc unit;
        const char *in, *out;
    } v[] = {
        {OVL_TRUNC_DAY, "2026-07-15", "2026-07-15"},
        {OVL_TRUNC_MONTH, "2026-07-15", "2026-07-01"},
        {OVL_TRUNC_MONTH, "2024-02-29", "2024-02-01"},
        {OVL_TRUNC_MONTH, " 2026-12-31\t", "2026-12-01"},
        {OVL_TRUNC_WEEK, "2026-07-15", "2026-07-13"}, /* a Wednesday */
        {OVL_TRUNC_WEEK, "2026-07-13", "2026-07-13"}, /* a Monday */
        {OVL_TRUNC_WEEK, "2026-07-19", "2026-07-13"}, /* a Sunday */
        {OVL_TRUNC_WEEK, "2026-01-01", "2025-12-29"}, /* Thursday: the week began in 2025 */
        {OVL_TRUNC_WEEK, "2024-03-01", "2024-02-26"}, /* across a leap day */
        {OVL_TRUNC_WEEK, "1970-01-01", "1969-12-29"},
        {OVL_TRUNC_WEEK, "1969-12-31", "1969-12-29"},
        {OVL_TRUNC_WEEK, "2000-03-01", "2000-02-28"},
        {OVL_TRUNC_WEEK, "1900-03-01", "1900-02-26"},
        {OVL_TRUNC_WEEK, "0001-01-01", "0001-01-01"}, /* a Monday (proleptic Gregorian) */
        {OVL_TRUNC_WEEK, "9999-12-31", "9999-12-27"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char out[11];
        EXPECT_OK(ovl_date_trunc(out, v[i].unit, v[i].in, strlen(v[i].in)));
        OVL_T_RECORD(strcmp(out, v[i].out) == 0, "DATE_TRUNC('%s', %s) = %s, want %s",
                     ovl_trunc_name(v[i].unit), v[i].in, out, v[i].out);
    }
    int64_t d = 0;
    EXPECT_TRUE(ovl_date_days(&d, "1970-01-01") && d == 0);
    EXPECT_TRUE(ovl_date_days(&d, "2000-01-01") && d == 10957);
    EXPECT_TRUE(ovl_date_days(&d, "1969-12-31") && d == -1);
    EXPECT_TRUE(ovl_date_days(&d, "2026-12-02") && d == 20789);
    /* Every day from 1600 to 2400 goes there and back, weekdays in step. */
    char s[11], back[11];
    int64_t first = 0, last = 0;
    EXPECT_TRUE(ovl_date_days(&first, "1600-01-01") && ovl_date_days(&last, "2400-12-31"));
    bool ok = true;
    for (int64_t k = first; k <= last && ok; k++) {
        int64_t r = 0;
        ovl_date_format(s, k);
        ok = ovl_date_days(&r, s) && r == k && ovl_date_trunc(back, OVL_TRUNC_WEEK, s, 10) == OVL_OK;
        int64_t wk = 0;
        ok = ok && ovl_date_days(&wk, back) && k - wk >= 0 && k - wk <= 6 &&
             ((wk % 7) + 7) % 7 == 4; /* Mondays: 1970-01-05 = day 4 */
    }
    OVL_T_RECORD(ok, "day numbers and weeks from 1600 to 2400 round-trip");
    char out[11];
    EXPECT_ERR(OVL_ERR_INPUT, ovl_date_trunc(out, OVL_TRUNC_WEEK, "2026-02-30", 10));
    EXPECT_ERR(OVL_ERR_INPUT, ovl_date_trunc(out, OVL_TRUNC_WEEK, "2026-7-1", 8));
    EXPECT_ERR(OVL_ERR_INPUT, ovl_date_trunc(out, OVL_TRUNC_DAY, "", 0));
    EXPECT_ERR(OVL_ERR_INPUT, ovl_date_trunc(out, OVL_TRUNC_MONTH, "2026-07-01T10:00", 16));
    EXPECT_ERR(OVL_ERR_INPUT, ovl_date_trunc(out, OVL_TRUNC_WEEK, "0000-01-01", 10));
    EXPECT_TRUE(strstr(ovl_err_detail(), "before year 0000") != NULL);
    EXPECT_EQ(ovl_trunc_parse("Week"), OVL_TRUNC_WEEK);
    EXPECT_EQ(ovl_trunc_parse("year"), OVL_TRUNC_NONE);
}

int main(void)
{
    RUN(test_plan);
    RUN(test_hash_canonical);
    RUN(test_rejections);
    RUN(test_pair_conditions);
    RUN(test_pair_rejections);
    RUN(test_empty_window);
    RUN(test_dates_declared);
    RUN(test_dates_hash_pinned);
    RUN(test_dates_where);
    RUN(test_dates_rejections);
    RUN(test_params);
    RUN(test_filters);
    RUN(test_hash_stable);
    RUN(test_article);
    RUN(test_v2_canonical);
    RUN(test_v2_plan);
    RUN(test_date_trunc);
    return ovl_t_summary("test_template");
}
