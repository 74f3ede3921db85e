#include <stdio.h>
#include <string.h>

#include "core/guard.h"
#include "common/frame.h"

ovl_err ovl_frame_begin(ovl_buf *out, uint8_t type, size_t *mark)
{
    ovl_err rc = ovl_buf_put_u8(out, type);
    if (rc == OVL_OK)
        rc = ovl_buf_begin_len32(out, mark);
    return rc;
}

ovl_err ovl_frame_end(ovl_buf *out, size_t mark)
{
    if (out->wpos - mark - 4 > OVL_FRAME_MAX_PAYLOAD)
        return ovl_err_set(OVL_ERR_INTERNAL, "frame payload of %zu bytes exceeds the frame cap",
                           out->wpos - mark - 4);
    return ovl_buf_end_len32(out, mark);
}

ovl_err ovl_frame_empty(ovl_buf *out, uint8_t type)
{
    size_t mark;
    ovl_err rc = ovl_frame_begin(out, type, &mark);
    return rc == OVL_OK ? ovl_frame_end(out, mark) : rc;
}

ovl_err ovl_frame_batch_new(ovl_buf *frame, uint8_t type, size_t count, size_t entry,
                            uint8_t **body)
{
    ovl_err rc = OVL_OK;
    size_t size = OVL_FRAME_HDR + 4 + count * entry, mark;
    OVL_TRY(ovl_buf_alloc(frame, size, size));
    OVL_TRY(ovl_frame_begin(frame, type, &mark));
    OVL_TRY(ovl_buf_put_u32(frame, (uint32_t)count));
    OVL_TRY(ovl_buf_reserve(frame, count * entry, body));
    OVL_TRY(ovl_frame_end(frame, mark));
done:
    return rc;
}

ovl_err ovl_frame_read_count(ovl_buf *r, const char *what, uint32_t cap, uint32_t *count)
{
    if (ovl_buf_get_u32(r, count) != OVL_OK)
        return ovl_err_set(OVL_ERR_PROTOCOL, "malformed %s frame from the peer", what);
    if (*count == 0 || *count > cap)
        return ovl_err_set(OVL_ERR_PROTOCOL, "the peer sent a %s frame with %u entries (1..%u allowed)",
                           what, *count, cap);
    return OVL_OK;
}

ovl_err ovl_frame_parse(ovl_buf *in, size_t max_payload, uint8_t *type, ovl_buf *payload,
                        bool *complete)
{
    *complete = false;
    if (ovl_buf_remaining(in) < OVL_FRAME_HDR)
        return OVL_OK;
    const uint8_t *h = ovl_buf_rptr(in);
    uint32_t len = (uint32_t)h[1] << 24 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 8 | h[4];
    if (len > max_payload)
        return ovl_err_set(OVL_ERR_LIMIT, "peer announced a %u-byte frame (type 0x%02x), cap is %zu",
                           len, h[0], max_payload);
    if (ovl_buf_remaining(in) - OVL_FRAME_HDR < len)
        return OVL_OK;
    *type = h[0];
    ovl_err rc = ovl_buf_skip(in, OVL_FRAME_HDR);
    if (rc == OVL_OK)
        rc = ovl_buf_get_sub(in, len, payload);
    if (rc == OVL_OK)
        *complete = true;
    return rc;
}

ovl_err ovl_frame_abort(ovl_buf *out, ovl_err category, const char *reason)
{
    ovl_err rc = OVL_OK;
    size_t mark, lmark;
    size_t n = strnlen(reason, 200);
    OVL_TRY(ovl_frame_begin(out, OVL_FRAME_ABORT, &mark));
    OVL_TRY(ovl_buf_put_u16(out, (uint16_t)category));
    OVL_TRY(ovl_buf_begin_len16(out, &lmark));
    OVL_TRY(ovl_buf_put_bytes(out, reason, n));
    OVL_TRY(ovl_buf_end_len16(out, lmark));
    OVL_TRY(ovl_frame_end(out, mark));
done:
    return rc;
}

ovl_err ovl_frame_abort_decode(const uint8_t *payload, size_t len)
{
    ovl_buf r, text;
    uint16_t cat = 0;
    char reason[201];
    ovl_buf_reader(&r, payload, len);
    if (ovl_buf_get_u16(&r, &cat) != OVL_OK || ovl_buf_get_sub16(&r, 200, &text) != OVL_OK ||
        ovl_buf_expect_end(&r) != OVL_OK)
        return ovl_err_set(OVL_ERR_PROTOCOL, "peer aborted with a malformed reason");
    size_t n = ovl_buf_remaining(&text);
    /* The reason is shown to the operator: keep printable ASCII only. */
    for (size_t i = 0; i < n; i++) {
        uint8_t c = ovl_buf_rptr(&text)[i];
        reason[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    reason[n] = '\0';
    ovl_err e = cat == OVL_ERR_POLICY ? OVL_ERR_POLICY : OVL_ERR_PROTOCOL;
    return ovl_err_set(e, "peer aborted: %s", n ? reason : "no reason given");
}
