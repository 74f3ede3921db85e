/* The shared protocol layer (protocols/common/SPEC.md): batch frames, the
 * HELLO checks with and without a protocol's own statement, the engine kit's
 * admission and sticky failure, ordered output and the job FIFO. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/engine.h"
#include "common/frame.h"
#include "common/hello.h"
#include "core/job.h"
#include "test.h"

static const uint8_t params_a[] = "psi/1 id=sha256 normalize=email";
static const uint8_t params_b[] = "psi/1 id=sha256 normalize=phone";

static ovl_hello hello_of(ovl_role role, const uint8_t *params, uint32_t len)
{
    ovl_hello h = {
        .version = OVL_PROTOCOL_VERSION,
        .suite = OVL_SUITE_RISTRETTO255_SHA512,
        .mode = OVL_MODE_INTERSECTION,
        .reveal = OVL_REVEAL_BOTH,
        .role = (uint8_t)role,
        .set_size = 100,
        .params = params,
        .params_len = len,
    };
    return h;
}

static void batch_frames(void)
{
    ovl_buf f = {0}, r;
    uint8_t *body = NULL;
    uint32_t count = 0;
    EXPECT_OK(ovl_frame_batch_new(&f, 0x22, 3, 4, &body));
    EXPECT_EQ(f.wpos, OVL_FRAME_HDR + 4 + 12);
    EXPECT_TRUE(body == f.data + OVL_FRAME_HDR + 4);
    EXPECT_EQ(f.data[0], 0x22);
    EXPECT_EQ(f.data[4], 16); /* payload length, big-endian */
    EXPECT_EQ(f.data[OVL_FRAME_HDR + 3], 3);
    ovl_buf_reader(&r, f.data + OVL_FRAME_HDR, f.wpos - OVL_FRAME_HDR);
    EXPECT_OK(ovl_frame_read_count(&r, "TEST", 3, &count));
    EXPECT_EQ(count, 3);
    ovl_buf_reader(&r, f.data + OVL_FRAME_HDR, f.wpos - OVL_FRAME_HDR);
    EXPECT_ERR(OVL_ERR_PROTOCOL, ovl_frame_read_count(&r, "TEST", 2, &count));
    EXPECT_TRUE(strstr(ovl_err_detail(), "TEST frame with 3 entries (1..2 allowed)") != NULL);
    ovl_buf_free(&f);

    static const uint8_t zero[4] = {0}, shortc[3] = {0};
    ovl_buf_reader(&r, zero, sizeof zero);
    EXPECT_ERR(OVL_ERR_PROTOCOL, ovl_frame_read_count(&r, "TEST", 2, &count));
    ovl_buf_reader(&r, shortc, sizeof shortc);
    EXPECT_ERR(OVL_ERR_PROTOCOL, ovl_frame_read_count(&r, "TEST", 2, &count));
    EXPECT_TRUE(strstr(ovl_err_detail(), "malformed TEST frame") != NULL);

    EXPECT_OK(ovl_buf_alloc(&f, 8, 8));
    EXPECT_OK(ovl_frame_empty(&f, 0x04));
    EXPECT_EQ(f.wpos, OVL_FRAME_HDR);
    EXPECT_EQ(f.data[0], 0x04);
    EXPECT_EQ(f.data[1] | f.data[2] | f.data[3] | f.data[4], 0);
    EXPECT_ERR(OVL_ERR_LIMIT, ovl_frame_empty(&f, 0x04)); /* the buffer's cap holds */
    ovl_buf_free(&f);
}

/* The full check compares reveal and params; the own-statement check leaves
 * them to the protocol but keeps every other rule. */
