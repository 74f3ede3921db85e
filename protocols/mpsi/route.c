/* ROUTE framing (protocols/mpsi/SPEC.md §3.3). */
#include "core/frame.h"
#include "mpsi/route.h"

#include "core/guard.h"

ovl_err ovl_mpsi_route_wrap(ovl_buf *out, unsigned peer, const uint8_t *inner, size_t len)
{
    ovl_err rc = OVL_OK;
    size_t mark;
    OVL_ENSURE(len >= OVL_FRAME_HDR && len - OVL_FRAME_HDR <= OVL_MPSI_ROUTE_MAX_INNER &&
                   peer <= 0xff,
               OVL_ERR_INTERNAL, "mpsi: a frame of %zu bytes cannot be routed", len);
    OVL_TRY(ovl_frame_begin(out, OVL_MPSI_ROUTE, &mark));
    OVL_TRY(ovl_buf_put_u8(out, (uint8_t)peer));
    OVL_TRY(ovl_buf_put_bytes(out, inner, len));
    OVL_TRY(ovl_frame_end(out, mark));
done:
    return rc;
}

ovl_err ovl_mpsi_route_open(const uint8_t *payload, size_t len, unsigned members, unsigned *peer,
                            uint8_t *type, ovl_buf *inner)
{
    ovl_buf r;
    uint8_t p;
    bool complete;
    ovl_buf_reader(&r, payload, len);
    if (ovl_buf_get_u8(&r, &p) != OVL_OK)
        return ovl_err_set(OVL_ERR_MALFORMED, "mpsi: an empty ROUTE frame");
    if (p >= members)
        return ovl_err_set(OVL_ERR_PROTOCOL, "mpsi: a ROUTE for member %u of %u", p, members);
    ovl_err rc = ovl_frame_parse(&r, OVL_MPSI_ROUTE_MAX_INNER, type, inner, &complete);
    if (rc != OVL_OK)
        return rc;
    if (!complete || ovl_buf_remaining(&r) != 0)
        return ovl_err_set(OVL_ERR_MALFORMED, "mpsi: a ROUTE frame that is not one whole frame");
    if (*type == OVL_MPSI_ROUTE)
        return ovl_err_set(OVL_ERR_PROTOCOL, "mpsi: a ROUTE inside a ROUTE");
    *peer = p;
    return OVL_OK;
}

ovl_err ovl_mpsi_route_hub(const uint8_t *payload, size_t len, unsigned members, unsigned from,
                           unsigned *to, uint8_t *type, ovl_buf *inner)
{
    ovl_err rc = ovl_mpsi_route_open(payload, len, members, to, type, inner);
    if (rc != OVL_OK)
        return rc;
    if (*to == 0 || *to == from)
        return ovl_err_set(OVL_ERR_PROTOCOL, "mpsi: member %u routed a frame to member %u", from,
                           *to);
    return OVL_OK;
}
