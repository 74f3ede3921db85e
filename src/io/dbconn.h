/* overlap: opening SQLite and PostgreSQL connections for sources and outputs,
 * and turning their errors into one line that names the source (redacted). */
#ifndef OVERLAP_DBCONN_H
#define OVERLAP_DBCONN_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "core/buf.h"
#include "core/error.h"
#include "io/dbspec.h"
#include "io/source.h"
#include "io/sqlite_api.h"

#define OVL_DB_MSG_MAX 300u /* bytes of a database's message quoted in an error */

/* Connects with s->conninfo and fixes the session settings the readers rely
 * on (UTF-8, ISO dates). Errors (unreachable server, failed authentication,
 * missing database) are OVL_ERR_IO naming s->shown. */
ovl_err ovl_pg_connect(PGconn **out, const ovl_dbspec *s) OVL_MUST_USE;
/* Runs a command that returns no rows; `what` says what it was for. */
ovl_err ovl_pg_exec(PGconn *c, const ovl_dbspec *s, const char *sql,
                    const char *what) OVL_MUST_USE;
/* The error of a failed call or result as "SHOWN: WHAT: first line". */
ovl_err ovl_pg_fail(PGconn *c, const PGresult *r, const ovl_dbspec *s, const char *what);

/* Opens the SQLite file read-only (it must exist) or read-write, creating it;
 * the open database holds a reference on the library (sqlite_api.h). */
ovl_err ovl_sqlite_open(sqlite3 **out, const ovl_dbspec *s, bool write) OVL_MUST_USE;
/* Closes what ovl_sqlite_open opened and drops its reference. NULL is fine. */
void ovl_sqlite_close(sqlite3 *db);
ovl_err ovl_sqlite_exec(sqlite3 *db, const ovl_dbspec *s, const char *sql,
                        const char *what) OVL_MUST_USE;
ovl_err ovl_sqlite_fail(sqlite3 *db, const ovl_dbspec *s, const char *what);

/* Appends the quoted form of a table name ("schema"."table") or of a
 * column name (schema_ok false) to b. */
ovl_err ovl_db_quote_ident(ovl_buf *b, const char *name, bool schema_ok) OVL_MUST_USE;

/* Splits one row of COPY's text format (fields separated by tabs, "\\N" for
 * NULL, backslash escapes, a final line feed) into ncols cells, decoding in
 * place; a cell that does not read as its column's kind becomes TEXT. False
 * when the row is not exactly ncols fields ending in a line feed. */
bool ovl_pg_copy_row(ovl_cell *cells, const ovl_cell_kind *kinds, size_t ncols, char *line,
                     size_t n);

/* Column names of a result must be non-empty and distinct, as in a CSV header. */
ovl_err ovl_db_check_names(const ovl_dbspec *s, char *const *names, size_t n) OVL_MUST_USE;

/* -?D+(.D+)? without a leading zero, as both databases write a number back
 * (so a code such as "01234" is not taken for one). */
bool ovl_db_text_is_decimal(const char *p, size_t n);
/* YYYY-MM-DD naming a real day of the Gregorian calendar. */
bool ovl_db_text_is_date(const char *p, size_t n);

#endif
