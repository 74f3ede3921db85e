/* overlap: libsqlite3, loaded while a SQLite database is open.
 *
 * overlap links no SQLite: the library is loaded (dlopen) when the first
 * sqlite: source or output opens and unloaded when the last one closes, so a
 * run over CSV or PostgreSQL never maps it, and a SQLite source that closes
 * at its last row (sqlite_source.c) gives its pages back before the loader
 * builds its sorted tables. Code here calls the sqlite3_* names as usual;
 * after this header they go through the loaded table. */
#ifndef OVERLAP_SQLITE_API_H
#define OVERLAP_SQLITE_API_H

#include <sqlite3.h>

#include "core/error.h"

typedef struct {
    int (*open_v2)(const char *, sqlite3 **, int, const char *);
    int (*close)(sqlite3 *);
    int (*exec)(sqlite3 *, const char *, int (*)(void *, int, char **, char **), void *, char **);
    const char *(*errmsg)(sqlite3 *);
    int (*busy_timeout)(sqlite3 *, int);
    int (*prepare_v2)(sqlite3 *, const char *, int, sqlite3_stmt **, const char **);
    int (*finalize)(sqlite3_stmt *);
    int (*step)(sqlite3_stmt *);
    int (*reset)(sqlite3_stmt *);
    int (*clear_bindings)(sqlite3_stmt *);
    int (*bind_null)(sqlite3_stmt *, int);
    int (*bind_int64)(sqlite3_stmt *, int, sqlite3_int64);
    int (*bind_text)(sqlite3_stmt *, int, const char *, int, void (*)(void *));
    int (*column_count)(sqlite3_stmt *);
    const char *(*column_name)(sqlite3_stmt *, int);
    const char *(*column_decltype)(sqlite3_stmt *, int);
    int (*column_type)(sqlite3_stmt *, int);
    const unsigned char *(*column_text)(sqlite3_stmt *, int);
    int (*column_bytes)(sqlite3_stmt *, int);
    int (*stmt_readonly)(sqlite3_stmt *);
} ovl_sqlite_fns;

/* Filled while at least one reference is held. */
extern ovl_sqlite_fns ovl_sqlite;

/* Takes a reference, loading the library first if none is held. `who`
 * names the spec in the error (OVL_ERR_IO) when it cannot be loaded. */
ovl_err ovl_sqlite_acquire(const char *who) OVL_MUST_USE;
/* Drops a reference; the last one unloads the library. */
void ovl_sqlite_release(void);

#define sqlite3_open_v2 ovl_sqlite.open_v2
#define sqlite3_close ovl_sqlite.close
#define sqlite3_exec ovl_sqlite.exec
#define sqlite3_errmsg ovl_sqlite.errmsg
#define sqlite3_busy_timeout ovl_sqlite.busy_timeout
#define sqlite3_prepare_v2 ovl_sqlite.prepare_v2
#define sqlite3_finalize ovl_sqlite.finalize
#define sqlite3_step ovl_sqlite.step
#define sqlite3_reset ovl_sqlite.reset
#define sqlite3_clear_bindings ovl_sqlite.clear_bindings
#define sqlite3_bind_null ovl_sqlite.bind_null
#define sqlite3_bind_int64 ovl_sqlite.bind_int64
#define sqlite3_bind_text ovl_sqlite.bind_text
#define sqlite3_column_count ovl_sqlite.column_count
#define sqlite3_column_name ovl_sqlite.column_name
#define sqlite3_column_decltype ovl_sqlite.column_decltype
#define sqlite3_column_type ovl_sqlite.column_type
#define sqlite3_column_text ovl_sqlite.column_text
#define sqlite3_column_bytes ovl_sqlite.column_bytes
#define sqlite3_stmt_readonly ovl_sqlite.stmt_readonly

#endif
