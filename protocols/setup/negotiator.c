/* The negotiation engine: see negotiator.h and SPEC.md §3. */
#include <stdlib.h>
#include <string.h>

#include "core/guard.h"
#include "core/mem.h"
#include "common/hello.h"
#include "setup/negotiator.h"

typedef enum {
    ST_SEND_REQUEST, /* connector */
    ST_WAIT_TERMS,   /* connector */
    ST_WAIT_REQUEST, /* listener */
    ST_SEND_TERMS,   /* listener */
    ST_NEGOTIATED,   /* the analysis engine runs now */
    ST_SEND_COSIGN,
    ST_WAIT_COSIGN,
    ST_DONE,
    ST_FAILED
} nego_state;

struct ovl_negotiator {
    ovl_negotiator_config cfg;
    nego_state state;
    ovl_err failed;   /* a failed engine stays failed */
    bool negotiated;  /* false: the listener's peer opened with HELLO */
    bool sent_cosign, have_cosign;
    ovl_owner_terms terms;
    uint64_t set_size;
    uint8_t transcript[OVL_NEGO_HASH_LEN];
    ovl_buf hello; /* a non-negotiating peer's first frame (HELLO, normally) */
    ovl_mode plain_mode; /* the mode that HELLO states, for a refusal's audit entry */
};

static ovl_err fail(ovl_negotiator *n, ovl_err e)
{
    if (n->state != ST_FAILED) {
        n->state = ST_FAILED;
        n->failed = e;
    }
    return e;
}

ovl_err ovl_negotiator_new(ovl_negotiator **out, const ovl_negotiator_config *cfg)
{
    ovl_err rc = OVL_OK;
    ovl_negotiator *n = NULL;
    *out = NULL;
    OVL_ENSURE(cfg->role == OVL_ROLE_LISTENER || cfg->request != NULL, OVL_ERR_INTERNAL,
               "a negotiating connector needs its request");
    OVL_TRY(ovl_calloc((void **)&n, 1, sizeof *n));
    n->cfg = *cfg;
    n->state = cfg->role == OVL_ROLE_CONNECTOR ? ST_SEND_REQUEST : ST_WAIT_REQUEST;
    *out = n;
done:
    return rc;
}

void ovl_negotiator_free(ovl_negotiator *n)
{
    if (n == NULL)
        return;
    ovl_buf_free(&n->hello);
    free(n);
}

ovl_err ovl_negotiator_cosign(ovl_negotiator *n, const uint8_t transcript[OVL_NEGO_HASH_LEN])
{
    if (n->state == ST_FAILED)
        return n->failed;
    if (n->state != ST_NEGOTIATED || !n->negotiated)
        return ovl_err_set(OVL_ERR_INTERNAL, "co-signing before a negotiated analysis");
    memcpy(n->transcript, transcript, OVL_NEGO_HASH_LEN);
    n->state = ST_SEND_COSIGN;
    return OVL_OK;
}

bool ovl_negotiator_negotiated(const ovl_negotiator *n) { return n->negotiated; }
ovl_mode ovl_negotiator_plain_mode(const ovl_negotiator *n) { return n->plain_mode; }

ovl_err ovl_negotiator_take_first(ovl_negotiator *n, ovl_buf *out)
{
    ovl_err rc = ovl_buf_put_bytes(out, n->hello.data, n->hello.wpos);
    ovl_buf_free(&n->hello);
    return rc;
}

/* A peer opening with anything but REQUEST (HELLO, normally) runs a plain
 * analysis, if this party allows it: that engine judges the frame. */
static ovl_err on_plain_frame(ovl_negotiator *n, uint8_t type, const uint8_t *payload, size_t len)
{
    ovl_err rc = OVL_OK;
    size_t mark;
    ovl_hello h;
    if (type == OVL_HELLO_TYPE && ovl_hello_parse(&h, payload, len) == OVL_OK &&
        h.mode >= OVL_MODE_INTERSECTION && h.mode <= OVL_MODE_AGGREGATE)
        n->plain_mode = (ovl_mode)h.mode;
    if (n->cfg.plain_refusal != NULL)
        return ovl_err_set(OVL_ERR_POLICY, "%s", n->cfg.plain_refusal);
    OVL_TRY(ovl_buf_alloc(&n->hello, OVL_FRAME_HDR + len, OVL_FRAME_HDR + OVL_FRAME_MAX_PAYLOAD));
    OVL_TRY(ovl_frame_begin(&n->hello, type, &mark));
    OVL_TRY(ovl_buf_put_bytes(&n->hello, payload, len));
    OVL_TRY(ovl_frame_end(&n->hello, mark));
    n->state = ST_NEGOTIATED;
done:
    return rc;
}

static ovl_err on_request(ovl_negotiator *n, const uint8_t *payload, size_t len)
{
    ovl_err rc = OVL_OK;
    ovl_nego req;
    OVL_ENSURE(len <= OVL_REQUEST_MAX, OVL_ERR_LIMIT, "the peer's %zu-byte request exceeds the "
               "cap of %u bytes", len, OVL_REQUEST_MAX);
    OVL_TRY(ovl_nego_parse(&req, payload, len));
    rc = n->cfg.cb.judge(n->cfg.cb.arg, &req, &n->terms, &n->set_size);
    ovl_nego_clear(&req);
    OVL_TRY(rc);
    n->negotiated = true;
    n->state = ST_SEND_TERMS;
done:
    return rc;
}

