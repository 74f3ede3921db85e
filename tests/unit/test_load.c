/* The one pass over a table (io/load.h): identifiers, filters, values with
 * their decimals, groups and text columns together (the text of each row
 * that row's, even from a query whose order changes from one read to the
 * next); errors in the order a reader meets them; the matched-rows writer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "io/load.h"
#include "test.h"
#include "tmpdir.h"

/* Keeps rows whose column "keep" is "y"; "boom" is an error. */
typedef struct {
    size_t col;
    size_t calls;
} yes_filter;

static ovl_err yes_bind(void *arg, const ovl_source *src)
{
    return ovl_source_col(src, "keep", &((yes_filter *)arg)->col);
}

static ovl_err yes_keep(void *arg, const ovl_source *src, bool *keep)
{
    yes_filter *f = arg;
    ovl_cell c;
    f->calls++;
    ovl_source_cell(src, f->col, &c);
    if (c.len == 4 && memcmp(c.text, "boom", 4) == 0)
        return ovl_err_set(OVL_ERR_POLICY, "filter refused");
    *keep = c.len == 1 && c.text[0] == 'y';
    return OVL_OK;
}

static void one_pass(void)
{
    const char *p = write_file("t.csv", "email,keep,amount,camp\n"
                                       "a@x.org,y,1.5,c1\n"
                                       "b@x.org,n,0.125,c1\n"
                                       "c@x.org,y,2.25,c2\n"
                                       ",y,junk,c2\n"
                                       "a@x.org,y,3,c1\n");
    yes_filter yf = {0};
    ovl_value_col vc[1] = {{"amount", OVL_DECIMALS_AUTO}};
    char *groups[1] = {"camp"};
    ovl_load_spec want = {.join = "email", .norm = OVL_NORM_EMAIL,
                          .filter = {yes_bind, yes_keep, &yf},
                          .values = vc, .nvalues = 1, .group_by = groups, .ngroup_by = 1,
                          .groups = true};
    ovl_table_input in;
    EXPECT_OK(ovl_table_load(&in, p, &want));
    EXPECT_EQ(yf.calls, 5);
    EXPECT_EQ(in.ids.nrows, 5);
    EXPECT_EQ(in.ids.filtered, 1);
    EXPECT_EQ(in.ids.skipped, 1);
    EXPECT_EQ(in.ids.nids, 2);
    /* The filtered row's 0.125 still sets the column's places: 3. */
    EXPECT_EQ(vc[0].decimals, 3);
    EXPECT_EQ(in.values.cells[0], 1500);
    EXPECT_EQ(in.values.cells[1], 0);
    EXPECT_EQ(in.values.cells[2], 2250);
    EXPECT_EQ(in.values.cells[4], 3000);
    EXPECT_EQ(in.groups.ngroups, 2);
    EXPECT_EQ(in.groups.row_group[0], 0);
    EXPECT_EQ(in.groups.row_group[1], UINT32_MAX);
    EXPECT_EQ(in.groups.row_group[2], 1);
    EXPECT_EQ(in.groups.row_group[3], UINT32_MAX);
    int64_t *vec = NULL;
    EXPECT_OK(ovl_value_vectors(&vec, &in.values, vc, &in.ids));
    size_t a = SIZE_MAX;
    for (size_t i = 0; i < in.ids.nids; i++)
        if (memcmp(in.ids.ids[i], in.ids.row_ids[0], OVL_ID_LEN) == 0)
            a = i;
    EXPECT_TRUE(a != SIZE_MAX);
    if (vec != NULL && a != SIZE_MAX) {
        EXPECT_EQ(vec[a * 2], 2);        /* two rows of a@x.org */
        EXPECT_EQ(vec[a * 2 + 1], 4500); /* 1.5 + 3 */
    }
    free(vec);
    ovl_table_input_free(&in);

    /* Negative: the filter's column must exist, and its errors stop the pass. */
    p = write_file("nokeep.csv", "email,amount\na@x.org,1\n");
    EXPECT_ERR(OVL_ERR_INPUT, ovl_table_load(&in, p, &want));
    EXPECT_TRUE(strstr(ovl_err_detail(), "no column \"keep\"") != NULL);
    p = write_file("boom.csv", "email,keep,amount,camp\na@x.org,boom,1,c\n");
    EXPECT_ERR(OVL_ERR_POLICY, ovl_table_load(&in, p, &want));
    EXPECT_EQ(in.ids.nrows, 0); /* nothing is left behind on failure */
}

