/* overlap: PostgreSQL tables and queries as a table source (source.h).
 *
 * Everything is read in one READ ONLY, REPEATABLE READ transaction, so a
 * --query cannot change the database and the rows come from one snapshot.
 * The statement is prepared first, which checks it and gives its column
 * names and types before any row moves; the rows then stream through
 * COPY (...) TO STDOUT, one row in memory at a time. Cells keep their type:
 * smallint/integer/bigint/oid as INT, numeric and floats written as plain
 * decimals as NUMERIC, date as DATE (ISO, set by ovl_pg_connect), NULL as
 * NULL, anything else as its text. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/guard.h"
#include "core/mem.h"
#include "io/dbconn.h"
#include "io/source.h"
#include "io/table.h"

enum { SQL_MAX = OVL_SOURCE_QUERY_MAX + 64 };

/* Type OIDs from the server catalogue (pg_type.dat); stable across versions. */
enum {
    PG_INT8 = 20,
    PG_INT2 = 21,
    PG_INT4 = 23,
    PG_OID = 26,
    PG_FLOAT4 = 700,
    PG_FLOAT8 = 701,
    PG_DATE = 1082,
    PG_NUMERIC = 1700
};

typedef struct {
    ovl_dbspec spec;
    PGconn *c;
    size_t ncols;
    char **names;
    ovl_cell_kind *kinds; /* what a column's values are when they look it */
    ovl_cell *cells;
    char *line; /* the current row as libpq returned it, decoded in place */
    size_t row;
    bool copying, done;
    ovl_err failed;
} pg_src;

/* Closes the connection (a transaction left open is rolled back). Done as
 * soon as the last row is read, so libpq's buffers are gone (and their heap
 * pages returned) before the loader builds its sorted tables. */
static void pg_src_release(pg_src *q)
{
    if (q->line != NULL)
        PQfreemem(q->line);
    q->line = NULL;
    PQfinish(q->c);
    q->c = NULL;
    malloc_trim(0);
}

static void pg_src_close(void *impl)
{
    pg_src *q = impl;
    if (q == NULL)
        return;
    pg_src_release(q);
    for (size_t i = 0; q->names != NULL && i < q->ncols; i++)
        free(q->names[i]);
    free(q->names);
    free(q->kinds);
    free(q->cells);
    ovl_dbspec_free(&q->spec);
    free(q);
}

static ovl_cell_kind pg_kind(Oid type)
{
    switch (type) {
    case PG_INT2:
    case PG_INT4:
    case PG_INT8:
    case PG_OID:
        return OVL_CELL_INT;
    case PG_NUMERIC:
    case PG_FLOAT4:
    case PG_FLOAT8:
        return OVL_CELL_NUMERIC;
    case PG_DATE:
        return OVL_CELL_DATE;
    default:
        return OVL_CELL_TEXT;
    }
}

/* The SELECT to run: the table's rows, or the query without the semicolons
 * that COPY (...) would not accept. */
static ovl_err pg_src_sql(pg_src *q, const char *query, ovl_buf *sql)
{
    ovl_err rc = OVL_OK;
    OVL_TRY(ovl_buf_alloc(sql, 256, SQL_MAX));
    if (query != NULL) {
        size_t n = strlen(query);
        while (n > 0 && strchr(" \t\r\n;", query[n - 1]) != NULL)
            n--;
        OVL_ENSURE(n > 0, OVL_ERR_USAGE, "%s: --query is empty", q->spec.shown);
        OVL_TRY(ovl_buf_put_bytes(sql, query, n));
    } else {
        OVL_TRY(ovl_buf_put_bytes(sql, "SELECT * FROM ", 14));
        OVL_TRY(ovl_db_quote_ident(sql, q->spec.table, true));
    }
    OVL_TRY(ovl_buf_put_u8(sql, 0));
done:
    return rc;
}

static ovl_err pg_src_describe(pg_src *q, const char *sql, bool is_query)
{
    ovl_err rc = OVL_OK;
    const char *what = is_query ? "the query fails" : "cannot read the table";
    PGresult *r = PQprepare(q->c, "", sql, 0, NULL);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        OVL_FAIL(ovl_pg_fail(q->c, r, &q->spec, what));
    PQclear(r);
    r = PQdescribePrepared(q->c, "");
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        OVL_FAIL(ovl_pg_fail(q->c, r, &q->spec, what));
    q->ncols = (size_t)PQnfields(r);
    OVL_ENSURE(q->ncols > 0, OVL_ERR_USAGE, "%s: --query must be a SELECT returning columns",
               q->spec.shown);
    OVL_TRY(ovl_calloc((void **)&q->names, q->ncols, sizeof *q->names));
    OVL_TRY(ovl_calloc((void **)&q->kinds, q->ncols, sizeof *q->kinds));
    OVL_TRY(ovl_calloc((void **)&q->cells, q->ncols, sizeof *q->cells));
    for (size_t i = 0; i < q->ncols; i++) {
        q->names[i] = strdup(PQfname(r, (int)i));
        OVL_ENSURE(q->names[i] != NULL, OVL_ERR_NOMEM, "%s: out of memory", q->spec.shown);
        q->kinds[i] = pg_kind(PQftype(r, (int)i));
    }
    OVL_TRY(ovl_db_check_names(&q->spec, q->names, q->ncols));
done:
    PQclear(r);
    return rc;
}

