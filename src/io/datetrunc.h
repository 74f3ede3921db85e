/* overlap: DATE_TRUNC of a date cell, computed by the column's owner
 * (protocols/aggregate/SPEC.md §1, §5.2): the first day of the cell's day,
 * ISO week (Monday) or month, written YYYY-MM-DD. */
#ifndef OVERLAP_DATETRUNC_H
#define OVERLAP_DATETRUNC_H

#include <stddef.h>

#include "core/error.h"

/* The values are the aggregate plan's (SPEC §4.1). */
typedef enum {
    OVL_TRUNC_NONE = 0,
    OVL_TRUNC_DAY = 1,
    OVL_TRUNC_WEEK = 2,
    OVL_TRUNC_MONTH = 3
} ovl_trunc;

#define OVL_DATE_LEN 10u /* YYYY-MM-DD */

/* The period's first day of the date in s[0..len) (YYYY-MM-DD, years 0000 to
 * 9999, ASCII spaces and tabs around it ignored). OVL_ERR_INPUT with the
 * reason, never the value, when it is not such a date. out holds
 * OVL_DATE_LEN + 1 bytes. */
ovl_err ovl_date_trunc(char out[static OVL_DATE_LEN + 1], ovl_trunc unit, const char *s,
                       size_t len) OVL_MUST_USE;

#endif
