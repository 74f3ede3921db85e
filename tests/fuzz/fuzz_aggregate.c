/* Fuzzes the aggregate engine as a hostile peer would: after a valid HELLO
 * from an honest seeded peer, the input's frames are fed one by one, with the
 * engine's jobs run and its output drained between frames as the driver
 * does. Nothing may crash or leak; every error must name the peer's fault;
 * a failed session stays failed. Input layout: tests/fuzz/agg_fuzz.h. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sanitizer/lsan_interface.h>

#include "agg_fuzz.h"
#include "core/buf.h"
#include "crypto/group.h"
#include "engine_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool check(ovl_err e)
{
    if (e != OVL_OK && !ef_peer_fault(e))
        abort();
    return e == OVL_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static af_world w;
    static bool ready;
    if (!ready) {
        if (ovl_crypto_init() != OVL_OK)
            abort();
        /* The key lives for the whole process inside sodium_malloc memory,
         * which LeakSanitizer does not scan: its tables are not leaks. */
        __lsan_disable();
        af_world_init(&w);
        __lsan_enable();
        ready = true;
    }
    if (size < 1)
        return 0;
    bool contributor = data[0] & 1;
    ovl_agg *target = af_engine(&w, contributor), *honest = af_engine(&w, !contributor);
    ovl_buf sink, in;
    bool have = false;
    if (ovl_buf_alloc(&sink, 4096, OVL_FRAME_HDR + OVL_FRAME_MAX_PAYLOAD + 4096) != OVL_OK)
        abort();
    ef_feed_hello(&ovl_agg_ops, target, honest, &sink);
    ovl_buf_reader(&in, data + 1, size - 1);
    bool alive = ef_pump(&ovl_agg_ops, target, &sink, 256, ef_peer_fault);
    uint8_t type;
    ovl_buf payload;
    while (alive && ef_next_frame(&ovl_agg_ops, target, &in, &type, &payload)) {
        alive = check(ovl_agg_ops.feed(target, type, ovl_buf_rptr(&payload),
                                       ovl_buf_remaining(&payload))) &&
                ef_pump(&ovl_agg_ops, target, &sink, 256, ef_peer_fault);
    }
    if (!alive) {
        /* A failed session stays failed. */
        ovl_job *j = NULL;
        have = false;
        if (ovl_agg_ops.pull(target, &sink, &have) == OVL_OK || have ||
            ovl_agg_ops.job_take(target, &j) == OVL_OK || ovl_agg_ops.done(target))
            abort();
    }
    ovl_buf_free(&sink);
    ovl_agg_free(target);
    ovl_agg_free(honest);
    return 0;
}
