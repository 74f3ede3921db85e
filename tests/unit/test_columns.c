/* Group-by and value columns (columns.h). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/columns.h"
#include "io/load.h"
#include "test.h"

static void decimal_parse(void)
{
    int64_t v;
    EXPECT_OK(ovl_decimal_parse(&v, "12.5", 4, 2));
    EXPECT_EQ(v, 1250);
    EXPECT_OK(ovl_decimal_parse(&v, " -0.05 ", 7, 2));
    EXPECT_EQ(v, -5);
    EXPECT_OK(ovl_decimal_parse(&v, "+7", 2, 0));
    EXPECT_EQ(v, 7);
    EXPECT_OK(ovl_decimal_parse(&v, "3.1400", 6, 2));
    EXPECT_EQ(v, 314);
    EXPECT_OK(ovl_decimal_parse(&v, "-9223372036854775808", 20, 0));
    EXPECT_EQ(v, INT64_MIN);
    EXPECT_OK(ovl_decimal_parse(&v, "9223372036854775807", 19, 0));
    EXPECT_EQ(v, INT64_MAX);
    EXPECT_ERR(OVL_ERR_INPUT, ovl_decimal_parse(&v, "9223372036854775808", 19, 0));
    EXPECT_ERR(OVL_ERR_INPUT, ovl_decimal_parse(&v, "92233720368547758.08", 20, 3));
    EXPECT_ERR(OVL_ERR_INPUT, ovl_decimal_parse(&v, "3.141", 5, 2));
    EXPECT_ERR(OVL_ERR_INPUT, ovl_decimal_parse(&v, "", 0, 2));
    EXPECT_ERR(OVL_ERR_INPUT, ovl_decimal_parse(&v, "1e5", 3, 2));
    EXPECT_ERR(OVL_ERR_INPUT, ovl_decimal_parse(&v, "12,5", 4, 2));
    EXPECT_ERR(OVL_ERR_INPUT, ovl_decimal_parse(&v, "5.", 2, 2));
    EXPECT_ERR(OVL_ERR_INPUT, ovl_decimal_parse(&v, ".5", 2, 2));
    EXPECT_ERR(OVL_ERR_INPUT, ovl_decimal_parse(&v, "-", 1, 0));
    EXPECT_ERR(OVL_ERR_INPUT, ovl_decimal_parse(&v, "1 2", 3, 0));
}

static void decimal_format(void)
{
    char s[OVL_DECIMAL_STR_MAX];
    ovl_decimal_format(s, -5, 2);
    EXPECT_STR_EQ(s, "-0.05");
    ovl_decimal_format(s, 123456, 3);
    EXPECT_STR_EQ(s, "123.456");
    ovl_decimal_format(s, 0, 0);
    EXPECT_STR_EQ(s, "0");
    ovl_decimal_format(s, INT64_MIN, 0);
    EXPECT_STR_EQ(s, "-9223372036854775808");
    ovl_decimal_format_ratio(s, 1000, 3, 2, 4); /* 10.00 / 3 */
    EXPECT_STR_EQ(s, "3.333333");
    ovl_decimal_format_ratio(s, -5, 2, 0, 0); /* -2.5 -> -2 (half to even) */
    EXPECT_STR_EQ(s, "-2");
    ovl_decimal_format_ratio(s, 7, 2, 0, 0); /* 3.5 -> 4 */
    EXPECT_STR_EQ(s, "4");
    ovl_decimal_format_ratio(s, 1, 3, 0, 1); /* 0.333 -> 0.3 */
    EXPECT_STR_EQ(s, "0.3");
    ovl_decimal_format_ratio(s, -1, 1000, 0, 1); /* -0.001 -> 0.0, no negative zero */
    EXPECT_STR_EQ(s, "0.0");
    ovl_decimal_format_ratio(s, INT64_MIN, 1, 18, 4);
    EXPECT_STR_EQ(s, "-9.2233720368547758080000");
}

