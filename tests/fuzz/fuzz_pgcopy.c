/* Fuzz target: rows of PostgreSQL's COPY text format as the server would
 * send them (io/pg_copy.c), into 1..8 typed cells: every cell stays inside
 * the row, and a cell typed INT, NUMERIC or DATE reads as one. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/dbconn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const ovl_cell_kind kinds[] = {OVL_CELL_TEXT, OVL_CELL_INT, OVL_CELL_NUMERIC,
                                          OVL_CELL_DATE, OVL_CELL_TEXT, OVL_CELL_INT,
                                          OVL_CELL_NUMERIC, OVL_CELL_DATE};
    ovl_cell cells[8];
    if (size < 1)
        return 0;
    size_t ncols = 1 + data[0] % 8;
    char *line = malloc(size);
    if (line == NULL)
        return 0;
    memcpy(line, data + 1, size - 1);
    if (ovl_pg_copy_row(cells, kinds, ncols, line, size - 1)) {
        for (size_t i = 0; i < ncols; i++) {
            const ovl_cell *c = &cells[i];
            if (c->kind == OVL_CELL_NULL)
                continue;
            if (c->text < line || c->text + c->len > line + size - 1)
                abort();
            if ((c->kind == OVL_CELL_INT || c->kind == OVL_CELL_NUMERIC) &&
                !ovl_db_text_is_decimal(c->text, c->len))
                abort();
            if (c->kind == OVL_CELL_DATE && !ovl_db_text_is_date(c->text, c->len))
                abort();
        }
    }
    free(line);
    return 0;
}
