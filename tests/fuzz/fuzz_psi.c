/* Fuzzes the PSI engine as a hostile peer would: after a valid HELLO from an
 * honest (seeded) peer engine, the input's frames are fed one by one, with
 * the engine's jobs run and its output drained between frames as the driver
 * does. Nothing may crash or leak; errors must name the peer's fault (never
 * an internal error); a failed session stays failed; a completed run reports
 * a count within its own set. Input layout: tests/fuzz/psi_fuzz.h. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "crypto/group.h"
#include "engine_fuzz.h"
#include "psi_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void run_input(ovl_psi *p, const uint8_t *data, size_t size, ovl_buf *sink)
{
    ovl_buf in;
    ovl_buf_reader(&in, data, size);
    bool alive = ef_pump(&ovl_psi_ops, p, sink, 64, ef_peer_fault);
    uint8_t type;
    ovl_buf payload;
    while (alive && ef_next_frame(&ovl_psi_ops, p, &in, &type, &payload)) {
        ovl_err e = ovl_psi_ops.feed(p, type, ovl_buf_rptr(&payload), ovl_buf_remaining(&payload));
        if (e != OVL_OK) {
            if (!ef_peer_fault(e))
                abort();
            /* A session that failed stays failed. */
            if (ovl_psi_ops.feed(p, OVL_PSI_FINISH, NULL, 0) == OVL_OK || ovl_psi_ops.done(p))
                abort();
            return;
        }
        alive = ef_pump(&ovl_psi_ops, p, sink, 64, ef_peer_fault);
    }
    if (alive && ovl_psi_ops.done(p) && ovl_psi_receives_output(p)) {
        const bool *matched;
        uint64_t count;
        if (ovl_psi_result(p, &matched, &count) != OVL_OK || count > PF_NIDS)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ovl_psi *target = NULL, *honest = NULL;
    ovl_buf sink;
    ef_crypto_once();
    if (size < 1)
        return 0;
    ovl_role role = pf_target_role(data[0]);
    ovl_role other = role == OVL_ROLE_LISTENER ? OVL_ROLE_CONNECTOR : OVL_ROLE_LISTENER;
    if (pf_new(&target, data[0], role) != OVL_OK || pf_new(&honest, data[0], other) != OVL_OK ||
        ovl_buf_alloc(&sink, 4096, OVL_FRAME_HDR + OVL_FRAME_MAX_PAYLOAD) != OVL_OK)
        abort();
    ef_feed_hello(&ovl_psi_ops, target, honest, &sink);
    run_input(target, data + 1, size - 1, &sink);
    ovl_buf_free(&sink);
    ovl_psi_free(target);
    ovl_psi_free(honest);
    return 0;
}
