/* Two transport-free engines in one thread for the in-process benchmarks
 * (cpsi_bench, conditions_bench): frames handed over through one buffer per
 * direction and dropped once delivered (the test harness keeps a log of
 * every frame, which would dominate the peak RSS measured), bytes counted.
 * Header-only: each benchmark is one translation unit. */
#ifndef OVL_BENCH_WIRE_PAIR_H
#define OVL_BENCH_WIRE_PAIR_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "core/buf.h"
#include "core/frame.h"
#include "core/proto.h"

typedef struct {
    const ovl_proto_ops *ops;
    void *e;
    ovl_buf wire;   /* frames this side sent, not yet delivered */
    uint64_t bytes; /* every frame this side sent */
} wp_side;

/* Runs the side's jobs and pulls its frames; whether anything moved. */
static inline bool wp_step_out(wp_side *s)
{
    bool moved = false, have = true;
    ovl_job *j;
    while (s->ops->job_take(s->e, &j) == OVL_OK && j != NULL) {
        j->run(j);
        if (s->ops->job_finish(s->e, j) != OVL_OK)
            return false;
        moved = true;
    }
    while (have) {
        size_t before = ovl_buf_len(&s->wire);
        if (s->ops->pull(s->e, &s->wire, &have) != OVL_OK)
            return false;
        s->bytes += ovl_buf_len(&s->wire) - before;
        moved |= have;
    }
    return moved;
}

/* Feeds `to` the whole frames `from` sent while it wants input. */
static inline bool wp_deliver(wp_side *from, wp_side *to)
{
    bool moved = false;
    while (to->ops->wants_input(to->e)) {
        uint8_t type;
        ovl_buf payload;
        bool complete;
        if (ovl_frame_parse(&from->wire, OVL_FRAME_MAX_PAYLOAD, &type, &payload, &complete) !=
                OVL_OK ||
            !complete)
            break;
        if (to->ops->feed(to->e, type, ovl_buf_rptr(&payload), ovl_buf_remaining(&payload)) !=
            OVL_OK)
            return false;
        moved = true;
    }
    ovl_buf_compact(&from->wire);
    return moved;
}

/* Runs both until both are done (true) or nothing moves any more (false). */
static inline bool wp_run(wp_side *a, wp_side *b)
{
    for (;;) {
        bool moved = wp_step_out(a) | wp_step_out(b) | wp_deliver(a, b) | wp_deliver(b, a);
        if (a->ops->done(a->e) && b->ops->done(b->e))
            return true;
        if (!moved)
            return false;
    }
}

/* Side 0 for engine a, side 1 for engine b, each wire up to 1 GiB. */
static inline bool wp_init(wp_side s[2], const ovl_proto_ops *ops, void *a, void *b)
{
    memset(s, 0, 2 * sizeof *s);
    s[0].ops = s[1].ops = ops;
    s[0].e = a, s[1].e = b;
    return ovl_buf_alloc(&s[0].wire, 4096, (size_t)1 << 30) == OVL_OK &&
           ovl_buf_alloc(&s[1].wire, 4096, (size_t)1 << 30) == OVL_OK;
}

static inline void wp_free(wp_side s[2])
{
    ovl_buf_free(&s[0].wire);
    ovl_buf_free(&s[1].wire);
}

#endif
