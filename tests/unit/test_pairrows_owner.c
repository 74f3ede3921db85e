/* One owner's rows for the pairs phase (ovl_pc_owner_rows_build,
 * aggregate/pairrows.h): the NULL rule, the contributor's offsets, decimals
 * at the condition's scale, rows grouped by identifier, and the kept rows
 * against SQLite's ROW_NUMBER() OVER (PARTITION BY id ORDER BY key IS NULL,
 * key, position) <= N over the rows whose condition cells are not NULL;
 * errors naming the file, line and column. */
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate/pairrows.h"
#include "test.h"

enum { MAXR = 200 };

static ovl_pc_plan window_plan(uint8_t cap, bool decimal_too)
{
    ovl_pc_plan p;
    memset(&p, 0, sizeof p);
    p.nconds = decimal_too ? 2 : 1;
    p.conds[0] = (ovl_pc_plan_cond){.op = OVL_PC_BETWEEN, .type = OVL_PC_TYPE_DATE,
                                    .width = 17, .lo = 0, .hi = 30};
    strcpy(p.conds[0].r_col, "purchase_date");
    strcpy(p.conds[0].c_col, "impression_date");
    if (decimal_too) {
        p.conds[1] = (ovl_pc_plan_cond){.op = OVL_PC_GE, .type = OVL_PC_TYPE_DECIMAL,
                                        .width = 40, .decimals = 2};
        strcpy(p.conds[1].r_col, "amount");
        strcpy(p.conds[1].c_col, "min_amount");
    }
    p.cap_rows = cap;
    strcpy(p.c_order, "impression_date");
    strcpy(p.r_order, "purchase_date");
    return p;
}

typedef struct {
    uint32_t id[MAXR], group[MAXR], line[MAXR];
    uint64_t words[MAXR];
    char cbuf[2][MAXR][16], obuf[MAXR][16];
    const char *cell[2][MAXR], *order[MAXR];
    uint16_t clen[2][MAXR], olen[MAXR];
    ovl_pc_owner_in in;
} table;

static void set_cell(table *t, int c, size_t r, const char *s)
{
    snprintf(t->cbuf[c][r], 16, "%s", s);
    t->cell[c][r] = t->cbuf[c][r];
    t->clen[c][r] = (uint16_t)strlen(s);
}

static void set_order(table *t, size_t r, const char *s)
{
    snprintf(t->obuf[r], 16, "%s", s);
    t->order[r] = t->obuf[r];
    t->olen[r] = (uint16_t)strlen(s);
}

static void table_init(table *t, size_t rows, uint32_t nids, bool runner)
{
    memset(t, 0, sizeof *t);
    t->in = (ovl_pc_owner_in){.runner = runner, .what = "impressions.csv", .rows = rows,
                              .nids = nids, .id = t->id, .group = t->group, .line = t->line,
                              .words = t->words, .k = 1,
                              .cell = {t->cell[0], t->cell[1]},
                              .cell_len = {t->clen[0], t->clen[1]},
                              .order = t->order, .order_len = t->olen};
    for (size_t r = 0; r < rows; r++) {
        t->line[r] = (uint32_t)r + 2; /* a header line first */
        t->words[r] = r;              /* the input position, to follow each row */
    }
}

/* The contributor's rows: NULL dropped, the window's offsets applied, the
 * earliest two per identifier kept, grouped by identifier in input order. */
static void test_contributor_rows(void)
{
    static table t;
    static const char *days[] = {"2026-07-05", "", "2026-07-01", "2026-07-03",
                                 "2026-07-02", "2026-07-02", "2026-07-09"};
    static const uint32_t ids[] = {0, 0, 0, 0, 2, 2, 2};
    table_init(&t, 7, 3, false);
    for (size_t r = 0; r < 7; r++) {
        t.id[r] = ids[r];
        t.group[r] = (uint32_t)r % 2;
        set_cell(&t, 0, r, days[r]);
        set_order(&t, r, days[r]);
    }
    ovl_pc_plan p = window_plan(2, false);
    ovl_pc_owner_rows o;
    EXPECT_OK(ovl_pc_owner_rows_build(&o, &p, &t.in));
    EXPECT_EQ(o.dropped, 1);
    EXPECT_EQ(o.capped, 2); /* identifier 0 had 3 rows left, 2 had 3 */
    EXPECT_EQ(o.first[0], 0);
    EXPECT_EQ(o.first[1], 2);
    EXPECT_EQ(o.first[2], 2); /* identifier 1: no rows */
    EXPECT_EQ(o.first[3], 4);
    /* identifier 0 keeps 07-01 and 07-03 (rows 2, 3), in input order */
    EXPECT_EQ(o.words[0], 2);
    EXPECT_EQ(o.words[1], 3);
    /* identifier 2 keeps both 07-02 (rows 4, 5: ties by input order) */
    EXPECT_EQ(o.words[2], 4);
    EXPECT_EQ(o.words[3], 5);
    uint32_t d;
    EXPECT_OK(ovl_pc_day_parse(&d, "2026-07-01", 10));
    EXPECT_TRUE(o.row[0].valid);
    EXPECT_EQ(o.row[0].group, 0);
    EXPECT_EQ(o.row[0].word[0][0], d);      /* c + 0 */
    EXPECT_EQ(o.row[0].word[0][1], d + 30); /* c + 30 */
    ovl_pc_owner_rows_free(&o);
    /* the runner's words carry no offset */
    t.in.runner = true;
    EXPECT_OK(ovl_pc_owner_rows_build(&o, &p, &t.in));
    EXPECT_EQ(o.row[0].word[0][0], d);
    EXPECT_EQ(o.row[0].word[0][1], 0);
    ovl_pc_owner_rows_free(&o);
}