static void hello_statement_checks(void)
{
    ovl_hello mine = hello_of(OVL_ROLE_LISTENER, params_a, sizeof params_a - 1);
    ovl_hello peer = hello_of(OVL_ROLE_CONNECTOR, params_b, sizeof params_b - 1);
    EXPECT_ERR(OVL_ERR_POLICY, ovl_hello_check(&mine, &peer, 1000));
    EXPECT_TRUE(strstr(ovl_err_detail(), "normalize=phone") != NULL);
    EXPECT_OK(ovl_hello_check_own_statement(&mine, &peer, 1000));
    peer.reveal = OVL_REVEAL_CONNECTOR;
    EXPECT_ERR(OVL_ERR_POLICY, ovl_hello_check(&mine, &peer, 1000));
    EXPECT_OK(ovl_hello_check_own_statement(&mine, &peer, 1000));

    peer.params = params_a;
    peer.params_len = sizeof params_a - 1;
    peer.reveal = OVL_REVEAL_BOTH;
    EXPECT_OK(ovl_hello_check(&mine, &peer, 1000));
    peer.set_size = 1001;
    EXPECT_ERR(OVL_ERR_LIMIT, ovl_hello_check(&mine, &peer, 1000));
    EXPECT_ERR(OVL_ERR_LIMIT, ovl_hello_check_own_statement(&mine, &peer, 1000));
    peer.set_size = 100;
    peer.role = OVL_ROLE_LISTENER;
    EXPECT_ERR(OVL_ERR_PROTOCOL, ovl_hello_check_own_statement(&mine, &peer, 1000));
    peer.role = OVL_ROLE_CONNECTOR;
    peer.mode = OVL_MODE_CARDINALITY;
    EXPECT_ERR(OVL_ERR_POLICY, ovl_hello_check_own_statement(&mine, &peer, 1000));
    peer.mode = OVL_MODE_INTERSECTION;
    peer.suite = 2;
    EXPECT_ERR(OVL_ERR_POLICY, ovl_hello_check_own_statement(&mine, &peer, 1000));
}

typedef struct {
    int calls;
    ovl_err verdict;
} statement_probe;

static ovl_err probe_statement(void *arg, const ovl_hello *mine, const ovl_hello *peer)
{
    statement_probe *p = arg;
    p->calls++;
    if (mine->role == peer->role)
        return ovl_err_set(OVL_ERR_INTERNAL, "called with the same roles");
    return p->verdict == OVL_OK ? OVL_OK : ovl_err_set(p->verdict, "statements differ");
}

/* Two kit engines exchange HELLOs: both bind the same transcript. */
static void engines_meet(const uint8_t seed[32], ovl_hello_rules *rules, ovl_engine *l,
                         ovl_engine *c, ovl_err *rc_l, ovl_err *rc_c)
{
    ovl_rng rng;
    ovl_hello hl = hello_of(OVL_ROLE_LISTENER, params_a, sizeof params_a - 1);
    ovl_hello hc = hello_of(OVL_ROLE_CONNECTOR, params_b, sizeof params_b - 1);
    ovl_hello peer;
    ovl_rng_init_seeded(&rng, seed, "test engine");
    memset(l, 0, sizeof *l);
    memset(c, 0, sizeof *c);
    *rc_l = ovl_engine_hello_init(l, OVL_ROLE_LISTENER, &hl, &rng);
    *rc_c = ovl_engine_hello_init(c, OVL_ROLE_CONNECTOR, &hc, &rng);
    if (*rc_l == OVL_OK)
        *rc_l = ovl_engine_hello_recv(l, rules, c->hello_frame.data + OVL_FRAME_HDR,
                                      c->hello_frame.wpos - OVL_FRAME_HDR, &peer);
    if (*rc_c == OVL_OK)
        *rc_c = ovl_engine_hello_recv(c, rules, l->hello_frame.data + OVL_FRAME_HDR,
                                      l->hello_frame.wpos - OVL_FRAME_HDR, &peer);
    ovl_rng_wipe(&rng);
}

static void hello_exchange(void)
{
    static const uint8_t seed[32] = {7};
    ovl_engine l, c;
    ovl_err rl, rcn;
    statement_probe probe = {0, OVL_OK};
    ovl_hello_rules rules = {.max_peer_set = 1000};

    /* Different params: refused byte for byte... */
    engines_meet(seed, &rules, &l, &c, &rl, &rcn);
    EXPECT_ERR(OVL_ERR_POLICY, rl);
    EXPECT_ERR(OVL_ERR_POLICY, rcn);
    ovl_engine_free(&l);
    ovl_engine_free(&c);

    /* ...accepted when the protocol compares its own statements. */
    rules.statement = probe_statement;
    rules.arg = &probe;
    engines_meet(seed, &rules, &l, &c, &rl, &rcn);
    EXPECT_OK(rl);
    EXPECT_OK(rcn);
    EXPECT_EQ(probe.calls, 2);
    EXPECT_BYTES_EQ(l.transcript, c.transcript, OVL_TRANSCRIPT_LEN);
    uint8_t t[OVL_TRANSCRIPT_LEN];
    ovl_transcript_hash(t, l.hello_frame.data + OVL_FRAME_HDR, l.hello_frame.wpos - OVL_FRAME_HDR,
                        c.hello_frame.data + OVL_FRAME_HDR, c.hello_frame.wpos - OVL_FRAME_HDR);
    EXPECT_BYTES_EQ(l.transcript, t, sizeof t);
    EXPECT_EQ(l.state, OVL_ENGINE_SETUP); /* the protocol moves to RUN */
    ovl_engine_free(&l);
    ovl_engine_free(&c);

    probe.verdict = OVL_ERR_POLICY;
    engines_meet(seed, &rules, &l, &c, &rl, &rcn);
    EXPECT_ERR(OVL_ERR_POLICY, rl);
    EXPECT_TRUE(strstr(ovl_err_detail(), "statements differ") != NULL);
    ovl_engine_free(&l);
    ovl_engine_free(&c);

    /* A negotiated set size must be announced exactly. */
    probe.verdict = OVL_OK;
    rules.expect_peer_set = true;
    rules.peer_set_expected = 100;
    engines_meet(seed, &rules, &l, &c, &rl, &rcn);
    EXPECT_OK(rl);
    ovl_engine_free(&l);
    ovl_engine_free(&c);
    rules.peer_set_expected = 99;
    engines_meet(seed, &rules, &l, &c, &rl, &rcn);
    EXPECT_ERR(OVL_ERR_PROTOCOL, rl);
    EXPECT_TRUE(strstr(ovl_err_detail(), "after negotiating 99") != NULL);
    ovl_engine_free(&l);
    ovl_engine_free(&c);
}

