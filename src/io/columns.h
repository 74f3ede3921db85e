/* overlap: the analysis columns of an aggregate (protocols/aggregate/SPEC.md):
 * the runner's group-by columns and the contributor's numeric value columns,
 * read per row in the same pass as the join column (load.h).
 *
 * Values are exact: a column declared with d decimals holds fixed-point
 * numbers stored as int64 in units of 10^-d ("12.5" with d = 2 is 1250). */
#ifndef OVERLAP_COLUMNS_H
#define OVERLAP_COLUMNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "io/table.h"

#define OVL_VALUE_COLS_MAX 16u    /* value columns per analysis */
#define OVL_GROUP_BY_MAX 16u      /* group-by columns per analysis */
#define OVL_DECIMALS_MAX 18u      /* decimal places of a value column */
#define OVL_COL_NAME_MAX 255u     /* bytes of a column name stated in the session setup */
#define OVL_DECIMAL_STR_MAX 64u   /* longest formatted number, NUL included */

typedef struct {
    char *name;
    unsigned decimals;
} ovl_value_col;

/* As a value column's decimals asked of the loader: the most any cell of the
 * column shows (ovl_decimals_shown over every data row). */
#define OVL_DECIMALS_AUTO UINT32_MAX

/* Parses "--values" syntax: "amount:2,count" (decimals default to 0).
 * Names are non-empty, at most OVL_COL_NAME_MAX bytes, distinct. */
ovl_err ovl_value_cols_parse(ovl_value_col **cols, size_t *n, const char *arg) OVL_MUST_USE;
void ovl_value_cols_free(ovl_value_col *cols, size_t n);
/* Parses "--group-by" syntax: "a,b" (an empty string: no columns). */
ovl_err ovl_col_names_parse(char ***names, size_t *n, const char *arg) OVL_MUST_USE;
void ovl_col_names_free(char **names, size_t n);

/* An optionally signed decimal ("-12.50", "+3", "7"; ASCII spaces around it
 * are ignored) with at most `decimals` fractional digits (further digits must
 * be zeros), scaled by 10^decimals. OVL_ERR_INPUT with the reason (never the
 * value) when it is not such a number or does not fit int64. */
ovl_err ovl_decimal_parse(int64_t *out, const char *s, size_t len, unsigned decimals) OVL_MUST_USE;
/* Decimal places a cell shows: digits after its first '.', trailing spaces
 * and tabs not counted, at most OVL_DECIMALS_MAX. */
unsigned ovl_decimals_shown(const char *p, size_t len);
/* v / 10^decimals written exactly ("-0.05"). out holds OVL_DECIMAL_STR_MAX. */
void ovl_decimal_format(char *out, int64_t v, unsigned decimals);
/* (num / 10^decimals) / den with decimals + extra fractional digits, rounded
 * half to even, exactly (den >= 1). out holds OVL_DECIMAL_STR_MAX. */
void ovl_decimal_format_ratio(char *out, int64_t num, uint64_t den, unsigned decimals,
                              unsigned extra);

/* Value cells per data row (rows whose join value was skipped are not read
 * and hold 0): cells[row * ncols + c]; nulls[row * ncols + c] is 1 for a
 * NULL cell (which holds 0). */
typedef struct {
    int64_t *cells;
    uint8_t *nulls;
    size_t nrows, ncols;
} ovl_value_table;

void ovl_value_table_free(ovl_value_table *t);

/* Per distinct identifier of `ids`: the row count, then the sum of each value
 * column of `vt` (nids * (1 + ncols) entries, caller frees). Refuses sums
 * that overflow 64 bits. */
ovl_err ovl_value_vectors(int64_t **out, const ovl_value_table *vt, const ovl_value_col *cols,
                          const ovl_idtable *ids) OVL_MUST_USE;

/* The group of every data row and the distinct groups, sorted by their
 * dimension values (field by field, bytewise). */
typedef struct {
    uint32_t *row_group; /* per data row; UINT32_MAX for rows `ids` skipped */
    size_t nrows;
    size_t ngroups, ncols;
    char **keys; /* ngroups * ncols NUL-terminated dimension values */
} ovl_group_table;

/* With no columns every kept row belongs to one group. */
void ovl_group_table_free(ovl_group_table *t);
static inline const char *ovl_group_key(const ovl_group_table *t, size_t g, size_t c)
{
    return t->keys[g * t->ncols + c];
}

#endif
