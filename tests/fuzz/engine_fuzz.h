/* Drives a transport-free engine (src/core/proto.h) the way the driver does,
 * for the hostile-peer fuzz targets (fuzz_psi, fuzz_cpsi, fuzz_agg2, fuzz_agg2_core):
 * the honest peer's HELLO in, then jobs run and frames drained between the
 * fuzzer's frames. An error that is not the peer's fault is a bug: abort. */
#ifndef OVL_ENGINE_FUZZ_H
#define OVL_ENGINE_FUZZ_H

#include <stdbool.h>
#include <stdlib.h>

#include "core/buf.h"
#include "core/frame.h"
#include "core/proto.h"
#include "crypto/group.h"

/* libFuzzer calls a target once an input: initialise the crypto once. */
static inline void ef_crypto_once(void)
{
    static bool ready;
    if (!ready) {
        if (ovl_crypto_init() != OVL_OK)
            abort();
        ready = true;
    }
}

/* The errors a hostile peer may cause: every other one is the engine's. */
static inline bool ef_peer_fault(ovl_err e)
{
    return e == OVL_ERR_PROTOCOL || e == OVL_ERR_POLICY || e == OVL_ERR_LIMIT;
}

/* The looser test of fuzz_cpsi, fuzz_agg2 and fuzz_agg2_core: any error
 * but an internal or a usage one (which only the engine or its caller can
 * cause) may be the peer's. */
static inline bool ef_any_peer_fault(ovl_err e)
{
    return e != OVL_ERR_INTERNAL && e != OVL_ERR_USAGE && e != OVL_OK;
}

/* Runs every job and drains every frame for up to `rounds` rounds, each
 * frame appended to `keep` when given (an outbox to deliver later); false
 * once the engine failed with an error `fault` accepts. */
static inline bool ef_pump_into(const ovl_proto_ops *ops, void *p, ovl_buf *sink, int rounds,
                                bool (*fault)(ovl_err), ovl_buf *keep)
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
            if (have && keep != NULL && ovl_buf_put_bytes(keep, sink->data, sink->wpos) != OVL_OK)
                abort();
            moved |= have;
        }
        if (!moved)
            break;
    }
    return true;
}

static inline bool ef_pump(const ovl_proto_ops *ops, void *p, ovl_buf *sink, int rounds,
                           bool (*fault)(ovl_err))
{
    return ef_pump_into(ops, p, sink, rounds, fault, NULL);
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

/* Feeds the fuzzer's frames from `in` one by one, running jobs and draining
 * output between them as the driver does. An error must be one `fault`
 * accepts, and then the engine stays failed: the next frame is refused and
 * `has_output` says it has none. */
static inline void ef_feed_frames(const ovl_proto_ops *ops, void *p, ovl_buf *in, ovl_buf *sink,
                                  bool (*fault)(ovl_err), bool (*has_output)(void *))
{
    uint8_t type;
    ovl_buf payload;
    bool alive = ef_pump(ops, p, sink, 64, fault);
    while (alive && ef_next_frame(ops, p, in, &type, &payload)) {
        ovl_err e = ops->feed(p, type, ovl_buf_rptr(&payload), ovl_buf_remaining(&payload));
        if (e != OVL_OK) {
            if (!fault(e))
                abort();
            if (ops->feed(p, type, NULL, 0) == OVL_OK || has_output(p))
                abort();
            return;
        }
        alive = ef_pump(ops, p, sink, 64, fault);
    }
}

/* One input against `target`: the honest peer's HELLO, then the fuzzer's
 * frames from data (ef_feed_frames). */
static inline void ef_run(const ovl_proto_ops *ops, void *target, void *honest,
                          const uint8_t *data, size_t size, bool (*fault)(ovl_err),
                          bool (*has_output)(void *))
{
    ovl_buf sink, in;
    if (ovl_buf_alloc(&sink, 4096, (size_t)8 << 20) != OVL_OK)
        abort();
    ef_feed_hello(ops, target, honest, &sink);
    ovl_buf_reader(&in, data, size);
    ef_feed_frames(ops, target, &in, &sink, fault, has_output);
    ovl_buf_free(&sink);
}

#endif