static ovl_err on_terms(ovl_negotiator *n, const uint8_t *payload, size_t len)
{
    ovl_err rc = OVL_OK;
    ovl_owner_terms t;
    uint64_t set_size;
    OVL_TRY(ovl_terms_parse(&t, &set_size, payload, len));
    OVL_TRY(n->cfg.cb.agree(n->cfg.cb.arg, &t, set_size));
    n->negotiated = true;
    n->state = ST_NEGOTIATED;
done:
    return rc;
}

static ovl_err on_cosign(ovl_negotiator *n, const uint8_t *payload, size_t len)
{
    ovl_err rc = OVL_OK;
    uint8_t sig[OVL_SIG_LEN];
    OVL_TRY(ovl_cosign_verify(sig, payload, len, n->cfg.peer, n->transcript));
    if (n->cfg.cb.cosigned)
        OVL_TRY(n->cfg.cb.cosigned(n->cfg.cb.arg, sig));
    n->have_cosign = true;
    if (n->sent_cosign)
        n->state = ST_DONE;
done:
    return rc;
}

static ovl_err nego_feed(void *proto, uint8_t type, const uint8_t *payload, size_t len)
{
    ovl_negotiator *n = proto;
    ovl_err rc = OVL_OK;
    if (n->state == ST_FAILED)
        return n->failed;
    if (type == OVL_FRAME_ABORT)
        return fail(n, ovl_frame_abort_decode(payload, len));
    switch (n->state) {
    case ST_WAIT_REQUEST:
        rc = type == OVL_REQUEST_TYPE ? on_request(n, payload, len)
                                      : on_plain_frame(n, type, payload, len);
        break;
    case ST_WAIT_TERMS:
        rc = type == OVL_TERMS_TYPE
                 ? on_terms(n, payload, len)
                 : ovl_err_set(OVL_ERR_PROTOCOL, "the peer answered the request with frame "
                               "type 0x%02x", type);
        break;
    case ST_SEND_COSIGN:
    case ST_WAIT_COSIGN:
        rc = type == OVL_COSIGN_TYPE && !n->have_cosign
                 ? on_cosign(n, payload, len)
                 : ovl_err_set(OVL_ERR_PROTOCOL, "the peer sent frame type 0x%02x instead of "
                               "its transcript signature", type);
        break;
    default:
        rc = ovl_err_set(OVL_ERR_PROTOCOL, "unexpected frame type 0x%02x from the peer", type);
    }
    return rc == OVL_OK ? rc : fail(n, rc);
}

static ovl_err pull_request(ovl_negotiator *n, ovl_buf *out)
{
    ovl_err rc = OVL_OK;
    OVL_TRY(n->cfg.cb.prepare(n->cfg.cb.arg, n->cfg.request));
    OVL_TRY(ovl_nego_write(out, n->cfg.request));
    n->state = ST_WAIT_TERMS;
done:
    return rc;
}

static ovl_err nego_pull(void *proto, ovl_buf *out, bool *have)
{
    ovl_negotiator *n = proto;
    ovl_err rc = OVL_OK;
    *have = false;
    switch (n->state) {
    case ST_FAILED:
        return n->failed;
    case ST_SEND_REQUEST:
        rc = pull_request(n, out);
        break;
    case ST_SEND_TERMS:
        rc = ovl_terms_write(out, &n->terms, n->set_size);
        n->state = ST_NEGOTIATED;
        break;
    case ST_SEND_COSIGN:
        if (n->sent_cosign)
            return OVL_OK;
        rc = ovl_cosign_write(out, n->cfg.self, n->transcript);
        n->sent_cosign = true;
        n->state = n->have_cosign ? ST_DONE : ST_WAIT_COSIGN;
        break;
    default:
        return OVL_OK;
    }
    if (rc != OVL_OK)
        return fail(n, rc);
    *have = true;
    return OVL_OK;
}

static ovl_err nego_job_take(void *proto, ovl_job **job)
{
    const ovl_negotiator *n = proto;
    *job = NULL;
    return n->state == ST_FAILED ? n->failed : OVL_OK;
}

static ovl_err nego_job_finish(void *proto, ovl_job *job)
{
    (void)proto;
    (void)job;
    return ovl_err_set(OVL_ERR_INTERNAL, "the negotiation engine hands out no jobs");
}

static bool nego_wants_input(const void *proto)
{
    const ovl_negotiator *n = proto;
    return n->state == ST_WAIT_REQUEST || n->state == ST_WAIT_TERMS ||
           ((n->state == ST_SEND_COSIGN || n->state == ST_WAIT_COSIGN) && !n->have_cosign);
}

/* Done with one part: the negotiation (the analysis may start) or the
 * co-signatures. */
static bool nego_done(const void *proto)
{
    const ovl_negotiator *n = proto;
    return n->state == ST_NEGOTIATED || n->state == ST_DONE;
}

const ovl_proto_ops ovl_negotiator_ops = {
    .feed = nego_feed,
    .pull = nego_pull,
    .job_take = nego_job_take,
    .job_finish = nego_job_finish,
    .wants_input = nego_wants_input,
    .done = nego_done,
};
