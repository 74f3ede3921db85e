/* The negotiation engine (protocols/setup/negotiator.h) run as two engines in
 * one process: REQUEST and TERMS, refusals by either owner, a peer that does
 * not negotiate, and the co-signature exchange with a tampered signature. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/group.h"
#include "psi_harness.h"
#include "setup/negotiator.h"
#include "common/hello.h"
#include "test.h"

/* What one party's owner decides, as the session would. */
typedef struct {
    bool refuse;
    int prepared, judged, agreed, cosigned;
    ovl_owner_terms terms;
    uint64_t set_size;
    uint64_t peer_set;
    ovl_owner_terms peer_terms;
    char join0[32];
    uint8_t sig[OVL_SIG_LEN];
} owner;

static ovl_err on_prepare(void *arg, ovl_nego *request)
{
    owner *o = arg;
    o->prepared++;
    if (o->refuse)
        return ovl_err_set(OVL_ERR_POLICY, "connector's policy: refused");
    request->connector_terms = o->terms;
    request->connector_set = o->set_size;
    return OVL_OK;
}

static ovl_err on_judge(void *arg, ovl_nego *request, ovl_owner_terms *terms, uint64_t *set_size)
{
    owner *o = arg;
    o->judged++;
    snprintf(o->join0, sizeof o->join0, "%s", request->join[0] ? request->join[0] : "");
    o->peer_set = request->connector_set;
    o->peer_terms = request->connector_terms;
    if (o->refuse)
        return ovl_err_set(OVL_ERR_POLICY, "listener's policy: refused");
    *terms = o->terms;
    *set_size = o->set_size;
    return OVL_OK;
}

static ovl_err on_agree(void *arg, const ovl_owner_terms *terms, uint64_t set_size)
{
    owner *o = arg;
    o->agreed++;
    o->peer_terms = *terms;
    o->peer_set = set_size;
    return OVL_OK;
}

static ovl_err on_cosigned(void *arg, const uint8_t sig[OVL_SIG_LEN])
{
    owner *o = arg;
    o->cosigned++;
    memcpy(o->sig, sig, OVL_SIG_LEN);
    return OVL_OK;
}

typedef struct {
    ovl_identity *id[2]; /* listener, connector */
    owner own[2];
    ovl_nego request;
    ovl_negotiator *n[2];
    hx_side side[2];
} pair;

static void pair_init(pair *p)
{
    memset(p, 0, sizeof *p);
    EXPECT_OK(ovl_identity_generate(&p->id[0], "retailer"));
    EXPECT_OK(ovl_identity_generate(&p->id[1], "advertiser"));
    p->request.mode = OVL_MODE_INTERSECTION;
    p->request.reveal = OVL_REVEAL_CONNECTOR;
    p->request.norm = OVL_NORM_EMAIL;
    p->request.join[0] = "email";
    p->request.join[1] = "mail";
    p->own[0].terms = (ovl_owner_terms){.min_rows = 20, .has_policy = true};
    p->own[0].set_size = 1000;
    p->own[1].set_size = 555;
}

static void pair_start(pair *p, const char *plain_refusal)
{
    for (int i = 0; i < 2; i++) {
        ovl_negotiator_config cfg = {
            .role = i == 0 ? OVL_ROLE_LISTENER : OVL_ROLE_CONNECTOR,
            .request = i == 0 ? NULL : &p->request,
            .plain_refusal = plain_refusal,
            .self = p->id[i],
            .peer = ovl_identity_pub(p->id[1 - i]),
            .cb = {on_prepare, on_judge, on_agree, on_cosigned, &p->own[i]},
        };
        EXPECT_OK(ovl_negotiator_new(&p->n[i], &cfg));
        hx_init(&p->side[i], &ovl_negotiator_ops, p->n[i]);
    }
}

static void pair_free(pair *p)
{
    for (int i = 0; i < 2; i++) {
        hx_free(&p->side[i]);
        ovl_negotiator_free(p->n[i]);
        ovl_identity_free(p->id[i]);
    }
}

