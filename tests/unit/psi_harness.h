/* Runs two protocol engines against each other in one process, with an
 * optional tamper hook on the frames each side sends. Shared by the PSI
 * tests and the vector generator. */
#ifndef OVL_PSI_HARNESS_H
#define OVL_PSI_HARNESS_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/proto.h"

typedef struct {
    const ovl_proto_ops *ops;
    void *proto;
    ovl_buf wire; /* frames this side sent, not yet delivered */
    ovl_buf log;  /* every frame this side sent (transcript) */
    ovl_err rc;
    char detail[512];
} hx_side;

/* Called with each frame a side sends (type, payload); may rewrite the frame
 * in `frame` (header included) or set *drop. */
typedef void (*hx_tamper)(void *arg, int side, ovl_buf *frame, bool *drop);

static inline void hx_fail(hx_side *s, ovl_err e)
{
    if (s->rc == OVL_OK) {
        s->rc = e;
        snprintf(s->detail, sizeof s->detail, "%s", ovl_err_detail());
    }
}

/* Steps a side once: runs jobs, pulls frames while fewer than `limit` of its
 * bytes wait to be delivered. Returns true if anything moved. */
static inline bool hx_step_out_upto(hx_side *s, int idx, hx_tamper t, void *arg, size_t limit)
{
    bool moved = false;
    ovl_job *j;
    if (s->rc != OVL_OK)
        return false;
    for (;;) {
        ovl_err e = s->ops->job_take(s->proto, &j);
        if (e != OVL_OK) {
            hx_fail(s, e);
            return true;
        }
        if (j == NULL)
            break;
        j->rc = OVL_OK;
        j->run(j);
        e = s->ops->job_finish(s->proto, j);
        moved = true;
        if (e != OVL_OK) {
            hx_fail(s, e);
            return true;
        }
    }
    while (ovl_buf_remaining(&s->wire) < limit) {
        ovl_buf frame;
        bool have = false, drop = false;
        if (ovl_buf_alloc(&frame, 64, OVL_FRAME_HDR + OVL_FRAME_MAX_PAYLOAD + 64) != OVL_OK)
            abort();
        ovl_err e = s->ops->pull(s->proto, &frame, &have);
        if (e != OVL_OK) {
            hx_fail(s, e);
            ovl_buf_free(&frame);
            return true;
        }
        if (!have) {
            ovl_buf_free(&frame);
            break;
        }
        moved = true;
        if (t)
            t(arg, idx, &frame, &drop);
        if (!drop) {
            if (ovl_buf_put_bytes(&s->wire, frame.data, frame.wpos) != OVL_OK ||
                ovl_buf_put_bytes(&s->log, frame.data, frame.wpos) != OVL_OK)
                abort();
        }
        ovl_buf_free(&frame);
    }
    return moved;
}

static inline bool hx_step_out(hx_side *s, int idx, hx_tamper t, void *arg)
{
    return hx_step_out_upto(s, idx, t, arg, SIZE_MAX);
}

/* Delivers frames from `from` to `to`. */
static inline bool hx_deliver(hx_side *from, hx_side *to)
{
    bool moved = false;
    while (to->rc == OVL_OK && to->ops->wants_input(to->proto)) {
        uint8_t type;
        ovl_buf payload;
        bool complete;
        ovl_err e = ovl_frame_parse(&from->wire, OVL_FRAME_MAX_PAYLOAD, &type, &payload, &complete);
        if (e != OVL_OK) {
            hx_fail(to, e);
            return true;
        }
        if (!complete)
            break;
        moved = true;
        e = to->ops->feed(to->proto, type, ovl_buf_rptr(&payload), ovl_buf_remaining(&payload));
        if (e != OVL_OK)
            hx_fail(to, e);
    }
    ovl_buf_compact(&from->wire);
    return moved;
}

static inline void hx_init(hx_side *s, const ovl_proto_ops *ops, void *proto)
{
    memset(s, 0, sizeof *s);
    s->ops = ops;
    s->proto = proto;
    if (ovl_buf_alloc(&s->wire, 1024, (size_t)1 << 30) != OVL_OK ||
        ovl_buf_alloc(&s->log, 1024, (size_t)1 << 30) != OVL_OK)
        abort();
}

