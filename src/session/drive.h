/* overlap: drives a transport-free protocol engine over a TLS connection,
 * moving frames both ways at once and running its jobs on a worker pool.
 * A session runs several engines in turn over one connection (negotiation,
 * the analysis, co-signatures): bytes read past the end of one engine's part
 * are handed to the next through `rest`. */
#ifndef OVERLAP_DRIVE_H
#define OVERLAP_DRIVE_H

#include <stdio.h>

#include "core/pool.h"
#include "core/proto.h"
#include "net/transport.h"

/* The most a session carries from one engine to the next. */
#define OVL_DRIVE_CARRY_MAX (2u * (OVL_FRAME_HDR + OVL_FRAME_MAX_PAYLOAD) + (512u << 10))

typedef struct {
    int timeout_ms;    /* a peer silent this long while we wait on it fails the run */
    ovl_pool *pool;    /* where jobs run */
    FILE *dump_frames; /* if set, every frame this party sends is appended (auditing) */
    /* Called about once a second with the engine (may be NULL). */
    void (*tick)(void *arg);
    void *tick_arg;
    /* Bytes already read from the connection (e.g. the peer's HELLO, read by
     * a server before it chose the engine); they are parsed first. */
    const uint8_t *preread;
    size_t preread_len;
    /* If set, receives the bytes read but not consumed once the engine is
     * done (the start of the next engine's frames). */
    ovl_buf *rest;
} ovl_drive_opts;

/* Reads exactly one frame (blocking up to timeout_ms) into `frame` (header
 * included), for a server that must see the peer's HELLO before it can pick
 * and configure an engine. */
ovl_err ovl_read_frame(ovl_conn *c, ovl_buf *frame, int timeout_ms) OVL_MUST_USE;

/* Sends the peer an ABORT frame (protocols/common/SPEC.md §4) of category e
 * with `reason`, one line for the peer's operator, best effort and never
 * blocking for long: what ovl_drive does on failure, for a party that stops
 * between engines. Nothing is sent after a closed connection, a TLS failure
 * or a timeout. The current error detail is kept. */
void ovl_drive_abort(ovl_conn *c, ovl_err e, const char *reason);

/* Runs until the protocol is done and every frame is written. On failure the
 * peer is sent an ABORT frame with the one-line reason (best effort). */
ovl_err ovl_drive(ovl_conn *c, const ovl_proto_ops *ops, void *proto,
                  const ovl_drive_opts *o) OVL_MUST_USE;

#endif
