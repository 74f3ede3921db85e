/* The hub's relay framing of multi-party PSI (protocols/mpsi/SPEC.md §3.3):
 * a frame between two members that are not the hub travels as a ROUTE frame
 * on each member's connection to the hub, naming the destination on the way
 * in and the source on the way out. Transport-free, like the engine. */
#ifndef OVL_PROTOCOLS_MPSI_ROUTE_H
#define OVL_PROTOCOLS_MPSI_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/frame.h"

#define OVL_MPSI_ROUTE 0x30
/* The largest inner payload a ROUTE can carry within one frame. */
#define OVL_MPSI_ROUTE_MAX_INNER (OVL_FRAME_MAX_PAYLOAD - 1u - OVL_FRAME_HDR)

/* Appends ROUTE(peer, inner) where inner is one whole frame, header included. */
ovl_err ovl_mpsi_route_wrap(ovl_buf *out, unsigned peer, const uint8_t *inner,
                            size_t len) OVL_MUST_USE;
/* Parses a ROUTE payload from a run of `members`: *peer (checked < members)
 * and the inner frame, which must be exactly one complete frame; *inner
 * points into payload. */
ovl_err ovl_mpsi_route_open(const uint8_t *payload, size_t len, unsigned members, unsigned *peer,
                            uint8_t *type, ovl_buf *inner) OVL_MUST_USE;

/* Where the hub sends a frame that member `from` sent: ROUTE to member j is
 * forwarded to j (*forward = true, *to = j); anything else is for the hub's
 * own engine. A ROUTE naming the hub or its sender is a violation. */
ovl_err ovl_mpsi_route_hub(const uint8_t *payload, size_t len, unsigned members, unsigned from,
                           unsigned *to, uint8_t *type, ovl_buf *inner) OVL_MUST_USE;

#endif