/* Decimals at the condition's scale, negatives as two's complement of its
 * width; a NULL in either condition drops the row. */
static void test_decimal_condition(void)
{
    static table t;
    table_init(&t, 3, 1, true);
    t.in.order = NULL;
    set_cell(&t, 0, 0, "2026-01-01"), set_cell(&t, 1, 0, "-1.5");
    set_cell(&t, 0, 1, "2026-01-02"), set_cell(&t, 1, 1, "");
    set_cell(&t, 0, 2, "2026-01-03"), set_cell(&t, 1, 2, "12.25");
    ovl_pc_plan p = window_plan(4, true);
    ovl_pc_owner_rows o;
    EXPECT_OK(ovl_pc_owner_rows_build(&o, &p, &t.in));
    EXPECT_EQ(o.dropped, 1);
    EXPECT_EQ(o.first[1], 2);
    EXPECT_EQ(o.row[0].word[1][0], ((uint64_t)1 << 40) - 150);
    EXPECT_EQ(o.row[1].word[1][0], 1225);
    ovl_pc_owner_rows_free(&o);
    /* more decimals than the condition's scale */
    set_cell(&t, 1, 2, "12.255");
    EXPECT_ERR(OVL_ERR_INPUT, ovl_pc_owner_rows_build(&o, &p, &t.in));
    EXPECT_TRUE(strstr(ovl_err_detail(), "impressions.csv:4: column amount") != NULL);
}

/* Bad cells: the error names the file, the line and the column, never the value. */
static void test_refused_cells(void)
{
    static table t;
    table_init(&t, 2, 1, false);
    set_cell(&t, 0, 0, "2026-07-01"), set_order(&t, 0, "2026-07-01");
    set_cell(&t, 0, 1, "2026-02-30"), set_order(&t, 1, "2026-07-02");
    ovl_pc_plan p = window_plan(4, false);
    ovl_pc_owner_rows o;
    EXPECT_ERR(OVL_ERR_INPUT, ovl_pc_owner_rows_build(&o, &p, &t.in));
    EXPECT_TRUE(strstr(ovl_err_detail(), "impressions.csv:3: column impression_date") != NULL);
    /* a date whose offset leaves the day numbers (the contributor's range check) */
    set_cell(&t, 0, 1, "2258-11-01");
    EXPECT_ERR(OVL_ERR_INPUT, ovl_pc_owner_rows_build(&o, &p, &t.in));
    EXPECT_TRUE(strstr(ovl_err_detail(), "impressions.csv:3") != NULL);
    t.in.runner = true; /* the runner applies no offset: in range */
    EXPECT_OK(ovl_pc_owner_rows_build(&o, &p, &t.in));
    ovl_pc_owner_rows_free(&o);
    /* an ordering column of dates with a number in it */
    set_cell(&t, 0, 1, "2026-07-02"), set_order(&t, 1, "17");
    EXPECT_ERR(OVL_ERR_INPUT, ovl_pc_owner_rows_build(&o, &p, &t.in));
    EXPECT_TRUE(strstr(ovl_err_detail(), "column purchase_date (the cap's ordering column") !=
                NULL);
}


/* A cell that does not fit its condition's type: one line naming the file,
 * line, column, the condition as the template names it and the fix; the
 * cell's kind, never its value (CONDITIONS.md §2.1). */
