/* overlap: naming a database table as a source or an output.
 *
 *   sqlite:PATH?table=NAME
 *   postgresql://[user[:password]@]host[:port]/db?param=value&...&table=NAME
 *   postgres://...                      (the same)
 *
 * overlap's own parameter, table=, is removed before the rest of a libpq URI
 * goes to libpq, so every libpq parameter keeps working and passwords come
 * from where libpq looks for them (~/.pgpass, PGPASSWORD, service files).
 * With --query the table= parameter is left out. A password written into a
 * URI never leaves this module except inside the connection string handed to
 * libpq: every message shows ovl_spec_redact's form instead. */
#ifndef OVERLAP_DBSPEC_H
#define OVERLAP_DBSPEC_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"
#include "io/source.h" /* OVL_SOURCE_SPEC_MAX, OVL_SOURCE_QUERY_MAX */

#define OVL_DB_IDENT_MAX 255u /* bytes of a table name (schema.table included) */

typedef enum {
    OVL_DB_NONE = 0, /* not a database spec: a CSV path */
    OVL_DB_SQLITE,
    OVL_DB_POSTGRES
} ovl_db_kind;

typedef struct {
    ovl_db_kind kind;
    char *path;     /* SQLite: the database file */
    char *conninfo; /* PostgreSQL: the URI without table=, for PQconnectdb */
    char *table;    /* table=, decoded; NULL when absent */
    char *shown;    /* the spec with any password removed, for every message */
} ovl_dbspec;

/* The kind a spec names by its prefix (OVL_DB_NONE for a CSV path). */
ovl_db_kind ovl_dbspec_kind(const char *spec);

/* Parses a database spec. A table is required unless `with_query`, and
 * refused with one (a query names its own tables). Errors name the spec in
 * its redacted form. */
ovl_err ovl_dbspec_parse(ovl_dbspec *s, const char *spec, bool with_query) OVL_MUST_USE;
void ovl_dbspec_free(ovl_dbspec *s);

/* The command line's choices, checked before anything is opened: --query
 * needs a database --table without table=, --replace a database --out.
 * `out` may be NULL. OVL_ERR_USAGE naming the redacted spec. */
ovl_err ovl_dbspec_check_options(const char *table, const char *query, const char *out,
                                 bool replace) OVL_MUST_USE;

/* A copy of `spec` safe to show anywhere: the password of a URI's user
 * information and every password= parameter are removed. Any text is
 * accepted (a CSV path comes back unchanged). NULL when out of memory. */
char *ovl_spec_redact(const char *spec);

/* The table name a spec stands for in templates and summaries: table= of a
 * database spec, or the file name of a CSV path without its extension. */
void ovl_spec_table_name(char *out, size_t cap, const char *spec);

/* Splits "schema.table" at its first dot (no dot: *schema_len = 0). */
void ovl_db_ident_split(const char *name, size_t *schema_len);

#endif
