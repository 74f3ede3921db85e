#include <string.h>

#include "core/guard.h"
#include "crypto/group.h"
#include "common/hello.h"

static const uint8_t magic[4] = {'O', 'V', 'L', 'P'};

ovl_err ovl_hello_write(ovl_buf *out, const ovl_hello *h)
{
    ovl_err rc = OVL_OK;
    size_t mark;
    OVL_TRY(ovl_frame_begin(out, OVL_HELLO_TYPE, &mark));
    OVL_TRY(ovl_buf_put_bytes(out, magic, sizeof magic));
    OVL_TRY(ovl_buf_put_u16(out, h->version));
    OVL_TRY(ovl_buf_put_u16(out, h->suite));
    OVL_TRY(ovl_buf_put_u8(out, h->mode));
    OVL_TRY(ovl_buf_put_u8(out, h->reveal));
    OVL_TRY(ovl_buf_put_u8(out, h->role));
    OVL_TRY(ovl_buf_put_u64(out, h->set_size));
    OVL_TRY(ovl_buf_put_bytes(out, h->nonce, sizeof h->nonce));
    OVL_TRY(ovl_buf_put_u32(out, h->params_len));
    OVL_TRY(ovl_buf_put_bytes(out, h->params, h->params_len));
    OVL_TRY(ovl_frame_end(out, mark));
done:
    return rc;
}

ovl_err ovl_hello_parse(ovl_hello *h, const uint8_t *payload, size_t len)
{
    ovl_err rc = OVL_OK;
    ovl_buf r, params;
    uint8_t m[4];
    memset(h, 0, sizeof *h);
    ovl_buf_reader(&r, payload, len);
    OVL_TRY(ovl_buf_get_bytes(&r, m, sizeof m));
    OVL_ENSURE(memcmp(m, magic, sizeof m) == 0, OVL_ERR_PROTOCOL,
               "the peer is not an overlap peer (bad HELLO magic)");
    OVL_TRY(ovl_buf_get_u16(&r, &h->version));
    /* A different version may lay out the rest differently: stop here. */
    OVL_ENSURE(h->version == OVL_PROTOCOL_VERSION, OVL_ERR_PROTOCOL,
               "the peer speaks overlap protocol version %u, this build speaks version %u",
               h->version, OVL_PROTOCOL_VERSION);
    OVL_TRY(ovl_buf_get_u16(&r, &h->suite));
    OVL_TRY(ovl_buf_get_u8(&r, &h->mode));
    OVL_TRY(ovl_buf_get_u8(&r, &h->reveal));
    OVL_TRY(ovl_buf_get_u8(&r, &h->role));
    OVL_TRY(ovl_buf_get_u64(&r, &h->set_size));
    OVL_TRY(ovl_buf_get_bytes(&r, h->nonce, sizeof h->nonce));
    OVL_TRY(ovl_buf_get_sub32(&r, OVL_HELLO_PARAMS_MAX, &params));
    h->params = ovl_buf_rptr(&params);
    h->params_len = (uint32_t)ovl_buf_remaining(&params);
    OVL_TRY(ovl_buf_expect_end(&r));
done:
    if (rc == OVL_ERR_MALFORMED || rc == OVL_ERR_LIMIT)
        rc = ovl_err_wrap(OVL_ERR_PROTOCOL, "malformed HELLO from the peer: ");
    return rc;
}

static const char *suite_name(uint16_t id)
{
    const ovl_group *g = ovl_group_by_id(id);
    return g ? g->name : "an unknown suite";
}

static bool printable(const uint8_t *p, size_t n)
{
    if (n > 160)
        return false;
    for (size_t i = 0; i < n; i++)
        if (p[i] < 0x20 || p[i] > 0x7e)
            return false;
    return true;
}

/* A mismatch is reported to both parties (the one that sees it prints it and
 * sends it in its ABORT), so it names the roles rather than "the peer" and
 * "this party", which would read backwards for the receiver of the ABORT.
 * Roles come from this party's own, which it knows. */
static const ovl_hello *listener_of(const ovl_hello *mine, const ovl_hello *peer)
{
    return mine->role == OVL_ROLE_LISTENER ? mine : peer;
}

/* SPEC.md §3.2 item 5, for protocols in which both state the same analysis. */
static ovl_err check_statement(const ovl_hello *mine, const ovl_hello *peer)
{
    ovl_err rc = OVL_OK;
    const ovl_hello *l = listener_of(mine, peer), *c = l == mine ? peer : mine;
    OVL_ENSURE(peer->reveal == mine->reveal, OVL_ERR_POLICY,
               "reveal mismatch: the listener runs --reveal %s, the connector --reveal %s",
               ovl_reveal_name(l->reveal), ovl_reveal_name(c->reveal));
    if (peer->params_len != mine->params_len ||
        (mine->params_len != 0 && memcmp(peer->params, mine->params, mine->params_len) != 0)) {
        /* Analysis parameters are settings, not data: show them when they are short text. */
        if (printable(peer->params, peer->params_len) && printable(mine->params, mine->params_len))
            OVL_FAIL(ovl_err_set(OVL_ERR_POLICY,
                                 "the parties state different analyses: listener '%.*s', "
                                 "connector '%.*s'",
                                 (int)l->params_len, (const char *)l->params,
                                 (int)c->params_len, (const char *)c->params));
        OVL_FAIL(ovl_err_set(OVL_ERR_POLICY, "the parties state different analysis parameters"));
    }
done:
    return rc;
}

static ovl_err check(const ovl_hello *mine, const ovl_hello *peer, uint64_t max_peer_set,
                     bool same_statement)
{
    ovl_err rc = OVL_OK;
    const ovl_hello *l = listener_of(mine, peer), *c = l == mine ? peer : mine;
    OVL_ENSURE(peer->suite == mine->suite, OVL_ERR_POLICY,
               "suite mismatch: the listener uses %s (id %u), the connector %s (id %u)",
               suite_name(l->suite), l->suite, suite_name(c->suite), c->suite);
    OVL_ENSURE(peer->role != mine->role && peer->role <= OVL_ROLE_CONNECTOR, OVL_ERR_PROTOCOL,
               "the peer claims the same role (%s) as this party", ovl_role_name(mine->role));
    OVL_ENSURE(peer->mode == mine->mode, OVL_ERR_POLICY,
               "mode mismatch: the listener runs --mode %s, the connector --mode %s",
               ovl_mode_name(l->mode), ovl_mode_name(c->mode));
    if (same_statement)
        OVL_TRY(check_statement(mine, peer));
    OVL_ENSURE(peer->set_size <= max_peer_set, OVL_ERR_LIMIT,
               "the peer announced %llu identifiers, over this party's cap of %llu "
               "(raise --max-peer-set to accept)",
               (unsigned long long)peer->set_size, (unsigned long long)max_peer_set);
done:
    return rc;
}

ovl_err ovl_hello_check(const ovl_hello *mine, const ovl_hello *peer, uint64_t max_peer_set)
{
    return check(mine, peer, max_peer_set, true);
}

ovl_err ovl_hello_check_own_statement(const ovl_hello *mine, const ovl_hello *peer,
                                      uint64_t max_peer_set)
{
    return check(mine, peer, max_peer_set, false);
}

ovl_err ovl_hello_check_negotiated(const ovl_hello *peer, uint64_t negotiated)
{
    if (peer->set_size == negotiated)
        return OVL_OK;
    return ovl_err_set(OVL_ERR_PROTOCOL, "the peer announced %llu identifiers after negotiating %llu",
                       (unsigned long long)peer->set_size, (unsigned long long)negotiated);
}