static ovl_err pg_src_copy(pg_src *q, const char *sql, bool is_query)
{
    ovl_err rc = OVL_OK;
    ovl_buf copy = {0};
    PGresult *r = NULL;
    OVL_TRY(ovl_buf_alloc(&copy, 256, SQL_MAX + 32));
    OVL_TRY(ovl_buf_put_bytes(&copy, "COPY (", 6));
    OVL_TRY(ovl_buf_put_bytes(&copy, sql, strlen(sql)));
    OVL_TRY(ovl_buf_put_bytes(&copy, ") TO STDOUT", 12));
    r = PQexec(q->c, (const char *)copy.data);
    if (PQresultStatus(r) != PGRES_COPY_OUT)
        OVL_FAIL(ovl_pg_fail(q->c, r, &q->spec, is_query ? "the query fails"
                                                         : "cannot read the table"));
    q->copying = true;
done:
    PQclear(r);
    ovl_buf_free(&copy);
    return rc;
}

static ovl_err pg_src_open(void **impl, const char *spec, const char *query)
{
    ovl_err rc = OVL_OK;
    pg_src *q = NULL;
    ovl_buf sql = {0};
    *impl = NULL;
    OVL_TRY(ovl_calloc((void **)&q, 1, sizeof *q));
    OVL_TRY(ovl_dbspec_parse(&q->spec, spec, query != NULL));
    OVL_TRY(ovl_pg_connect(&q->c, &q->spec));
    OVL_TRY(ovl_pg_exec(q->c, &q->spec, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
                        "cannot start a read-only transaction"));
    /* A run may read the table twice (the matched rows of --out) and checks
     * that both reads agree row for row: a scan that joins another one midway
     * (synchronised scans) or a parallel one would return an unchanged table
     * in another order. */
    OVL_TRY(ovl_pg_exec(q->c, &q->spec, "SET LOCAL synchronize_seqscans = off",
                        "cannot set synchronize_seqscans"));
    OVL_TRY(ovl_pg_exec(q->c, &q->spec, "SET LOCAL max_parallel_workers_per_gather = 0",
                        "cannot set max_parallel_workers_per_gather"));
    OVL_TRY(pg_src_sql(q, query, &sql));
    OVL_TRY(pg_src_describe(q, (const char *)sql.data, query != NULL));
    OVL_TRY(pg_src_copy(q, (const char *)sql.data, query != NULL));
    *impl = q;
    q = NULL;
done:
    ovl_buf_free(&sql);
    pg_src_close(q);
    return rc;
}

static ovl_err pg_src_split(pg_src *q, char *line, size_t n)
{
    if (!ovl_pg_copy_row(q->cells, q->kinds, q->ncols, line, n))
        return ovl_err_set(OVL_ERR_IO, "%s row %zu: the server sent a malformed row (not %zu "
                           "fields ending in a line feed)", q->spec.shown, q->row, q->ncols);
    return OVL_OK;
}

/* After the last row: the command's own result says whether it completed
 * (a query may fail halfway, e.g. on a division by zero). */
static ovl_err pg_src_finish(pg_src *q)
{
    ovl_err rc = OVL_OK;
    PGresult *r;
    q->copying = false;
    while ((r = PQgetResult(q->c)) != NULL) {
        if (rc == OVL_OK && PQresultStatus(r) != PGRES_COMMAND_OK)
            rc = ovl_pg_fail(q->c, r, &q->spec, "reading failed");
        PQclear(r);
    }
    return rc;
}

static ovl_err pg_src_next_inner(pg_src *q, bool *eof)
{
    char *buf = NULL;
    if (q->line != NULL) {
        PQfreemem(q->line);
        q->line = NULL;
    }
    if (q->done) {
        *eof = true;
        return OVL_OK;
    }
    int n = PQgetCopyData(q->c, &buf, 0);
    if (n == -1) {
        ovl_err rc = pg_src_finish(q);
        q->done = true;
        *eof = rc == OVL_OK;
        pg_src_release(q);
        return rc;
    }
    if (n < 0)
        return ovl_pg_fail(q->c, NULL, &q->spec, "reading failed");
    q->line = buf;
    q->row++;
    /* The cap a CSV record has: a database is as much outside input as a file. */
    if ((size_t)n > OVL_CSV_MAX_RECORD)
        return ovl_err_set(OVL_ERR_INPUT, "%s row %zu: %d bytes, more than the %u a row may hold",
                           q->spec.shown, q->row, n, OVL_CSV_MAX_RECORD);
    return pg_src_split(q, buf, (size_t)n);
}

static ovl_err pg_src_next(void *impl, bool *eof)
{
    pg_src *q = impl;
    *eof = false;
    if (q->failed != OVL_OK)
        return ovl_err_set(q->failed, "%s: reading stopped at an earlier error", q->spec.shown);
    ovl_err rc = pg_src_next_inner(q, eof);
    if (rc != OVL_OK) {
        q->failed = rc;
        *eof = false;
    }
    return rc;
}

static size_t pg_src_ncols(const void *impl) { return ((const pg_src *)impl)->ncols; }

static const char *pg_src_colname(const void *impl, size_t i)
{
    return ((const pg_src *)impl)->names[i];
}

static void pg_src_cell(const void *impl, size_t i, ovl_cell *out)
{
    *out = ((const pg_src *)impl)->cells[i];
}

static const char *pg_src_label(const void *impl) { return ((const pg_src *)impl)->spec.shown; }

static size_t pg_src_pos(const void *impl) { return ((const pg_src *)impl)->row; }

static void pg_src_where_at(const void *impl, size_t pos, char *out, size_t cap)
{
    snprintf(out, cap, "%s row %zu", ((const pg_src *)impl)->spec.shown, pos);
}

const ovl_source_backend ovl_source_postgres = {
    .name = "PostgreSQL",
    .open = pg_src_open,
    .close = pg_src_close,
    .ncols = pg_src_ncols,
    .colname = pg_src_colname,
    .next = pg_src_next,
    .cell = pg_src_cell,
    .label = pg_src_label,
    .pos = pg_src_pos,
    .where_at = pg_src_where_at,
    .raw = NULL,
};
