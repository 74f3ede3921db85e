/* overlap: database connections and their errors (dbconn.h). */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "core/guard.h"
#include "io/dbconn.h"

/* The first line of a database's message, trimmed to OVL_DB_MSG_MAX bytes,
 * with its "ERROR:  " or "FATAL:  " severity prefix dropped. */
static void first_line(char out[OVL_DB_MSG_MAX + 1], const char *msg)
{
    size_t n = 0;
    if (msg == NULL || *msg == '\0')
        msg = "no message from the database";
    if (strncmp(msg, "ERROR:  ", 8) == 0 || strncmp(msg, "FATAL:  ", 8) == 0)
        msg += 8;
    size_t o = 0;
    for (; msg[n] != '\0' && msg[n] != '\n' && o < OVL_DB_MSG_MAX; n++) {
        char ch = (unsigned char)msg[n] < 0x20 ? ' ' : msg[n];
        if (ch != ' ' || (o > 0 && out[o - 1] != ' ')) /* libpq pads severities with two */
            out[o++] = ch;
    }
    while (o > 0 && out[o - 1] == ' ')
        o--;
    out[o] = '\0';
}

ovl_err ovl_pg_fail(PGconn *c, const PGresult *r, const ovl_dbspec *s, const char *what)
{
    char line[OVL_DB_MSG_MAX + 1];
    const char *msg = r != NULL ? PQresultErrorMessage(r) : NULL;
    if (msg == NULL || *msg == '\0')
        msg = c != NULL ? PQerrorMessage(c) : NULL;
    first_line(line, msg);
    return ovl_err_set(OVL_ERR_IO, "%s: %s: %s", s->shown, what, line);
}

ovl_err ovl_pg_exec(PGconn *c, const ovl_dbspec *s, const char *sql, const char *what)
{
    PGresult *r = PQexec(c, sql);
    ovl_err rc = OVL_OK;
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        rc = ovl_pg_fail(c, r, s, what);
    PQclear(r);
    return rc;
}

ovl_err ovl_pg_connect(PGconn **out, const ovl_dbspec *s)
{
    ovl_err rc = OVL_OK;
    char line[OVL_DB_MSG_MAX + 1];
    PGconn *c = PQconnectdb(s->conninfo);
    OVL_ENSURE(c != NULL, OVL_ERR_NOMEM, "%s: out of memory", s->shown);
    if (PQstatus(c) != CONNECTION_OK) {
        first_line(line, PQerrorMessage(c));
        OVL_FAIL(ovl_err_set(OVL_ERR_IO, "%s: cannot connect: %s", s->shown, line));
    }
    OVL_ENSURE(PQsetClientEncoding(c, "UTF8") == 0, OVL_ERR_IO,
               "%s: the server cannot send UTF-8", s->shown);
    /* Dates as YYYY-MM-DD and floats exactly as stored, whatever the
     * server's or the role's defaults are. */
    OVL_TRY(ovl_pg_exec(c, s, "SET DateStyle = 'ISO, YMD'; SET extra_float_digits = 3; "
                              "SET IntervalStyle = 'iso_8601'",
                        "cannot set session parameters"));
    *out = c;
    c = NULL;
done:
    PQfinish(c);
    return rc;
}

ovl_err ovl_sqlite_fail(sqlite3 *db, const ovl_dbspec *s, const char *what)
{
    char line[OVL_DB_MSG_MAX + 1];
    first_line(line, db != NULL ? sqlite3_errmsg(db) : "out of memory");
    return ovl_err_set(OVL_ERR_IO, "%s: %s: %s", s->shown, what, line);
}

ovl_err ovl_sqlite_exec(sqlite3 *db, const ovl_dbspec *s, const char *sql, const char *what)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? OVL_OK
                                                               : ovl_sqlite_fail(db, s, what);
}

