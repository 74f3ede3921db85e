#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>

#include "core/guard.h"
#include "session/drive.h"

#define IN_CHUNK (256u * 1024u)
#define IN_MAX (OVL_FRAME_HDR + OVL_FRAME_MAX_PAYLOAD + IN_CHUNK)
#define OUT_HIGH (1u << 20) /* stop pulling frames above this much unsent data */
/* Sent bytes are dropped from the front only once they outweigh the unsent
 * rest (so moving them is amortised), so up to OUT_HIGH already-sent bytes may
 * precede the backlog when a frame is pulled. */
#define OUT_MAX (2 * OUT_HIGH + OVL_FRAME_HDR + OVL_FRAME_MAX_PAYLOAD)

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

typedef struct {
    ovl_conn *c;
    const ovl_proto_ops *ops;
    void *proto;
    const ovl_drive_opts *o;
    ovl_buf in, out;
    size_t inflight;
    long long last_heard, last_tick;
} drive_state;

static ovl_err run_jobs(drive_state *d, bool *moved)
{
    ovl_err rc = OVL_OK;
    ovl_job *j;
    while ((j = ovl_pool_collect(d->o->pool)) != NULL) {
        d->inflight--;
        *moved = true;
        OVL_TRY(d->ops->job_finish(d->proto, j));
    }
    for (;;) {
        OVL_TRY(d->ops->job_take(d->proto, &j));
        if (j == NULL)
            break;
        d->inflight++;
        *moved = true;
        ovl_pool_submit(d->o->pool, j);
    }
done:
    return rc;
}

static ovl_err feed_frames(drive_state *d, bool *moved)
{
    ovl_err rc = OVL_OK;
    while (d->ops->wants_input(d->proto)) {
        uint8_t type;
        ovl_buf payload;
        bool complete;
        OVL_TRY(ovl_frame_parse(&d->in, OVL_FRAME_MAX_PAYLOAD, &type, &payload, &complete));
        if (!complete)
            break;
        *moved = true;
        OVL_TRY(d->ops->feed(d->proto, type, ovl_buf_rptr(&payload), ovl_buf_remaining(&payload)));
    }
    ovl_buf_compact(&d->in);
done:
    return rc;
}

static ovl_err pull_frames(drive_state *d)
{
    ovl_err rc = OVL_OK;
    while (ovl_buf_remaining(&d->out) < OUT_HIGH) {
        size_t before = d->out.wpos;
        bool have;
        OVL_TRY(d->ops->pull(d->proto, &d->out, &have));
        if (!have)
            break;
        if (d->o->dump_frames)
            fwrite(d->out.data + before, 1, d->out.wpos - before, d->o->dump_frames);
    }
done:
    return rc;
}

static ovl_err move_bytes(drive_state *d, bool *moved)
{
    ovl_err rc = OVL_OK;
    size_t n;
    /* A write takes one TLS record: keep writing until the socket is full or
     * the backlog is sent, rather than one record per turn of the loop (each
     * turn also tries a read, a wasted system call while the peer is quiet). */
    while (ovl_buf_remaining(&d->out) > 0) {
        OVL_TRY(ovl_conn_write_some(d->c, ovl_buf_rptr(&d->out), ovl_buf_remaining(&d->out), &n));
        if (n == 0)
            break;
        *moved = true;
        OVL_TRY(ovl_buf_skip(&d->out, n));
    }
    /* Compacting after every partial write moved the whole backlog each
     * time (a TLS record at a time: quadratic in the backlog). */
    if (ovl_buf_remaining(&d->out) == 0)
        ovl_buf_clear(&d->out);
    else if (d->out.rpos >= ovl_buf_remaining(&d->out))
        ovl_buf_compact(&d->out);
    if (d->ops->wants_input(d->proto) || d->ops->done(d->proto) == false) {
        uint8_t *space;
        size_t room = d->in.max - d->in.wpos;
        if (room > IN_CHUNK)
            room = IN_CHUNK;
        if (room > 0 && d->ops->wants_input(d->proto)) {
            OVL_TRY(ovl_buf_ensure(&d->in, room));
            space = d->in.data + d->in.wpos;
            OVL_TRY(ovl_conn_read_some(d->c, space, room, &n));
            if (n > 0) {
                d->in.wpos += n;
                d->last_heard = now_ms();
                *moved = true;
            }
        }
    }
done:
    return rc;
}

static ovl_err wait_io(drive_state *d)
{
    bool want_in = d->ops->wants_input(d->proto);
    /* Bytes TLS already holds are input only while the engine takes input:
     * returning at once otherwise would spin, a core busy until a job
     * finishes (a core the peer on the same machine could have used). */
    if (want_in && ovl_conn_pending(d->c))
        return OVL_OK;
    struct pollfd fds[2];
    nfds_t nfds = 1;
    fds[0].fd = ovl_conn_fd(d->c);
    fds[0].events = 0;
    if (want_in)
        fds[0].events |= POLLIN;
    if (ovl_buf_remaining(&d->out) > 0 || ovl_conn_wants_write(d->c))
        fds[0].events |= POLLOUT;
    fds[0].revents = 0;
    if (ovl_pool_fd(d->o->pool) >= 0) {
        fds[1].fd = ovl_pool_fd(d->o->pool);
        fds[1].events = POLLIN;
        fds[1].revents = 0;
        nfds = 2;
    }
    long long now = now_ms();
    if (d->inflight == 0 && d->o->timeout_ms > 0 && now - d->last_heard > d->o->timeout_ms)
        return ovl_err_set(OVL_ERR_TIMEOUT, "peer %s was silent for more than %d s",
                           ovl_conn_label(d->c), d->o->timeout_ms / 1000);
    if (poll(fds, nfds, 200) < 0 && errno != EINTR)
        return ovl_err_set(OVL_ERR_IO, "poll failed: %s", strerror(errno));
    return OVL_OK;
}