static void admission_and_sticky_failure(void)
{
    static const uint8_t seed[32] = {9};
    ovl_engine e = {0};
    ovl_rng rng;
    ovl_buf out = {0}, abort_frame = {0};
    bool have = false;
    ovl_hello h = hello_of(OVL_ROLE_LISTENER, params_a, sizeof params_a - 1);
    ovl_rng_init_seeded(&rng, seed, "test engine");
    EXPECT_OK(ovl_engine_hello_init(&e, OVL_ROLE_LISTENER, &h, &rng));
    EXPECT_OK(ovl_buf_alloc(&out, 64, 4096));

    /* HELLO leaves first, once. */
    EXPECT_OK(ovl_engine_pull(&e, &out, &have));
    EXPECT_TRUE(have);
    EXPECT_EQ(out.wpos, e.hello_frame.wpos);
    EXPECT_EQ(out.data[0], OVL_HELLO_TYPE);
    EXPECT_OK(ovl_engine_pull(&e, &out, &have));
    EXPECT_TRUE(!have);

    /* In SETUP, HELLO is admitted and nothing else. */
    EXPECT_OK(ovl_engine_admit(&e, OVL_HELLO_TYPE, NULL, 0));
    EXPECT_ERR(OVL_ERR_PROTOCOL, ovl_engine_admit(&e, 0x02, NULL, 0));
    EXPECT_TRUE(strstr(ovl_err_detail(), "frame type 0x02 before HELLO") != NULL);
    EXPECT_EQ(e.state, OVL_ENGINE_FAILED);
    /* Failed stays failed, with the first failure. */
    EXPECT_ERR(OVL_ERR_PROTOCOL, ovl_engine_admit(&e, OVL_HELLO_TYPE, NULL, 0));
    EXPECT_ERR(OVL_ERR_PROTOCOL, ovl_engine_fail(&e, OVL_ERR_IO));
    EXPECT_ERR(OVL_ERR_PROTOCOL, ovl_engine_pull(&e, &out, &have));
    EXPECT_TRUE(!have);
    EXPECT_ERR(OVL_ERR_PROTOCOL, ovl_engine_end(&e, OVL_ERR_CRYPTO));

    /* ABORT fails a running engine with the peer's reason. */
    e.state = OVL_ENGINE_RUN;
    EXPECT_OK(ovl_engine_end(&e, OVL_OK));
    EXPECT_OK(ovl_engine_admit(&e, 0x02, NULL, 0));
    EXPECT_OK(ovl_buf_alloc(&abort_frame, 64, 4096));
    EXPECT_OK(ovl_frame_abort(&abort_frame, OVL_ERR_POLICY, "refused by policy"));
    EXPECT_ERR(OVL_ERR_POLICY, ovl_engine_admit(&e, OVL_FRAME_ABORT, abort_frame.data + OVL_FRAME_HDR,
                                                abort_frame.wpos - OVL_FRAME_HDR));
    EXPECT_STR_EQ(ovl_err_detail(), "peer aborted: refused by policy");
    EXPECT_EQ(e.state, OVL_ENGINE_FAILED);
    EXPECT_ERR(OVL_ERR_POLICY, ovl_engine_admit(&e, 0x02, NULL, 0));

    ovl_buf_free(&abort_frame);
    ovl_buf_free(&out);
    ovl_engine_free(&e);
    ovl_rng_wipe(&rng);
}

