/* Runs K multi-party PSI members in one process, connected as over the
 * listener's K-1 connections: member 0 is the hub, a frame between two other
 * members travels up to the hub in a ROUTE frame and down to its destination
 * in another (mpsi/route.h), so the hub's relay code runs as it would. Frames
 * that arrived are kept per source (in[j]), where tests may also inject. An
 * optional tamper hook sees each inner frame as its member sends it. */
#ifndef OVL_MPSI_HARNESS_H
#define OVL_MPSI_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/frame.h"
#include "mpsi/mpsi.h"
#include "mpsi/route.h"

typedef struct {
    ovl_mpsi *m;
    ovl_buf in[OVL_MPSI_MAX_MEMBERS]; /* frames from member j, not yet delivered */
    ovl_buf up, down;                 /* this member's connection to the hub, each way */
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
        if (!drop && to < k) {
            ovl_buf *wire = i == 0 ? &ms[to].down : &s->up;
            ovl_err w = i != 0 && to != 0 ? ovl_mpsi_route_wrap(wire, to, f.data, f.wpos)
                                          : ovl_buf_put_bytes(wire, f.data, f.wpos);
            if (w != OVL_OK)
                abort();
        }
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

/* Moves whole frames off one connection: bare ones to in[bare_from], ROUTE
 * ones where route() says. */
static inline void mx_unwire(mx_member *ms, unsigned k, ovl_buf *wire, unsigned self,
                             unsigned bare_from, bool hub)
{
    for (;;) {
        uint8_t type, itype;
        ovl_buf p, inner;
        bool complete;
        unsigned peer;
        if (ovl_frame_parse(wire, OVL_FRAME_MAX_PAYLOAD, &type, &p, &complete) != OVL_OK)
            abort();
        if (!complete)
            break;
        const uint8_t *start = ovl_buf_rptr(&p) - OVL_FRAME_HDR;
        size_t whole = ovl_buf_remaining(&p) + OVL_FRAME_HDR;
        if (type != OVL_MPSI_ROUTE) {
            if (ovl_buf_put_bytes(&ms[self].in[bare_from], start, whole) != OVL_OK)
                abort();
            continue;
        }
        ovl_err e = hub ? ovl_mpsi_route_hub(ovl_buf_rptr(&p), ovl_buf_remaining(&p), k,
                                             bare_from, &peer, &itype, &inner)
                        : ovl_mpsi_route_open(ovl_buf_rptr(&p), ovl_buf_remaining(&p), k, &peer,
                                              &itype, &inner);
        if (e != OVL_OK)
            abort();
        const uint8_t *ip = ovl_buf_rptr(&inner) - OVL_FRAME_HDR;
        size_t il = ovl_buf_remaining(&inner) + OVL_FRAME_HDR;
        e = hub ? ovl_mpsi_route_wrap(&ms[peer].down, bare_from, ip, il)
                : ovl_buf_put_bytes(&ms[self].in[peer], ip, il);
        if (e != OVL_OK)
            abort();
    }
    ovl_buf_compact(wire);
}

/* The hub reads every member's connection, then every member its own. */
static inline void mx_relay(mx_member *ms, unsigned k)
{
    for (unsigned i = 1; i < k; i++)
        mx_unwire(ms, k, &ms[i].up, 0, i, true);
    for (unsigned i = 1; i < k; i++)
        mx_unwire(ms, k, &ms[i].down, i, 0, false);
}

static inline void mx_init(mx_member *s, ovl_mpsi *m)
{
    memset(s, 0, sizeof *s);
    s->m = m;
    for (unsigned j = 0; j < OVL_MPSI_MAX_MEMBERS; j++)
        if (ovl_buf_alloc(&s->in[j], 256, (size_t)1 << 31) != OVL_OK)
            abort();
    if (ovl_buf_alloc(&s->up, 256, (size_t)1 << 31) != OVL_OK ||
        ovl_buf_alloc(&s->down, 256, (size_t)1 << 31) != OVL_OK)
        abort();
}

static inline void mx_free(mx_member *s)
{
    for (unsigned j = 0; j < OVL_MPSI_MAX_MEMBERS; j++)
        ovl_buf_free(&s->in[j]);
    ovl_buf_free(&s->up);
    ovl_buf_free(&s->down);
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
        for (unsigned i = 0; i < k; i++) {
            moved |= mx_step(ms, k, i, t, arg);
            mx_relay(ms, k);
        }
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
