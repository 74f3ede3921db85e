/* overlap: SQLite tables and queries as a table source (source.h).
 *
 * The database is opened read-only and read inside one transaction, so the
 * rows come from one snapshot even when another process writes meanwhile.
 * One prepared statement is stepped a row at a time. Cells keep their
 * storage class: INTEGER as INT, REAL as NUMERIC when SQLite writes it as a
 * plain decimal, TEXT as TEXT (DATE in a column declared DATE when it reads
 * YYYY-MM-DD), NULL as NULL; a BLOB is refused. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/guard.h"
#include "core/mem.h"
#include "io/dbconn.h"
#include "io/source.h"
#include "io/table.h"

enum { SQL_MAX = OVL_SOURCE_QUERY_MAX + 64 };

typedef struct {
    ovl_dbspec spec;
    sqlite3 *db;
    sqlite3_stmt *st;
    size_t ncols;
    char **names;
    bool *date_col; /* declared DATE */
    ovl_cell *cells;
    size_t row; /* rows read so far */
    bool done;  /* stepping past the end would run the statement again */
    ovl_err failed;
} sqlite_src;

/* Ends the read transaction and closes the database. Done as soon as the
 * last row is read, so its page cache and statement are gone (and their
 * heap pages returned) before the loader builds its sorted tables. */
static void sqlite_src_release(sqlite_src *q)
{
    if (q->db == NULL)
        return;
    sqlite3_finalize(q->st);
    q->st = NULL;
    (void)sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
    ovl_sqlite_close(q->db); /* the last reference unloads the library */
    q->db = NULL;
    malloc_trim(0);
}

static void sqlite_src_close(void *impl)
{
    sqlite_src *q = impl;
    if (q == NULL)
        return;
    sqlite_src_release(q);
    for (size_t i = 0; q->names != NULL && i < q->ncols; i++)
        free(q->names[i]);
    free(q->names);
    free(q->date_col);
    free(q->cells);
    ovl_dbspec_free(&q->spec);
    free(q);
}

/* Nothing may follow the one statement but spaces and semicolons. */
static bool only_blank(const char *tail)
{
    for (; tail != NULL && *tail != '\0'; tail++)
        if (*tail != ' ' && *tail != '\t' && *tail != '\n' && *tail != '\r' && *tail != ';')
            return false;
    return true;
}

static ovl_err sqlite_src_prepare(sqlite_src *q, const char *query)
{
    ovl_err rc = OVL_OK;
    ovl_buf sql = {0};
    const char *tail = NULL;
    OVL_TRY(ovl_buf_alloc(&sql, 256, SQL_MAX));
    if (query != NULL) {
        OVL_TRY(ovl_buf_put_bytes(&sql, query, strlen(query)));
    } else {
        OVL_TRY(ovl_buf_put_bytes(&sql, "SELECT * FROM ", 14));
        OVL_TRY(ovl_db_quote_ident(&sql, q->spec.table, true));
    }
    OVL_TRY(ovl_buf_put_u8(&sql, 0));
    if (sqlite3_prepare_v2(q->db, (const char *)sql.data, -1, &q->st, &tail) != SQLITE_OK)
        OVL_FAIL(ovl_sqlite_fail(q->db, &q->spec, query ? "the query fails" : "cannot read the table"));
    OVL_ENSURE(q->st != NULL && only_blank(tail), OVL_ERR_USAGE,
               "%s: --query must be exactly one SELECT statement", q->spec.shown);
    OVL_ENSURE(sqlite3_stmt_readonly(q->st) && sqlite3_column_count(q->st) > 0, OVL_ERR_USAGE,
               "%s: --query must be a SELECT (it may not change the database)", q->spec.shown);
done:
    ovl_buf_free(&sql);
    return rc;
}

static ovl_err sqlite_src_header(sqlite_src *q)
{
    ovl_err rc = OVL_OK;
    q->ncols = (size_t)sqlite3_column_count(q->st);
    OVL_TRY(ovl_calloc((void **)&q->names, q->ncols, sizeof *q->names));
    OVL_TRY(ovl_calloc((void **)&q->date_col, q->ncols, sizeof *q->date_col));
    OVL_TRY(ovl_calloc((void **)&q->cells, q->ncols, sizeof *q->cells));
    for (size_t i = 0; i < q->ncols; i++) {
        const char *name = sqlite3_column_name(q->st, (int)i);
        const char *decl = sqlite3_column_decltype(q->st, (int)i);
        OVL_ENSURE(name != NULL, OVL_ERR_NOMEM, "%s: out of memory", q->spec.shown);
        q->names[i] = strdup(name);
        OVL_ENSURE(q->names[i] != NULL, OVL_ERR_NOMEM, "%s: out of memory", q->spec.shown);
        q->date_col[i] = decl != NULL && strcasecmp(decl, "date") == 0;
    }
    OVL_TRY(ovl_db_check_names(&q->spec, q->names, q->ncols));
done:
    return rc;
}