static void agree_then_cosign(void)
{
    pair p;
    pair_init(&p);
    pair_start(&p, NULL);
    hx_run(&p.side[0], &p.side[1], NULL, NULL);
    EXPECT_OK(p.side[0].rc);
    EXPECT_OK(p.side[1].rc);
    EXPECT_TRUE(ovl_negotiator_ops.done(p.n[0]) && ovl_negotiator_ops.done(p.n[1]));
    EXPECT_TRUE(ovl_negotiator_negotiated(p.n[0]) && ovl_negotiator_negotiated(p.n[1]));
    EXPECT_EQ(p.own[1].prepared, 1);
    EXPECT_EQ(p.own[0].judged, 1);
    EXPECT_EQ(p.own[1].agreed, 1);
    EXPECT_STR_EQ(p.own[0].join0, "email");
    /* Each side learns the other's set size and terms, nothing else. */
    EXPECT_EQ(p.own[0].peer_set, 555);
    EXPECT_EQ(p.own[1].peer_set, 1000);
    EXPECT_EQ(p.own[1].peer_terms.min_rows, 20);
    EXPECT_TRUE(!p.own[0].peer_terms.has_policy);
    /* Nothing more moves until the analysis ran and co-signing starts. */
    EXPECT_TRUE(!ovl_negotiator_ops.wants_input(p.n[0]));
    uint8_t tr[OVL_NEGO_HASH_LEN] = {7, 7, 7};
    EXPECT_OK(ovl_negotiator_cosign(p.n[0], tr));
    EXPECT_OK(ovl_negotiator_cosign(p.n[1], tr));
    hx_run(&p.side[0], &p.side[1], NULL, NULL);
    EXPECT_OK(p.side[0].rc);
    EXPECT_OK(p.side[1].rc);
    EXPECT_EQ(p.own[0].cosigned, 1);
    EXPECT_EQ(p.own[1].cosigned, 1);
    /* The signature each received verifies as the peer's over the transcript. */
    uint8_t msg[128];
    size_t n = ovl_cosign_msg(msg, sizeof msg, tr);
    EXPECT_TRUE(n > 0);
    EXPECT_OK(ovl_pubkey_verify(ovl_identity_pub(p.id[1]), p.own[0].sig, msg, n));
    EXPECT_OK(ovl_pubkey_verify(ovl_identity_pub(p.id[0]), p.own[1].sig, msg, n));
    pair_free(&p);
}

static void listener_refuses(void)
{
    pair p;
    pair_init(&p);
    p.own[0].refuse = true;
    pair_start(&p, NULL);
    hx_run(&p.side[0], &p.side[1], NULL, NULL);
    EXPECT_ERR(OVL_ERR_POLICY, p.side[0].rc);
    EXPECT_TRUE(strstr(p.side[0].detail, "listener's policy") != NULL);
    EXPECT_EQ(p.own[1].agreed, 0);
    EXPECT_TRUE(!ovl_negotiator_ops.done(p.n[1]));
    /* A failed engine stays failed. */
    bool have;
    ovl_buf b;
    EXPECT_OK(ovl_buf_alloc(&b, 64, 4096));
    EXPECT_ERR(OVL_ERR_POLICY, ovl_negotiator_ops.pull(p.n[0], &b, &have));
    EXPECT_ERR(OVL_ERR_POLICY, ovl_negotiator_ops.feed(p.n[0], OVL_TERMS_TYPE, NULL, 0));
    /* The peer's ABORT carries the refusal to the connector. */
    ovl_buf_clear(&b);
    EXPECT_OK(ovl_frame_abort(&b, OVL_ERR_POLICY, "listener's policy: refused"));
    EXPECT_ERR(OVL_ERR_POLICY, ovl_negotiator_ops.feed(p.n[1], OVL_FRAME_ABORT,
                                                       b.data + OVL_FRAME_HDR,
                                                       b.wpos - OVL_FRAME_HDR));
    EXPECT_TRUE(strstr(ovl_err_detail(), "peer aborted: listener's policy") != NULL);
    ovl_buf_free(&b);
    pair_free(&p);
}

static void connector_refuses(void)
{
    pair p;
    pair_init(&p);
    p.own[1].refuse = true;
    pair_start(&p, NULL);
    hx_run(&p.side[0], &p.side[1], NULL, NULL);
    EXPECT_ERR(OVL_ERR_POLICY, p.side[1].rc);
    EXPECT_EQ(p.own[0].judged, 0); /* no REQUEST left */
    EXPECT_EQ(p.side[1].log.wpos, 0);
    pair_free(&p);
}

