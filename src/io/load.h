/* overlap: one pass over a party's table (source.h) yielding everything an
 * analysis reads from it: the join column's identifiers, the rows a filter
 * keeps, the value columns' numbers, the group-by keys and the columns read
 * as text. Nothing is read
 * twice and no caller opens the table itself. */
#ifndef OVERLAP_LOAD_H
#define OVERLAP_LOAD_H

#include <stdbool.h>
#include <stddef.h>

#include <sodium.h>

#include "core/error.h"
#include "io/columns.h"
#include "io/datetrunc.h"
#include "io/source.h"
#include "io/table.h"
#include "io/textcols.h"

/* Decides whether a data row takes part (an analysis's WHERE clause, run
 * locally before anything is blinded). bind resolves its columns in the
 * header once; keep judges the current row. keep == NULL: every row. */
typedef struct {
    ovl_err (*bind)(void *arg, const ovl_source *src);
    ovl_err (*keep)(void *arg, const ovl_source *src, bool *keep);
    void *arg;
} ovl_row_filter;

typedef struct {
    const char *query; /* a database backend's row selection; NULL for files */
    const char *join;  /* the join column (required) */
    ovl_norm norm;
    bool prehashed;
    ovl_row_filter filter;
    /* Value columns parsed on kept rows; a column whose decimals are
     * OVL_DECIMALS_AUTO gets them from the cells and they are written back. */
    ovl_value_col *values;
    size_t nvalues;
    /* Value cells that are empty (after trimming ASCII spaces) are NULL,
     * as a database's NULL is (values.nulls); otherwise they are not numbers.
     * counted_only[c], when given, reads column c for its NULLs alone (an
     * aggregate's COUNT(col)): any other cell counts, number or not. */
    bool empty_is_null;
    const uint8_t *counted_only;
    /* Group-by columns of kept rows (groups are built when `groups` is set,
     * with no columns: one group). group_trunc[g], when given, truncates
     * column g's dates (io/datetrunc.h) before they form the group. */
    char *const *group_by;
    const uint8_t *group_trunc;
    size_t ngroup_by;
    bool groups;
    /* Columns read as text on every data row, kept or not (io/textcols.h),
     * in this same pass: the text of row r is the text of the row whose
     * identifier is ids.row_ids[r]. An overlong cell is a value error. */
    const char *const *text_cols;
    size_t ntext_cols;
    /* Digest every data row's join cell (ids.rows_digest) for a second read
     * of the matched rows (ovl_table_write_matched); only that caller pays. */
    bool rows_digest;
} ovl_load_spec;

typedef struct {
    ovl_idtable ids;
    ovl_value_table values; /* nvalues > 0 */
    ovl_group_table groups; /* spec.groups */
    ovl_text_table text;    /* ntext_cols > 0 */
} ovl_table_input;

/* Errors: the table's own (cannot open: OVL_ERR_IO; malformed, missing
 * column, a value that is not a number: OVL_ERR_INPUT naming "file:line" and
 * the column, never the value), in the order a reader meets them, a table's
 * structure first. */
ovl_err ovl_table_load(ovl_table_input *in, const char *spec,
                       const ovl_load_spec *want) OVL_MUST_USE;
void ovl_table_input_free(ovl_table_input *in);

/* The digest both reads of a table compute (ovl_idtable.rows_digest): the
 * join column's name, then each data row's join cell as read (kind, length,
 * bytes). */
void ovl_rows_digest_init(crypto_generichash_state *st, const ovl_source *src, size_t join_col);
void ovl_rows_digest_add(crypto_generichash_state *st, const ovl_cell *join);

/* Writes the header and, in table order, the rows of `spec` whose identifier
 * is matched[ovl_idtable_find(ids, ...)], each as one CSV record (a CSV
 * table's own bytes) ending in "\n". The table is read a second time, so it
 * must still hold the rows `ids` was loaded from, in the same order (the
 * digest of their join cells, ids->rows_digest): OVL_ERR_INPUT otherwise,
 * "<table>: changed between its two reads ...", and the caller discards what
 * was written. */
ovl_err ovl_table_write_matched(ovl_outfile *out, const char *spec, const char *query,
                                const ovl_idtable *ids, const bool *matched) OVL_MUST_USE;

#endif
