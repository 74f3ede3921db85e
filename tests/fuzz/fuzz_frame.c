/* Fuzzes the frame decoder: arbitrary bytes as they arrive from the peer,
 * split into frames by ovl_frame_parse under a cap picked by the first byte,
 * every ABORT payload through ovl_frame_abort_decode. The decoder must
 * consume exactly header + announced length, never read past the input, and
 * an abort must always decode to an error with a printable one-line detail. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "common/frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_abort(const uint8_t *payload, size_t len)
{
    ovl_err e = ovl_frame_abort_decode(payload, len);
    if (e != OVL_ERR_PROTOCOL && e != OVL_ERR_POLICY)
        abort();
    for (const char *d = ovl_err_detail(); *d; d++)
        if ((unsigned char)*d < 0x20 || (unsigned char)*d >= 0x7f)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t caps[4] = {0, 16, 4096, OVL_FRAME_MAX_PAYLOAD};
    ovl_buf in;
    if (size < 1)
        return 0;
    size_t cap = caps[data[0] & 3];
    ovl_buf_reader(&in, data + 1, size - 1);
    for (;;) {
        uint8_t type = 0;
        ovl_buf payload;
        bool complete = true;
        size_t before = in.rpos;
        ovl_err rc = ovl_frame_parse(&in, cap, &type, &payload, &complete);
        if (rc != OVL_OK) {
            if (rc != OVL_ERR_LIMIT || in.rpos != before)
                abort();
            break;
        }
        if (!complete) {
            if (in.rpos != before)
                abort();
            break;
        }
        size_t len = ovl_buf_remaining(&payload);
        if (len > cap || in.rpos != before + OVL_FRAME_HDR + len ||
            ovl_buf_rptr(&payload) != data + 1 + before + OVL_FRAME_HDR)
            abort();
        if (type == OVL_FRAME_ABORT)
            check_abort(ovl_buf_rptr(&payload), len);
    }
    /* Every payload is also tried as an abort reason, framed or not. */
    check_abort(data + 1, size - 1);
    return 0;
}