static void open_errors(void)
{
    ovl_table_input in;
    char missing[200];
    ovl_load_spec want = {.join = "email"};
    const char *p = write_file("ok.csv", "email\na@x.org\n");
    EXPECT_OK(ovl_table_load(&in, p, &want));
    EXPECT_EQ(in.ids.nids, 1);
    ovl_table_input_free(&in);
    want.join = "mail";
    EXPECT_ERR(OVL_ERR_INPUT, ovl_table_load(&in, p, &want));
    want.join = NULL;
    EXPECT_ERR(OVL_ERR_USAGE, ovl_table_load(&in, p, &want));
    want.join = "email";
    want.query = "SELECT email FROM t";
    EXPECT_ERR(OVL_ERR_USAGE, ovl_table_load(&in, p, &want));
    want.query = NULL;
    want.nvalues = OVL_VALUE_COLS_MAX + 1;
    EXPECT_ERR(OVL_ERR_USAGE, ovl_table_load(&in, p, &want));
    want.nvalues = 0;
    snprintf(missing, sizeof missing, "%s", tmp_path("missing.csv"));
    EXPECT_ERR(OVL_ERR_IO, ovl_table_load(&in, missing, &want));
}

/* A bad number is reported after the whole table's structure checked out,
 * and the first failure in table order wins. */
static void error_order(void)
{
    ovl_table_input in;
    ovl_value_col fixed[1] = {{"v", 0}};
    ovl_value_col autod[1] = {{"v", OVL_DECIMALS_AUTO}};
    ovl_load_spec want = {.join = "id", .values = fixed, .nvalues = 1};
    const char *p = write_file("order.csv", "id,v\na,x\nb,1\nc,2,3\n");
    EXPECT_ERR(OVL_ERR_INPUT, ovl_table_load(&in, p, &want));
    EXPECT_TRUE(strstr(ovl_err_detail(), ":4: 3 fields, header has 2") != NULL);
    p = write_file("order.csv", "id,v\na,1\nb,x\nc,y\n");
    EXPECT_ERR(OVL_ERR_INPUT, ovl_table_load(&in, p, &want));
    EXPECT_TRUE(strstr(ovl_err_detail(), "order.csv:3: column 'v': not a number") != NULL);
    /* More places than the analysis gives the column: the error says how to declare them,
     * and shows no cell. */
    p = write_file("order.csv", "id,v\na,1.00\nb,2.57\n");
    EXPECT_ERR(OVL_ERR_INPUT, ovl_table_load(&in, p, &want));
    EXPECT_TRUE(strstr(ovl_err_detail(), "order.csv:3: column 'v': more than 0 decimal places "
                                         "(declare its scale: '-- decimals alias.v N' in a "
                                         "template, --values v:N on the command line)") != NULL);
    EXPECT_TRUE(strstr(ovl_err_detail(), "2.57") == NULL);

    /* Fits at its own places, not at the column's: out of range, at its line. */
    want.values = autod;
    p = write_file("order.csv", "id,v\na,9223372036854775807\nb,0.5\nc,x\n");
    EXPECT_ERR(OVL_ERR_INPUT, ovl_table_load(&in, p, &want));
    EXPECT_TRUE(strstr(ovl_err_detail(), "order.csv:2: column 'v': number out of range") != NULL);
    EXPECT_EQ(autod[0].decimals, OVL_DECIMALS_AUTO); /* untouched on failure */
    p = write_file("order.csv", "id,v\na,x\nb,9223372036854775807\nc,0.5\n");
    EXPECT_ERR(OVL_ERR_INPUT, ovl_table_load(&in, p, &want));
    EXPECT_TRUE(strstr(ovl_err_detail(), "order.csv:2: column 'v': not a number") != NULL);
    /* Positive: the same scaling within range. */
    p = write_file("order.csv", "id,v\na,-922337203685477580\nb,0.5\n");
    EXPECT_OK(ovl_table_load(&in, p, &want));
    EXPECT_EQ(autod[0].decimals, 1);
    EXPECT_EQ(in.values.cells[0], -9223372036854775800);
    EXPECT_EQ(in.values.cells[1], 5);
    ovl_table_input_free(&in);
}

/* Text columns in the same pass: every data row (filtered, invalid or
 * kept), trimmed, with its line; each row's text is the row's own. */