ovl_err ovl_sqlite_open(sqlite3 **out, const ovl_dbspec *s, bool write)
{
    ovl_err rc = OVL_OK;
    sqlite3 *db = NULL;
    int flags = write ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY;
    bool loaded = false;
    *out = NULL;
    /* sqlite3_open_v2 would report a missing file only at the first query,
     * as "unable to open database file"; say it plainly. */
    OVL_ENSURE(write || access(s->path, F_OK) == 0, OVL_ERR_IO, "%s: cannot open %s: %s",
               s->shown, s->path, strerror(errno));
    OVL_TRY(ovl_sqlite_acquire(s->shown));
    loaded = true;
    if (sqlite3_open_v2(s->path, &db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
        OVL_FAIL(ovl_sqlite_fail(db, s, "cannot open the database"));
    /* Another writer holding a lock gets a few seconds before we give up. */
    sqlite3_busy_timeout(db, 5000);
    *out = db;
    db = NULL;
    loaded = false;
done:
    if (loaded) {
        sqlite3_close(db);
        ovl_sqlite_release();
    }
    return rc;
}

void ovl_sqlite_close(sqlite3 *db)
{
    if (db == NULL)
        return;
    sqlite3_close(db);
    ovl_sqlite_release();
}

ovl_err ovl_db_quote_ident(ovl_buf *b, const char *name, bool schema_ok)
{
    ovl_err rc = OVL_OK;
    size_t schema = 0;
    if (schema_ok)
        ovl_db_ident_split(name, &schema);
    OVL_TRY(ovl_buf_put_u8(b, '"'));
    for (size_t i = 0; name[i] != '\0'; i++) {
        if (schema > 0 && i == schema) {
            OVL_TRY(ovl_buf_put_bytes(b, "\".\"", 3));
            continue;
        }
        if (name[i] == '"')
            OVL_TRY(ovl_buf_put_u8(b, '"'));
        OVL_TRY(ovl_buf_put_u8(b, (uint8_t)name[i]));
    }
    OVL_TRY(ovl_buf_put_u8(b, '"'));
done:
    return rc;
}

static bool all_digits(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] < '0' || p[i] > '9')
            return false;
    return n > 0;
}

bool ovl_db_text_is_decimal(const char *p, size_t n)
{
    if (n > 0 && p[0] == '-') {
        p++;
        n--;
    }
    const char *dot = memchr(p, '.', n);
    size_t k = dot != NULL ? (size_t)(dot - p) : n;
    if (!all_digits(p, k) || (k > 1 && p[0] == '0'))
        return false;
    return dot == NULL || all_digits(dot + 1, n - k - 1);
}

static unsigned num2(const char *p) { return (unsigned)(p[0] - '0') * 10 + (unsigned)(p[1] - '0'); }

bool ovl_db_text_is_date(const char *p, size_t n)
{
    static const unsigned mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (n != 10 || p[4] != '-' || p[7] != '-' || !all_digits(p, 4) || !all_digits(p + 5, 2) ||
        !all_digits(p + 8, 2))
        return false;
    unsigned y = num2(p) * 100 + num2(p + 2), m = num2(p + 5), d = num2(p + 8);
    if (y == 0 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return !(m == 2 && d == 29 && !leap);
}

ovl_err ovl_db_check_names(const ovl_dbspec *s, char *const *names, size_t n)
{
    if (n == 0)
        return ovl_err_set(OVL_ERR_INPUT, "%s: the result has no columns", s->shown);
    for (size_t i = 0; i < n; i++) {
        if (names[i][0] == '\0')
            return ovl_err_set(OVL_ERR_INPUT, "%s: column %zu has no name (name it in the query)",
                               s->shown, i + 1);
        for (size_t j = 0; j < i; j++)
            if (strcmp(names[i], names[j]) == 0)
                return ovl_err_set(OVL_ERR_INPUT, "%s: two columns are named \"%s\" (rename one "
                                   "in the query)", s->shown, names[i]);
    }
    return OVL_OK;
}
