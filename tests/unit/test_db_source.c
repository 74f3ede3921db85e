/* SQLite tables and queries through the table-source seam (source.h):
 * typed cells, NULLs, read-only queries, and a negative case per error.
 * PostgreSQL sources run end to end in tests/e2e/test_db_e2e.py. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/load.h"
#include "io/source.h"
#include "test.h"

static char dir[64];
static char dbpath[128];

static const char *spec(const char *tail)
{
    static char s[256];
    snprintf(s, sizeof s, "sqlite:%s%s", dbpath, tail);
    return s;
}

static int setup_db(void)
{
    sqlite3 *db = NULL;
    const char *sql =
        "CREATE TABLE people (email TEXT, amount REAL, visits INTEGER, day DATE, note);"
        "INSERT INTO people VALUES ('a@x.com', 12.5, 3, '2026-01-31', 'first, \"quoted\"');"
        "INSERT INTO people VALUES (NULL, NULL, NULL, NULL, NULL);"
        "INSERT INTO people VALUES ('b@x.com', 1e30, -7, 'soon', 'x');"
        "CREATE TABLE sales (email TEXT, amount NUMERIC, store TEXT);"
        "INSERT INTO sales VALUES ('a@x.com', '1.25', 'A'), ('a@x.com', NULL, 'A'),"
        " (NULL, '100', 'B'), ('b@x.com', '2.5', NULL), ('c@x.com', NULL, 'B');"
        "CREATE TABLE blobs (b BLOB); INSERT INTO blobs VALUES (x'00ff');"
        "CREATE TABLE huge (email TEXT); INSERT INTO huge VALUES ('a@x.com'),"
        " (substr(hex(zeroblob(600000)), 1, 1048577)), ('b@x.com');"
        "CREATE TABLE \"odd \"\"name\"\"\" (v INTEGER); INSERT INTO \"odd \"\"name\"\"\" VALUES (42);";
    int ok = sqlite3_open(dbpath, &db) == SQLITE_OK &&
             sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK;
    sqlite3_close(db);
    return ok;
}

static bool cell_is(const ovl_source *s, size_t i, ovl_cell_kind kind, const char *text)
{
    ovl_cell c;
    ovl_source_cell(s, i, &c);
    return c.kind == kind && c.len == strlen(text) && memcmp(c.text, text, c.len) == 0;
}

static void typed_rows(void)
{
    ovl_source *s = NULL;
    bool eof = true;
    char at[OVL_SOURCE_WHERE_MAX];
    const char *p;
    size_t len, idx = 0;
    EXPECT_OK(ovl_source_open(&s, spec("?table=people"), NULL));
    if (s == NULL)
        return;
    EXPECT_EQ(ovl_source_ncols(s), 5);
    EXPECT_STR_EQ(ovl_source_colname(s, 3), "day");
    EXPECT_OK(ovl_source_col(s, "visits", &idx));
    EXPECT_EQ(idx, 2);
    EXPECT_ERR(OVL_ERR_INPUT, ovl_source_col(s, "missing", &idx));
    EXPECT_TRUE(strstr(ovl_err_detail(), "?table=people") != NULL);
    EXPECT_OK(ovl_source_next(s, &eof));
    EXPECT_TRUE(!eof);
    EXPECT_TRUE(cell_is(s, 0, OVL_CELL_TEXT, "a@x.com"));
    EXPECT_TRUE(cell_is(s, 1, OVL_CELL_NUMERIC, "12.5"));
    EXPECT_TRUE(cell_is(s, 2, OVL_CELL_INT, "3"));
    EXPECT_TRUE(cell_is(s, 3, OVL_CELL_DATE, "2026-01-31"));
    EXPECT_OK(ovl_source_row_csv(s, &p, &len));
    {
        static const char want[] = "a@x.com,12.5,3,2026-01-31,\"first, \"\"quoted\"\"\"";
        EXPECT_TRUE(len == sizeof want - 1 && memcmp(p, want, len) == 0);
    }
    EXPECT_OK(ovl_source_next(s, &eof));
    for (size_t i = 0; i < 5; i++)
        EXPECT_TRUE(cell_is(s, i, OVL_CELL_NULL, ""));
    ovl_source_where(s, at);
    EXPECT_TRUE(strstr(at, "row 2") != NULL);
    EXPECT_OK(ovl_source_next(s, &eof));
    EXPECT_TRUE(cell_is(s, 1, OVL_CELL_TEXT, "1.0e+30")); /* no parser takes it as a number */
    EXPECT_TRUE(cell_is(s, 2, OVL_CELL_INT, "-7"));
    EXPECT_TRUE(cell_is(s, 3, OVL_CELL_TEXT, "soon"));
    EXPECT_OK(ovl_source_next(s, &eof));
    EXPECT_TRUE(eof);
    EXPECT_OK(ovl_source_next(s, &eof));
    EXPECT_TRUE(eof);
    ovl_source_close(s);
}

static void queries(void)
{
    ovl_source *s = NULL;
    bool eof = true;
    size_t rows = 0;
    EXPECT_OK(ovl_source_open(&s, spec(""), "SELECT email AS who, visits * 2 AS twice FROM people "
                                           "WHERE visits > 0;  "));
    if (s == NULL)
        return;
    EXPECT_STR_EQ(ovl_source_colname(s, 0), "who");
    EXPECT_STR_EQ(ovl_source_colname(s, 1), "twice");
    for (;;) {
        EXPECT_OK(ovl_source_next(s, &eof));
        if (eof)
            break;
        rows++;
        EXPECT_TRUE(cell_is(s, 1, OVL_CELL_INT, "6"));
    }
    EXPECT_EQ(rows, 1);
    ovl_source_close(s);
    EXPECT_OK(ovl_source_open(&s, spec("?table=odd%20%22name%22"), NULL));
    if (s != NULL) {
        EXPECT_OK(ovl_source_next(s, &eof));
        EXPECT_TRUE(cell_is(s, 0, OVL_CELL_INT, "42"));
    }
    ovl_source_close(s);
}

