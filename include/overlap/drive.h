/* overlap: drives a transport-free protocol engine over a TLS connection,
 * moving frames both ways at once and running its jobs on a worker pool. */
#ifndef OVERLAP_DRIVE_H
#define OVERLAP_DRIVE_H

#include <stdio.h>

#include "overlap/pool.h"
#include "overlap/proto.h"
#include "overlap/transport.h"

typedef struct {
    int timeout_ms;    /* a peer silent this long while we wait on it fails the run */
    ovl_pool *pool;    /* where jobs run */
    FILE *dump_frames; /* if set, every frame this party sends is appended (auditing) */
    /* Called about once a second with the engine (may be NULL). */
    void (*tick)(void *arg);
    void *tick_arg;
} ovl_drive_opts;

/* Runs until the protocol is done and every frame is written. On failure the
 * peer is sent an ABORT frame with the one-line reason (best effort). */
ovl_err ovl_drive(ovl_conn *c, const ovl_proto_ops *ops, void *proto,
                  const ovl_drive_opts *o) OVL_MUST_USE;

#endif
