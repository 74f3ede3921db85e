/* Fuzzes the OKVS wire readers (src/mpc/okvs.h): the first two bytes choose
 * the shape the caller expects (keys, words), the rest is the peer's table.
 * Reading must never crash or over-read; the copying reader and the in-place
 * view accept the same tables; an accepted table has exactly the expected
 * shape, decodes any key alike both ways, and writes back to the same bytes,
 * whole or a slice at a time. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "mpc/okvs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t n = data[0] % 64u, w = 1u + data[1] % 4u;
    ovl_buf in, out;
    ovl_okvs o;
    ovl_okvs_view view;
    bool viewed = ovl_okvs_view_init(&view, data + 2, size - 2, n, w) == OVL_OK;
    ovl_buf_reader(&in, data + 2, size - 2);
    if (ovl_okvs_read(&o, &in, n, w) != OVL_OK) {
        if (o.table != NULL || viewed)
            abort();
        return 0;
    }
    if (!viewed)
        abort();
    if (o.rows != ovl_okvs_rows(n) || o.words != w)
        abort();
    ovl_block key = ovl_block_make(size, n);
    uint64_t v[4];
    uint64_t vv[4];
    if (ovl_okvs_decode(&o, v, &key, 1) != OVL_OK ||
        ovl_okvs_view_decode(&view, vv, &key, 1) != OVL_OK || memcmp(v, vv, w * sizeof *v) != 0)
        abort();
    uint8_t *slices = malloc(size - 2 ? size - 2 : 1);
    if (slices == NULL)
        abort();
    for (size_t off = 0; off < size - 2; off += 5)
        ovl_okvs_wire_slice(&o, off, size - 2 - off < 5 ? size - 2 - off : 5, slices + off);
    if (memcmp(slices, data + 2, size - 2) != 0)
        abort();
    free(slices);
    if (ovl_buf_alloc(&out, 64, 1u << 20) != OVL_OK)
        abort();
    if (ovl_okvs_write(&o, &out) != OVL_OK || ovl_buf_len(&out) != size - 2 ||
        memcmp(out.data, data + 2, size - 2) != 0)
        abort();
    ovl_buf_free(&out);
    ovl_okvs_free(&o);
    return 0;
}
