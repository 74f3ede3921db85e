/* Policy files: a full valid policy, the skeleton, and one pointed error per
 * kind of mistake. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy/policy.h"
#include "test.h"

#define FPR_A "SHA256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define FPR_B "SHA256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static const char good[] =
    "{\"version\": 1,"
    " \"table\": {\"name\": \"purchases\", \"file\": \"purchases.csv\","
    "   \"columns\": [\"email\", \"purchase_date\", \"purchase_amount\", \"store\"]},"
    " \"join\": [{\"column\": \"email\", \"normalize\": \"email\"}],"
    " \"peers\": [{\"name\": \"advertiser\", \"fingerprint\": \"" FPR_A "\"}],"
    " \"list\": {\"allowed\": true, \"columns\": [\"store\"], \"receivers\": [\"" FPR_A "\"]},"
    " \"aggregation\": {\"adhoc\": true, \"functions\": [\"COUNT\", \"SUM\"],"
    "   \"dimensions\": [\"purchase_date\"], \"aggregates\": [\"purchase_amount\"],"
    "   \"min_rows\": 100, \"receivers\": [\"" FPR_A "\"], \"allow_cardinality\": false},"
    " \"custom\": {\"templates\": [{\"name\": \"attribution\", \"sha256\":"
    "   \"08f8b2f2762642e726db4eec98f9b016b51e03c67223eecd7aec75ef671a5116\"}]},"
    " \"budget\": {\"runs_per_day\": 10, \"runs_per_template_per_day\": 3},"
    " \"differencing\": {\"refuse_small_differences\": true}}";

static ovl_err parse_str(ovl_policy **p, const char *s)
{
    return ovl_policy_parse(p, "retail.policy.json", s, strlen(s));
}

/* Replaces the first occurrence of `from` in the good policy with `to`. */
static ovl_err parse_edit(const char *from, const char *to)
{
    char buf[8192];
    const char *at = strstr(good, from);
    ovl_policy *p = NULL;
    if (!at)
        return OVL_ERR_INTERNAL;
    snprintf(buf, sizeof buf, "%.*s%s%s", (int)(at - good), good, to, at + strlen(from));
    ovl_err rc = parse_str(&p, buf);
    ovl_policy_free(p);
    return rc;
}

static void test_good(void)
{
    ovl_policy *p = NULL;
    EXPECT_OK(parse_str(&p, good));
    if (!p)
        return;
    EXPECT_STR_EQ(p->table_name, "purchases");
    EXPECT_EQ(p->njoin, 1);
    EXPECT_EQ(p->join[0].norm, OVL_NORM_EMAIL);
    EXPECT_TRUE(ovl_policy_peer_find(p, FPR_A) != NULL);
    EXPECT_TRUE(ovl_policy_peer_find(p, FPR_B) == NULL);
    EXPECT_TRUE(p->list.allowed);
    EXPECT_EQ(p->aggregation.functions, OVL_FN_COUNT | OVL_FN_SUM);
    EXPECT_EQ(p->aggregation.min_rows, 100);
    EXPECT_TRUE(p->has_budget && p->runs_per_day == 10 && p->runs_per_template_per_day == 3);
    EXPECT_TRUE(p->refuse_small_differences);
    EXPECT_EQ(p->ntemplates, 1);
    EXPECT_TRUE(ovl_policy_template_find(p, p->templates[0].hash) != NULL);
    char *text = NULL;
    EXPECT_OK(ovl_policy_explain(&text, p));
    EXPECT_TRUE(text && strstr(text, "fewer than 100 distinct identifiers") && strstr(text, "advertiser"));
    free(text);
    ovl_policy_free(p);
}

static void expect_msg(const char *from, const char *to, const char *want)
{
    EXPECT_ERR(OVL_ERR_INPUT, parse_edit(from, to));
    OVL_T_RECORD(strstr(ovl_err_detail(), want) != NULL, "'%s' not in '%s'", want, ovl_err_detail());
}

