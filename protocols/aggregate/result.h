/* overlap: the receiver's output rows of aggregates version 2
 * (protocols/aggregate/SPEC.md §8.4), from the plan and the released
 * cells (agg2.h), as text fields ready for a CSV writer.
 *
 * Columns: the plan's outputs in order, a bare dimension output giving that
 * dimension's value; a plan without dimension outputs gets its dimensions
 * first (named by their columns). Values:
 *   COUNT(DISTINCT), COUNT(*), COUNT(col), integer literals: integers;
 *   SUM(col): exactly, with the column's decimals;
 *   AVG(col) = SUM / COUNT(col), rounded half to even to decimals + 4 digits;
 *   an expression is evaluated on the exact values (rationals); with a '/'
 *   anywhere in it, the result is rounded half to even to 6 fractional
 *   digits, otherwise to its natural digits (the larger of the operands' for
 *   + and -, their sum for *, AVG counting decimals + 4);
 *   NULL, an empty field: SUM or AVG of a column with COUNT(col) = 0,
 *   NULLIF(x, 0) of a zero, a division by zero (as SQLite), and any
 *   arithmetic on a NULL.
 * Rows are sorted by (runner label, contributor label) bytes. A value the
 * exact arithmetic cannot hold in 128 bits is OVL_ERR_LIMIT naming the
 * output; a label that does not parse as §5.2 says is OVL_ERR_PROTOCOL. */
#ifndef OVL_PROTOCOLS_AGGREGATE_RESULT_H
#define OVL_PROTOCOLS_AGGREGATE_RESULT_H

#include <stddef.h>

#include "aggregate/agg2.h"
#include "aggregate/plan.h"
#include "core/error.h"

typedef struct {
    size_t nrows, ncols;
    char **header; /* ncols column names */
    char **fields; /* nrows × ncols NUL-terminated values; "" is NULL */
} ovl_agg2_result;

ovl_err ovl_agg2_result_build(ovl_agg2_result *out, const ovl_agg2_plan *plan,
                              const ovl_agg2_cell *cells, size_t n) OVL_MUST_USE;
static inline const char *ovl_agg2_result_field(const ovl_agg2_result *r, size_t row, size_t col)
{
    return r->fields[row * r->ncols + col];
}
/* Wipes (released values are the receiver's output, not logs) and frees. */
void ovl_agg2_result_free(ovl_agg2_result *r);

#endif
