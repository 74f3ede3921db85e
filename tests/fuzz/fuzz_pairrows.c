/* Fuzz target: the day-number parser of conditions across parties
 * (aggregate/pairrows.h) over arbitrary bytes. An accepted date formats back
 * to the same ten bytes, and its condition word with any in-range offset is
 * either a day number or a clean input error. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate/pairrows.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint32_t day = 0;
    char back[11];
    uint64_t w;
    if (ovl_pc_day_parse(&day, (const char *)data, size) != OVL_OK)
        return 0;
    if (day > OVL_PC_LAST_DAY || size != 10)
        abort();
    ovl_pc_day_format(back, day);
    if (memcmp(back, data, 10) != 0)
        abort();
    int32_t off = (int32_t)(day % (2 * OVL_PC_MAX_OFFSET + 1)) - OVL_PC_MAX_OFFSET;
    ovl_err rc = ovl_pc_word_date(&w, day, off);
    if (rc == OVL_OK ? w > OVL_PC_LAST_DAY || (int64_t)w != (int64_t)day + off
                     : rc != OVL_ERR_INPUT)
        abort();
    return 0;
}