static void test_errors(void)
{
    expect_msg("\"min_rows\": 100", "\"min_rows\": 1",
               "retail.policy.json: aggregation.min_rows: must be an integer from 2 to 100000");
    expect_msg("\"min_rows\": 100", "\"min_rows\": 100001", "aggregation.min_rows: must be an integer");
    expect_msg("\"min_rows\": 100", "\"min_rows\": \"100\"", "aggregation.min_rows: must be an integer");
    expect_msg("\"adhoc\": true", "\"adhoc\": true, \"extra\": 1", "aggregation.extra: unknown key");
    expect_msg("\"version\": 1", "\"version\": 1, \"colour\": 1", "retail.policy.json: colour: unknown key");
    expect_msg("\"version\": 1", "\"version\": 2", "version: must be an integer from 1 to 1");
    expect_msg("\"fingerprint\": \"" FPR_A "\"", "\"fingerprint\": \"SHA256:zz\"",
               "peers[0].fingerprint: must be a key fingerprint");
    expect_msg("\"dimensions\": [\"purchase_date\"]", "\"dimensions\": [\"ssn\"]",
               "aggregation.dimensions[0]: 'ssn' is not a column of table.columns");
    expect_msg("\"functions\": [\"COUNT\", \"SUM\"]", "\"functions\": [\"MEDIAN\"]",
               "aggregation.functions[0]: must be COUNT, COUNT_DISTINCT, SUM or AVG");
    expect_msg("\"normalize\": \"email\"", "\"normalize\": \"soundex\"", "join[0].normalize");
    expect_msg("{\"column\": \"email\", \"normalize\": \"email\"}",
               "{\"column\": \"email\", \"normalize\": \"email\"}, {\"column\": \"email\", \"normalize\": \"email\"}",
               "join[1].column: 'email' is listed twice");
    expect_msg("\"allowed\": true", "\"allowed\": 1", "list.allowed: must be true or false");
    expect_msg("\"receivers\": [\"" FPR_A "\"]}", "\"receivers\": [\"bob\"]}", "list.receivers[0]");
    expect_msg(" \"custom\"", " \"version\": 1, \"custom\"", "retail.policy.json:");
    expect_msg("\"sha256\":", "\"sha256\": \"12\", \"x\":", "unknown key");
    expect_msg(" \"custom\": {\"templates\": [{\"name\": \"attribution\", \"sha256\":"
               "   \"08f8b2f2762642e726db4eec98f9b016b51e03c67223eecd7aec75ef671a5116\"}]},",
               "", "custom: missing");
    expect_msg("\"runs_per_day\": 10", "\"runs_per_day\": 0", "budget.runs_per_day: must be an integer from 1");
    expect_msg("{\"version\"", "[{\"version\"", "retail.policy.json:1:");
    expect_msg("\"allow_cardinality\": false}", "\"allow_cardinality\": false, "
               "\"join_conditions\": [\"ssn\"]}",
               "aggregation.join_conditions[0]: 'ssn' is not a column of table.columns");
    expect_msg("\"allow_cardinality\": false}", "\"allow_cardinality\": false, "
               "\"join_conditions\": \"purchase_date\"}", "aggregation.join_conditions");
}

/* aggregation.join_conditions: optional (absent = none), listed in explain. */
static void test_join_conditions(void)
{
    char buf[8192];
    const char *from = "\"allow_cardinality\": false}";
    const char *at = strstr(good, from);
    ovl_policy *p = NULL;
    if (!at)
        return;
    EXPECT_OK(parse_str(&p, good));
    if (p)
        EXPECT_EQ(p->aggregation.join_conditions.n, 0);
    ovl_policy_free(p);
    p = NULL;
    snprintf(buf, sizeof buf, "%.*s%s%s", (int)(at - good), good,
             "\"allow_cardinality\": false, \"join_conditions\": [\"purchase_date\"]}",
             at + strlen(from));
    EXPECT_OK(parse_str(&p, buf));
    if (!p)
        return;
    EXPECT_TRUE(ovl_strlist_has(&p->aggregation.join_conditions, "purchase_date"));
    char *text = NULL;
    EXPECT_OK(ovl_policy_explain(&text, p));
    EXPECT_TRUE(text && strstr(text, "compared with the partner's columns on each joined row: "
                                     "purchase_date"));
    free(text);
    ovl_policy_free(p);
}

/* table.source (and its old name table.file), allow_query, and no password
 * in a policy file. */
