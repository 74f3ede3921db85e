/* Results into SQLite tables through ovl_output_open (dbout.h). PostgreSQL
 * output is covered end to end by tests/e2e/test_db_e2e.py. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/dbout.h"
#include "io/dbout_cols.h"
#include "io/table.h"
#include "test.h"

static char dir[64];
static char dbpath[128];
static char spec[192];

static ovl_err write_result(const char *target, bool replace, const char *csv)
{
    ovl_outfile *f = NULL;
    ovl_err rc = ovl_output_open(&f, target, replace);
    if (rc != OVL_OK)
        return rc;
    rc = ovl_outfile_write(f, csv, strlen(csv));
    if (rc != OVL_OK) {
        ovl_outfile_abort(f);
        return rc;
    }
    return ovl_outfile_commit(f);
}

/* The rows of `sql` as "a|b\n" lines, NULL as "<null>", with each value's
 * storage class for the first column ("i:" integer, "t:" text). */
static void query(char *out, size_t cap, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    size_t o = 0;
    out[0] = '\0';
    if (sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        snprintf(out, cap, "error: %s", sqlite3_errmsg(db));
        sqlite3_close(db);
        return;
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
        for (int i = 0; i < sqlite3_column_count(st); i++) {
            int t = sqlite3_column_type(st, i);
            const char *v = (const char *)sqlite3_column_text(st, i);
            o += (size_t)snprintf(out + o, cap - o, "%s%s%s", i ? "|" : "",
                                  t == SQLITE_INTEGER ? "i:" : t == SQLITE_TEXT ? "t:" : "",
                                  v ? v : "<null>");
        }
        o += (size_t)snprintf(out + o, cap - o, "\n");
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void creates_typed_table(void)
{
    char got[512];
    EXPECT_OK(write_result(spec, false,
                           "group,matched,total,day,code\n"
                           "\"a,b\",12,10.50,2026-01-31,01234\n"
                           "x,-3,,2024-02-29,7\n"));
    query(got, sizeof got, "SELECT * FROM results ORDER BY matched");
    EXPECT_STR_EQ(got, "t:x|i:-3|<null>|t:2024-02-29|t:7\n"
                       "t:a,b|i:12|t:10.50|t:2026-01-31|t:01234\n");
    query(got, sizeof got,
          "SELECT type FROM pragma_table_info('results') ORDER BY cid");
    EXPECT_STR_EQ(got, "t:TEXT\nt:INTEGER\nt:TEXT\nt:TEXT\nt:TEXT\n");
}

static void existing_table_needs_replace(void)
{
    char got[256];
    ovl_outfile *f = NULL;
    /* Refused when opening, before any result exists. */
    EXPECT_ERR(OVL_ERR_IO, ovl_output_open(&f, spec, false));
    EXPECT_TRUE(strstr(ovl_err_detail(), "already exists") != NULL);
    EXPECT_TRUE(strstr(ovl_err_detail(), "--replace") != NULL);
    EXPECT_OK(write_result(spec, true, "n\n5\n"));
    query(got, sizeof got, "SELECT * FROM results");
    EXPECT_STR_EQ(got, "i:5\n");
}

/* An aborted output, or one whose rows do not parse, changes nothing. */
static void nothing_on_failure(void)
{
    char got[256];
    ovl_outfile *f = NULL;
    char other[256];
    snprintf(other, sizeof other, "sqlite:%s?table=other", dbpath);
    EXPECT_OK(ovl_output_open(&f, other, false));
    if (f != NULL) {
        EXPECT_OK(ovl_outfile_write(f, "n\n1\n", 4));
        ovl_outfile_abort(f);
    }
    query(got, sizeof got, "SELECT count(*) FROM sqlite_master WHERE name = 'other'");
    EXPECT_STR_EQ(got, "i:0\n");
    /* The second record has too many fields: the CSV reader stops the load. */
    EXPECT_ERR(OVL_ERR_INPUT, write_result(spec, true, "n\n1\n2,3\n"));
    query(got, sizeof got, "SELECT * FROM results");
    EXPECT_STR_EQ(got, "i:5\n");
    /* A database file that did not exist is not left behind. */
    char fresh[256], fresh_path[160];
    snprintf(fresh_path, sizeof fresh_path, "%s/fresh.db", dir);
    snprintf(fresh, sizeof fresh, "sqlite:%s?table=t", fresh_path);
    EXPECT_ERR(OVL_ERR_INPUT, write_result(fresh, false, "n\n1\n2,3\n"));
    EXPECT_TRUE(access(fresh_path, F_OK) != 0);
    EXPECT_OK(write_result(fresh, false, "n\n1\n"));
    EXPECT_TRUE(access(fresh_path, F_OK) == 0);
    unlink(fresh_path);
}

static void bad_targets(void)
{
    ovl_outfile *f = NULL;
    EXPECT_ERR(OVL_ERR_IO, ovl_output_open(&f, "sqlite:/nonexistent-dir/x.db?table=t", false));
    EXPECT_TRUE(strstr(ovl_err_detail(), "/nonexistent-dir/x.db") != NULL);
    EXPECT_ERR(OVL_ERR_USAGE, ovl_output_open(&f, "sqlite:x.db", false));
    EXPECT_ERR(OVL_ERR_IO, ovl_output_open(
                               &f, "postgresql://u:hunter2@%2Fnonexistent-sock/db?table=t", false));
    EXPECT_TRUE(strstr(ovl_err_detail(), "hunter2") == NULL);
    EXPECT_TRUE(strstr(ovl_err_detail(), "postgresql://u@") != NULL);
    EXPECT_TRUE(strstr(ovl_err_detail(), "cannot connect") != NULL);
}

static void column_types(void)
{
    char path[160];
    ovl_out_cols c;
    snprintf(path, sizeof path, "%s/types.csv", dir);
    FILE *fp = fopen(path, "w");
    if (fp == NULL)
        return;
    fputs("a,b,c,d,e,f\n1,1.5,2026-13-01,,-0.25,9223372036854775808\n2,3,2026-12-01,,x,1\n", fp);
    fclose(fp);
    EXPECT_OK(ovl_out_cols_scan(&c, path));
    EXPECT_EQ(c.ncols, 6);
    if (c.ncols == 6) {
        EXPECT_EQ(c.types[0], OVL_OUT_INT);
        EXPECT_EQ(c.types[1], OVL_OUT_NUMERIC);
        EXPECT_EQ(c.types[2], OVL_OUT_TEXT); /* month 13 is no date */
        EXPECT_EQ(c.types[3], OVL_OUT_TEXT); /* no value at all */
        EXPECT_EQ(c.types[4], OVL_OUT_TEXT);
        EXPECT_EQ(c.types[5], OVL_OUT_NUMERIC); /* beyond 64 bits */
    }
    ovl_out_cols_free(&c);
    unlink(path);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/ovl-dbout-XXXXXX");
    if (mkdtemp(dir) == NULL)
        return 1;
    snprintf(dbpath, sizeof dbpath, "%s/out.db", dir);
    snprintf(spec, sizeof spec, "sqlite:%s?table=results", dbpath);
    RUN(creates_typed_table);
    RUN(existing_table_needs_replace);
    RUN(nothing_on_failure);
    RUN(bad_targets);
    RUN(column_types);
    unlink(dbpath);
    rmdir(dir);
    return ovl_t_summary("test_dbout");
}
