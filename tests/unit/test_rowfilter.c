/* A template's WHERE filters as the one pass's row filter
 * (policy/rowfilter.h over io/load.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "policy/rowfilter.h"
#include "test.h"
#include "tmpdir.h"

static const char tpl_text[] =
    "-- param start_date date\n"
    "SELECT COUNT(DISTINCT c.email) AS n, SUM(p.amount) AS s\n"
    "FROM impressions AS c JOIN purchases AS p ON c.email = p.email\n"
    "WHERE c.campaign = 'A' AND p.day >= :start_date AND p.amount < 100;\n";

static void filters_one_party(void)
{
    ovl_template *t = NULL;
    ovl_tpl_rowfilter f;
    ovl_param_value params[1] = {{"start_date", "2026-03-01"}};
    ovl_value_col vc[1] = {{"amount", OVL_DECIMALS_AUTO}};
    ovl_table_input in;
    EXPECT_OK(ovl_template_parse(&t, "t.sql", tpl_text, sizeof tpl_text - 1));
    if (t == NULL)
        return;
    int p = ovl_template_party(t, "purchases");
    EXPECT_TRUE(p >= 0);
    EXPECT_OK(ovl_tpl_rowfilter_init(&f, t, p, params, 1));
    EXPECT_EQ(f.n, 2); /* day and amount; campaign is the other party's */
    const char *path = write_file("p.csv", "email,day,amount\n"
                                          "a@x.org,2026-03-02,10.5\n"
                                          "b@x.org,2026-02-28,20\n"   /* too early */
                                          "c@x.org,2026-03-05,100\n"  /* not < 100 */
                                          "d@x.org,not a date,1\n"    /* not a date: no match */
                                          "e@x.org,2026-03-01,99.25\n");
    ovl_load_spec want = {.join = "email", .norm = OVL_NORM_EMAIL,
                          .filter = ovl_tpl_rowfilter_ops(&f), .values = vc, .nvalues = 1};
    EXPECT_OK(ovl_table_load(&in, path, &want));
    EXPECT_EQ(in.ids.nrows, 5);
    EXPECT_EQ(in.ids.filtered, 3);
    EXPECT_EQ(in.ids.nids, 2);
    EXPECT_TRUE(in.ids.row_valid[0] && in.ids.row_valid[4]);
    EXPECT_EQ(vc[0].decimals, 2);
    EXPECT_EQ(in.values.cells[0], 1050);
    EXPECT_EQ(in.values.cells[4], 9925);
    ovl_table_input_free(&in);

    /* Negative: the filtered column must be in the table. */
    vc[0].decimals = OVL_DECIMALS_AUTO;
    path = write_file("p.csv", "email,amount\na@x.org,1\n");
    EXPECT_ERR(OVL_ERR_INPUT, ovl_table_load(&in, path, &want));
    EXPECT_TRUE(strstr(ovl_err_detail(), "no column \"day\"") != NULL);

    /* Negative: a parameter the filter needs is missing, which stops the pass. */
    EXPECT_OK(ovl_tpl_rowfilter_init(&f, t, p, NULL, 0));
    want.filter = ovl_tpl_rowfilter_ops(&f);
    path = write_file("p.csv", "email,day,amount\na@x.org,2026-03-02,1\n");
    EXPECT_ERR(OVL_ERR_USAGE, ovl_table_load(&in, path, &want));

    /* No template, or no filter on this party: every row is kept. */
    EXPECT_OK(ovl_tpl_rowfilter_init(&f, NULL, 0, NULL, 0));
    EXPECT_TRUE(ovl_tpl_rowfilter_ops(&f).keep == NULL);
    EXPECT_OK(ovl_tpl_rowfilter_init(&f, t, 1 - p, params, 1));
    EXPECT_EQ(f.n, 1);
    ovl_template_free(t);
    unlink(path);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    if (!tmpdir_make("test_rowfilter"))
        return 1;
    RUN(filters_one_party);
    rmdir(tmpdir);
    return ovl_t_summary("test_rowfilter");
}