static inline void hx_free(hx_side *s)
{
    ovl_buf_free(&s->wire);
    ovl_buf_free(&s->log);
}

/* Runs until both are done, one fails, or nothing moves. */
static inline void hx_run(hx_side *a, hx_side *b, hx_tamper t, void *arg)
{
    for (int guard = 0; guard < 10000000; guard++) {
        bool moved = false;
        moved |= hx_step_out(a, 0, t, arg);
        moved |= hx_step_out(b, 1, t, arg);
        moved |= hx_deliver(a, b);
        moved |= hx_deliver(b, a);
        bool a_end = a->rc != OVL_OK || a->ops->done(a->proto);
        bool b_end = b->rc != OVL_OK || b->ops->done(b->proto);
        if ((a_end && b_end) || a->rc != OVL_OK || b->rc != OVL_OK || !moved)
            break;
    }
}

/* Like hx_run, but over a transport of bounded capacity, as the session's
 * driver (src/session/drive.c) over TCP: a side pulls frames only while fewer
 * than `out_high` of its bytes wait to be sent, `cap` bytes per direction are
 * in flight, and a side reads only while its engine wants input. Two engines
 * that both stop reading with their output pending stop here with nothing
 * moved, where real processes would wait on each other forever. */
static inline void hx_run_bounded(hx_side *a, hx_side *b, size_t cap, size_t out_high)
{
    hx_side *s[2] = {a, b};
    ovl_buf chan[2]; /* chan[k]: bytes side k sent that the peer has not read */
    ovl_buf in[2];   /* in[k]: bytes side k read, not yet parsed into frames */
    for (int k = 0; k < 2; k++)
        if (ovl_buf_alloc(&chan[k], 1024, cap) != OVL_OK ||
            ovl_buf_alloc(&in[k], 1024, OVL_FRAME_HDR + OVL_FRAME_MAX_PAYLOAD + cap) != OVL_OK)
            abort();
    for (long guard = 0; guard < 100000000L; guard++) {
        bool moved = false;
        for (int k = 0; k < 2; k++) {
            hx_side *x = s[k], *y = s[1 - k];
            if (x->rc != OVL_OK)
                continue;
            moved |= hx_step_out_upto(x, k, NULL, NULL, out_high);
            size_t room = cap - ovl_buf_len(&chan[k]);
            size_t n = ovl_buf_remaining(&x->wire) < room ? ovl_buf_remaining(&x->wire) : room;
            if (n > 0) {
                if (ovl_buf_put_bytes(&chan[k], ovl_buf_rptr(&x->wire), n) != OVL_OK ||
                    ovl_buf_skip(&x->wire, n) != OVL_OK)
                    abort();
                ovl_buf_compact(&x->wire);
                moved = true;
            }
            /* the peer reads from the channel only while its engine wants input */
            while (y->rc == OVL_OK && y->ops->wants_input(y->proto)) {
                size_t avail = ovl_buf_remaining(&chan[k]);
                if (avail > 0) {
                    if (ovl_buf_put_bytes(&in[1 - k], ovl_buf_rptr(&chan[k]), avail) != OVL_OK ||
                        ovl_buf_skip(&chan[k], avail) != OVL_OK)
                        abort();
                    ovl_buf_compact(&chan[k]);
                    moved = true;
                }
                uint8_t type;
                ovl_buf payload;
                bool complete;
                ovl_err e = ovl_frame_parse(&in[1 - k], OVL_FRAME_MAX_PAYLOAD, &type, &payload,
                                            &complete);
                if (e != OVL_OK) {
                    hx_fail(y, e);
                    break;
                }
                if (!complete)
                    break;
                moved = true;
                e = y->ops->feed(y->proto, type, ovl_buf_rptr(&payload),
                                 ovl_buf_remaining(&payload));
                if (e != OVL_OK)
                    hx_fail(y, e);
                ovl_buf_compact(&in[1 - k]);
            }
        }
        bool a_end = a->rc != OVL_OK || a->ops->done(a->proto);
        bool b_end = b->rc != OVL_OK || b->ops->done(b->proto);
        if ((a_end && b_end) || a->rc != OVL_OK || b->rc != OVL_OK || !moved)
            break;
    }
    for (int k = 0; k < 2; k++) {
        ovl_buf_free(&chan[k]);
        ovl_buf_free(&in[k]);
    }
}

#endif
