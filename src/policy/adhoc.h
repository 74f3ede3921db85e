/* overlap: the columns of an ad-hoc aggregate (--group-by, --values), of
 * either party (protocols/aggregate/SPEC.md §1).
 *
 * A --group-by item is  [runner:|contributor:]COLUMN  or a truncated date
 * day(...), week(...) or month(...) around one; unqualified, the column is
 * the runner's (as before version 2). A --values item is
 * [runner:|contributor:]COLUMN[:D] with D decimal places (0..18, default 0);
 * unqualified, the contributor's. The prefix is recognised only before a
 * non-empty name: "runner:2" is the runner's column "2". The item strings
 * (without ":D") are what a negotiated request carries, so each owner's
 * verifier reads the same qualification. */
#ifndef OVERLAP_ADHOC_H
#define OVERLAP_ADHOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "policy/template.h"

#define OVL_ADHOC_SIDE_RUNNER 0
#define OVL_ADHOC_SIDE_CONTRIBUTOR 1
#define OVL_ADHOC_MAX_ITEMS 32u  /* per option */
#define OVL_ADHOC_MAX_NAME 128u  /* bytes of a column name (the plan's cap) */

typedef struct {
    int side;        /* OVL_ADHOC_SIDE_* */
    ovl_trunc trunc; /* day(...), week(...), month(...); OVL_TRUNC_NONE: the column */
    char column[OVL_ADHOC_MAX_NAME + 1];
} ovl_adhoc_dim;

typedef struct {
    int side;
    unsigned decimals;
    char column[OVL_ADHOC_MAX_NAME + 1];
} ovl_adhoc_col;

/* One --group-by item; OVL_ERR_USAGE naming the option and what is wrong. */
ovl_err ovl_adhoc_dim_parse(ovl_adhoc_dim *out, const char *item) OVL_MUST_USE;
/* One --values item; with_decimals false: no ":D" suffix is read (the form
 * a request carries, its decimals travelling apart). */
ovl_err ovl_adhoc_col_parse(ovl_adhoc_col *out, const char *item, bool with_decimals) OVL_MUST_USE;

/* An option split at commas into items, none empty or named twice; an
 * empty or NULL option has none. The items are copies, freed by
 * ovl_adhoc_items_free. */
typedef struct {
    char **items;
    size_t n;
} ovl_adhoc_items;
ovl_err ovl_adhoc_split(ovl_adhoc_items *out, const char *option, const char *what) OVL_MUST_USE;
void ovl_adhoc_items_free(ovl_adhoc_items *l);

#endif
