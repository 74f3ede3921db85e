/* overlap: results written into a database table.
 *
 * The result is produced as CSV (header row first) into a private temporary
 * file, exactly as for a CSV output, and copied into the table once it is
 * complete: the table is created and filled in one transaction, so nothing is
 * visible unless everything is. Column types follow the values: BIGINT
 * (SQLite INTEGER) when every value is a whole number, NUMERIC when every
 * value is a decimal, DATE when every value is YYYY-MM-DD, TEXT otherwise
 * (SQLite keeps decimals and dates as TEXT, so they stay exact). An empty
 * cell becomes NULL. */
#ifndef OVERLAP_DBOUT_H
#define OVERLAP_DBOUT_H

#include <stdbool.h>

#include "core/error.h"
#include "io/dbspec.h"

/* Before the run: the database is reachable, the table may be created
 * there, and it does not exist yet (unless `replace`). Changes nothing. */
ovl_err ovl_dbout_check(const ovl_dbspec *s, bool replace) OVL_MUST_USE;
/* Creates the table (dropping an existing one when `replace`) and copies
 * the CSV file into it, in one transaction. */
ovl_err ovl_dbout_load(const ovl_dbspec *s, bool replace, const char *csv_path) OVL_MUST_USE;

#endif
