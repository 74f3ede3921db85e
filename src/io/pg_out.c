/* overlap: results into a PostgreSQL table (dbout.h), through COPY FROM STDIN. */
#include <stdlib.h>
#include <string.h>

#include "core/guard.h"
#include "io/dbconn.h"
#include "io/dbout_cols.h"

enum { SQL_INITIAL = 256, SQL_MAX = 1u << 20, COPY_CHUNK = 64 * 1024 };

static const char *const PG_TYPES[] = {
    [OVL_OUT_TEXT] = " text", [OVL_OUT_INT] = " bigint", [OVL_OUT_NUMERIC] = " numeric",
    [OVL_OUT_DATE] = " date"};

static ovl_err sql_start(ovl_buf *b, const char *verb, const ovl_dbspec *s)
{
    ovl_err rc = OVL_OK;
    OVL_TRY(ovl_buf_alloc(b, SQL_INITIAL, SQL_MAX));
    OVL_TRY(ovl_buf_put_bytes(b, verb, strlen(verb)));
    OVL_TRY(ovl_db_quote_ident(b, s->table, true));
done:
    return rc;
}

static ovl_err sql_exec(PGconn *c, const ovl_dbspec *s, ovl_buf *b, const char *tail,
                        const char *what)
{
    ovl_err rc = OVL_OK;
    OVL_TRY(ovl_buf_put_bytes(b, tail, strlen(tail) + 1));
    OVL_TRY(ovl_pg_exec(c, s, (const char *)b->data, what));
done:
    return rc;
}