static void test_type_hints(void)
{
    static table t;
    ovl_pc_owner_rows o;
    /* p.day >= c.seen without -- dates compares numbers; the contributor's
     * cell is a date */
    ovl_pc_plan p;
    memset(&p, 0, sizeof p);
    p.nconds = 1;
    p.conds[0] = (ovl_pc_plan_cond){.op = OVL_PC_GE, .type = OVL_PC_TYPE_INT, .width = 48};
    strcpy(p.conds[0].r_col, "day");
    strcpy(p.conds[0].c_col, "seen");
    strcpy(p.r_alias, "p");
    strcpy(p.c_alias, "c");
    p.cap_rows = 4;
    table_init(&t, 2, 1, false);
    t.in.what = "imp.csv";
    t.in.order = NULL;
    set_cell(&t, 0, 0, "17");
    set_cell(&t, 0, 1, "2026-01-05");
    EXPECT_ERR(OVL_ERR_INPUT, ovl_pc_owner_rows_build(&o, &p, &t.in));
    EXPECT_STR_EQ(ovl_err_detail(), "imp.csv:3: column seen: a date, but the condition p.day >= "
                                    "c.seen compares numbers (declare the dates in the template: "
                                    "-- dates p.day, c.seen)");
    EXPECT_TRUE(strstr(ovl_err_detail(), "2026-01-05") == NULL);
    /* not a number at all: the parser's reason and the condition */
    set_cell(&t, 0, 1, "soon");
    EXPECT_ERR(OVL_ERR_INPUT, ovl_pc_owner_rows_build(&o, &p, &t.in));
    EXPECT_STR_EQ(ovl_err_detail(), "imp.csv:3: column seen: not a number (the condition p.day "
                                    ">= c.seen compares integers; a column with decimal places "
                                    "needs -- decimals)");
    EXPECT_TRUE(strstr(ovl_err_detail(), "soon") == NULL);
    /* decimals: the scale is the condition's */
    p.conds[0].type = OVL_PC_TYPE_DECIMAL;
    p.conds[0].decimals = 1;
    set_cell(&t, 0, 1, "1.25");
    EXPECT_ERR(OVL_ERR_INPUT, ovl_pc_owner_rows_build(&o, &p, &t.in));
    EXPECT_STR_EQ(ovl_err_detail(), "imp.csv:3: column seen: more than 1 decimal places (the "
                                    "condition p.day >= c.seen compares numbers with 1 decimal "
                                    "places, -- decimals)");
    /* the same column declared a date, with a window: a number is refused */
    p.conds[0] = (ovl_pc_plan_cond){.op = OVL_PC_BETWEEN, .type = OVL_PC_TYPE_DATE, .width = 17,
                                    .lo = -5, .hi = 30};
    strcpy(p.conds[0].r_col, "day");
    strcpy(p.conds[0].c_col, "seen");
    set_cell(&t, 0, 0, "2026-01-01");
    set_cell(&t, 0, 1, "20260105");
    EXPECT_ERR(OVL_ERR_INPUT, ovl_pc_owner_rows_build(&o, &p, &t.in));
    EXPECT_STR_EQ(ovl_err_detail(), "imp.csv:3: column seen: a number, but the condition p.day "
                                    "BETWEEN c.seen - INTERVAL '5 days' AND c.seen + INTERVAL '30 "
                                    "days' compares dates YYYY-MM-DD (it has an INTERVAL or a "
                                    "column in -- dates; without either it compares numbers)");
    set_cell(&t, 0, 1, "05/01/2026");
    EXPECT_ERR(OVL_ERR_INPUT, ovl_pc_owner_rows_build(&o, &p, &t.in));
    EXPECT_STR_EQ(ovl_err_detail(), "imp.csv:3: column seen: not a date of the form YYYY-MM-DD "
                                    "(the condition p.day BETWEEN c.seen - INTERVAL '5 days' AND "
                                    "c.seen + INTERVAL '30 days' compares dates)");
    /* the contributor's offset leaves the day numbers: the range, then the condition */
    set_cell(&t, 0, 1, "1900-01-02");
    EXPECT_ERR(OVL_ERR_INPUT, ovl_pc_owner_rows_build(&o, &p, &t.in));
    EXPECT_TRUE(strncmp(ovl_err_detail(), "imp.csv:3: column seen: ", 24) == 0);
    EXPECT_TRUE(strstr(ovl_err_detail(), ", in the condition p.day BETWEEN c.seen - INTERVAL "
                                         "'5 days' AND c.seen + INTERVAL '30 days'") != NULL);
    /* the runner's own cell, and a plan without aliases (read from the wire) */
    t.in.runner = true;
    t.in.what = "pur.csv";
    p.conds[0] = (ovl_pc_plan_cond){.op = OVL_PC_LT, .type = OVL_PC_TYPE_INT, .width = 48};
    strcpy(p.conds[0].r_col, "day");
    strcpy(p.conds[0].c_col, "seen");
    p.r_alias[0] = p.c_alias[0] = '\0';
    set_cell(&t, 0, 0, "2026-13-45");
    EXPECT_ERR(OVL_ERR_INPUT, ovl_pc_owner_rows_build(&o, &p, &t.in));
    EXPECT_STR_EQ(ovl_err_detail(), "pur.csv:2: column day: a date, but the condition day < seen "
                                    "compares numbers (declare the dates in the template: -- "
                                    "dates day, seen)");
    /* only the rows the cap keeps are read: a bad cell beyond it stops nothing */
    ovl_pc_plan w = window_plan(1, false);
    table_init(&t, 2, 1, true);
    set_cell(&t, 0, 0, "2026-07-01"), set_order(&t, 0, "1");
    set_cell(&t, 0, 1, "July"), set_order(&t, 1, "2");
    strcpy(w.r_order, "purchase_date");
    EXPECT_OK(ovl_pc_owner_rows_build(&o, &w, &t.in));
    EXPECT_EQ(o.capped, 1);
    ovl_pc_owner_rows_free(&o);
}