static void test_table_source(void)
{
    ovl_policy *p = NULL;
    EXPECT_OK(parse_str(&p, good));
    if (p != NULL) {
        EXPECT_STR_EQ(p->table_source, "purchases.csv"); /* from the old key */
        EXPECT_TRUE(p->allow_query);
    }
    ovl_policy_free(p);
    p = NULL;
    char buf[8192];
    const char *from = "\"file\": \"purchases.csv\",";
    const char *at = strstr(good, from);
    snprintf(buf, sizeof buf, "%.*s%s%s", (int)(at - good), good,
             "\"source\": \"postgresql://crm@db/sales?table=purchases\", \"allow_query\": false,",
             at + strlen(from));
    EXPECT_OK(parse_str(&p, buf));
    if (p != NULL) {
        EXPECT_STR_EQ(p->table_source, "postgresql://crm@db/sales?table=purchases");
        EXPECT_TRUE(!p->allow_query);
        char *text = NULL;
        EXPECT_OK(ovl_policy_explain(&text, p));
        EXPECT_TRUE(text && strstr(text, "--query is refused"));
        free(text);
    }
    ovl_policy_free(p);
    expect_msg("\"file\": \"purchases.csv\",", "\"file\": \"a.csv\", \"source\": \"b.csv\",",
               "table: give table.source or its old name table.file, not both");
    expect_msg("\"file\": \"purchases.csv\",",
               "\"source\": \"postgresql://crm:hunter2@db/sales?table=purchases\",",
               "table.source: holds a password");
    EXPECT_TRUE(strstr(ovl_err_detail(), "hunter2") == NULL);
    expect_msg("\"file\": \"purchases.csv\",",
               "\"source\": \"postgresql://db/sales?password=hunter2&table=purchases\",",
               "table.source: holds a password");
    expect_msg("\"file\": \"purchases.csv\",", "\"file\": \"purchases.csv\", \"allow_query\": 0,",
               "table.allow_query: must be true or false");
    expect_msg("\"file\": \"purchases.csv\",", "\"source\": \"\",", "table.source: must be");
}

static void test_not_json(void)
{
    ovl_policy *p = NULL;
    EXPECT_ERR(OVL_ERR_INPUT, parse_str(&p, "{\"version\": 1,"));
    EXPECT_TRUE(strncmp(ovl_err_detail(), "retail.policy.json:1:", 21) == 0);
    EXPECT_ERR(OVL_ERR_INPUT, parse_str(&p, "[]"));
    EXPECT_ERR(OVL_ERR_INPUT, parse_str(&p, ""));
    EXPECT_TRUE(p == NULL);
}

static void test_skeleton(void)
{
    const char *cols[] = {"email", "amount"};
    char *json = NULL;
    ovl_policy *p = NULL;
    EXPECT_OK(ovl_policy_skeleton(&json, "purchases", "postgresql://u:pw@h/db?table=purchases",
                                  cols, 2));
    EXPECT_TRUE(json && strstr(json, "\"source\": \"postgresql://u@h/db?table=purchases\""));
    EXPECT_OK(parse_str(&p, json));
    if (p) {
        /* allows nothing */
        EXPECT_EQ(p->npeers, 0);
        EXPECT_EQ(p->njoin, 0);
        EXPECT_TRUE(!p->list.allowed && !p->aggregation.adhoc);
        EXPECT_EQ(p->aggregation.functions, 0);
        /* the group space and widths are written out, at their defaults */
        EXPECT_TRUE(strstr(json, "\"max_cells\": 1000") && strstr(json, "\"value_bits\": 40"));
        EXPECT_TRUE(p->aggregation.max_cells == 1000 && p->aggregation.max_rows_per_identifier == 7);
        EXPECT_EQ(p->ntemplates, 0);
        EXPECT_EQ(p->columns.n, 2);
    }
    ovl_policy_free(p);
    free(json);
}