static void option_syntax(void)
{
    ovl_value_col *c;
    size_t n;
    char **names;
    EXPECT_OK(ovl_value_cols_parse(&c, &n, "purchase_amount:2,item_count"));
    EXPECT_EQ(n, 2);
    if (n == 2) {
        EXPECT_STR_EQ(c[0].name, "purchase_amount");
        EXPECT_EQ(c[0].decimals, 2);
        EXPECT_STR_EQ(c[1].name, "item_count");
        EXPECT_EQ(c[1].decimals, 0);
    }
    ovl_value_cols_free(c, n);
    EXPECT_ERR(OVL_ERR_USAGE, ovl_value_cols_parse(&c, &n, ""));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_value_cols_parse(&c, &n, "a:19"));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_value_cols_parse(&c, &n, "a:x"));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_value_cols_parse(&c, &n, "a,,b"));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_value_cols_parse(&c, &n, "a:1,a:2"));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_value_cols_parse(&c, &n, ":2"));
    EXPECT_OK(ovl_col_names_parse(&names, &n, "campaign_id,ad_format"));
    EXPECT_EQ(n, 2);
    ovl_col_names_free(names, n);
    EXPECT_OK(ovl_col_names_parse(&names, &n, ""));
    EXPECT_EQ(n, 0);
    EXPECT_ERR(OVL_ERR_USAGE, ovl_col_names_parse(&names, &n, "a,a"));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_col_names_parse(&names, &n, "a,"));
}

static const char *write_tmp(const char *name, const char *text)
{
    static char path[256];
    snprintf(path, sizeof path, "/tmp/ovl_test_columns_%d_%s", (int)getpid(), name);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

/* The one pass (io/load.h) asking for groups or values besides identifiers. */
static ovl_err load(ovl_table_input *in, const char *path, char *const *cols, size_t ncols,
                    ovl_value_col *vc, size_t nv)
{
    ovl_load_spec want = {.join = "email", .norm = OVL_NORM_EMAIL, .group_by = cols,
                          .ngroup_by = ncols, .groups = nv == 0, .values = vc, .nvalues = nv};
    return ovl_table_load(in, path, &want);
}

static void tables(void)
{
    const char *p = write_tmp("t.csv", "email,camp,fmt,amount\n"
                                       "a@x.org,c2,video,1.50\n"
                                       "b@x.org,c1,\"ban,ner\",-2\n"
                                       ",c9,video,zzz\n"
                                       "c@x.org,c2,video,0.25\n"
                                       "a@x.org,c1,\"ban,ner\",3\n");
    ovl_table_input in;
    ovl_group_table *g = &in.groups;
    ovl_value_table *v = &in.values;
    char *cols[2] = {"camp", "fmt"};
    ovl_value_col vc[1] = {{"amount", 2}};
    EXPECT_OK(load(&in, p, cols, 2, NULL, 0));
    EXPECT_EQ(g->ngroups, 2);
    if (g->ngroups == 2) {
        EXPECT_STR_EQ(ovl_group_key(g, 0, 0), "c1");
        EXPECT_STR_EQ(ovl_group_key(g, 0, 1), "ban,ner");
        EXPECT_STR_EQ(ovl_group_key(g, 1, 0), "c2");
        EXPECT_EQ(g->row_group[0], 1);
        EXPECT_EQ(g->row_group[1], 0);
        EXPECT_EQ(g->row_group[2], UINT32_MAX);
        EXPECT_EQ(g->row_group[4], 0);
    }
    ovl_table_input_free(&in);
    EXPECT_OK(load(&in, p, NULL, 0, NULL, 0));
    EXPECT_EQ(g->ngroups, 1);
    ovl_table_input_free(&in);
    EXPECT_OK(load(&in, p, NULL, 0, vc, 1)); /* row 3 is skipped: zzz not read */
    EXPECT_EQ(v->cells[0], 150);
    EXPECT_EQ(v->cells[1], -200);
    EXPECT_EQ(v->cells[3], 25);
    ovl_table_input_free(&in);
    char *missing[1] = {"nope"};
    EXPECT_ERR(OVL_ERR_INPUT, load(&in, p, missing, 1, NULL, 0));
    remove(p);

    p = write_tmp("bad.csv", "email,amount\na@x.org,1\nb@x.org,abc\n");
    EXPECT_ERR(OVL_ERR_INPUT, load(&in, p, NULL, 0, vc, 1));
    EXPECT_TRUE(strstr(ovl_err_detail(), ":3: column 'amount'") != NULL);
    EXPECT_TRUE(strstr(ovl_err_detail(), "abc") == NULL);
    remove(p);
}

int main(void)
{
    RUN(decimal_parse);
    RUN(decimal_format);
    RUN(option_syntax);
    RUN(tables);
    return ovl_t_summary("test_columns");
}