static sqlite3 *db;

static void exec(const char *sql)
{
    EXPECT_EQ(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
}

/* Random tables (NULL condition cells, NULL and tied ordering keys, numbers
 * as keys) against SQLite's cap over the non-NULL rows. */
static void check_random(uint32_t cap, bool date_keys)
{
    static table t;
    size_t rows = 20 + randombytes_uniform(150);
    uint32_t nids = 1 + randombytes_uniform(30);
    table_init(&t, rows, nids, randombytes_uniform(2));
    exec("DROP TABLE IF EXISTS t; CREATE TABLE t(pos INTEGER, id INTEGER, c TEXT, k)");
    sqlite3_stmt *ins = NULL;
    EXPECT_EQ(sqlite3_prepare_v2(db, "INSERT INTO t VALUES (?, ?, ?, ?)", -1, &ins, NULL),
              SQLITE_OK);
    for (size_t r = 0; r < rows; r++) {
        char day[16], key[16];
        t.id[r] = randombytes_uniform(nids);
        snprintf(day, sizeof day, "2026-%02u-%02u", 1 + randombytes_uniform(12),
                 1 + randombytes_uniform(28));
        set_cell(&t, 0, r, randombytes_uniform(6) == 0 ? "" : day);
        if (date_keys)
            snprintf(key, sizeof key, "2025-03-%02u", 1 + randombytes_uniform(6));
        else
            snprintf(key, sizeof key, "%d.%u", (int)randombytes_uniform(7) - 3,
                     randombytes_uniform(3));
        set_order(&t, r, randombytes_uniform(5) == 0 ? "" : key);
        sqlite3_bind_int64(ins, 1, (sqlite3_int64)r);
        sqlite3_bind_int64(ins, 2, t.id[r]);
        if (t.clen[0][r])
            sqlite3_bind_text(ins, 3, t.cell[0][r], -1, SQLITE_TRANSIENT);
        else
            sqlite3_bind_null(ins, 3);
        if (!t.olen[r])
            sqlite3_bind_null(ins, 4);
        else if (date_keys)
            sqlite3_bind_text(ins, 4, t.order[r], -1, SQLITE_TRANSIENT);
        else
            sqlite3_bind_double(ins, 4, atof(t.order[r]));
        EXPECT_EQ(sqlite3_step(ins), SQLITE_DONE);
        sqlite3_reset(ins);
    }
    sqlite3_finalize(ins);
    ovl_pc_plan p = window_plan((uint8_t)cap, false);
    ovl_pc_owner_rows o;
    EXPECT_OK(ovl_pc_owner_rows_build(&o, &p, &t.in));
    /* SQLite: the kept positions by identifier, in input order */
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT pos FROM (SELECT pos, id, ROW_NUMBER() OVER (PARTITION BY id ORDER BY "
             "k IS NULL, k, pos) AS rn FROM t WHERE c IS NOT NULL) WHERE rn <= %u "
             "ORDER BY id, pos",
             cap);
    sqlite3_stmt *st = NULL;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    size_t at = 0, bad = 0, total = o.first ? o.first[nids] : 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        uint64_t pos = (uint64_t)sqlite3_column_int64(st, 0);
        bad += at >= total || o.words[at] != pos;
        at++;
    }
    sqlite3_finalize(st);
    EXPECT_EQ(at, total);
    EXPECT_EQ(bad, 0);
    ovl_pc_owner_rows_free(&o);
}

static void test_cap_against_sqlite(void)
{
    EXPECT_EQ(sqlite3_open(":memory:", &db), SQLITE_OK);
    for (int round = 0; round < 30; round++)
        check_random(1 + randombytes_uniform(8), round % 2 == 0);
    sqlite3_close(db);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    RUN(test_contributor_rows);
    RUN(test_decimal_condition);
    RUN(test_refused_cells);
    RUN(test_type_hints);
    RUN(test_cap_against_sqlite);
    return ovl_t_summary("test_pairrows_owner");
}