static void table_file(char *path, size_t cap, const char *text)
{
    snprintf(path, cap, "/tmp/ovl_test_policy_%d.csv", (int)getpid());
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* serve's start check: the good policy against fitting and unfitting tables. */
static void test_check_table(void)
{
    ovl_policy *p = NULL;
    char path[128];
    EXPECT_OK(parse_str(&p, good));
    if (!p)
        return;
    table_file(path, sizeof path, "email,purchase_date,purchase_amount,store,extra\n"
               "a@example.com,2026-07-01,12.50,s1,x\n"
               ",2026-07-01,not checked: no join value,s1,x\n"
               "b@example.com,2026-07-02,-3,s2,y\n");
    EXPECT_OK(ovl_policy_check_table(p, path, NULL));
    table_file(path, sizeof path, "email,purchase_date,amount,store\na@example.com,d,1,s\n");
    EXPECT_ERR(OVL_ERR_INPUT, ovl_policy_check_table(p, path, NULL));
    EXPECT_TRUE(strstr(ovl_err_detail(), "does not fit retail.policy.json: it has no column "
                                         "'purchase_amount' (listed in table.columns") != NULL);
    table_file(path, sizeof path, "email,purchase_date,purchase_amount,store\n"
               "a@example.com,d,1.5,s\nb@example.com,d,12;5,s\n");
    EXPECT_ERR(OVL_ERR_INPUT, ovl_policy_check_table(p, path, NULL));
    EXPECT_TRUE(strstr(ovl_err_detail(), ":3: column 'purchase_amount' (aggregation.aggregates)")
                != NULL);
    unlink(path);
    EXPECT_ERR(OVL_ERR_IO, ovl_policy_check_table(p, path, NULL)); /* exit 3 as well */
    ovl_policy_free(p);
}

/* The group space and the widths of aggregates v2 (SPEC §2, §4.1):
 * optional, with their defaults, ranges and the count width. */
static void test_v2_limits(void)
{
    char buf[8192];
    const char *from = "\"allow_cardinality\": false}";
    const char *at = strstr(good, from);
    ovl_policy *p = NULL;
    if (!at)
        return;
    EXPECT_OK(parse_str(&p, good));
    if (p) {
        EXPECT_EQ(p->aggregation.max_cells, 1000);
        EXPECT_EQ(p->aggregation.max_rows_per_identifier, 7);
        EXPECT_EQ(ovl_policy_count_bits(p), 3);
        EXPECT_EQ(p->aggregation.value_bits, 40);
    }
    ovl_policy_free(p);
    p = NULL;
    snprintf(buf, sizeof buf, "%.*s%s%s", (int)(at - good), good,
             "\"allow_cardinality\": false, \"max_cells\": 64, \"max_rows_per_identifier\": 8, "
             "\"value_bits\": 32}", at + strlen(from));
    EXPECT_OK(parse_str(&p, buf));
    if (p) {
        EXPECT_EQ(p->aggregation.max_cells, 64);
        EXPECT_EQ(ovl_policy_count_bits(p), 4);
        EXPECT_EQ(p->aggregation.value_bits, 32);
        EXPECT_EQ(ovl_policy_value_bits(p), 32);
        EXPECT_EQ(ovl_policy_max_cells(p), 64);
        char *text = NULL;
        EXPECT_OK(ovl_policy_explain(&text, p));
        EXPECT_TRUE(text && strstr(text, "at most 64 cells") && strstr(text, "count width 4 bits") &&
                    strstr(text, "below 2^31"));
        free(text);
    }
    ovl_policy_free(p);
    EXPECT_EQ(ovl_policy_count_bits(NULL), 3);
    EXPECT_EQ(ovl_policy_value_bits(NULL), 40);
    EXPECT_EQ(ovl_policy_max_cells(NULL), 1000);
    EXPECT_EQ(ovl_count_bits_of(1), 1);
    EXPECT_EQ(ovl_count_bits_of(7), 3);
    EXPECT_EQ(ovl_count_bits_of(65535), 16);
    static const struct {
        const char *edit, *want;
    } bad[] = {
        {"\"max_cells\": 0", "retail.policy.json: aggregation.max_cells: must be an integer from 1 "
                             "to 65536"},
        {"\"max_cells\": 65537", "aggregation.max_cells: must be an integer from 1 to 65536"},
        {"\"max_cells\": \"1000\"", "aggregation.max_cells: must be an integer"},
        {"\"max_rows_per_identifier\": 0",
         "aggregation.max_rows_per_identifier: must be an integer from 1 to 65535"},
        {"\"max_rows_per_identifier\": 65536",
         "aggregation.max_rows_per_identifier: must be an integer from 1 to 65535"},
        {"\"value_bits\": 1", "aggregation.value_bits: must be an integer from 2 to 48"},
        {"\"value_bits\": 49", "aggregation.value_bits: must be an integer from 2 to 48"},
        {"\"value_bits\": 40.5", "aggregation.value_bits: must be an integer"},
        {"\"max_cell\": 10", "aggregation.max_cell: unknown key"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char edit[256];
        snprintf(edit, sizeof edit, "\"allow_cardinality\": false, %s}", bad[i].edit);
        expect_msg(from, edit, bad[i].want);
    }
}

int main(void)
{
    RUN(test_good);
    RUN(test_errors);
    RUN(test_join_conditions);
    RUN(test_v2_limits);
    RUN(test_table_source);
    RUN(test_not_json);
    RUN(test_skeleton);
    RUN(test_check_table);
    return ovl_t_summary("test_policy");
}