typedef struct {
    ovl_job base;
    int id;
} test_job;

static int freed;

static void test_job_free(ovl_job *j)
{
    freed++;
    free(j);
}

static void no_run(ovl_job *j) { (void)j; }

static test_job *new_job(int id)
{
    test_job *j = calloc(1, sizeof *j);
    if (j == NULL)
        abort();
    j->base.run = no_run;
    j->id = id;
    return j;
}

/* Jobs finishing out of order leave in sequence; nothing outside the window
 * is accepted. */
static void ordered_output(void)
{
    ovl_order o;
    test_job *jobs[4];
    EXPECT_OK(ovl_order_init(&o, 3));
    EXPECT_TRUE(ovl_order_take(&o) == NULL);
    for (int i = 0; i < 3; i++) {
        EXPECT_EQ(ovl_order_seq(&o), (size_t)i);
        jobs[i] = new_job(i);
    }
    EXPECT_EQ(ovl_order_window(&o), 3);
    EXPECT_OK(ovl_order_put(&o, 2, &jobs[2]->base));
    EXPECT_OK(ovl_order_put(&o, 1, &jobs[1]->base));
    EXPECT_TRUE(ovl_order_take(&o) == NULL); /* 0 has not finished */
    EXPECT_ERR(OVL_ERR_INTERNAL, ovl_order_put(&o, 1, &jobs[1]->base));
    EXPECT_ERR(OVL_ERR_INTERNAL, ovl_order_put(&o, 3, &jobs[1]->base)); /* never made */
    EXPECT_OK(ovl_order_put(&o, 0, &jobs[0]->base));
    for (int i = 0; i < 3; i++) {
        ovl_job *j = ovl_order_take(&o);
        EXPECT_TRUE(j != NULL && ((test_job *)j)->id == i);
        free(j);
    }
    EXPECT_TRUE(ovl_order_take(&o) == NULL);
    EXPECT_EQ(ovl_order_window(&o), 0);

    /* The ring wraps; a job ahead of the window is refused. */
    EXPECT_EQ(ovl_order_seq(&o), 3);
    EXPECT_EQ(ovl_order_seq(&o), 4);
    EXPECT_EQ(ovl_order_seq(&o), 5);
    EXPECT_EQ(ovl_order_seq(&o), 6);
    jobs[3] = new_job(6);
    EXPECT_ERR(OVL_ERR_INTERNAL, ovl_order_put(&o, 6, &jobs[3]->base));
    EXPECT_ERR(OVL_ERR_INTERNAL, ovl_order_put(&o, 2, &jobs[3]->base)); /* already sent */
    EXPECT_OK(ovl_order_put(&o, 4, &jobs[3]->base));
    freed = 0;
    ovl_order_free(&o, test_job_free);
    EXPECT_EQ(freed, 1);
    EXPECT_TRUE(o.slot == NULL);
}

static void job_queue_and_results(void)
{
    ovl_job_queue q = {0};
    EXPECT_TRUE(ovl_job_queue_pop(&q) == NULL);
    for (int i = 0; i < 3; i++)
        ovl_job_queue_push(&q, &new_job(i)->base);
    EXPECT_EQ(q.n, 3);
    ovl_job *j = ovl_job_queue_pop(&q);
    EXPECT_TRUE(j != NULL && ((test_job *)j)->id == 0 && j->next == NULL);
    EXPECT_EQ(q.n, 2);

    EXPECT_OK(ovl_job_result(j));
    ovl_job_fail(j, OVL_ERR_PROTOCOL, "bad element (item %d)", 7);
    EXPECT_ERR(OVL_ERR_PROTOCOL, ovl_job_result(j));
    EXPECT_STR_EQ(ovl_err_detail(), "bad element (item 7)");
    free(j);

    freed = 0;
    ovl_job_queue_clear(&q, test_job_free);
    EXPECT_EQ(freed, 2);
    EXPECT_TRUE(q.head == NULL && q.tail == NULL && q.n == 0);
}

int main(void)
{
    if (ovl_crypto_init() != OVL_OK)
        return 1;
    RUN(batch_frames);
    RUN(hello_statement_checks);
    RUN(hello_exchange);
    RUN(admission_and_sticky_failure);
    RUN(ordered_output);
    RUN(job_queue_and_results);
    return ovl_t_summary("test_engine");
}
