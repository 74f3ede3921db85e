/* Fuzzes the hub's ROUTE parser (protocols/mpsi/route.h): the first byte is
 * the sending member, the rest a ROUTE payload of a 10-member run. Parsing
 * must never crash or over-read; an accepted frame names another non-hub
 * member and its inner frame, rewrapped, parses back to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/frame.h"
#include "mpsi/route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned from = 1u + data[0] % 9u, to;
    uint8_t type, t2;
    ovl_buf inner, in2, w;
    if (ovl_mpsi_route_hub(data + 1, size - 1, 10, from, &to, &type, &inner) != OVL_OK)
        return 0;
    if (to == 0 || to == from || to >= 10 || type == OVL_MPSI_ROUTE)
        abort();
    size_t il = ovl_buf_remaining(&inner) + OVL_FRAME_HDR;
    if (ovl_buf_alloc(&w, 64, OVL_FRAME_HDR + OVL_FRAME_MAX_PAYLOAD) != OVL_OK ||
        ovl_mpsi_route_wrap(&w, from, ovl_buf_rptr(&inner) - OVL_FRAME_HDR, il) != OVL_OK ||
        ovl_mpsi_route_open(w.data + OVL_FRAME_HDR, w.wpos - OVL_FRAME_HDR, 10, &to, &t2, &in2) !=
            OVL_OK ||
        to != from || t2 != type || ovl_buf_remaining(&in2) != ovl_buf_remaining(&inner) ||
        memcmp(ovl_buf_rptr(&in2), ovl_buf_rptr(&inner), ovl_buf_remaining(&inner)) != 0)
        abort();
    ovl_buf_free(&w);
    return 0;
}
