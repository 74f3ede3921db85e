/* The engine driver (src/session/drive.c) over real TLS on 127.0.0.1: a
 * session runs engines in turn over one connection, so frames that arrive
 * with the last frame of one engine must reach the next (ovl_drive_opts.rest),
 * and a driver without that carry loses them (the next engine times out). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/frame.h"
#include "core/guard.h"
#include "core/pool.h"
#include "crypto/group.h"
#include "net/identity.h"
#include "net/transport.h"
#include "session/drive.h"
#include "test.h"

/* A test engine: sends `nsend` frames at once, then expects one frame of
 * type `want` (0: none) and is done. */
typedef struct {
    uint8_t first_type;
    int nsend, sent;
    uint8_t want;
    bool got;
} toy;

static ovl_err toy_feed(void *p, uint8_t type, const uint8_t *payload, size_t len)
{
    toy *t = p;
    if (type == OVL_FRAME_ABORT)
        return ovl_frame_abort_decode(payload, len);
    if (type != t->want || t->got || len != 3)
        return ovl_err_set(OVL_ERR_PROTOCOL, "toy: unexpected frame 0x%02x", type);
    t->got = true;
    return OVL_OK;
}

static ovl_err toy_pull(void *p, ovl_buf *out, bool *have)
{
    toy *t = p;
    size_t mark;
    ovl_err rc = OVL_OK;
    *have = false;
    if (t->sent == t->nsend)
        return OVL_OK;
    OVL_TRY(ovl_frame_begin(out, (uint8_t)(t->first_type + t->sent), &mark));
    OVL_TRY(ovl_buf_put_bytes(out, "abc", 3));
    OVL_TRY(ovl_frame_end(out, mark));
    t->sent++;
    *have = true;
done:
    return rc;
}

static ovl_err toy_take(void *p, ovl_job **j)
{
    (void)p;
    *j = NULL;
    return OVL_OK;
}

static ovl_err toy_finish(void *p, ovl_job *j)
{
    (void)p;
    (void)j;
    return OVL_ERR_INTERNAL;
}

static bool toy_wants(const void *p)
{
    const toy *t = p;
    return t->want != 0 && !t->got;
}

static bool toy_done(const void *p)
{
    const toy *t = p;
    return t->sent == t->nsend && (t->want == 0 || t->got);
}

static const ovl_proto_ops toy_ops = {toy_feed, toy_pull, toy_take, toy_finish, toy_wants,
                                      toy_done};

static ovl_identity *server_id, *client_id;

/* Keeps the connection open until the peer is done reading (it closes). */
static void linger(ovl_conn *c)
{
    uint8_t b;
    size_t n = 0;
    bool ready;
    while (ovl_conn_wait(c, false, 100, &ready) == OVL_OK &&
           ovl_conn_read_some(c, &b, 1, &n) == OVL_OK && n == 0)
        ;
}

typedef struct {
    ovl_listener *l;
    ovl_err rc;
    ovl_pool *pool;
} sender;

/* The listener sends both frames in one go: they arrive together. */
static void *send_main(void *arg)
{
    sender *s = arg;
    ovl_conn *c = NULL;
    toy t = {.first_type = 0x61, .nsend = 2};
    ovl_drive_opts d = {.timeout_ms = 5000, .pool = s->pool};
    s->rc = ovl_accept(&c, s->l, server_id, ovl_identity_pub(client_id), 1, 10000, 5000);
    if (s->rc == OVL_OK)
        s->rc = ovl_drive(c, &toy_ops, &t, &d);
    if (s->rc == OVL_OK)
        linger(c);
    ovl_conn_close(c);
    return NULL;
}

/* Two engines in turn at the connector: the first takes frame 0x61, the
 * second 0x62, which arrived with it. */
static ovl_err receive_two(bool carry, ovl_err *second)
{
    ovl_err rc = OVL_OK;
    ovl_listener *l = NULL;
    ovl_conn *c = NULL;
    ovl_pool *pool = NULL, *spool = NULL;
    ovl_buf rest = {0};
    pthread_t th;
    char hp[64];
    sender s = {0};
    toy one = {.want = 0x61}, two = {.want = 0x62};
    OVL_TRY(ovl_pool_new(&pool, 1));
    OVL_TRY(ovl_pool_new(&spool, 1));
    OVL_TRY(ovl_buf_alloc(&rest, 256, OVL_DRIVE_CARRY_MAX));
    OVL_TRY(ovl_listen(&l, "127.0.0.1:0"));
    s.l = l;
    s.pool = spool;
    pthread_create(&th, NULL, send_main, &s);
    snprintf(hp, sizeof hp, "127.0.0.1:%u", (unsigned)ovl_listener_port(l));
    rc = ovl_connect(&c, hp, client_id, ovl_identity_pub(server_id), 5000);
    if (rc == OVL_OK) {
        /* Let both frames arrive before the first engine reads. */
        bool ready = false;
        EXPECT_OK(ovl_conn_wait(c, false, 2000, &ready));
        EXPECT_TRUE(ready);
        ovl_drive_opts d = {.timeout_ms = 1500, .pool = pool, .rest = &rest};
        rc = ovl_drive(c, &toy_ops, &one, &d);
        ovl_drive_opts d2 = {.timeout_ms = 1500, .pool = pool};
        if (carry) {
            d2.preread = ovl_buf_rptr(&rest);
            d2.preread_len = ovl_buf_remaining(&rest);
        }
        if (rc == OVL_OK)
            *second = ovl_drive(c, &toy_ops, &two, &d2);
    }
    ovl_conn_close(c);
    pthread_join(th, NULL);
    EXPECT_OK(s.rc);
done:
    ovl_listener_close(l);
    ovl_buf_free(&rest);
    ovl_pool_free(pool);
    ovl_pool_free(spool);
    return rc;
}

