/* An owner's rows for cross-party conditions (aggregate/pairrows.h) against
 * SQLite: day numbers and date arithmetic against julianday() and
 * date(d, '+n days'), the cap against ROW_NUMBER() OVER (PARTITION BY id
 * ORDER BY key IS NULL, key, input position) <= N. */
#include <sodium.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdlib.h>

#include "aggregate/pairrows.h"
#include "test.h"

static sqlite3 *db;

static int64_t sql_int(const char *sql, const char *arg, int n)
{
    sqlite3_stmt *st = NULL;
    int64_t v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return -2;
    sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, n);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void sql_text(char out[16], const char *sql, const char *arg, int n)
{
    sqlite3_stmt *st = NULL;
    out[0] = 0;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, n);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        snprintf(out, 16, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
}

static void test_day_numbers(void)
{
    static const char *fixed[] = {"1900-01-01", "1900-02-28", "1900-03-01", "2000-02-29",
                                  "2026-07-01", "2100-03-01", "2258-11-11", "1999-12-31"};
    int bad = 0;
    for (size_t t = 0; t < sizeof fixed / sizeof *fixed + 300; t++) {
        char d[11], back[11];
        if (t < sizeof fixed / sizeof *fixed)
            snprintf(d, sizeof d, "%s", fixed[t]);
        else
            ovl_pc_day_format(d, randombytes_uniform(OVL_PC_LAST_DAY + 1));
        uint32_t day = 0;
        EXPECT_OK(ovl_pc_day_parse(&day, d, 10));
        int64_t want = sql_int("SELECT CAST(julianday(?1) - julianday('1900-01-01') AS INTEGER)",
                               d, 0);
        bad += (int64_t)day != want;
        ovl_pc_day_format(back, day);
        bad += strcmp(back, d) != 0;
    }
    EXPECT_EQ(bad, 0);
}

static void test_day_refused(void)
{
    static const char *badd[] = {"1899-12-31", "2258-11-12", "2026-02-29", "1900-02-29",
                                 "2026-13-01", "2026-00-10", "2026-04-31", "2026-4-03",
                                 "2026/04/03", "2026-04-03x", "", "20260403xx"};
    uint32_t day = 7;
    for (size_t i = 0; i < sizeof badd / sizeof *badd; i++)
        EXPECT_ERR(OVL_ERR_INPUT, ovl_pc_day_parse(&day, badd[i], strlen(badd[i])));
    EXPECT_EQ(day, 7);
}

/* c.d + INTERVAL 'n days' as the contributor computes it equals SQLite's
 * date(d, '+n days'), weeks being 7 days; out of range is an input error. */
static void test_date_words(void)
{
    int bad = 0;
    for (int t = 0; t < 300; t++) {
        char d[11], want[16];
        uint32_t day = 400 + randombytes_uniform(OVL_PC_LAST_DAY - 800);
        int32_t off = (int32_t)randombytes_uniform(801) - 400;
        if (t % 3 == 0)
            off = 7 * ((int32_t)randombytes_uniform(41) - 20); /* weeks */
        ovl_pc_day_format(d, day);
        uint64_t w = 0;
        EXPECT_OK(ovl_pc_word_date(&w, day, off));
        sql_text(want, "SELECT date(?1, printf('%+d days', ?2))", d, off);
        uint32_t wd = 0;
        EXPECT_OK(ovl_pc_day_parse(&wd, want, strlen(want)));
        bad += w != wd;
    }
    EXPECT_EQ(bad, 0);
    uint64_t w = 0;
    EXPECT_ERR(OVL_ERR_INPUT, ovl_pc_word_date(&w, 10, -11));
    EXPECT_ERR(OVL_ERR_INPUT, ovl_pc_word_date(&w, OVL_PC_LAST_DAY - 29, 30));
    EXPECT_OK(ovl_pc_word_date(&w, OVL_PC_LAST_DAY - 30, 30));
    EXPECT_EQ(w, OVL_PC_LAST_DAY);
    EXPECT_ERR(OVL_ERR_USAGE, ovl_pc_word_date(&w, 0, OVL_PC_MAX_OFFSET + 1));
    EXPECT_OK(ovl_pc_word_int(&w, -1, 8));
    EXPECT_EQ(w, 0xff);
    EXPECT_OK(ovl_pc_word_int(&w, 127, 8));
    EXPECT_ERR(OVL_ERR_INPUT, ovl_pc_word_int(&w, 128, 8));
    EXPECT_ERR(OVL_ERR_INPUT, ovl_pc_word_int(&w, -129, 8));
    EXPECT_OK(ovl_pc_word_int(&w, INT64_MIN, 64));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_pc_word_int(&w, 0, 1));
}

