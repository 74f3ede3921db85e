/* overlap: the interface between a transport-free protocol engine and the
 * driver that moves its frames over a connection.
 *
 * A protocol never touches a socket. The driver feeds it received frames,
 * pulls frames to send, and runs the heavy computations the protocol hands
 * out as jobs, on worker threads. Jobs read only state that is immutable
 * while they are outstanding, so any number may run at once; the protocol
 * learns of their completion through job_finish, on the driver's thread.
 * Tests run two engines against each other in one process with no threads.
 * protocols/common/SPEC.md §6 states the contract; common/engine.h holds
 * the parts every engine shares. */
#ifndef OVERLAP_PROTO_H
#define OVERLAP_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/job.h"
#include "core/kinds.h"
#include "core/frame.h"

/* Roles, modes and reveal settings (with their names): core/kinds.h. */

typedef struct {
    /* One complete frame from the peer (type and payload, header removed). */
    ovl_err (*feed)(void *proto, uint8_t type, const uint8_t *payload, size_t len);
    /* Appends the next frame to send (header included), if one is ready. An
     * empty answer may come once while work is still due (SPEC §6.1,
     * "Turns"): the driver calls again on its next turn. */
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

#endif
