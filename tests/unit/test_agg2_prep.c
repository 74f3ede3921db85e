/* An owner's v2 preparation (session/agg2_prep.h): the plan's columns of one
 * side, groups from dimension tuples with DATE_TRUNC, labels (§5.2) sorted
 * by bytes, overlapping groups, NULLs, the ident table's counts, and the
 * engine's checks on the owner's own data run before any peer (§5.1). */
#include <stdlib.h>
#include <unistd.h>

#include <sodium.h>

#include "aggregate/agg2.h"
#include "cpsi/cpsi.h"
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

/* plan_two_sides, with SUM(c.amount) among its outputs as well. */
static void plan_both_summed(ovl_agg2_plan *p)
{
    plan_two_sides(p);
    p->noutputs = 2;
    p->outputs[1] = (ovl_agg2_output){.name = "a", .ntok = 1,
                                      .tok = {{.op = OVL_AGG2_OP_SUM, .arg = 0}}};
}

/* Loads `text` as c.csv for the contributor's side of plan and builds it. */
static void build_c(ovl_agg2_prep *p, ovl_table_input *in, const ovl_agg2_plan *plan,
                    const char *text, uint32_t count_bits, uint32_t value_bits)
{
    const char *path = write_file("c.csv", text);
    ovl_load_spec want = {.join = "email", .norm = OVL_NORM_EMAIL};
    EXPECT_OK(ovl_agg2_prep_columns(p, plan, OVL_AGG2_SIDE_C));
    ovl_agg2_prep_load_spec(p, &want);
    EXPECT_OK(ovl_table_load(in, path, &want));
    EXPECT_OK(ovl_agg2_prep_build(p, in, count_bits, value_bits, 4000, "c.csv"));
}

/* SPEC §5.1: the engine's checks on the owner's data alone run in the
 * preparation, before any peer: totals that a peer's widest count (2^16 - 1
 * rows) could carry past 2^63, named by table and column, never by value. */
static void totals_before_contact(void)
{
    ovl_agg2_plan plan;
    plan_both_summed(&plan);
    ovl_agg2_prep p;
    ovl_table_input in;
    /* 2 x 10^14 units: within 48-bit values, times 65535 over 2^63 */
    build_c(&p, &in, &plan, "email,category,amount\n"
                            "a@x.org,toys,1000000000000.00\nb@x.org,toys,1000000000000.00\n",
            3, 48);
    EXPECT_ERR(OVL_ERR_INPUT, ovl_agg2_prep_check(&p, &plan, false, "c.csv"));
    const char *d = ovl_err_detail();
    OVL_T_RECORD(strncmp(d, "c.csv: ", 7) == 0 && strstr(d, "column 'amount'") != NULL &&
                     strstr(d, "column 0") == NULL && strstr(d, "1000000") == NULL,
                 "the refusal names the table and the column: %s", d);
    /* the engine refuses the same data when created (its second line) */
    EXPECT_ERR(OVL_ERR_INPUT, ovl_agg2_check_own(&plan, false, &p.ident));
    ovl_agg2_prep_free(&p);
    ovl_table_input_free(&in);
    /* half as much fits */
    build_c(&p, &in, &plan, "email,category,amount\na@x.org,toys,1000000000000.00\n", 3, 48);
    EXPECT_OK(ovl_agg2_prep_check(&p, &plan, false, "c.csv"));
    /* the runner's side holds no contributor column: nothing to refuse */
    ovl_agg2_prep_free(&p);
    ovl_table_input_free(&in);
}

/* The contributor's circuit-PSI entry depends on its own groups and the
 * plan alone: refused before contact, naming the table. */
static void entry_before_contact(void)
{
    ovl_agg2_plan plan;
    plan_both_summed(&plan);
    ovl_agg2_prep p;
    ovl_table_input in;
    char *text = malloc(200000);
    size_t at = (size_t)sprintf(text, "email,category,amount\n");
    /* the runner receives: 90 groups x (2 words + a flag) > 256 payload words */
    for (int g = 0; g < 90; g++)
        at += (size_t)sprintf(text + at, "a@x.org,c%02d,1\n", g);
    build_c(&p, &in, &plan, text, 3, 40);
    EXPECT_ERR(OVL_ERR_INPUT, ovl_agg2_prep_check(&p, &plan, false, "c.csv"));
    EXPECT_TRUE(strncmp(ovl_err_detail(), "c.csv: ", 7) == 0 &&
                strstr(ovl_err_detail(), "90 groups") != NULL);
    ovl_agg2_prep_free(&p);
    ovl_table_input_free(&in);
    /* 80 groups fit */
    at = (size_t)sprintf(text, "email,category,amount\n");
    for (int g = 0; g < 80; g++)
        at += (size_t)sprintf(text + at, "a@x.org,c%02d,1\n", g);
    build_c(&p, &in, &plan, text, 3, 40);
    EXPECT_OK(ovl_agg2_prep_check(&p, &plan, false, "c.csv"));
    ovl_agg2_prep_free(&p);
    ovl_table_input_free(&in);
    /* the contributor receives, without value columns: no payload words,
     * but 2100 groups of 16-bit counts fill 526 store words (over 512) */
    plan.ncols = 1;
    plan.cols[0] = plan.cols[1];
    plan.receiver = 1;
    at = (size_t)sprintf(text, "email,category\n");
    for (int g = 0; g < 2100; g++)
        at += (size_t)sprintf(text + at, "a@x.org,c%04d\n", g);
    build_c(&p, &in, &plan, text, 16, 40);
    EXPECT_ERR(OVL_ERR_INPUT, ovl_agg2_prep_check(&p, &plan, false, "c.csv"));
    EXPECT_TRUE(strstr(ovl_err_detail(), "store") != NULL);
    ovl_agg2_prep_free(&p);
    ovl_table_input_free(&in);
    free(text);
}

/* Circuit PSI's identifier cap, on the owner's count alone (either side). */
static void set_cap_before_contact(void)
{
    ovl_agg2_plan plan;
    plan_two_sides(&plan);
    ovl_agg2_prep p;
    memset(&p, 0, sizeof p);
    p.ident.shape = (ovl_agg_ident_shape){.nids = OVL_CPSI_MAX_SET + 1, .groups = 1, .cols = 1,
                                          .count_bits = 3, .value_bits = 40, .max_cells = 1000};
    EXPECT_ERR(OVL_ERR_INPUT, ovl_agg2_prep_check(&p, &plan, true, "r.csv"));
    EXPECT_TRUE(strstr(ovl_err_detail(), "r.csv: ") != NULL &&
                strstr(ovl_err_detail(), "circuit PSI's cap") != NULL);
    p.ident.shape.nids = OVL_CPSI_MAX_SET;
    EXPECT_OK(ovl_agg2_prep_check(&p, &plan, true, "r.csv"));
    /* a table of another plan's columns is the caller's mistake */
    p.ident.shape.cols = 2;
    EXPECT_ERR(OVL_ERR_USAGE, ovl_agg2_prep_check(&p, &plan, true, "r.csv"));
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
    RUN(totals_before_contact);
    RUN(entry_before_contact);
    RUN(set_cap_before_contact);
    static const char *const names[] = {"r.csv", "c.csv", "l.csv", "e.csv"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        unlink(tmp_path(names[i]));
    rmdir(tmpdir);
    return ovl_t_summary("test_agg2_prep");
}