static void exec(const char *sql) { EXPECT_EQ(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK); }

/* Random rows (few identifiers, keys with ties and NULLs) capped by us and by
 * SQLite's ROW_NUMBER(); kept sets and capped counts must agree. */
static void check_cap(size_t rows, uint32_t nids, uint32_t cap, bool with_key)
{
    uint32_t *id = calloc(rows, sizeof *id);
    int64_t *key = calloc(rows, sizeof *key);
    uint8_t *null = calloc(rows, 1), *kept = calloc(rows, 1), *want = calloc(rows, 1);
    exec("DROP TABLE IF EXISTS r; CREATE TABLE r (pos INTEGER, id INTEGER, k INTEGER)");
    sqlite3_stmt *ins = NULL;
    EXPECT_EQ(sqlite3_prepare_v2(db, "INSERT INTO r VALUES (?1, ?2, ?3)", -1, &ins, NULL),
              SQLITE_OK);
    for (size_t r = 0; r < rows; r++) {
        id[r] = randombytes_uniform(nids);
        key[r] = (int64_t)randombytes_uniform(7) - 3; /* ties and negatives */
        if (r % 5 == 0)
            key[r] = r % 2 ? INT64_MIN : INT64_MAX;
        null[r] = randombytes_uniform(6) == 0;
        sqlite3_bind_int64(ins, 1, (int64_t)r);
        sqlite3_bind_int64(ins, 2, id[r]);
        if (with_key && !null[r])
            sqlite3_bind_int64(ins, 3, key[r]);
        else
            sqlite3_bind_null(ins, 3);
        EXPECT_EQ(sqlite3_step(ins), SQLITE_DONE);
        sqlite3_reset(ins);
    }
    sqlite3_finalize(ins);
    const char *q = with_key
        ? "SELECT pos, ROW_NUMBER() OVER (PARTITION BY id ORDER BY k IS NULL, k, pos) FROM r"
        : "SELECT pos, ROW_NUMBER() OVER (PARTITION BY id ORDER BY pos) FROM r";
    sqlite3_stmt *st = NULL;
    EXPECT_EQ(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW)
        want[sqlite3_column_int64(st, 0)] = sqlite3_column_int64(st, 1) <= cap;
    sqlite3_finalize(st);
    int64_t want_capped = -1;
    EXPECT_EQ(sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM (SELECT id FROM r GROUP BY id "
                                     "HAVING COUNT(*) > ?1)", -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_int(st, 1, (int)cap);
    if (sqlite3_step(st) == SQLITE_ROW)
        want_capped = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    ovl_pc_cap_in in = {.id = id, .key = with_key ? key : NULL, .key_null = null,
                        .rows = rows, .nids = nids, .cap = cap};
    uint32_t capped = 0;
    EXPECT_OK(ovl_pc_cap_rows(kept, &capped, &in));
    EXPECT_BYTES_EQ(kept, want, rows);
    EXPECT_EQ(capped, want_capped);
    free(id);
    free(key);
    free(null);
    free(kept);
    free(want);
}

static void test_cap_against_sqlite(void)
{
    for (uint32_t cap = 1; cap <= OVL_PC_MAX_ROW_CAP; cap *= 2) {
        check_cap(400, 60, cap, true);
        check_cap(400, 60, cap, false);
    }
    check_cap(1, 1, 4, true);
    check_cap(0, 1, 4, true);
}

static void test_cap_refused(void)
{
    uint32_t id[2] = {0, 3}, capped = 9;
    uint8_t kept[2];
    ovl_pc_cap_in in = {.id = id, .rows = 2, .nids = 3, .cap = 4};
    EXPECT_ERR(OVL_ERR_USAGE, ovl_pc_cap_rows(kept, &capped, &in));
    in.nids = 4;
    in.cap = 0;
    EXPECT_ERR(OVL_ERR_USAGE, ovl_pc_cap_rows(kept, &capped, &in));
    in.cap = OVL_PC_MAX_ROW_CAP + 1;
    EXPECT_ERR(OVL_ERR_USAGE, ovl_pc_cap_rows(kept, &capped, &in));
    in.cap = 1;
    EXPECT_OK(ovl_pc_cap_rows(kept, &capped, &in));
    EXPECT_EQ(capped, 0);
    EXPECT_EQ(kept[0] + kept[1], 2);
}

int main(void)
{
    if (sodium_init() < 0 || sqlite3_open(":memory:", &db) != SQLITE_OK)
        return 1;
    RUN(test_day_numbers);
    RUN(test_day_refused);
    RUN(test_date_words);
    RUN(test_cap_against_sqlite);
    RUN(test_cap_refused);
    sqlite3_close(db);
    return ovl_t_summary("test_pairrows");
}