static void errors(void)
{
    ovl_source *s = NULL;
    bool eof;
    char missing[200];
    snprintf(missing, sizeof missing, "sqlite:%s/none.db?table=t", dir);
    EXPECT_ERR(OVL_ERR_IO, ovl_source_open(&s, missing, NULL));
    EXPECT_TRUE(strstr(ovl_err_detail(), "none.db") != NULL);
    EXPECT_TRUE(access(missing + 7, F_OK) != 0); /* not created by trying */
    EXPECT_ERR(OVL_ERR_IO, ovl_source_open(&s, spec("?table=nope"), NULL));
    EXPECT_TRUE(strstr(ovl_err_detail(), "no such table: nope") != NULL);
    EXPECT_ERR(OVL_ERR_IO, ovl_source_open(&s, spec(""), "SELECT nope FROM people"));
    EXPECT_TRUE(strstr(ovl_err_detail(), "no such column") != NULL);
    EXPECT_ERR(OVL_ERR_USAGE, ovl_source_open(&s, spec(""), "DELETE FROM people"));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_source_open(&s, spec(""), "SELECT 1; DELETE FROM people"));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_source_open(&s, spec("?table=people"), "SELECT 1"));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_source_open(&s, spec(""), NULL));
    EXPECT_ERR(OVL_ERR_INPUT, ovl_source_open(&s, spec(""), "SELECT email, email FROM people"));
    /* A BLOB cell fails the row and the source stays failed. */
    EXPECT_OK(ovl_source_open(&s, spec("?table=blobs"), NULL));
    if (s != NULL) {
        EXPECT_ERR(OVL_ERR_INPUT, ovl_source_next(s, &eof));
        EXPECT_TRUE(strstr(ovl_err_detail(), "BLOB") != NULL);
        EXPECT_TRUE(ovl_source_next(s, &eof) != OVL_OK);
    }
    ovl_source_close(s);
    /* A cell over the CSV field cap fails its row, naming it. */
    s = NULL;
    EXPECT_OK(ovl_source_open(&s, spec("?table=huge"), NULL));
    if (s != NULL) {
        EXPECT_OK(ovl_source_next(s, &eof));
        EXPECT_ERR(OVL_ERR_INPUT, ovl_source_next(s, &eof));
        EXPECT_TRUE(strstr(ovl_err_detail(), "row 2: column \"email\" holds 1048577 bytes") != NULL);
    }
    ovl_source_close(s);
    /* Still there after every refused query. */
    s = NULL;
    EXPECT_OK(ovl_source_open(&s, spec(""), "SELECT count(*) AS n FROM people"));
    if (s != NULL) {
        EXPECT_OK(ovl_source_next(s, &eof));
        EXPECT_TRUE(cell_is(s, 0, OVL_CELL_INT, "3"));
    }
    ovl_source_close(s);
}

/* NULL join keys are skipped like empty ones; a NULL value adds nothing to
 * a sum (SQL's SUM ignores it) and, with decimals from the data, counts for
 * no places. */
static void nulls_follow_sql(void)
{
    ovl_table_input in;
    ovl_value_col cols[] = {{.name = "amount", .decimals = OVL_DECIMALS_AUTO}};
    ovl_load_spec want = {.join = "email", .norm = OVL_NORM_EMAIL, .values = cols, .nvalues = 1};
    int64_t *vec = NULL;
    EXPECT_OK(ovl_table_load(&in, spec("?table=sales"), &want));
    EXPECT_EQ(in.ids.nrows, 5);
    EXPECT_EQ(in.ids.skipped, 1);
    EXPECT_EQ(in.ids.nids, 3);
    EXPECT_EQ(cols[0].decimals, 2);
    EXPECT_OK(ovl_value_vectors(&vec, &in.values, cols, &in.ids));
    if (vec != NULL) {
        /* Per identifier, sorted by id: rows then the sum; find a@x.com's (2 rows). */
        int64_t total = 0, rows = 0;
        for (size_t i = 0; i < in.ids.nids; i++) {
            rows += vec[i * 2];
            total += vec[i * 2 + 1];
        }
        EXPECT_EQ(rows, 4);   /* COUNT(*) counts rows whatever their values */
        EXPECT_EQ(total, 375); /* 1.25 + 2.5: the NULLs add nothing */
    }
    free(vec);
    ovl_table_input_free(&in);
    /* A CSV cell that is empty is still not a number. */
    char path[160];
    snprintf(path, sizeof path, "%s/empty.csv", dir);
    FILE *f = fopen(path, "w");
    if (f != NULL) {
        fputs("email,amount\na@x.com,\n", f);
        fclose(f);
    }
    cols[0].decimals = 2;
    EXPECT_ERR(OVL_ERR_INPUT, ovl_table_load(&in, path, &want));
    unlink(path);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/ovl-dbsrc-XXXXXX");
    if (mkdtemp(dir) == NULL)
        return 1;
    snprintf(dbpath, sizeof dbpath, "%s/t.db", dir);
    if (!setup_db()) {
        fprintf(stderr, "cannot create the test database\n");
        return 1;
    }
    RUN(typed_rows);
    RUN(queries);
    RUN(errors);
    RUN(nulls_follow_sql);
    unlink(dbpath);
    rmdir(dir);
    return ovl_t_summary("test_db_source");
}
