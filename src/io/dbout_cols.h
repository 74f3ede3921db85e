/* overlap: what the database writers share (dbout.h): the result's columns
 * and the types their values call for. */
#ifndef OVERLAP_DBOUT_COLS_H
#define OVERLAP_DBOUT_COLS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"
#include "io/dbspec.h"
#include "io/table.h"

typedef enum { OVL_OUT_TEXT, OVL_OUT_INT, OVL_OUT_NUMERIC, OVL_OUT_DATE } ovl_out_type;

typedef struct {
    size_t ncols;
    char **names;        /* from the CSV header */
    ovl_out_type *types; /* what every non-empty value of the column is */
} ovl_out_cols;

/* Reads the whole CSV once for its header and column types. */
ovl_err ovl_out_cols_scan(ovl_out_cols *c, const char *csv_path) OVL_MUST_USE;
void ovl_out_cols_free(ovl_out_cols *c);

ovl_err ovl_dbout_sqlite_check(const ovl_dbspec *s, bool replace) OVL_MUST_USE;
ovl_err ovl_dbout_sqlite_load(const ovl_dbspec *s, bool replace, const ovl_out_cols *cols,
                              const char *csv_path) OVL_MUST_USE;
ovl_err ovl_dbout_pg_check(const ovl_dbspec *s, bool replace) OVL_MUST_USE;
ovl_err ovl_dbout_pg_load(const ovl_dbspec *s, bool replace, const ovl_out_cols *cols,
                          const char *csv_path) OVL_MUST_USE;

#endif
