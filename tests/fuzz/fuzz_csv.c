/* Fuzz target: the CSV reader over arbitrary bytes. Every record's fields and
 * raw bytes are touched so the sanitizers see any out-of-bounds span. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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
    ovl_csv *c = NULL;
    bool eof = false;
    volatile uint8_t sink = 0;
    const char *p;
    size_t len, idx;
    if (ovl_csv_open_mem(&c, "fuzz.csv", data, size) != OVL_OK)
        return 0;
    size_t ncols = ovl_csv_ncols(c);
    if (ncols == 0 || ovl_csv_colname(c, ncols - 1) == NULL ||
        ovl_csv_col(c, ovl_csv_colname(c, 0), &idx) != OVL_OK || idx != 0)
        abort(); /* an accepted header always has named, findable columns */
    ovl_csv_raw_header(c, &p, &len);
    sink ^= fuzz_csv_sum(p, len);
    while (ovl_csv_next(c, &eof) == OVL_OK && !eof) {
        ovl_csv_raw(c, &p, &len);
        if (len > OVL_CSV_MAX_RECORD || ovl_csv_line(c) == 0)
            abort();
        sink ^= fuzz_csv_sum(p, len);
        for (size_t i = 0; i <= ncols; i++) {
            ovl_csv_field(c, i, &p, &len);
            if (len > OVL_CSV_MAX_FIELD)
                abort();
            sink ^= fuzz_csv_sum(p, len);
        }
    }
    (void)sink;
    ovl_csv_close(c);
    return 0;
}
