/* Fuzzes the OKVS wire reader (src/mpc/okvs.h): the first two bytes choose
 * the shape the caller expects (keys, words), the rest is the peer's table.
 * Reading must never crash or over-read; an accepted table has exactly the
 * expected shape, decodes any key, and writes back to the same bytes. */
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
    ovl_buf_reader(&in, data + 2, size - 2);
    if (ovl_okvs_read(&o, &in, n, w) != OVL_OK) {
        if (o.table != NULL)
            abort();
        return 0;
    }
    if (o.rows != ovl_okvs_rows(n) || o.words != w)
        abort();
    ovl_block key = ovl_block_make(size, n);
    uint64_t v[4];
    if (ovl_okvs_decode(&o, v, &key, 1) != OVL_OK)
        abort();
    if (ovl_buf_alloc(&out, 64, 1u << 20) != OVL_OK)
        abort();
    if (ovl_okvs_write(&o, &out) != OVL_OK || ovl_buf_len(&out) != size - 2 ||
        memcmp(out.data, data + 2, size - 2) != 0)
        abort();
    ovl_buf_free(&out);
    ovl_okvs_free(&o);
    return 0;
}
