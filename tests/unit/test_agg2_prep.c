/* An owner's v2 preparation (session/agg2_prep.h): the plan's columns of one
 * side, groups from dimension tuples with DATE_TRUNC, labels (§5.2) sorted
 * by bytes, overlapping groups, NULLs, and the ident table's counts. */
#include <stdlib.h>
#include <unistd.h>

#include <sodium.h>

#include "session/agg2_prep.h"
#include "test.h"
#include "tmpdir.h"

static void plan_two_sides(ovl_agg2_plan *p)
{
    memset(p, 0, sizeof *p);
    p->ndims = 3;
    p->dims[0] = (ovl_agg2_dim){.side = OVL_AGG2_SIDE_R, .name = "campaign"};
    p->dims[1] = (ovl_agg2_dim){.side = OVL_AGG2_SIDE_C, .name = "category"};
    p->dims[2] = (ovl_agg2_dim){.side = OVL_AGG2_SIDE_R, .trunc = OVL_AGG2_TRUNC_WEEK,
                                .name = "day"};
    p->ncols = 2;
    p->cols[0] = (ovl_agg2_col){.side = OVL_AGG2_SIDE_C, .decimals = 2, .name = "amount"};
    p->cols[1] = (ovl_agg2_col){.side = OVL_AGG2_SIDE_R, .decimals = 2, .name = "spend"};
    p->noutputs = 1;
    p->outputs[0] = (ovl_agg2_output){.name = "s", .ntok = 1,
                                      .tok = {{.op = OVL_AGG2_OP_SUM, .arg = 1}}};
}

static void runner_side(void)
{
    /* a@ is in two campaigns (overlapping groups); "B" sorts before "AA" by
     * label bytes (length first); 2026-07-01 and -05 share a week. */
    const char *path = write_file("r.csv", "email,campaign,day,spend\n"
                                           "a@x.org,AA,2026-07-01,1.50\n"
                                           "a@x.org,B,2026-07-05,\n"
                                           "b@x.org,AA,2026-07-05,-2\n"
                                           "a@x.org,AA,2026-07-02,0.25\n");
    ovl_agg2_plan plan;
    plan_two_sides(&plan);
    ovl_agg2_prep p;
    EXPECT_OK(ovl_agg2_prep_columns(&p, &plan, OVL_AGG2_SIDE_R));
    EXPECT_EQ(p.ndims, 2);
    EXPECT_EQ(p.ncols, 1);
    ovl_load_spec want = {.join = "email", .norm = OVL_NORM_EMAIL};
    ovl_agg2_prep_load_spec(&p, &want);
    ovl_table_input in;
    EXPECT_OK(ovl_table_load(&in, path, &want));
    EXPECT_OK(ovl_agg2_prep_build(&p, &in, 3, 40, 1000, "r.csv"));
    EXPECT_EQ(p.ngroups, 2);
    if (p.ngroups == 2) {
        static const uint8_t g0[] = {0, 1, 'B', 0, 10, '2', '0', '2', '6', '-', '0', '6', '-',
                                     '2', '9'};
        static const uint8_t g1[] = {0, 2, 'A', 'A', 0, 10, '2', '0', '2', '6', '-', '0', '6',
                                     '-', '2', '9'};
        EXPECT_EQ(p.label_len[0], sizeof g0);
        EXPECT_EQ(p.label_len[1], sizeof g1);
        EXPECT_BYTES_EQ(p.labels[0], g0, sizeof g0);
        EXPECT_BYTES_EQ(p.labels[1], g1, sizeof g1);
    }
    /* Entries: a@ in both groups, b@ in group 1 (ids sorted by hash). */
    EXPECT_EQ(p.ident.entries, 3);
    size_t a = in.ids.row_ids[0][0] == in.ids.ids[0][0] ? 0 : 1;
    if (p.ident.entries == 3) {
        uint32_t e = p.ident.first[a];
        EXPECT_EQ(p.ident.first[a + 1] - e, 2);
        EXPECT_EQ(p.ident.group[e], 0);
        EXPECT_EQ(p.ident.count[e], 1);
        EXPECT_EQ(p.ident.words[2 * e], 0); /* the NULL spend */
        EXPECT_EQ(p.ident.group[e + 1], 1);
        EXPECT_EQ(p.ident.count[e + 1], 2);
        EXPECT_EQ(p.ident.words[2 * (e + 1)], 2);
        EXPECT_EQ(p.ident.words[2 * (e + 1) + 1], 175);
    }
    ovl_table_input_free(&in);
    ovl_agg2_prep_free(&p);
}

