/* An owner's rows for conditions across parties from its table as the
 * session loads it (session/pair_rows.h): the plan's value columns and
 * groups by io/load, the condition and ordering columns by io/textcols, the
 * rows whose condition cell is NULL dropped, the cap by the ordering column,
 * the plan words per row, errors naming the file, line and column, and the
 * widths (max_rows_per_identifier, value_bits) applied to the rows the cap
 * keeps, not to the rows it drops. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "session/agg2_prep.h"
#include "session/pair_rows.h"
#include "test.h"
#include "tmpdir.h"

/* The retailer (runner): purchases with SUM(amount), COUNT(items). */
static void plan_make(ovl_agg2_plan *pl)
{
    memset(pl, 0, sizeof *pl);
    pl->cols[0] = (ovl_agg2_col){.side = 0, .decimals = 2, .name = "amount"};
    pl->cols[1] = (ovl_agg2_col){.side = 0, .decimals = 0, .name = "items"};
    pl->cols[2] = (ovl_agg2_col){.side = 1, .decimals = 0, .name = "spend"};
    pl->ncols = 3;
    pl->outputs[0] = (ovl_agg2_output){.name = "users", .ntok = 1,
                                       .tok = {{.op = OVL_AGG2_OP_COUNT_DISTINCT}}};
    pl->outputs[1] = (ovl_agg2_output){.name = "revenue", .ntok = 1,
                                       .tok = {{.op = OVL_AGG2_OP_SUM, .arg = 0}}};
    pl->outputs[2] = (ovl_agg2_output){.name = "items", .ntok = 1,
                                       .tok = {{.op = OVL_AGG2_OP_COUNT, .arg = 1}}};
    pl->noutputs = 3;
    ovl_pc_plan *c = &pl->pairs;
    c->nconds = 1;
    c->conds[0] = (ovl_pc_plan_cond){.op = OVL_PC_BETWEEN, .type = OVL_PC_TYPE_DATE,
                                     .width = 17, .lo = 0, .hi = 30};
    strcpy(c->conds[0].r_col, "day");
    strcpy(c->conds[0].c_col, "seen");
    c->cap_rows = 2;
    strcpy(c->r_order, "day");
}

static ovl_err load(ovl_table_input *in, ovl_text_table *text, ovl_agg2_prep *prep,
                    const ovl_agg2_plan *pl, const char *path)
{
    ovl_err rc;
    const char *cols[OVL_PAIR_TEXT_COLS];
    size_t n = ovl_pair_text_cols(cols, pl, 0);
    ovl_load_spec want = {.join = "email", .norm = OVL_NORM_NONE};
    if ((rc = ovl_agg2_prep_columns(prep, pl, 0)) != OVL_OK)
        return rc;
    ovl_agg2_prep_load_spec(prep, &want);
    if ((rc = ovl_table_load(in, path, &want)) != OVL_OK)
        return rc;
    return ovl_text_table_load(text, path, NULL, cols, n);
}