static void text_columns(void)
{
    const char *p = write_file("tx.csv", "email,keep,day\n"
                                        "a@x.org,y, 2026-07-01\n"
                                        "b@x.org,n,2026-07-02\n"
                                        ",y,2026-07-03\n"
                                        "c@x.org,y,\n");
    yes_filter yf = {0};
    const char *cols[] = {"day", "email"};
    ovl_load_spec want = {.join = "email", .norm = OVL_NORM_EMAIL,
                          .filter = {yes_bind, yes_keep, &yf}, .text_cols = cols,
                          .ntext_cols = 2};
    ovl_table_input in;
    EXPECT_OK(ovl_table_load(&in, p, &want));
    EXPECT_EQ(in.text.nrows, 4);
    EXPECT_EQ(in.text.ncols, 2);
    EXPECT_STR_EQ(in.text.cell[0], "2026-07-01");
    EXPECT_STR_EQ(in.text.cell[1], "2026-07-02"); /* filtered: still read */
    EXPECT_EQ(in.text.len[3], 0);                 /* empty: NULL */
    EXPECT_STR_EQ(in.text.cell[4 + 3], "c@x.org");
    EXPECT_EQ(in.text.line[3], 5);
    EXPECT_TRUE(strstr(in.text.label, "tx.csv") != NULL);
    ovl_table_input_free(&in);
    /* Negative: a text column the table lacks, at bind, naming it. */
    const char *missing[] = {"seen"};
    want.text_cols = missing;
    want.ntext_cols = 1;
    EXPECT_ERR(OVL_ERR_INPUT, ovl_table_load(&in, p, &want));
    EXPECT_TRUE(strstr(ovl_err_detail(), "seen") != NULL);
    want.ntext_cols = OVL_TEXT_COLS_MAX + 1;
    EXPECT_ERR(OVL_ERR_USAGE, ovl_table_load(&in, p, &want));
}

/* An overlong text cell is a cell error: reported after the table's
 * structure checked out, the first in table order winning. */
static void text_error_order(void)
{
    char text[700];
    ovl_value_col vc[1] = {{"v", 0}};
    const char *cols[] = {"day"};
    ovl_load_spec want = {.join = "id", .values = vc, .nvalues = 1, .text_cols = cols,
                          .ntext_cols = 1};
    ovl_table_input in;
    char cell[OVL_TEXT_CELL_MAX + 2];
    memset(cell, '7', sizeof cell - 1);
    cell[sizeof cell - 1] = 0;
    snprintf(text, sizeof text, "id,v,day\na,1,%s\nb,2,x,y\n", cell);
    const char *p = write_file("tl.csv", text);
    EXPECT_ERR(OVL_ERR_INPUT, ovl_table_load(&in, p, &want));
    EXPECT_TRUE(strstr(ovl_err_detail(), "tl.csv:3: 4 fields, header has 3") != NULL);
    snprintf(text, sizeof text, "id,v,day\na,1,%s\nb,x,1\n", cell);
    p = write_file("tl.csv", text);
    EXPECT_ERR(OVL_ERR_INPUT, ovl_table_load(&in, p, &want));
    EXPECT_TRUE(strstr(ovl_err_detail(), "tl.csv:2: column day: a cell of over 255 bytes") != NULL);
    EXPECT_TRUE(strstr(ovl_err_detail(), "777") == NULL);
    snprintf(text, sizeof text, "id,v,day\na,x,1\nb,1,%s\n", cell);
    p = write_file("tl.csv", text);
    EXPECT_ERR(OVL_ERR_INPUT, ovl_table_load(&in, p, &want));
    EXPECT_TRUE(strstr(ovl_err_detail(), "tl.csv:2: column 'v': not a number") != NULL);
    /* Positive: 255 bytes fit. */
    cell[OVL_TEXT_CELL_MAX] = 0;
    snprintf(text, sizeof text, "id,v,day\na,1,%s\n", cell);
    p = write_file("tl.csv", text);
    EXPECT_OK(ovl_table_load(&in, p, &want));
    EXPECT_EQ(in.text.len[0], OVL_TEXT_CELL_MAX);
    ovl_table_input_free(&in);
}

/* A database query without a stable order (ORDER BY random()): two reads
 * return the same rows in different orders, which no row count can tell
 * apart; read in one pass, each row's text is still its own row's. */
