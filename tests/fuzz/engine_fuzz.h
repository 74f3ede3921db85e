/* Drives a transport-free engine (src/core/proto.h) the way the driver does,
 * for the hostile-peer fuzz targets (fuzz_psi, fuzz_cpsi, fuzz_aggregate):
 * the honest peer's HELLO in, then jobs run and frames drained between the
 * fuzzer's frames. An error that is not the peer's fault is a bug: abort. */
#ifndef OVL_ENGINE_FUZZ_H
#define OVL_ENGINE_FUZZ_H

#include <stdbool.h>
#include <stdlib.h>

#include "core/buf.h"
#include "core/frame.h"
#include "core/proto.h"

/* The errors a hostile peer may cause: every other one is the engine's. */
static inline bool ef_peer_fault(ovl_err e)
{
    return e == OVL_ERR_PROTOCOL || e == OVL_ERR_POLICY || e == OVL_ERR_LIMIT;
}

/* Runs every job and drains every frame for up to `rounds` rounds; false
 * once the engine failed with an error `fault` accepts. */
static inline bool ef_pump(const ovl_proto_ops *ops, void *p, ovl_buf *sink, int rounds,
                           bool (*fault)(ovl_err))
{
    for (int round = 0; round < rounds; round++) {
        bool moved = false, have = true;
        ovl_job *j;
        ovl_err e;
        while ((e = ops->job_take(p, &j)) == OVL_OK && j != NULL) {
            j->rc = OVL_OK;
            j->run(j);
            moved = true;
            if ((e = ops->job_finish(p, j)) != OVL_OK)
                break;
        }
        if (e != OVL_OK) {
            if (!fault(e))
                abort();
            return false;
        }
        while (have) {
            ovl_buf_clear(sink);
            if ((e = ops->pull(p, sink, &have)) != OVL_OK) {
                if (!fault(e))
                    abort();
                return false;
            }
            moved |= have;
        }
        if (!moved)
            break;
    }
    return true;
}

/* The honest peer's first frame (its HELLO) into the target. */
static inline void ef_feed_hello(const ovl_proto_ops *ops, void *target, void *honest,
                                 ovl_buf *sink)
{
    bool have = false;
    ovl_buf_clear(sink);
    if (ops->pull(honest, sink, &have) != OVL_OK || !have ||
        ops->feed(target, sink->data[0], sink->data + OVL_FRAME_HDR,
                  sink->wpos - OVL_FRAME_HDR) != OVL_OK)
        abort();
}

/* The fuzzer's next whole frame, while the engine still wants input; false
 * when it does not or the input has no complete frame left. */
static inline bool ef_next_frame(const ovl_proto_ops *ops, const void *p, ovl_buf *in,
                                 uint8_t *type, ovl_buf *payload)
{
    bool complete;
    return ops->wants_input(p) &&
           ovl_frame_parse(in, OVL_FRAME_MAX_PAYLOAD, type, payload, &complete) == OVL_OK &&
           complete;
}

#endif
