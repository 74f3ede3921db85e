/* overlap: loading libsqlite3 on demand (sqlite_api.h). */
#include <dlfcn.h>
#include <pthread.h>
#include <string.h>

#include "io/sqlite_api.h"

ovl_sqlite_fns ovl_sqlite;

static pthread_mutex_t sqlite_mu = PTHREAD_MUTEX_INITIALIZER;
static void *sqlite_handle;
static size_t sqlite_refs;

/* Every entry point the table holds, by its exported name, in the order of
 * the struct's members (all of them function pointers of one size). */
static const char *const sqlite_names[] = {
    "sqlite3_open_v2",      "sqlite3_close",         "sqlite3_exec",
    "sqlite3_errmsg",       "sqlite3_busy_timeout",  "sqlite3_prepare_v2",
    "sqlite3_finalize",     "sqlite3_step",          "sqlite3_reset",
    "sqlite3_clear_bindings", "sqlite3_bind_null",   "sqlite3_bind_int64",
    "sqlite3_bind_text",    "sqlite3_column_count",  "sqlite3_column_name",
    "sqlite3_column_decltype", "sqlite3_column_type", "sqlite3_column_text",
    "sqlite3_column_bytes", "sqlite3_stmt_readonly",
};

typedef void (*sqlite_any_fn)(void);
_Static_assert(sizeof(ovl_sqlite_fns) == sizeof sqlite_names / sizeof sqlite_names[0] *
                                             sizeof(sqlite_any_fn),
               "one name per entry of ovl_sqlite_fns");

static ovl_err sqlite_load(const char *who)
{
    sqlite_any_fn fns[sizeof sqlite_names / sizeof sqlite_names[0]];
    sqlite_handle = dlopen("libsqlite3.so.0", RTLD_NOW | RTLD_LOCAL);
    if (sqlite_handle == NULL)
        return ovl_err_set(OVL_ERR_IO, "%s: cannot load SQLite (install libsqlite3-0): %s", who,
                           dlerror());
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
        void *p = dlsym(sqlite_handle, sqlite_names[i]);
        if (p == NULL) {
            dlclose(sqlite_handle);
            sqlite_handle = NULL;
            return ovl_err_set(OVL_ERR_IO, "%s: the SQLite library lacks %s", who,
                               sqlite_names[i]);
        }
        /* POSIX guarantees a data pointer from dlsym converts to a function pointer. */
        memcpy(&fns[i], &p, sizeof p);
    }
    memcpy(&ovl_sqlite, fns, sizeof ovl_sqlite);
    return OVL_OK;
}

ovl_err ovl_sqlite_acquire(const char *who)
{
    ovl_err rc = OVL_OK;
    pthread_mutex_lock(&sqlite_mu);
    if (sqlite_refs == 0)
        rc = sqlite_load(who);
    if (rc == OVL_OK)
        sqlite_refs++;
    pthread_mutex_unlock(&sqlite_mu);
    return rc;
}

void ovl_sqlite_release(void)
{
    pthread_mutex_lock(&sqlite_mu);
    if (sqlite_refs > 0 && --sqlite_refs == 0) {
        memset(&ovl_sqlite, 0, sizeof ovl_sqlite);
        dlclose(sqlite_handle);
        sqlite_handle = NULL;
    }
    pthread_mutex_unlock(&sqlite_mu);
}