void ovl_drive_abort(ovl_conn *c, ovl_err e, const char *reason)
{
    ovl_buf a;
    char kept[512];
    if (e == OVL_ERR_PEER_CLOSED || e == OVL_ERR_TLS || e == OVL_ERR_TIMEOUT)
        return;
    snprintf(kept, sizeof kept, "%s", ovl_err_detail());
    if (ovl_buf_alloc(&a, 256, 512) != OVL_OK) {
        ovl_err_set(e, "%s", kept);
        return;
    }
    if (ovl_frame_abort(&a, e, reason) == OVL_OK) {
        long long deadline = now_ms() + 2000;
        while (ovl_buf_remaining(&a) > 0 && now_ms() < deadline) {
            size_t n = 0;
            if (ovl_conn_write_some(c, ovl_buf_rptr(&a), ovl_buf_remaining(&a), &n) != OVL_OK)
                break;
            if (n == 0) {
                bool ready;
                if (ovl_conn_wait(c, true, 100, &ready) != OVL_OK)
                    break;
            } else if (ovl_buf_skip(&a, n) != OVL_OK) {
                break;
            }
        }
    }
    ovl_err_set(e, "%s", kept);
    ovl_buf_free(&a);
}

/* Tells the peer why we stop, in the words this party prints. */
static void send_abort(drive_state *d, ovl_err e)
{
    char reason[256];
    snprintf(reason, sizeof reason, "%s", ovl_err_detail());
    ovl_drive_abort(d->c, e, reason);
}

ovl_err ovl_drive(ovl_conn *c, const ovl_proto_ops *ops, void *proto, const ovl_drive_opts *o)
{
    ovl_err rc = OVL_OK;
    drive_state d = {.c = c, .ops = ops, .proto = proto, .o = o};
    d.last_heard = d.last_tick = now_ms();
    OVL_TRY(ovl_buf_alloc(&d.in, IN_CHUNK, IN_MAX));
    OVL_TRY(ovl_buf_alloc(&d.out, 64 * 1024, OUT_MAX));
    if (o->preread_len > 0)
        OVL_TRY(ovl_buf_put_bytes(&d.in, o->preread, o->preread_len));
    while (!ops->done(proto) || ovl_buf_remaining(&d.out) > 0) {
        bool moved = false;
        OVL_TRY(run_jobs(&d, &moved));
        OVL_TRY(feed_frames(&d, &moved));
        OVL_TRY(pull_frames(&d));
        OVL_TRY(move_bytes(&d, &moved));
        OVL_TRY(feed_frames(&d, &moved));
        if (o->tick && now_ms() - d.last_tick >= 1000) {
            d.last_tick = now_ms();
            o->tick(o->tick_arg);
        }
        if (!moved)
            OVL_TRY(wait_io(&d));
    }
    if (o->rest) {
        ovl_buf_clear(o->rest);
        OVL_TRY(ovl_buf_put_bytes(o->rest, ovl_buf_rptr(&d.in), ovl_buf_remaining(&d.in)));
    }
done:
    if (rc != OVL_OK) {
        char reason[512];
        snprintf(reason, sizeof reason, "%s", ovl_err_detail());
        /* Jobs still running read engine memory: let them finish first. */
        ovl_pool_drain(o->pool);
        ovl_job *j;
        while ((j = ovl_pool_collect(o->pool)) != NULL)
            (void)ops->job_finish(proto, j);
        ovl_err_set(rc, "%s", reason);
        send_abort(&d, rc);
    }
    ovl_buf_free(&d.in);
    ovl_buf_free(&d.out);
    return rc;
}

ovl_err ovl_read_frame(ovl_conn *c, ovl_buf *frame, int timeout_ms)
{
    ovl_err rc = OVL_OK;
    long long deadline = now_ms() + timeout_ms;
    size_t want = OVL_FRAME_HDR;
    ovl_buf_clear(frame);
    /* Byte-exact reads: nothing after this frame may be consumed here. */
    while (frame->wpos < want) {
        size_t n = 0;
        uint8_t *space;
        OVL_TRY(ovl_buf_ensure(frame, want - frame->wpos));
        space = frame->data + frame->wpos;
        OVL_TRY(ovl_conn_read_some(c, space, want - frame->wpos, &n));
        frame->wpos += n;
        if (frame->wpos == OVL_FRAME_HDR && want == OVL_FRAME_HDR) {
            const uint8_t *h = frame->data;
            uint32_t len = (uint32_t)h[1] << 24 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 8 | h[4];
            OVL_ENSURE(len <= frame->max - OVL_FRAME_HDR, OVL_ERR_LIMIT,
                       "peer %s announced a %u-byte first frame, cap is %zu", ovl_conn_label(c),
                       len, frame->max - OVL_FRAME_HDR);
            want += len;
        }
        if (n == 0 && frame->wpos < want) {
            bool ready;
            long long left = deadline - now_ms();
            OVL_ENSURE(left > 0, OVL_ERR_TIMEOUT, "peer %s was silent for more than %d s",
                       ovl_conn_label(c), timeout_ms / 1000);
            OVL_TRY(ovl_conn_wait(c, false, (int)(left < 200 ? left : 200), &ready));
        }
    }
done:
    return rc;
}