/* A plain peer opening with HELLO: kept for the analysis engine, or refused. */
static void plain_peer(void)
{
    for (int refuse = 0; refuse < 2; refuse++) {
        pair p;
        ovl_buf hello, back;
        pair_init(&p);
        pair_start(&p, refuse ? "this party has a policy" : NULL);
        uint8_t params[4] = "psi/";
        ovl_hello h = {.version = 1, .suite = 1, .mode = 2, .reveal = 0, .role = 1,
                       .set_size = 3, .params = params, .params_len = 4};
        EXPECT_OK(ovl_buf_alloc(&hello, 256, 4096));
        EXPECT_OK(ovl_buf_alloc(&back, 256, 4096));
        EXPECT_OK(ovl_hello_write(&hello, &h));
        ovl_err rc = ovl_negotiator_ops.feed(p.n[0], OVL_HELLO_TYPE, hello.data + OVL_FRAME_HDR,
                                             hello.wpos - OVL_FRAME_HDR);
        /* The stated mode survives for the audit entry, refused or not. */
        EXPECT_EQ(ovl_negotiator_plain_mode(p.n[0]), OVL_MODE_CARDINALITY);
        if (refuse) {
            EXPECT_ERR(OVL_ERR_POLICY, rc);
            EXPECT_TRUE(!ovl_negotiator_ops.done(p.n[0]));
        } else {
            EXPECT_OK(rc);
            EXPECT_TRUE(ovl_negotiator_ops.done(p.n[0]));
            EXPECT_TRUE(!ovl_negotiator_negotiated(p.n[0]));
            EXPECT_OK(ovl_negotiator_take_first(p.n[0], &back));
            EXPECT_EQ(back.wpos, hello.wpos);
            EXPECT_BYTES_EQ(back.data, hello.data, hello.wpos);
            /* Co-signing needs a negotiated analysis. */
            uint8_t tr[OVL_NEGO_HASH_LEN] = {0};
            EXPECT_ERR(OVL_ERR_INTERNAL, ovl_negotiator_cosign(p.n[0], tr));
        }
        ovl_buf_free(&hello);
        ovl_buf_free(&back);
        pair_free(&p);
    }
}

static void flip_cosign(void *arg, int side, ovl_buf *frame, bool *drop)
{
    (void)drop;
    if (side == *(int *)arg && frame->data[0] == OVL_COSIGN_TYPE)
        frame->data[OVL_FRAME_HDR + 3] ^= 1;
}

static void frame_of(void *arg, int side, ovl_buf *frame, bool *drop)
{
    (void)side;
    (void)drop;
    uint8_t want = *(uint8_t *)arg;
    if (frame->data[0] == want)
        frame->data[0] = 0x42;
}

static void tampered(void)
{
    /* A flipped signature bit: the receiver refuses with an authentication error. */
    for (int bad = 0; bad < 2; bad++) {
        pair p;
        pair_init(&p);
        pair_start(&p, NULL);
        hx_run(&p.side[0], &p.side[1], NULL, NULL);
        uint8_t tr[OVL_NEGO_HASH_LEN] = {1};
        EXPECT_OK(ovl_negotiator_cosign(p.n[0], tr));
        EXPECT_OK(ovl_negotiator_cosign(p.n[1], tr));
        hx_run(&p.side[0], &p.side[1], flip_cosign, &bad);
        EXPECT_ERR(OVL_ERR_AUTH, p.side[1 - bad].rc);
        EXPECT_EQ(p.own[1 - bad].cosigned, 0);
        pair_free(&p);
    }
    /* Another frame type in place of TERMS fails the connector. */
    uint8_t terms = OVL_TERMS_TYPE, request = OVL_REQUEST_TYPE;
    pair p;
    pair_init(&p);
    pair_start(&p, NULL);
    hx_run(&p.side[0], &p.side[1], frame_of, &terms);
    EXPECT_ERR(OVL_ERR_PROTOCOL, p.side[1].rc);
    EXPECT_EQ(p.own[1].agreed, 0);
    pair_free(&p);
    /* In place of REQUEST it is a plain peer's first frame: handed on for the
     * analysis engine to judge, or refused by a party that negotiates. */
    for (int refuse = 0; refuse < 2; refuse++) {
        pair_init(&p);
        pair_start(&p, refuse ? "negotiate first" : NULL);
        hx_run(&p.side[0], &p.side[1], frame_of, &request);
        if (refuse) {
            EXPECT_ERR(OVL_ERR_POLICY, p.side[0].rc);
        } else {
            EXPECT_OK(p.side[0].rc);
            EXPECT_TRUE(ovl_negotiator_ops.done(p.n[0]) && !ovl_negotiator_negotiated(p.n[0]));
        }
        EXPECT_EQ(p.own[0].judged, 0);
        pair_free(&p);
    }
}

int main(void)
{
    if (ovl_crypto_init() != OVL_OK)
        return 1;
    RUN(agree_then_cosign);
    RUN(listener_refuses);
    RUN(connector_refuses);
    RUN(plain_peer);
    RUN(tampered);
    return ovl_t_summary("test_negotiator");
}