static void test_rows(void)
{
    const char *path = write_file("p.csv", "email,day,amount,items\n"
                                           "a@x,2026-07-03,10.50,1\n"
                                           "a@x,2026-07-01,,2\n"
                                           "b@x,,7,3\n"
                                           "a@x,2026-07-02,1.25,\n"
                                           "c@x,2026-07-09,3,4\n");
    ovl_agg2_plan pl;
    plan_make(&pl);
    ovl_table_input in;
    ovl_text_table text;
    ovl_agg2_prep prep;
    ovl_pc_owner_rows o;
    EXPECT_OK(load(&in, &text, &prep, &pl, path));
    const char *cols[OVL_PAIR_TEXT_COLS];
    EXPECT_EQ(ovl_pair_text_cols(cols, &pl, 0), 2); /* day (condition), day (order) */
    EXPECT_EQ(ovl_pair_text_cols(cols, &pl, 1), 1); /* seen: input order */
    EXPECT_OK(ovl_pair_rows_build(&o, NULL, &pl, 0, &in, &text, in.groups.row_group, 40));
    EXPECT_EQ(o.dropped, 1);  /* b@x: no day */
    EXPECT_EQ(o.capped, 1);   /* a@x: three rows, two kept (07-01, 07-02) */
    EXPECT_EQ(o.v.nids, in.ids.nids);
    size_t a = ovl_idtable_find(&in.ids, in.ids.row_ids[0]);
    EXPECT_EQ(o.first[a + 1] - o.first[a], 2);
    /* words: [amount not NULL], amount, [items not NULL], in input order */
    const uint64_t *w = o.words + (size_t)o.first[a] * 3;
    static const uint64_t want[6] = {0, 0, 1,  /* 07-01: amount NULL */
                                     1, 125, 0}; /* 07-02: items NULL */
    EXPECT_BYTES_EQ(w, want, sizeof want);
    uint32_t d;
    EXPECT_OK(ovl_pc_day_parse(&d, "2026-07-01", 10));
    EXPECT_EQ(o.row[o.first[a]].word[0][0], d);
    ovl_pc_owner_rows_free(&o);
    ovl_text_table_free(&text);
    ovl_table_input_free(&in);
    ovl_agg2_prep_free(&prep);
    /* a bad date: file, line and column */
    path = write_file("p.csv", "email,day,amount,items\na@x,2026-07-03,1,1\nb@x,07/04/2026,1,1\n");
    EXPECT_OK(load(&in, &text, &prep, &pl, path));
    EXPECT_ERR(OVL_ERR_INPUT,
               ovl_pair_rows_build(&o, NULL, &pl, 0, &in, &text, in.groups.row_group, 40));
    EXPECT_TRUE(strstr(ovl_err_detail(), "p.csv:3: column day") != NULL);
    ovl_text_table_free(&text);
    ovl_table_input_free(&in);
    ovl_agg2_prep_free(&prep);
    unlink(tmp_path("p.csv"));
}

/* Five rows of a@x (one of them without a day), two of b@x; one group. */
static const char five_rows[] = "email,day,amount,items\n"
                                "a@x,2026-07-05,1,1\n"
                                "a@x,2026-07-01,2,1\n"
                                "a@x,,100,1\n"
                                "a@x,2026-07-04,4,1\n"
                                "b@x,2026-07-09,8,1\n"
                                "a@x,2026-07-02,16,1\n"
                                "b@x,2026-07-08,32,1\n";

/* The cap applied, then the widths over the rows it keeps; returns the
 * ident status. kept must hold the table's rows. */
static ovl_err capped_csv(ovl_agg2_prep *prep, ovl_pc_owner_rows *o, uint8_t *kept,
                          const ovl_agg2_plan *pl, uint32_t count_bits, uint32_t value_bits,
                          const char *csv)
{
    ovl_table_input in;
    ovl_text_table text;
    ovl_err rc = load(&in, &text, prep, pl, write_file("p.csv", csv));
    if (rc == OVL_OK)
        rc = ovl_agg2_prep_groups(prep, &in, "p.csv");
    if (rc == OVL_OK)
        rc = ovl_pair_rows_build(o, kept, pl, 0, &in, &text, prep->row_group, value_bits);
    if (rc == OVL_OK)
        rc = ovl_agg2_prep_ident(prep, &in, kept, count_bits, value_bits, 1000, "p.csv");
    ovl_text_table_free(&text);
    ovl_table_input_free(&in);
    return rc;
}

static ovl_err capped_ident(ovl_agg2_prep *prep, ovl_pc_owner_rows *o, uint8_t *kept,
                            const ovl_agg2_plan *pl, uint32_t count_bits, uint32_t value_bits)
{
    return capped_csv(prep, o, kept, pl, count_bits, value_bits, five_rows);
}

