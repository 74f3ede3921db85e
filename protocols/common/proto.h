/* overlap: the interface between a transport-free protocol engine and the
 * driver that moves its frames over a connection.
 *
 * A protocol never touches a socket. The driver feeds it received frames,
 * pulls frames to send, and runs the heavy computations the protocol hands
 * out as jobs, on worker threads. Jobs read only state that is immutable
 * while they are outstanding, so any number may run at once; the protocol
 * learns of their completion through job_finish, on the driver's thread.
 * Tests run two engines against each other in one process with no threads. */
#ifndef OVERLAP_PROTO_H
#define OVERLAP_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/kinds.h"

/* Roles, modes and reveal settings (with their names): core/kinds.h. */

/* A unit of computation. Protocols embed it as the first member of their own
 * job type. `run` must only write memory owned by the job. */
typedef struct ovl_job ovl_job;
struct ovl_job {
    void (*run)(ovl_job *job);
    ovl_job *next; /* used by the driver's queues */
    ovl_err rc;    /* set by run */
    char detail[160];
};

typedef struct {
    /* One complete frame from the peer (type and payload, header removed). */
    ovl_err (*feed)(void *proto, uint8_t type, const uint8_t *payload, size_t len);
    /* Appends the next frame to send (header included), if one is ready. */
    ovl_err (*pull)(void *proto, ovl_buf *out, bool *have);
    /* Hands out the next job, or *job = NULL when there is none right now. */
    ovl_err (*job_take)(void *proto, ovl_job **job);
    /* Takes a job back after it ran. */
    ovl_err (*job_finish)(void *proto, ovl_job *job);
    /* False while the protocol has buffered enough unprocessed input. */
    bool (*wants_input)(const void *proto);
    /* True once everything was sent and received. */
    bool (*done)(const void *proto);
} ovl_proto_ops;

/* Frames: [type u8][length u32][payload]. */
#define OVL_FRAME_HDR 5u
#define OVL_FRAME_MAX_PAYLOAD (1u << 20)

enum {
    OVL_FRAME_ABORT = 0x7f /* u16 error category, u16-prefixed reason text */
};

ovl_err ovl_frame_begin(ovl_buf *out, uint8_t type, size_t *mark) OVL_MUST_USE;
ovl_err ovl_frame_end(ovl_buf *out, size_t mark) OVL_MUST_USE;
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