static void refusals(void)
{
    ovl_agg2_plan plan;
    plan_two_sides(&plan);
    ovl_agg2_prep p;
    ovl_table_input in;
    /* Three rows of one identifier in one group exceed count width 1. */
    const char *path = write_file("c.csv", "email,category,amount\n"
                                           "a@x.org,toys,1\na@x.org,toys,2\na@x.org,toys,3\n"
                                           "b@x.org,food,1\n");
    EXPECT_OK(ovl_agg2_prep_columns(&p, &plan, OVL_AGG2_SIDE_C));
    ovl_load_spec want = {.join = "email", .norm = OVL_NORM_EMAIL};
    ovl_agg2_prep_load_spec(&p, &want);
    EXPECT_OK(ovl_table_load(&in, path, &want));
    EXPECT_ERR(OVL_ERR_INPUT, ovl_agg2_prep_build(&p, &in, 1, 40, 1000, "c.csv"));
    EXPECT_TRUE(strstr(ovl_err_detail(), "c.csv") != NULL &&
                strstr(ovl_err_detail(), "a@x.org") == NULL);
    ovl_agg2_prep_free(&p);
    /* Two groups where the policy allows one cell. */
    EXPECT_OK(ovl_agg2_prep_columns(&p, &plan, OVL_AGG2_SIDE_C));
    EXPECT_ERR(OVL_ERR_POLICY, ovl_agg2_prep_build(&p, &in, 3, 40, 1, "c.csv"));
    ovl_agg2_prep_free(&p);
    ovl_table_input_free(&in);
    /* A label longer than 254 bytes. */
    char text[600];
    char big[300];
    memset(big, 'x', 299);
    big[299] = 0;
    snprintf(text, sizeof text, "email,category,amount\na@x.org,%s,1\n", big);
    path = write_file("l.csv", text);
    EXPECT_OK(ovl_agg2_prep_columns(&p, &plan, OVL_AGG2_SIDE_C));
    ovl_agg2_prep_load_spec(&p, &want);
    EXPECT_OK(ovl_table_load(&in, path, &want));
    EXPECT_ERR(OVL_ERR_INPUT, ovl_agg2_prep_build(&p, &in, 3, 40, 1000, "l.csv"));
    EXPECT_TRUE(strstr(ovl_err_detail(), "category") != NULL);
    ovl_agg2_prep_free(&p);
    ovl_table_input_free(&in);
}

/* No row survives: one empty group, G = 1. */
static void empty(void)
{
    ovl_agg2_plan plan;
    plan_two_sides(&plan);
    ovl_agg2_prep p;
    ovl_table_input in;
    const char *path = write_file("e.csv", "email,category,amount\n,toys,1\n");
    EXPECT_OK(ovl_agg2_prep_columns(&p, &plan, OVL_AGG2_SIDE_C));
    ovl_load_spec want = {.join = "email", .norm = OVL_NORM_EMAIL};
    ovl_agg2_prep_load_spec(&p, &want);
    EXPECT_OK(ovl_table_load(&in, path, &want));
    EXPECT_OK(ovl_agg2_prep_build(&p, &in, 3, 40, 1000, "e.csv"));
    EXPECT_EQ(p.ngroups, 1);
    EXPECT_EQ(p.ident.entries, 0);
    ovl_agg2_prep_free(&p);
    ovl_table_input_free(&in);
}

int main(void)
{
    if (sodium_init() < 0 || !tmpdir_make("test_agg2_prep"))
        return 1;
    RUN(runner_side);
    RUN(refusals);
    RUN(empty);
    static const char *const names[] = {"r.csv", "c.csv", "l.csv", "e.csv"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        unlink(tmp_path(names[i]));
    rmdir(tmpdir);
    return ovl_t_summary("test_agg2_prep");
}
