/* Fuzzes the aggregate v2 core (PRODUCTS .. DONE, agg2_core.h) as a hostile
 * peer would, deep in the run: byte 0 picks the target (bit 0: the
 * contributor, bit 1: the receiver is the contributor) and byte 1 how many
 * of the honest peer's frames reach it first (AGG_OT, MASKED, GC, RELEASE,
 * DONE, in the order an honest run sends them); then the rest of the input
 * is fed as frames. Nothing may crash; every error must be the peer's fault
 * (never an internal or usage error); a failed core stays failed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate/agg2.h"
#include "aggregate/agg2_core.h"
#include "common/transcript.h"
#include "core/buf.h"
#include "core/frame.h"
#include "crypto/group.h"
#include "engine_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { BINS = 4 };

typedef struct {
    agg2_core *c;
    ovl_rng rng;
    ovl_buf out; /* frames it sent, not yet delivered */
} side_t;

static const ovl_agg2_layout L = {2, 2, 1, 1, 2, 2, 1, 0};
static uint32_t nr[BINS * 2] = {1, 0, 2, 1, 0, 0, 3, 1};
static uint64_t rw[BINS * 2] = {5, 0, (uint64_t)-7, 2, 0, 0, 9, 1};
static uint64_t pay[2][BINS * 2];
static uint8_t beta[2][BINS * 2 * 2], phi[2][BINS * 2];
static uint8_t keys[2][OVL_AGG2_KEY_LEN], transcript[OVL_TRANSCRIPT_LEN];

static void make(side_t *s, int p, bool contrib_receives)
{
    static const uint8_t seed[2][32] = {{7}, {8}};
    memset(s, 0, sizeof *s);
    ovl_rng_init_seeded(&s->rng, seed[p], "fuzz agg2 core");
    agg2_core_in in = {
        .l = L,
        .role = p == 0 ? OVL_ROLE_LISTENER : OVL_ROLE_CONNECTOR,
        .runner = p == 0,
        .receiver = (p == 1) == contrib_receives,
        .threshold = 2,
        .bins = BINS,
        .nr = nr,
        .rw = rw,
        .pay = pay[p],
        .payload_words = 2,
        .beta = beta[p],
        .phi = phi[p],
        .transcript = transcript,
        .rng = &s->rng,
    };
    in.keys = in.receiver ? NULL : (const uint8_t(*)[OVL_AGG2_KEY_LEN])keys;
    if (agg2_core_new(&s->c, &in) != OVL_OK || ovl_buf_alloc(&s->out, 4096, 1u << 26) != OVL_OK)
        abort();
}

/* Jobs and frames of one side into its outbox; false once it failed with an
 * error a peer may cause (anything else aborts). */
static bool pump(side_t *s, ovl_buf *sink)
{
    return ef_pump_into(&agg2_core_ops, s->c, sink, 64, ef_any_peer_fault, &s->out);
}

/* Delivers up to max frames of from's outbox to to; the number delivered. */
static int deliver(side_t *from, side_t *to, int max, bool *ok)
{
    int n = 0;
    ovl_buf r;
    ovl_buf_reader(&r, from->out.data, from->out.wpos);
    while (n < max) {
        uint8_t type;
        ovl_buf payload;
        bool complete;
        if (ovl_frame_parse(&r, OVL_FRAME_MAX_PAYLOAD, &type, &payload, &complete) != OVL_OK ||
            !complete)
            break;
        n++;
        if (agg2_core_ops.feed(to->c, type, ovl_buf_rptr(&payload), ovl_buf_remaining(&payload)) !=
            OVL_OK) {
            *ok = false;
            break;
        }
    }
    size_t used = r.rpos;
    memmove(from->out.data, from->out.data + used, from->out.wpos - used);
    from->out.wpos -= used;
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ef_crypto_once();
    if (size < 2)
        return 0;
    int t = data[0] & 1u;
    bool contrib_receives = (data[0] >> 1) & 1u;
    int honest_frames = data[1];
    side_t s[2];
    ovl_buf sink, in;
    make(&s[0], 0, contrib_receives);
    make(&s[1], 1, contrib_receives);
    if (ovl_buf_alloc(&sink, 4096, 2 * OVL_FRAME_MAX_PAYLOAD) != OVL_OK)
        abort();
    bool ok = true;
    int given = 0;
    /* the honest run, until the target had its share of the peer's frames */
    for (int guard = 0; guard < 4096 && ok; guard++) {
        bool okp = pump(&s[0], &sink) && pump(&s[1], &sink);
        if (!okp)
            abort();
        bool dummy = true;
        int a = deliver(&s[t], &s[1 - t], 1 << 20, &dummy);
        int b = deliver(&s[1 - t], &s[t], honest_frames - given, &ok);
        given += b;
        if (!dummy)
            abort();
        if (given >= honest_frames || (a == 0 && b == 0))
            break;
    }
    ovl_buf_reader(&in, data + 2, size - 2);
    uint8_t type;
    ovl_buf payload;
    while (ok && ef_next_frame(&agg2_core_ops, s[t].c, &in, &type, &payload)) {
        ovl_err e = agg2_core_ops.feed(s[t].c, type, ovl_buf_rptr(&payload),
                                       ovl_buf_remaining(&payload));
        if (e != OVL_OK) {
            if (!ef_any_peer_fault(e))
                abort();
            /* a failed core stays failed */
            if (agg2_core_ops.feed(s[t].c, OVL_AGG2_DONE, NULL, 0) == OVL_OK)
                abort();
            break;
        }
        if (!ef_pump(&agg2_core_ops, s[t].c, &sink, 64, ef_any_peer_fault))
            break;
    }
    for (int i = 0; i < 2; i++) {
        agg2_core_free(s[i].c);
        ovl_buf_free(&s[i].out);
        ovl_rng_wipe(&s[i].rng);
    }
    ovl_buf_free(&sink);
    return 0;
}
