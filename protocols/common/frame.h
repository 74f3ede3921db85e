/* overlap: the frame codec every protocol speaks (protocols/common/SPEC.md §2)
 * and the ABORT frame (§4): [type u8][length u32][payload]. */
#ifndef OVERLAP_FRAME_H
#define OVERLAP_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"

#define OVL_FRAME_HDR 5u
#define OVL_FRAME_MAX_PAYLOAD (1u << 20)

enum {
    OVL_FRAME_ABORT = 0x7f /* u16 error category, u16-prefixed reason text */
};

ovl_err ovl_frame_begin(ovl_buf *out, uint8_t type, size_t *mark) OVL_MUST_USE;
ovl_err ovl_frame_end(ovl_buf *out, size_t mark) OVL_MUST_USE;
/* A frame with an empty payload (FINISH). */
ovl_err ovl_frame_empty(ovl_buf *out, uint8_t type) OVL_MUST_USE;
/* Allocates `frame` to hold exactly one batch frame, [u32 count][count
 * entries of `entry` bytes], writes its header and count and points *body at
 * the entries, for a job to fill in later (the bytes are left as allocated). */
ovl_err ovl_frame_batch_new(ovl_buf *frame, uint8_t type, size_t count, size_t entry,
                            uint8_t **body) OVL_MUST_USE;
/* Reads a batch frame's u32 count, which must lie in 1..cap; `what` names the
 * frame in the error. */
ovl_err ovl_frame_read_count(ovl_buf *r, const char *what, uint32_t cap,
                             uint32_t *count) OVL_MUST_USE;
/* Parses one frame from the unread bytes of `in`. *complete is false (and
 * nothing consumed) when more bytes are needed. A length over max_payload
 * fails at once, before the payload arrives. */
ovl_err ovl_frame_parse(ovl_buf *in, size_t max_payload, uint8_t *type, ovl_buf *payload,
                        bool *complete) OVL_MUST_USE;
/* An ABORT frame carrying a one-line reason (never secret; truncated to 200 bytes). */
ovl_err ovl_frame_abort(ovl_buf *out, ovl_err category, const char *reason) OVL_MUST_USE;
/* Decodes an ABORT payload into the error the peer reported. Always returns
 * an error code: the peer's category (mapped to OVL_ERR_POLICY when it is a
 * refusal, else OVL_ERR_PROTOCOL) with detail "peer aborted: <reason>". */
ovl_err ovl_frame_abort_decode(const uint8_t *payload, size_t len);

#endif