static ovl_err sqlite_src_open(void **impl, const char *spec, const char *query)
{
    ovl_err rc = OVL_OK;
    sqlite_src *q = NULL;
    *impl = NULL;
    OVL_TRY(ovl_calloc((void **)&q, 1, sizeof *q));
    OVL_TRY(ovl_dbspec_parse(&q->spec, spec, query != NULL));
    OVL_TRY(ovl_sqlite_open(&q->db, &q->spec, false));
    /* One pass in table order reads each page once: a large page cache only
     * costs memory (SQLite's default is 2 MiB). */
    OVL_TRY(ovl_sqlite_exec(q->db, &q->spec, "PRAGMA cache_size = -64", "cannot configure"));
    OVL_TRY(ovl_sqlite_exec(q->db, &q->spec, "BEGIN", "cannot start a read transaction"));
    OVL_TRY(sqlite_src_prepare(q, query));
    OVL_TRY(sqlite_src_header(q));
    *impl = q;
    q = NULL;
done:
    sqlite_src_close(q);
    return rc;
}

static ovl_err sqlite_src_cell_read(sqlite_src *q, size_t i)
{
    int col = (int)i;
    ovl_cell *c = &q->cells[i];
    int type = sqlite3_column_type(q->st, col);
    if (type == SQLITE_NULL) {
        *c = (ovl_cell){OVL_CELL_NULL, "", 0};
        return OVL_OK;
    }
    if (type == SQLITE_BLOB)
        return ovl_err_set(OVL_ERR_INPUT, "%s row %zu: column \"%s\" holds a BLOB (only numbers, "
                           "text and dates can be read)", q->spec.shown, q->row, q->names[i]);
    /* Asked for after the type: the text conversion may change it. */
    const char *text = (const char *)sqlite3_column_text(q->st, col);
    size_t len = (size_t)sqlite3_column_bytes(q->st, col);
    if (text == NULL)
        return ovl_err_set(OVL_ERR_NOMEM, "%s: out of memory", q->spec.shown);
    /* The cap a CSV field has: a database is as much outside input as a file. */
    if (len > OVL_CSV_MAX_FIELD)
        return ovl_err_set(OVL_ERR_INPUT, "%s row %zu: column \"%s\" holds %zu bytes, more than "
                           "the %u a cell may hold", q->spec.shown, q->row, q->names[i], len,
                           OVL_CSV_MAX_FIELD);
    ovl_cell_kind kind = OVL_CELL_TEXT;
    if (type == SQLITE_INTEGER)
        kind = OVL_CELL_INT;
    else if (type == SQLITE_FLOAT && ovl_db_text_is_decimal(text, len))
        kind = OVL_CELL_NUMERIC;
    else if (type == SQLITE_TEXT && q->date_col[i] && ovl_db_text_is_date(text, len))
        kind = OVL_CELL_DATE;
    *c = (ovl_cell){kind, text, len};
    return OVL_OK;
}

static ovl_err sqlite_src_next_inner(sqlite_src *q, bool *eof)
{
    ovl_err rc = OVL_OK;
    int r = q->done ? SQLITE_DONE : sqlite3_step(q->st);
    if (r == SQLITE_DONE) {
        if (!q->done)
            sqlite_src_release(q);
        q->done = true;
        *eof = true;
        goto done;
    }
    if (r != SQLITE_ROW)
        OVL_FAIL(ovl_sqlite_fail(q->db, &q->spec, "reading failed"));
    q->row++;
    for (size_t i = 0; i < q->ncols; i++)
        OVL_TRY(sqlite_src_cell_read(q, i));
done:
    return rc;
}

static ovl_err sqlite_src_next(void *impl, bool *eof)
{
    sqlite_src *q = impl;
    *eof = false;
    if (q->failed != OVL_OK)
        return ovl_err_set(q->failed, "%s: reading stopped at an earlier error", q->spec.shown);
    ovl_err rc = sqlite_src_next_inner(q, eof);
    if (rc != OVL_OK)
        q->failed = rc;
    return rc;
}

static size_t sqlite_src_ncols(const void *impl) { return ((const sqlite_src *)impl)->ncols; }

static const char *sqlite_src_colname(const void *impl, size_t i)
{
    return ((const sqlite_src *)impl)->names[i];
}

static void sqlite_src_cell(const void *impl, size_t i, ovl_cell *out)
{
    *out = ((const sqlite_src *)impl)->cells[i];
}

static const char *sqlite_src_label(const void *impl)
{
    return ((const sqlite_src *)impl)->spec.shown;
}

static size_t sqlite_src_pos(const void *impl) { return ((const sqlite_src *)impl)->row; }

static void sqlite_src_where_at(const void *impl, size_t pos, char *out, size_t cap)
{
    snprintf(out, cap, "%s row %zu", ((const sqlite_src *)impl)->spec.shown, pos);
}

const ovl_source_backend ovl_source_sqlite = {
    .name = "SQLite",
    .open = sqlite_src_open,
    .close = sqlite_src_close,
    .ncols = sqlite_src_ncols,
    .colname = sqlite_src_colname,
    .next = sqlite_src_next,
    .cell = sqlite_src_cell,
    .label = sqlite_src_label,
    .pos = sqlite_src_pos,
    .where_at = sqlite_src_where_at,
    .raw = NULL,
};
