/* overlap: named columns of a party's table as text, one cell per data row
 * in table order (the row numbering of io/load.h's ovl_table_input), for the
 * columns an analysis compares across parties (protocols/aggregate/
 * CONDITIONS.md §3): their cells are parsed by their owner once the plan
 * says what type they are. A NULL cell (a database's NULL, an empty CSV cell
 * after trimming ASCII spaces) has length 0. */
#ifndef OVERLAP_IO_TEXTCOLS_H
#define OVERLAP_IO_TEXTCOLS_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define OVL_TEXT_CELL_MAX 255u /* bytes of one cell kept (a longer cell is an input error) */
#define OVL_TEXT_COLS_MAX 16u

typedef struct {
    size_t nrows, ncols;
    const char **cell; /* ncols × nrows, column c's row r at c·nrows + r (NUL-terminated) */
    uint16_t *len;     /* likewise; 0: NULL */
    uint32_t *line;    /* each row's position as errors name it (a CSV's physical line) */
    char *label;       /* the table as errors name it */
    char *arena;
} ovl_text_table;

/* Reads `spec` (with `query` for a database backend) once; OVL_ERR_INPUT
 * naming the table, line and column for a missing column or an overlong
 * cell (never the value). */
ovl_err ovl_text_table_load(ovl_text_table *t, const char *spec, const char *query,
                            const char *const *cols, size_t ncols) OVL_MUST_USE;
void ovl_text_table_free(ovl_text_table *t);

#endif