static void text_unstable_order(void)
{
    enum { ROWS = 200 };
    char spec[200], sql[128];
    sqlite3 *db = NULL;
    snprintf(spec, sizeof spec, "sqlite:%s", tmp_path("shuffled.db"));
    bool ok = sqlite3_open(tmp_path("shuffled.db"), &db) == SQLITE_OK &&
              sqlite3_exec(db, "CREATE TABLE t (email TEXT, day TEXT)", NULL, NULL, NULL) ==
                  SQLITE_OK;
    for (int i = 0; ok && i < ROWS; i++) {
        snprintf(sql, sizeof sql, "INSERT INTO t VALUES ('u%d@x.org', '2026-%02d-%02d')", i,
                 1 + i % 12, 1 + i % 28);
        ok = sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK;
    }
    sqlite3_close(db);
    EXPECT_TRUE(ok);
    const char *cols[] = {"day", "email"};
    const char *query = "SELECT email, day FROM t ORDER BY random()";
    ovl_load_spec want = {.query = query, .join = "email", .norm = OVL_NORM_EMAIL,
                          .text_cols = cols, .ntext_cols = 2};
    ovl_table_input in;
    ovl_text_table again;
    EXPECT_OK(ovl_table_load(&in, spec, &want));
    EXPECT_OK(ovl_text_table_load(&again, spec, query, cols, 2));
    EXPECT_EQ(in.ids.nrows, ROWS);
    EXPECT_EQ(in.text.nrows, ROWS);
    size_t aligned = 0, again_aligned = 0;
    for (size_t r = 0; r < in.ids.nrows && r < again.nrows; r++) {
        uint8_t id[OVL_ID_LEN];
        int n = -1;
        char day[16];
        if (ovl_ident(id, OVL_NORM_EMAIL, false, in.text.cell[ROWS + r], in.text.len[ROWS + r]) !=
                OVL_OK ||
            sscanf(in.text.cell[ROWS + r], "u%d@", &n) != 1)
            continue;
        snprintf(day, sizeof day, "2026-%02d-%02d", 1 + n % 12, 1 + n % 28);
        aligned += memcmp(id, in.ids.row_ids[r], OVL_ID_LEN) == 0 &&
                   strcmp(in.text.cell[r], day) == 0;
        again_aligned += strcmp(again.cell[ROWS + r], in.text.cell[ROWS + r]) == 0;
    }
    EXPECT_EQ(aligned, ROWS);
    /* the hazard itself: a second read's rows are not the first's */
    OVL_T_RECORD(again_aligned < ROWS / 2, "a second read kept %zu of %d rows in place",
                 again_aligned, ROWS);
    ovl_text_table_free(&again);
    ovl_table_input_free(&in);
}

static bool file_is(const char *path, const char *want)
{
    char got[256] = {0};
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return false;
    size_t n = fread(got, 1, sizeof got - 1, f);
    fclose(f);
    return n == strlen(want) && memcmp(got, want, n) == 0;
}

static void write_matched(void)
{
    static const char text[] = "id,\"n,ote\"\r\nb,\"x\ny\"\na,1\nc, 2 \n";
    ovl_table_input in;
    ovl_load_spec want = {.join = "id", .rows_digest = true};
    char src[200], out_path[200];
    ovl_outfile *out = NULL;
    snprintf(src, sizeof src, "%s", write_file("rows.csv", text));
    snprintf(out_path, sizeof out_path, "%s/out.csv", tmpdir);
    EXPECT_OK(ovl_table_load(&in, src, &want));
    bool matched[3] = {0};
    matched[ovl_idtable_find(&in.ids, in.ids.row_ids[0]) % 3] = true; /* b */
    matched[ovl_idtable_find(&in.ids, in.ids.row_ids[2]) % 3] = true; /* c */
    EXPECT_OK(ovl_outfile_open(&out, out_path));
    EXPECT_OK(ovl_table_write_matched(out, src, NULL, &in.ids, matched));
    EXPECT_OK(ovl_outfile_commit(out));
    EXPECT_TRUE(file_is(out_path, "id,\"n,ote\"\nb,\"x\ny\"\nc, 2 \n"));
    /* Negative: the table lost a row between the passes. */
    write_file("rows.csv", "id,\"n,ote\"\nb,1\na,1\n");
    EXPECT_OK(ovl_outfile_open(&out, out_path));
    EXPECT_ERR(OVL_ERR_INPUT, ovl_table_write_matched(out, src, NULL, &in.ids, matched));
    EXPECT_TRUE(strstr(ovl_err_detail(), "rows.csv: changed between its two reads (rows in "
                                         "another order or edited); for a database query add "
                                         "ORDER BY") != NULL);
    ovl_outfile_abort(out);
    write_file("rows.csv", "id,\"n,ote\"\nb,1\na,1\nc,1\nd,1\n");
    EXPECT_OK(ovl_outfile_open(&out, out_path));
    EXPECT_ERR(OVL_ERR_INPUT, ovl_table_write_matched(out, src, NULL, &in.ids, matched));
    ovl_outfile_abort(out);
    /* Negative: as many rows, in another order, or with one join value
     * edited, or in another column (the digest of the join cells). */
    static const char *const changed[] = {"id,\"n,ote\"\na,1\nb,1\nc,1\n",
                                          "id,\"n,ote\"\nb,1\na,1\nd,1\n",
                                          "id,\"n,ote\"\nb,1\na,1\nc , 2\n",
                                          "\"n,ote\",id\nb,1\na,1\nc,1\n", "x\nb\na\nc\n"};
    for (size_t i = 0; i < sizeof changed / sizeof changed[0]; i++) {
        write_file("rows.csv", changed[i]);
        EXPECT_OK(ovl_outfile_open(&out, out_path));
        EXPECT_ERR(OVL_ERR_INPUT, ovl_table_write_matched(out, src, NULL, &in.ids, matched));
        OVL_T_RECORD(strstr(ovl_err_detail(), "changed between its two reads") != NULL,
                     "case %zu: %s", i, ovl_err_detail());
        ovl_outfile_abort(out);
    }
    /* Positive: other cells edited, the join cells as they were. */
    write_file("rows.csv", "id,\"n,ote\"\nb,edited\na,1\nc,3\n");
    EXPECT_OK(ovl_outfile_open(&out, out_path));
    EXPECT_OK(ovl_table_write_matched(out, src, NULL, &in.ids, matched));
    EXPECT_OK(ovl_outfile_commit(out));
    EXPECT_TRUE(file_is(out_path, "id,\"n,ote\"\nb,edited\nc,3\n"));
    ovl_table_input_free(&in);
    unlink(out_path);
}

