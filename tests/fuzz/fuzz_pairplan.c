/* Fuzz target: the conditions part of the aggregate plan
 * (aggregate/pairplan.h) over arbitrary bytes. An accepted plan is canonical:
 * writing it back gives exactly the bytes it was read from, and its shape
 * either builds a circuit or is refused cleanly. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate/pairplan.h"
#include "aggregate/pairrows.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ovl_pc_plan p;
    ovl_buf r, w;
    ovl_buf_reader(&r, data, size);
    if (ovl_pc_plan_read(&p, &r) != OVL_OK)
        return 0;
    if (ovl_buf_alloc(&w, 64, 1 << 16) != OVL_OK)
        abort();
    if (ovl_pc_plan_write(&w, &p) != OVL_OK || w.wpos != r.rpos || memcmp(w.data, data, w.wpos))
        abort();
    ovl_buf_free(&w);
    ovl_pc_shape s;
    if (p.nconds > 0 && p.cap_rows <= 2 && ovl_pc_plan_shape(&s, &p, 2, 2) == OVL_OK) {
        ovl_circuit c;
        if (ovl_circuit_pairs(&c, &s) != OVL_OK)
            abort();
        ovl_circuit_free(&c);
    }
    return 0;
}
