/* overlap: named columns of a party's table as text, one cell per data row
 * in table order (the row numbering of io/load.h's ovl_table_input), for the
 * columns an analysis compares across parties (protocols/aggregate/
 * CONDITIONS.md §3): their cells are parsed by their owner once the plan
 * says what type they are. A NULL cell (a database's NULL, an empty CSV cell
 * after trimming ASCII spaces) has length 0.
 *
 * The session reads them in the loader's one pass (ovl_load_spec.text_cols),
 * so each row's text is the text of the row its identifier and values came
 * from: a second read could not be matched to the first by anything less
 * than the rows themselves (a database query without ORDER BY may return
 * its rows in another order, a file may be edited in between). */
#ifndef OVERLAP_IO_TEXTCOLS_H
#define OVERLAP_IO_TEXTCOLS_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "io/source.h"

#define OVL_TEXT_CELL_MAX 255u /* bytes of one cell kept (a longer cell is an input error) */
#define OVL_TEXT_COLS_MAX 16u

typedef struct {
    size_t nrows, ncols;
    const char **cell; /* ncols × nrows, column c's row r at c·nrows + r (NUL-terminated) */
    uint16_t *len;     /* likewise; 0: NULL */
    uint32_t *line;    /* each row's position as errors name it (a CSV's physical line) */
    char *label;       /* the table as errors name it */
    char *arena;
    size_t arena_len; /* bytes allocated, wiped on free */
} ovl_text_table;

/* Collecting the cells row by row during another reader's pass over a
 * source: bind finds the columns in its header, row copies the current
 * row's cells, finish lays them out column by column into a table. */
typedef struct {
    size_t ncols, idx[OVL_TEXT_COLS_MAX];
    const char *const *cols;
    char *arena;
    size_t len, cap;
    size_t *off; /* rows × ncols offsets into the arena, row-major while reading */
    uint16_t *clen;
    uint32_t *line;
    size_t rows, line_cap, off_cap, clen_cap;
} ovl_text_fill;

/* cols must outlive f. OVL_ERR_INPUT for a column the source lacks. */
ovl_err ovl_text_fill_bind(ovl_text_fill *f, const ovl_source *src, const char *const *cols,
                           size_t ncols) OVL_MUST_USE;
/* Adds the current row. A cell of over OVL_TEXT_CELL_MAX bytes is kept as
 * NULL and the row still added, then OVL_ERR_INPUT naming the table, line
 * and column (never the value): a caller may report it later, in the order
 * of its own errors. */
ovl_err ovl_text_fill_row(ovl_text_fill *f, const ovl_source *src) OVL_MUST_USE;
/* Moves the rows into t (f is then empty; free it either way). */
ovl_err ovl_text_fill_finish(ovl_text_table *t, ovl_text_fill *f,
                             const ovl_source *src) OVL_MUST_USE;
void ovl_text_fill_free(ovl_text_fill *f);

/* Reads `spec` (with `query` for a database backend) once, for these columns
 * alone; OVL_ERR_INPUT naming the table, line and column for a missing
 * column or an overlong cell (never the value). */
ovl_err ovl_text_table_load(ovl_text_table *t, const char *spec, const char *query,
                            const char *const *cols, size_t ncols) OVL_MUST_USE;
void ovl_text_table_free(ovl_text_table *t);

#endif