/* Aggregates v2: empty value cells are NULL when asked, and a group-by date
 * column is truncated to its week (Monday) before it forms the group; a
 * cell that is not a date is an input error naming file:line and column. */
static void nulls_and_weeks(void)
{
    const char *p = write_file("w.csv", "email,amount,day\n"
                                       "a@x.org,1.5,2026-07-01\n"
                                       "b@x.org,,2026-07-05\n"
                                       "c@x.org, ,2026-07-06\n");
    ovl_value_col vc[1] = {{"amount", 2}};
    char *groups[1] = {"day"};
    uint8_t trunc[1] = {OVL_TRUNC_WEEK};
    ovl_load_spec want = {.join = "email", .norm = OVL_NORM_EMAIL, .values = vc, .nvalues = 1,
                          .empty_is_null = true, .group_by = groups, .group_trunc = trunc,
                          .ngroup_by = 1, .groups = true};
    ovl_table_input in;
    EXPECT_OK(ovl_table_load(&in, p, &want));
    EXPECT_EQ(in.values.nulls[0], 0);
    EXPECT_EQ(in.values.cells[0], 150);
    EXPECT_EQ(in.values.nulls[1], 1);
    EXPECT_EQ(in.values.nulls[2], 1);
    EXPECT_EQ(in.groups.ngroups, 2);
    if (in.groups.ngroups == 2) {
        EXPECT_STR_EQ(ovl_group_key(&in.groups, 0, 0), "2026-06-29");
        EXPECT_STR_EQ(ovl_group_key(&in.groups, 1, 0), "2026-07-06");
        EXPECT_EQ(in.groups.row_group[1], 0);
    }
    ovl_table_input_free(&in);
    /* Without empty_is_null, an empty cell is still not a number. */
    want.empty_is_null = false;
    EXPECT_ERR(OVL_ERR_INPUT, ovl_table_load(&in, p, &want));
    const char *bad = write_file("wd.csv", "email,amount,day\n"
                                           "a@x.org,1,2026-07-01\n"
                                           "b@x.org,2,07/05/2026\n");
    want.empty_is_null = true;
    EXPECT_ERR(OVL_ERR_INPUT, ovl_table_load(&in, bad, &want));
    EXPECT_TRUE(strstr(ovl_err_detail(), "wd.csv:3") != NULL &&
                strstr(ovl_err_detail(), "'day'") != NULL &&
                strstr(ovl_err_detail(), "07/05") == NULL);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    if (!tmpdir_make("test_load"))
        return 1;
    RUN(one_pass);
    RUN(open_errors);
    RUN(error_order);
    RUN(write_matched);
    RUN(nulls_and_weeks);
    RUN(text_columns);
    RUN(text_error_order);
    RUN(text_unstable_order);
    static const char *const names[] = {"t.csv",  "nokeep.csv", "boom.csv", "ok.csv",
                                        "order.csv", "rows.csv", "w.csv",   "wd.csv",
                                        "tx.csv", "tl.csv",     "shuffled.db"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        unlink(tmp_path(names[i]));
    rmdir(tmpdir);
    return ovl_t_summary("test_load");
}