static void carried_to_the_next_engine(void)
{
    ovl_err second = OVL_ERR_INTERNAL;
    EXPECT_OK(receive_two(true, &second));
    EXPECT_OK(second);
}

/* The negative: without the carry, the second engine never sees its frame. */
static void lost_without_the_carry(void)
{
    ovl_err second = OVL_OK;
    EXPECT_OK(receive_two(false, &second));
    EXPECT_ERR(OVL_ERR_TIMEOUT, second);
}

typedef struct {
    ovl_listener *l;
    ovl_err category;
    bool detail_kept;
} aborter;

/* A party that stops between engines: an ABORT instead of its frames. */
static void *abort_main(void *arg)
{
    aborter *a = arg;
    ovl_conn *c = NULL;
    if (ovl_accept(&c, a->l, server_id, ovl_identity_pub(client_id), 1, 10000, 5000) == OVL_OK) {
        ovl_err_set(OVL_ERR_INPUT, "t.csv: aggregate: column 'amount': local detail");
        ovl_drive_abort(c, a->category, "the listener could not start the analysis");
        a->detail_kept = strcmp(ovl_err_detail(), "t.csv: aggregate: column 'amount': "
                                                  "local detail") == 0;
        linger(c);
    }
    ovl_conn_close(c);
    return NULL;
}

/* The connector's engine waiting for 0x61 from a listener that aborts with
 * `category` (a closed connection's category sends nothing). */
static ovl_err wait_on_aborter(ovl_err category, bool *kept)
{
    ovl_err rc = OVL_OK;
    ovl_listener *l = NULL;
    ovl_conn *c = NULL;
    ovl_pool *pool = NULL;
    pthread_t th;
    char hp[64];
    aborter a = {.category = category};
    toy one = {.want = 0x61};
    OVL_TRY(ovl_pool_new(&pool, 1));
    OVL_TRY(ovl_listen(&l, "127.0.0.1:0"));
    a.l = l;
    pthread_create(&th, NULL, abort_main, &a);
    snprintf(hp, sizeof hp, "127.0.0.1:%u", (unsigned)ovl_listener_port(l));
    rc = ovl_connect(&c, hp, client_id, ovl_identity_pub(server_id), 5000);
    if (rc == OVL_OK) {
        ovl_drive_opts d = {.timeout_ms = 1000, .pool = pool};
        rc = ovl_drive(c, &toy_ops, &one, &d);
    }
    ovl_conn_close(c);
    pthread_join(th, NULL);
    *kept = a.detail_kept;
done:
    ovl_listener_close(l);
    ovl_pool_free(pool);
    return rc;
}

/* A party whose engine does not start tells its peer why, in an ABORT the
 * peer reports as the peer's (protocols/common/SPEC.md §4), and keeps its
 * own detail for its own operator. */
static void abort_between_engines(void)
{
    bool kept = false;
    EXPECT_ERR(OVL_ERR_PROTOCOL, wait_on_aborter(OVL_ERR_INPUT, &kept));
    EXPECT_STR_EQ(ovl_err_detail(), "peer aborted: the listener could not start the analysis");
    EXPECT_TRUE(kept);
    EXPECT_ERR(OVL_ERR_POLICY, wait_on_aborter(OVL_ERR_POLICY, &kept));
    /* the negative: after a closed connection nothing is sent (the peer
     * waits out its timeout) */
    EXPECT_ERR(OVL_ERR_TIMEOUT, wait_on_aborter(OVL_ERR_PEER_CLOSED, &kept));
    EXPECT_TRUE(kept);
}

int main(void)
{
    if (ovl_crypto_init() != OVL_OK || ovl_identity_generate(&server_id, "server") != OVL_OK ||
        ovl_identity_generate(&client_id, "client") != OVL_OK)
        return 1;
    RUN(carried_to_the_next_engine);
    RUN(lost_without_the_carry);
    RUN(abort_between_engines);
    ovl_identity_free(server_id);
    ovl_identity_free(client_id);
    return ovl_t_summary("test_drive");
}
