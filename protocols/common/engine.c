/* The engine kit: protocols/common/SPEC.md §6. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/guard.h"
#include "core/mem.h"
#include "common/engine.h"

ovl_err ovl_engine_fail(ovl_engine *e, ovl_err rc)
{
    if (e->state != OVL_ENGINE_FAILED) {
        e->state = OVL_ENGINE_FAILED;
        e->failure = rc;
    }
    return e->failure;
}

void ovl_engine_free(ovl_engine *e) { ovl_buf_free(&e->hello_frame); }

void ovl_engine_rng_init(ovl_rng *rng, const uint8_t *test_seed, const char *label)
{
    if (test_seed != NULL)
        ovl_rng_init_seeded(rng, test_seed, label);
    else
        ovl_rng_init_system(rng);
}

ovl_err ovl_engine_scalar(const ovl_group *g, uint8_t *scalar, ovl_rng *rng, bool seeded)
{
    if (!seeded)
        return g->scalar_random(scalar);
    uint8_t wide[64];
    ovl_rng_bytes(rng, wide, sizeof wide);
    ovl_err rc = g->scalar_from_bytes(scalar, wide);
    sodium_memzero(wide, sizeof wide);
    return rc;
}

ovl_err ovl_engine_hello_init(ovl_engine *e, ovl_role role, ovl_hello *h, ovl_rng *rng)
{
    ovl_err rc = OVL_OK;
    e->role = role;
    ovl_rng_bytes(rng, h->nonce, sizeof h->nonce);
    OVL_TRY(ovl_buf_alloc(&e->hello_frame, 128, OVL_FRAME_HDR + 128 + OVL_HELLO_PARAMS_MAX));
    OVL_TRY(ovl_hello_write(&e->hello_frame, h));
done:
    return rc;
}

ovl_err ovl_engine_hello_recv(ovl_engine *e, const ovl_hello_rules *rules, const uint8_t *payload,
                              size_t len, ovl_hello *peer)
{
    ovl_err rc = OVL_OK;
    ovl_hello mine;
    const uint8_t *my_payload = e->hello_frame.data + OVL_FRAME_HDR;
    size_t my_len = e->hello_frame.wpos - OVL_FRAME_HDR;
    OVL_TRY(ovl_hello_parse(&mine, my_payload, my_len));
    OVL_TRY(ovl_hello_parse(peer, payload, len));
    if (rules->statement == NULL) {
        OVL_TRY(ovl_hello_check(&mine, peer, rules->max_peer_set));
    } else {
        OVL_TRY(ovl_hello_check_own_statement(&mine, peer, rules->max_peer_set));
        OVL_TRY(rules->statement(rules->arg, &mine, peer));
    }
    if (rules->expect_peer_set)
        OVL_TRY(ovl_hello_check_negotiated(peer, rules->peer_set_expected));
    if (e->role == OVL_ROLE_LISTENER)
        ovl_transcript_hash(e->transcript, my_payload, my_len, payload, len);
    else
        ovl_transcript_hash(e->transcript, payload, len, my_payload, my_len);
done:
    return rc;
}

ovl_err ovl_engine_admit(ovl_engine *e, uint8_t type, const uint8_t *payload, size_t len)
{
    if (e->state == OVL_ENGINE_FAILED)
        return e->failure;
    if (type == OVL_FRAME_ABORT)
        return ovl_engine_fail(e, ovl_frame_abort_decode(payload, len));
    if (e->state == OVL_ENGINE_SETUP && type != OVL_HELLO_TYPE)
        return ovl_engine_fail(
            e, ovl_err_set(OVL_ERR_PROTOCOL, "the peer sent frame type 0x%02x before HELLO", type));
    return OVL_OK;
}

ovl_err ovl_engine_pull(ovl_engine *e, ovl_buf *out, bool *have)
{
    *have = false;
    if (e->state == OVL_ENGINE_FAILED)
        return e->failure;
    if (e->hello_sent)
        return OVL_OK;
    ovl_err rc = ovl_buf_put_bytes(out, e->hello_frame.data, e->hello_frame.wpos);
    if (rc != OVL_OK)
        return ovl_engine_fail(e, rc);
    e->hello_sent = true;
    *have = true;
    return OVL_OK;
}

ovl_err ovl_order_init(ovl_order *o, size_t cap)
{
    memset(o, 0, sizeof *o);
    o->cap = cap;
    return ovl_calloc((void **)&o->slot, cap ? cap : 1, sizeof *o->slot);
}

ovl_err ovl_order_put(ovl_order *o, size_t seq, ovl_job *job)
{
    if (seq < o->sent || seq >= o->made || seq - o->sent >= o->cap || o->slot[seq % o->cap])
        return ovl_err_set(OVL_ERR_INTERNAL, "job %zu finished outside the output window", seq);
    o->slot[seq % o->cap] = job;
    return OVL_OK;
}

ovl_job *ovl_order_take(ovl_order *o)
{
    if (o->sent == o->made)
        return NULL;
    ovl_job *j = o->slot[o->sent % o->cap];
    if (j != NULL) {
        o->slot[o->sent % o->cap] = NULL;
        o->sent++;
    }
    return j;
}

void ovl_order_free(ovl_order *o, void (*free_job)(ovl_job *))
{
    for (size_t i = 0; o->slot != NULL && i < o->cap; i++)
        if (o->slot[i] != NULL)
            free_job(o->slot[i]);
    free(o->slot);
    memset(o, 0, sizeof *o);
}
