/* Database specs and password redaction (dbspec.h). */
#include <stdlib.h>
#include <string.h>

#include "io/dbspec.h"
#include "test.h"

static void kinds(void)
{
    EXPECT_EQ(ovl_dbspec_kind("sqlite:a.db?table=t"), OVL_DB_SQLITE);
    EXPECT_EQ(ovl_dbspec_kind("postgresql://h/db"), OVL_DB_POSTGRES);
    EXPECT_EQ(ovl_dbspec_kind("postgres://h/db"), OVL_DB_POSTGRES);
    EXPECT_EQ(ovl_dbspec_kind("customers.csv"), OVL_DB_NONE);
    EXPECT_EQ(ovl_dbspec_kind("postgresql:/x"), OVL_DB_NONE);
    EXPECT_EQ(ovl_dbspec_kind("./sqlite:x"), OVL_DB_NONE);
}

static void sqlite_specs(void)
{
    ovl_dbspec s;
    EXPECT_OK(ovl_dbspec_parse(&s, "sqlite:/tmp/x.db?table=customers", false));
    EXPECT_STR_EQ(s.path, "/tmp/x.db");
    EXPECT_STR_EQ(s.table, "customers");
    EXPECT_STR_EQ(s.shown, "sqlite:/tmp/x.db?table=customers");
    ovl_dbspec_free(&s);
    EXPECT_OK(ovl_dbspec_parse(&s, "sqlite:rel.db?table=main.my%20t", false));
    EXPECT_STR_EQ(s.path, "rel.db");
    EXPECT_STR_EQ(s.table, "main.my t");
    ovl_dbspec_free(&s);
    EXPECT_OK(ovl_dbspec_parse(&s, "sqlite:rel.db", true));
    EXPECT_TRUE(s.table == NULL);
    ovl_dbspec_free(&s);
    /* Negative cases: each refused with a usage error. */
    EXPECT_ERR(OVL_ERR_USAGE, ovl_dbspec_parse(&s, "sqlite:rel.db", false));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_dbspec_parse(&s, "sqlite:rel.db?table=t", true));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_dbspec_parse(&s, "sqlite:?table=t", false));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_dbspec_parse(&s, "sqlite:a.db?table=", false));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_dbspec_parse(&s, "sqlite:a.db?table=t&table=u", false));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_dbspec_parse(&s, "sqlite:a.db?table=t&mode=rw", false));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_dbspec_parse(&s, "sqlite:a.db?table=a%0", false));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_dbspec_parse(&s, "sqlite:a.db?table=a%00b", false));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_dbspec_parse(&s, "sqlite:a.db?table=a%0ab", false));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_dbspec_parse(&s, "sqlite:a.db?table=.t", false));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_dbspec_parse(&s, "sqlite:a.db?table=s.", false));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_dbspec_parse(&s, "sqlite:a.db?table=a.b.c", false));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_dbspec_parse(&s, "plain.csv", false));
}

static void pg_specs(void)
{
    ovl_dbspec s;
    EXPECT_OK(ovl_dbspec_parse(
        &s, "postgresql://alice:s3cret@db:5433/crm?sslmode=require&table=public.c&connect_timeout=3",
        false));
    EXPECT_STR_EQ(s.conninfo, "postgresql://alice:s3cret@db:5433/crm?sslmode=require&connect_timeout=3");
    EXPECT_STR_EQ(s.table, "public.c");
    EXPECT_STR_EQ(s.shown, "postgresql://alice@db:5433/crm?sslmode=require&table=public.c&connect_timeout=3");
    ovl_dbspec_free(&s);
    EXPECT_OK(ovl_dbspec_parse(&s, "postgres://%2Ftmp%2Fsock/crm?table=t", false));
    EXPECT_STR_EQ(s.conninfo, "postgres://%2Ftmp%2Fsock/crm");
    ovl_dbspec_free(&s);
    EXPECT_OK(ovl_dbspec_parse(&s, "postgresql:///crm?host=/tmp&password=pw", true));
    EXPECT_STR_EQ(s.conninfo, "postgresql:///crm?host=/tmp&password=pw");
    EXPECT_STR_EQ(s.shown, "postgresql:///crm?host=/tmp");
    EXPECT_TRUE(s.table == NULL);
    ovl_dbspec_free(&s);
    EXPECT_ERR(OVL_ERR_USAGE, ovl_dbspec_parse(&s, "postgresql://h/db", false));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_dbspec_parse(&s, "postgresql://h/db?table=t", true));
}