static void test_widths_after_cap(void)
{
    ovl_agg2_plan pl;
    plan_make(&pl);
    ovl_table_input in;
    ovl_text_table text;
    ovl_agg2_prep prep;
    ovl_pc_owner_rows o;
    uint8_t kept[8];
    /* without the cap, a@x's five rows exceed max_rows_per_identifier = 3 */
    EXPECT_OK(load(&in, &text, &prep, &pl, write_file("p.csv", five_rows)));
    EXPECT_ERR(OVL_ERR_INPUT, ovl_agg2_prep_build(&prep, &in, 2, 40, 1000, "p.csv"));
    EXPECT_TRUE(strstr(ovl_err_detail(), "p.csv: ") == ovl_err_detail() &&
                strstr(ovl_err_detail(), "max_rows_per_identifier = 3") != NULL &&
                strstr(ovl_err_detail(), "a@x") == NULL);
    ovl_text_table_free(&text);
    ovl_table_input_free(&in);
    ovl_agg2_prep_free(&prep);
    /* cap 2 by day: a@x keeps 07-01 and 07-02, b@x both; the NULL day is out */
    EXPECT_OK(capped_ident(&prep, &o, kept, &pl, 2, 40));
    static const uint8_t want_kept[7] = {0, 1, 0, 0, 1, 1, 1};
    EXPECT_BYTES_EQ(kept, want_kept, sizeof want_kept);
    EXPECT_EQ(o.capped, 1);
    EXPECT_EQ(prep.ident.entries, 2);
    for (uint32_t e = 0; e < prep.ident.entries && e < 2; e++) {
        EXPECT_EQ(prep.ident.count[e], 2);
        /* (non-NULL count, sum) of amount: 2 + 16 or 8 + 32, in cents */
        int64_t sum = prep.ident.words[e * 4 + 1];
        EXPECT_TRUE(sum == 1800 || sum == 4000);
    }
    ovl_pc_owner_rows_free(&o);
    ovl_agg2_prep_free(&prep);
    /* value_bits bind the kept rows too: b@x's 40.00 (4000) fits 13 bits,
     * a@x's 123.00 over all its rows would not */
    EXPECT_OK(capped_ident(&prep, &o, kept, &pl, 2, 13));
    ovl_pc_owner_rows_free(&o);
    ovl_agg2_prep_free(&prep);
    EXPECT_ERR(OVL_ERR_INPUT, capped_ident(&prep, &o, kept, &pl, 2, 12));
    EXPECT_TRUE(strstr(ovl_err_detail(), "p.csv:8: column 'amount'") != NULL &&
                strstr(ovl_err_detail(), "value_bits") != NULL &&
                strstr(ovl_err_detail(), "32") == NULL);
    ovl_pc_owner_rows_free(&o);
    ovl_agg2_prep_free(&prep);
    /* rows are encoded one by one: a kept row over the width is refused even
     * when its identifier's sum (45.00 - 44.00) fits; dropped by the cap
     * (the latest day of three, cap 2), it is not */
    static const char mixed[] = "email,day,amount,items\n"
                                "a@x,2026-07-01,45,1\n"
                                "a@x,2026-07-02,-44,1\n"
                                "a@x,2026-07-03,1,1\n";
    EXPECT_ERR(OVL_ERR_INPUT, capped_csv(&prep, &o, kept, &pl, 2, 13, mixed));
    EXPECT_TRUE(strstr(ovl_err_detail(), "p.csv:2: column 'amount'") != NULL);
    ovl_pc_owner_rows_free(&o);
    ovl_agg2_prep_free(&prep);
    static const char mixed_late[] = "email,day,amount,items\n"
                                     "a@x,2026-07-09,45,1\n"
                                     "a@x,2026-07-02,-40,1\n"
                                     "a@x,2026-07-03,1,1\n";
    EXPECT_OK(capped_csv(&prep, &o, kept, &pl, 2, 13, mixed_late));
    EXPECT_EQ(o.capped, 1);
    ovl_pc_owner_rows_free(&o);
    ovl_agg2_prep_free(&prep);
    /* cap 4: a@x still keeps four rows, over max_rows_per_identifier = 3 */
    pl.pairs.cap_rows = 4;
    EXPECT_ERR(OVL_ERR_INPUT, capped_ident(&prep, &o, kept, &pl, 2, 40));
    EXPECT_TRUE(strstr(ovl_err_detail(), "p.csv: ") == ovl_err_detail() &&
                strstr(ovl_err_detail(), "4 or more rows") != NULL &&
                strstr(ovl_err_detail(), "max_rows_per_identifier = 3") != NULL &&
                strstr(ovl_err_detail(), "a@x") == NULL);
    ovl_pc_owner_rows_free(&o);
    ovl_agg2_prep_free(&prep);
    /* with max_rows_per_identifier = 7 (3 bits) the four kept rows fit */
    EXPECT_OK(capped_ident(&prep, &o, kept, &pl, 3, 40));
    EXPECT_EQ(o.capped, 0);
    ovl_pc_owner_rows_free(&o);
    ovl_agg2_prep_free(&prep);
    unlink(tmp_path("p.csv"));
}

