/* overlap: results into a SQLite table (dbout.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/guard.h"
#include "io/columns.h"
#include "io/dbconn.h"
#include "io/dbout_cols.h"

enum { SQL_INITIAL = 256, SQL_MAX = 1u << 20 };

/* Whether the table (or a view of that name) exists. */
static bool sqlite_has_table(sqlite3 *db, const char *quoted)
{
    sqlite3_stmt *st = NULL;
    char sql[OVL_DB_IDENT_MAX * 2 + 64];
    snprintf(sql, sizeof sql, "SELECT * FROM %s LIMIT 0", quoted);
    bool found = sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK;
    sqlite3_finalize(st);
    return found;
}

static ovl_err quoted_table(ovl_buf *b, const ovl_dbspec *s)
{
    ovl_err rc = OVL_OK;
    OVL_TRY(ovl_buf_alloc(b, SQL_INITIAL, SQL_MAX));
    OVL_TRY(ovl_db_quote_ident(b, s->table, true));
    OVL_TRY(ovl_buf_put_u8(b, 0));
done:
    return rc;
}

/* In an open transaction: refuses an existing table unless replace, which drops it. */
static ovl_err sqlite_clear_way(sqlite3 *db, const ovl_dbspec *s, const char *qt, bool replace)
{
    char sql[OVL_DB_IDENT_MAX * 2 + 64];
    if (!sqlite_has_table(db, qt))
        return OVL_OK;
    if (!replace)
        return ovl_err_set(OVL_ERR_IO, "%s: table %s already exists (add --replace to "
                           "overwrite it)", s->shown, s->table);
    snprintf(sql, sizeof sql, "DROP TABLE %s", qt);
    return ovl_sqlite_exec(db, s, sql, "cannot drop the existing table");
}

