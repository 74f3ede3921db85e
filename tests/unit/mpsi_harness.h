/* Runs K multi-party PSI members in one process. Every frame a member pulls
 * goes through the hub's relay (a queue per destination, FIFO per pair, as
 * over the listener's connections) with an optional tamper hook. */
#ifndef OVL_MPSI_HARNESS_H
#define OVL_MPSI_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/frame.h"
#include "mpsi/mpsi.h"

typedef struct {
    ovl_mpsi *m;
    ovl_buf in[OVL_MPSI_MAX_MEMBERS]; /* frames from member j, not yet delivered */
    ovl_err rc;
    char detail[512];
} mx_member;

/* Called with each frame `from` sends to `to`; may rewrite it or set *drop. */
typedef void (*mx_tamper)(void *arg, unsigned from, unsigned to, ovl_buf *frame, bool *drop);

static inline void mx_fail(mx_member *s, ovl_err e)
{
    if (s->rc == OVL_OK) {
        s->rc = e;
        snprintf(s->detail, sizeof s->detail, "%s", ovl_err_detail());
    }
}

static inline bool mx_step(mx_member *ms, unsigned k, unsigned i, mx_tamper t, void *arg)
{
    bool moved = false;
    mx_member *s = &ms[i];
    while (s->rc == OVL_OK) {
        ovl_buf f;
        bool have = false, drop = false;
        unsigned to = 0;
        if (ovl_buf_alloc(&f, 64, OVL_FRAME_HDR + OVL_FRAME_MAX_PAYLOAD) != OVL_OK)
            abort();
        ovl_err e = ovl_mpsi_pull(s->m, &f, &to, &have);
        if (e != OVL_OK)
            mx_fail(s, e);
        if (e != OVL_OK || !have) {
            ovl_buf_free(&f);
            break;
        }
        moved = true;
        if (t)
            t(arg, i, to, &f, &drop);
        if (!drop && to < k && ovl_buf_put_bytes(&ms[to].in[i], f.data, f.wpos) != OVL_OK)
            abort();
        ovl_buf_free(&f);
    }
    for (unsigned j = 0; j < k && s->rc == OVL_OK; j++) {
        for (;;) {
            uint8_t type;
            ovl_buf p;
            bool complete;
            ovl_err e = ovl_frame_parse(&s->in[j], OVL_FRAME_MAX_PAYLOAD, &type, &p, &complete);
            if (e != OVL_OK) {
                mx_fail(s, e);
                break;
            }
            if (!complete)
                break;
            moved = true;
            e = ovl_mpsi_feed(s->m, j, type, ovl_buf_rptr(&p), ovl_buf_remaining(&p));
            if (e != OVL_OK) {
                mx_fail(s, e);
                break;
            }
        }
        ovl_buf_compact(&s->in[j]);
    }
    return moved;
}

static inline void mx_init(mx_member *s, ovl_mpsi *m)
{
    memset(s, 0, sizeof *s);
    s->m = m;
    for (unsigned j = 0; j < OVL_MPSI_MAX_MEMBERS; j++)
        if (ovl_buf_alloc(&s->in[j], 256, (size_t)1 << 31) != OVL_OK)
            abort();
}

static inline void mx_free(mx_member *s)
{
    for (unsigned j = 0; j < OVL_MPSI_MAX_MEMBERS; j++)
        ovl_buf_free(&s->in[j]);
    ovl_mpsi_free(s->m);
}

/* What the hub does when a member fails (SPEC.md §8): every other member
 * gets an ABORT naming the member and its one-line reason. */
static inline void mx_abort_others(mx_member *ms, unsigned k, unsigned bad)
{
    char reason[600];
    ovl_buf f;
    snprintf(reason, sizeof reason, "member %u stopped: %s", bad, ms[bad].detail);
    if (ovl_buf_alloc(&f, 64, 1024) != OVL_OK || ovl_frame_abort(&f, ms[bad].rc, reason) != OVL_OK)
        abort();
    for (unsigned j = 0; j < k; j++)
        if (j != bad && ovl_buf_put_bytes(&ms[j].in[bad], f.data, f.wpos) != OVL_OK)
            abort();
    ovl_buf_free(&f);
}

/* Runs until every member is done, nothing moves, or a member fails (then
 * the others are told, as the hub would, and run until they stop). */
static inline void mx_run(mx_member *ms, unsigned k, mx_tamper t, void *arg)
{
    bool told[OVL_MPSI_MAX_MEMBERS] = {false};
    for (int guard = 0; guard < 1000000; guard++) {
        bool moved = false, all = true;
        for (unsigned i = 0; i < k; i++)
            moved |= mx_step(ms, k, i, t, arg);
        for (unsigned i = 0; i < k; i++) {
            all &= ms[i].rc == OVL_OK && ovl_mpsi_done(ms[i].m);
            if (ms[i].rc != OVL_OK && !told[i]) {
                told[i] = true;
                if (strncmp(ms[i].detail, "peer aborted", 12) != 0) {
                    mx_abort_others(ms, k, i);
                    moved = true;
                }
            }
        }
        if (all || !moved)
            break;
    }
}

#endif