static ovl_err pg_exists(PGconn *c, const ovl_dbspec *s, bool *exists)
{
    ovl_err rc = OVL_OK;
    ovl_buf q = {0};
    PGresult *r = NULL;
    OVL_TRY(ovl_buf_alloc(&q, SQL_INITIAL, SQL_MAX));
    OVL_TRY(ovl_db_quote_ident(&q, s->table, true));
    OVL_TRY(ovl_buf_put_u8(&q, 0));
    const char *param = (const char *)q.data;
    r = PQexecParams(c, "SELECT to_regclass($1) IS NOT NULL", 1, NULL, &param, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
        OVL_FAIL(ovl_pg_fail(c, r, s, "cannot look the table up"));
    *exists = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
done:
    PQclear(r);
    ovl_buf_free(&q);
    return rc;
}

/* In an open transaction: refuses an existing table unless replace, which drops it. */
static ovl_err pg_clear_way(PGconn *c, const ovl_dbspec *s, bool replace)
{
    ovl_err rc = OVL_OK;
    ovl_buf sql = {0};
    bool exists = false;
    OVL_TRY(pg_exists(c, s, &exists));
    if (!exists)
        goto done;
    OVL_ENSURE(replace, OVL_ERR_IO, "%s: table %s already exists (add --replace to overwrite it)",
               s->shown, s->table);
    OVL_TRY(sql_start(&sql, "DROP TABLE ", s));
    OVL_TRY(sql_exec(c, s, &sql, "", "cannot drop the existing table"));
done:
    ovl_buf_free(&sql);
    return rc;
}

ovl_err ovl_dbout_pg_check(const ovl_dbspec *s, bool replace)
{
    ovl_err rc = OVL_OK;
    PGconn *c = NULL;
    ovl_buf sql = {0};
    OVL_TRY(ovl_pg_connect(&c, s));
    OVL_TRY(ovl_pg_exec(c, s, "BEGIN", "cannot start a transaction"));
    OVL_TRY(pg_clear_way(c, s, replace));
    /* An empty table proves the right to create one there; rolled back. */
    OVL_TRY(sql_start(&sql, "CREATE TABLE ", s));
    OVL_TRY(sql_exec(c, s, &sql, " ()", "cannot create the table"));
done:
    ovl_buf_free(&sql);
    PQfinish(c); /* ends the transaction unapplied */
    return rc;
}

static ovl_err pg_create(PGconn *c, const ovl_dbspec *s, const ovl_out_cols *cols)
{
    ovl_err rc = OVL_OK;
    ovl_buf sql = {0};
    OVL_TRY(sql_start(&sql, "CREATE TABLE ", s));
    for (size_t i = 0; i < cols->ncols; i++) {
        OVL_TRY(ovl_buf_put_bytes(&sql, i ? ", " : " (", 2));
        OVL_TRY(ovl_db_quote_ident(&sql, cols->names[i], false));
        OVL_TRY(ovl_buf_put_bytes(&sql, PG_TYPES[cols->types[i]], strlen(PG_TYPES[cols->types[i]])));
    }
    OVL_TRY(sql_exec(c, s, &sql, ")", "cannot create the table"));
done:
    ovl_buf_free(&sql);
    return rc;
}

/* One CSV record as a line of COPY's text format: tab-separated, \N for an
 * empty cell, backslash escapes for what would break the line. */
static ovl_err copy_line(ovl_buf *b, const ovl_csv *csv, size_t ncols)
{
    ovl_err rc = OVL_OK;
    for (size_t i = 0; i < ncols; i++) {
        const char *p;
        size_t n;
        ovl_csv_field(csv, i, &p, &n);
        if (i > 0)
            OVL_TRY(ovl_buf_put_u8(b, '\t'));
        if (n == 0)
            OVL_TRY(ovl_buf_put_bytes(b, "\\N", 2));
        for (size_t k = 0; k < n; k++) {
            const char *esc = p[k] == '\\' ? "\\\\" : p[k] == '\t' ? "\\t" : p[k] == '\n' ? "\\n"
                                                     : p[k] == '\r' ? "\\r" : NULL;
            if (esc != NULL)
                OVL_TRY(ovl_buf_put_bytes(b, esc, 2));
            else
                OVL_TRY(ovl_buf_put_u8(b, (uint8_t)p[k]));
        }
    }
    OVL_TRY(ovl_buf_put_u8(b, '\n'));
done:
    return rc;
}

static ovl_err copy_send(PGconn *c, const ovl_dbspec *s, ovl_buf *b)
{
    if (b->wpos > 0 && PQputCopyData(c, (const char *)b->data, (int)b->wpos) != 1)
        return ovl_pg_fail(c, NULL, s, "cannot send rows");
    ovl_buf_clear(b);
    return OVL_OK;
}

static ovl_err copy_rows(PGconn *c, const ovl_dbspec *s, const ovl_out_cols *cols,
                         const char *csv_path)
{
    ovl_err rc = OVL_OK;
    ovl_csv *csv = NULL;
    ovl_buf b = {0};
    bool eof = false;
    OVL_TRY(ovl_buf_alloc(&b, COPY_CHUNK, (size_t)COPY_CHUNK + 2 * (size_t)OVL_CSV_MAX_RECORD + 8));
    OVL_TRY(ovl_csv_open(&csv, csv_path));
    for (;;) {
        OVL_TRY(ovl_csv_next(csv, &eof));
        if (eof)
            break;
        OVL_TRY(copy_line(&b, csv, cols->ncols));
        if (b.wpos >= COPY_CHUNK)
            OVL_TRY(copy_send(c, s, &b));
    }
    OVL_TRY(copy_send(c, s, &b));
done:
    ovl_csv_close(csv);
    ovl_buf_free(&b);
    return rc;
}

static ovl_err pg_fill(PGconn *c, const ovl_dbspec *s, const ovl_out_cols *cols,
                       const char *csv_path)
{
    ovl_err rc = OVL_OK;
    ovl_buf sql = {0};
    PGresult *r = NULL;
    OVL_TRY(sql_start(&sql, "COPY ", s));
    OVL_TRY(ovl_buf_put_bytes(&sql, " FROM STDIN", 12));
    r = PQexec(c, (const char *)sql.data);
    if (PQresultStatus(r) != PGRES_COPY_IN)
        OVL_FAIL(ovl_pg_fail(c, r, s, "cannot copy rows in"));
    PQclear(r);
    r = NULL;
    rc = copy_rows(c, s, cols, csv_path);
    /* Ending the copy with an error message makes the server discard it. */
    if (PQputCopyEnd(c, rc == OVL_OK ? NULL : "overlap stopped the copy") != 1 && rc == OVL_OK)
        OVL_FAIL(ovl_pg_fail(c, NULL, s, "cannot finish the copy"));
    r = PQgetResult(c);
    if (rc == OVL_OK && PQresultStatus(r) != PGRES_COMMAND_OK)
        rc = ovl_pg_fail(c, r, s, "cannot copy rows in");
    while (r != NULL) {
        PQclear(r);
        r = PQgetResult(c);
    }
done:
    PQclear(r);
    ovl_buf_free(&sql);
    return rc;
}

ovl_err ovl_dbout_pg_load(const ovl_dbspec *s, bool replace, const ovl_out_cols *cols,
                          const char *csv_path)
{
    ovl_err rc = OVL_OK;
    PGconn *c = NULL;
    OVL_TRY(ovl_pg_connect(&c, s));
    OVL_TRY(ovl_pg_exec(c, s, "BEGIN", "cannot start a transaction"));
    OVL_TRY(pg_clear_way(c, s, replace));
    OVL_TRY(pg_create(c, s, cols));
    OVL_TRY(pg_fill(c, s, cols, csv_path));
    OVL_TRY(ovl_pg_exec(c, s, "COMMIT", "cannot commit"));
done:
    PQfinish(c); /* without COMMIT the server rolls everything back */
    return rc;
}
