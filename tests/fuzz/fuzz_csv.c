/* Fuzz target: the CSV reader, through the table-source seam (io/source.h),
 * over arbitrary bytes. Every record's cells, raw bytes and location are
 * touched so the sanitizers see any out-of-bounds span. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/source.h"
#include "io/table.h"

static uint8_t fuzz_csv_sum(const char *p, size_t len)
{
    uint8_t s = 0;
    for (size_t i = 0; i < len; i++)
        s ^= (uint8_t)p[i];
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ovl_source *s = NULL;
    bool eof = false;
    volatile uint8_t sink = 0;
    const char *p;
    size_t len, idx;
    char at[OVL_SOURCE_WHERE_MAX];
    if (ovl_source_open_csv_mem(&s, "fuzz.csv", data, size) != OVL_OK)
        return 0;
    size_t ncols = ovl_source_ncols(s);
    if (ncols == 0 || ovl_source_colname(s, ncols - 1) == NULL ||
        ovl_source_col(s, ovl_source_colname(s, 0), &idx) != OVL_OK || idx != 0)
        abort(); /* an accepted header always has named, findable columns */
    if (ovl_source_header_csv(s, &p, &len) != OVL_OK)
        abort();
    sink ^= fuzz_csv_sum(p, len);
    while (ovl_source_next(s, &eof) == OVL_OK && !eof) {
        if (ovl_source_row_csv(s, &p, &len) != OVL_OK || len > OVL_CSV_MAX_RECORD ||
            ovl_source_pos(s) == 0)
            abort();
        sink ^= fuzz_csv_sum(p, len);
        ovl_source_where(s, at);
        sink ^= fuzz_csv_sum(at, strlen(at));
        for (size_t i = 0; i <= ncols; i++) {
            ovl_cell c;
            ovl_source_cell(s, i, &c);
            if (c.len > OVL_CSV_MAX_FIELD || (i < ncols) != (c.kind == OVL_CELL_TEXT))
                abort();
            sink ^= fuzz_csv_sum(c.text, c.len);
        }
    }
    (void)sink;
    ovl_source_close(s);
    return 0;
}