/* A password never survives redaction, wherever it is written. */
static void redaction(void)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"postgresql://u:pw@h/db?table=t", "postgresql://u@h/db?table=t"},
        {"postgres://u:p%40w@h:1/db", "postgres://u@h:1/db"},
        {"postgresql://u:pw@h1:5432,h2/db", "postgresql://u@h1:5432,h2/db"},
        {"postgresql://h/db?user=u", "postgresql://h/db?user=u"},
        {"postgresql://h/db?password=pw&table=t", "postgresql://h/db?table=t"},
        {"postgresql://h/db?table=t&PASSWORD=pw", "postgresql://h/db?table=t"},
        {"postgresql://h/db?password=pw", "postgresql://h/db"},
        {"postgresql://u:a:b@h/db?x=1&password=p&password=q&y=2", "postgresql://u@h/db?x=1&y=2"},
        {"host=h password=pw dbname=d", "host=h dbname=d"},
        {"sqlite:/tmp/a.db?table=t", "sqlite:/tmp/a.db?table=t"},
        {"data/customers.csv", "data/customers.csv"},
        {"postgresql://h/db?notpassword=x", "postgresql://h/db?notpassword=x"},
        /* libpq percent-decodes keywords: these name the password too */
        {"postgresql://h/db?%70assword=pw&table=t", "postgresql://h/db?table=t"},
        {"postgresql://h/db?table=t&pass%77ord=pw", "postgresql://h/db?table=t"},
        {"postgresql://h/db?%50%41%53%53%57%4f%52%44=pw", "postgresql://h/db"},
        {"postgresql://h/db?%70asswor=x&table=t", "postgresql://h/db?%70asswor=x&table=t"},
        {"postgresql://h/db?table=t&%7", "postgresql://h/db?table=t&%7"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *r = ovl_spec_redact(cases[i].in);
        EXPECT_TRUE(r != NULL);
        if (r == NULL)
            continue;
        EXPECT_STR_EQ(r, cases[i].out);
        EXPECT_TRUE(strstr(r, "pw") == NULL);
        free(r);
    }
    /* The error of a refused spec shows the redacted form only. */
    ovl_dbspec s;
    EXPECT_ERR(OVL_ERR_USAGE, ovl_dbspec_parse(&s, "postgresql://u:topsecret@h/db", false));
    EXPECT_TRUE(strstr(ovl_err_detail(), "topsecret") == NULL);
    EXPECT_TRUE(strstr(ovl_err_detail(), "postgresql://u@h/db") != NULL);
}

static void table_names(void)
{
    char n[64];
    ovl_spec_table_name(n, sizeof n, "data/purchases.csv");
    EXPECT_STR_EQ(n, "purchases");
    ovl_spec_table_name(n, sizeof n, "sqlite:x.db?table=main.orders");
    EXPECT_STR_EQ(n, "orders");
    ovl_spec_table_name(n, sizeof n, "postgresql://h/db?table=customers");
    EXPECT_STR_EQ(n, "customers");
}

static void command_line(void)
{
    EXPECT_OK(ovl_dbspec_check_options("a.csv", NULL, "out.csv", false));
    EXPECT_OK(ovl_dbspec_check_options("sqlite:a.db", "SELECT 1", "sqlite:o.db?table=r", true));
    EXPECT_OK(ovl_dbspec_check_options("postgresql://h/db?table=t", NULL, NULL, false));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_dbspec_check_options("a.csv", "SELECT 1", NULL, false));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_dbspec_check_options("sqlite:a.db?table=t", "SELECT 1", NULL, false));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_dbspec_check_options("sqlite:a.db", "", NULL, false));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_dbspec_check_options("a.csv", NULL, "out.csv", true));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_dbspec_check_options("a.csv", NULL, NULL, true));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_dbspec_check_options("a.csv", NULL, "sqlite:o.db", false));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_dbspec_check_options("postgresql://u:pw@h/db", NULL, NULL, false));
    EXPECT_TRUE(strstr(ovl_err_detail(), "pw") == NULL);
}

int main(void)
{
    RUN(kinds);
    RUN(sqlite_specs);
    RUN(pg_specs);
    RUN(redaction);
    RUN(table_names);
    RUN(command_line);
    return ovl_t_summary("test_dbspec");
}