ovl_err ovl_dbout_sqlite_check(const ovl_dbspec *s, bool replace)
{
    ovl_err rc = OVL_OK;
    sqlite3 *db = NULL;
    ovl_buf qt = {0};
    if (access(s->path, F_OK) != 0) {
        /* Created at the end of the run; only the directory must allow it. */
        char *dir = strdup(s->path);
        OVL_ENSURE(dir != NULL, OVL_ERR_NOMEM, "out of memory");
        char *slash = strrchr(dir, '/');
        const char *d = slash == NULL ? "." : slash == dir ? "/" : (*slash = '\0', dir);
        int ok = access(d, W_OK | X_OK);
        int e = errno;
        free(dir);
        OVL_ENSURE(ok == 0, OVL_ERR_IO, "%s: cannot create %s: %s", s->shown, s->path,
                   strerror(e));
        goto done;
    }
    OVL_TRY(quoted_table(&qt, s));
    OVL_TRY(ovl_sqlite_open(&db, s, true));
    OVL_TRY(ovl_sqlite_exec(db, s, "BEGIN IMMEDIATE", "cannot write to the database"));
    rc = sqlite_clear_way(db, s, (const char *)qt.data, replace);
    (void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
done:
    ovl_sqlite_close(db);
    ovl_buf_free(&qt);
    return rc;
}

static ovl_err sqlite_create(sqlite3 *db, const ovl_dbspec *s, const char *qt,
                             const ovl_out_cols *cols, sqlite3_stmt **ins)
{
    ovl_err rc = OVL_OK;
    ovl_buf sql = {0}, put = {0};
    OVL_TRY(ovl_buf_alloc(&sql, SQL_INITIAL, SQL_MAX));
    OVL_TRY(ovl_buf_alloc(&put, SQL_INITIAL, SQL_MAX));
    OVL_TRY(ovl_buf_put_bytes(&sql, "CREATE TABLE ", 13));
    OVL_TRY(ovl_buf_put_bytes(&sql, qt, strlen(qt)));
    OVL_TRY(ovl_buf_put_bytes(&put, "INSERT INTO ", 12));
    OVL_TRY(ovl_buf_put_bytes(&put, qt, strlen(qt)));
    OVL_TRY(ovl_buf_put_bytes(&put, " VALUES (", 9));
    for (size_t i = 0; i < cols->ncols; i++) {
        const char *type = cols->types[i] == OVL_OUT_INT ? " INTEGER" : " TEXT";
        OVL_TRY(ovl_buf_put_bytes(&sql, i ? ", " : " (", 2));
        OVL_TRY(ovl_db_quote_ident(&sql, cols->names[i], false));
        OVL_TRY(ovl_buf_put_bytes(&sql, type, strlen(type)));
        OVL_TRY(ovl_buf_put_bytes(&put, i ? ", ?" : "?", i ? 3 : 1));
    }
    OVL_TRY(ovl_buf_put_bytes(&sql, ")", 2));
    OVL_TRY(ovl_buf_put_bytes(&put, ")", 2));
    OVL_TRY(ovl_sqlite_exec(db, s, (const char *)sql.data, "cannot create the table"));
    if (sqlite3_prepare_v2(db, (const char *)put.data, -1, ins, NULL) != SQLITE_OK)
        OVL_FAIL(ovl_sqlite_fail(db, s, "cannot prepare the insert"));
done:
    ovl_buf_free(&sql);
    ovl_buf_free(&put);
    return rc;
}

static ovl_err sqlite_bind_row(sqlite3_stmt *ins, const ovl_out_cols *cols, const ovl_csv *csv)
{
    for (size_t i = 0; i < cols->ncols; i++) {
        const char *p;
        size_t n;
        int64_t v;
        int r;
        ovl_csv_field(csv, i, &p, &n);
        if (n == 0)
            r = sqlite3_bind_null(ins, (int)i + 1);
        else if (cols->types[i] == OVL_OUT_INT && ovl_decimal_parse(&v, p, n, 0) == OVL_OK)
            r = sqlite3_bind_int64(ins, (int)i + 1, v);
        else
            r = sqlite3_bind_text(ins, (int)i + 1, p, (int)n, SQLITE_STATIC);
        if (r != SQLITE_OK)
            return OVL_ERR_IO;
    }
    return OVL_OK;
}

static ovl_err sqlite_fill(sqlite3 *db, const ovl_dbspec *s, sqlite3_stmt *ins,
                           const ovl_out_cols *cols, const char *csv_path)
{
    ovl_err rc = OVL_OK;
    ovl_csv *csv = NULL;
    bool eof = false;
    OVL_TRY(ovl_csv_open(&csv, csv_path));
    for (;;) {
        OVL_TRY(ovl_csv_next(csv, &eof));
        if (eof)
            break;
        if (sqlite_bind_row(ins, cols, csv) != OVL_OK || sqlite3_step(ins) != SQLITE_DONE)
            OVL_FAIL(ovl_sqlite_fail(db, s, "cannot insert a row"));
        sqlite3_reset(ins);
        sqlite3_clear_bindings(ins);
    }
done:
    ovl_csv_close(csv);
    return rc;
}

ovl_err ovl_dbout_sqlite_load(const ovl_dbspec *s, bool replace, const ovl_out_cols *cols,
                              const char *csv_path)
{
    ovl_err rc = OVL_OK;
    sqlite3 *db = NULL;
    sqlite3_stmt *ins = NULL;
    ovl_buf qt = {0};
    bool created = access(s->path, F_OK) != 0, begun = false;
    OVL_TRY(quoted_table(&qt, s));
    OVL_TRY(ovl_sqlite_open(&db, s, true));
    OVL_TRY(ovl_sqlite_exec(db, s, "BEGIN IMMEDIATE", "cannot write to the database"));
    begun = true;
    OVL_TRY(sqlite_clear_way(db, s, (const char *)qt.data, replace));
    OVL_TRY(sqlite_create(db, s, (const char *)qt.data, cols, &ins));
    OVL_TRY(sqlite_fill(db, s, ins, cols, csv_path));
    sqlite3_finalize(ins);
    ins = NULL;
    OVL_TRY(ovl_sqlite_exec(db, s, "COMMIT", "cannot commit"));
    begun = false;
done:
    if (ins != NULL)
        sqlite3_finalize(ins);
    if (begun)
        (void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    ovl_sqlite_close(db);
    if (rc != OVL_OK && created)
        unlink(s->path); /* the database file this run made, empty again */
    ovl_buf_free(&qt);
    return rc;
}