/* The cell totals bounded from the owner's own rows before contact: each
 * kept row is in at most cap pairs, so sum |value| * cap must fit int64. At
 * cap 8 and values just under 2^47 (value_bits 48) that is 8192 rows; one
 * more is refused, naming the column and the cap, never a value. */
static ovl_err pairs_only(ovl_pc_owner_rows *o, uint8_t *kept, const ovl_agg2_plan *pl,
                          const char *path)
{
    ovl_table_input in;
    ovl_text_table text;
    ovl_agg2_prep prep;
    ovl_err rc = load(&in, &text, &prep, pl, path);
    if (rc == OVL_OK)
        rc = ovl_agg2_prep_groups(&prep, &in, "p.csv");
    if (rc == OVL_OK)
        rc = ovl_pair_rows_build(o, kept, pl, 0, &in, &text, prep.row_group, 48);
    ovl_text_table_free(&text);
    ovl_table_input_free(&in);
    ovl_agg2_prep_free(&prep);
    return rc;
}

static void test_cell_totals(void)
{
    ovl_agg2_plan pl;
    plan_make(&pl);
    pl.pairs.cap_rows = 8;
    enum { ROWS = 8193 };
    static uint8_t kept[ROWS];
    ovl_pc_owner_rows o;
    const char *path = tmp_path("big.csv");
    for (int extra = 0; extra < 2; extra++) {
        FILE *f = fopen(path, "w");
        EXPECT_TRUE(f != NULL);
        if (f == NULL)
            return;
        fputs("email,day,amount,items\n", f);
        for (int r = 0; r < 8192 + extra; r++)
            fprintf(f, "u%d@x,2026-07-%02d,1407374883553.27,1\n", r / 8, 1 + r % 8);
        fclose(f);
        memset(&o, 0, sizeof o);
        ovl_err rc = pairs_only(&o, kept, &pl, path);
        if (extra == 0) {
            EXPECT_OK(rc);
        } else {
            EXPECT_EQ(rc, OVL_ERR_INPUT);
            EXPECT_TRUE(strstr(ovl_err_detail(), "column 'amount': its values, each summed in up "
                                                 "to 8 pairs (-- cap rows 8), could leave the "
                                                 "signed 64-bit range") != NULL);
            EXPECT_TRUE(strstr(ovl_err_detail(), "1407374883553") == NULL);
        }
        ovl_pc_owner_rows_free(&o);
    }
    unlink(path);
}

int main(void)
{
    if (!tmpdir_make("pair_rows"))
        return 1;
    RUN(test_rows);
    RUN(test_widths_after_cap);
    RUN(test_cell_totals);
    rmdir(tmpdir);
    return ovl_t_summary("test_pair_rows");
}
