/* overlap: from XOR-shared match bits to additive shares of match × payload
 * (SPEC.md §6.3), and the opening of the count in cardinality mode (§6.4).
 *
 * Payload: each party is COT receiver of one direction (choices: its
 * match-bit shares) and sender of the other; src/mpc/shares.h's bit × vector
 * product runs on one batch of each direction per group of bins.
 * Cardinality: a direction runs only toward a party that receives the
 * count, as one bit-to-share COT per bin in which the peer is the only
 * sender, so that what the receiver opens is the peer's one COUNT word plus
 * its own terms, which it cannot weight to its profit (SPEC.md §9). All
 * batches of a direction are started at once, so the phase costs a constant
 * number of round trips whatever B is. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/guard.h"
#include "core/mem.h"
#include "cpsi/state.h"

/* Bins per batch: the most that keep EXT_U and SHARE_COT within one frame
 * (steps of 1024 bins, then halving for the widest payloads). */
static uint32_t batch_bins(uint32_t words)
{
    if (words == 0)
        words = 1;
    size_t cap = OVL_SHARE_MAX_MSG < OVL_FRAME_MAX_PAYLOAD ? OVL_SHARE_MAX_MSG
                                                           : OVL_FRAME_MAX_PAYLOAD;
    uint32_t n = OVL_COT_BATCH_MAX;
    while (n > 1024u && ovl_share_msg_len(n, 64, words) > cap)
        n -= 1024u;
    while (n > 1u && ovl_share_msg_len(n, 64, words) > cap)
        n /= 2u;
    return n;
}

static uint32_t batch_len(const ovl_cpsi *p, uint32_t k)
{
    uint32_t first = k * p->batch;
    return p->bins - first < p->batch ? p->bins - first : p->batch;
}

static ovl_err queue_msg(ovl_cpsi *p, ovl_buf *msg)
{
    ovl_err rc = cpsi_queue_frame(p, OVL_CPSI_OT, msg->data, ovl_buf_len(msg));
    ovl_buf_clear(msg);
    return rc;
}

static void pack_bits(uint8_t *out, const uint8_t *bits, uint32_t n)
{
    memset(out, 0, (n + 7u) / 8u);
    for (uint32_t i = 0; i < n; i++)
        out[i / 8] |= (uint8_t)((bits[i] & 1u) << (i % 8));
}

ovl_err cpsi_shares_start(ovl_cpsi *p)
{
    ovl_err rc = OVL_OK;
    uint8_t key[16];
    ovl_buf msg = {0};
    cpsi_sub_key(key, p, "overlap-cpsi-v1 share pi");
    ovl_tweak_space_init(&p->sp, key);
    bool card = p->cfg.mode == OVL_MODE_CARDINALITY;
    p->batch = batch_bins(p->words);
    p->nbatch = (p->bins + p->batch - 1u) / p->batch;
    p->nrecv = !card || p->i_get ? p->nbatch : 0;
    p->nsend = !card || p->peer_gets ? p->nbatch : 0;
    if (card && (p->cfg.runner ? p->peer_gets : p->i_get)) /* a direction toward C */
        OVL_TRY(ovl_calloc((void **)&p->conv, p->batch, sizeof *p->conv));
    OVL_TRY(ovl_calloc((void **)&p->send_b, p->nbatch, sizeof *p->send_b));
    OVL_TRY(ovl_calloc((void **)&p->recv_b, p->nbatch, sizeof *p->recv_b));
    OVL_TRY(ovl_ot_new(&p->ot, (unsigned)p->cfg.role, NULL, &p->rng, &p->sp));
    OVL_TRY(ovl_buf_alloc(&msg, OVL_OT_BASE_MSG_LEN, OVL_FRAME_MAX_PAYLOAD));
    OVL_TRY(ovl_ot_base_write(p->ot, &msg));
    OVL_TRY(queue_msg(p, &msg));
done:
    sodium_memzero(key, sizeof key);
    ovl_buf_free(&msg);
    return rc;
}

static ovl_err start_receiving(ovl_cpsi *p, ovl_buf *msg)
{
    ovl_err rc = OVL_OK;
    uint8_t *choices = NULL;
    uint32_t k = p->recv_started;
    uint32_t n = batch_len(p, k);
    OVL_TRY(ovl_calloc((void **)&choices, (p->batch + 7u) / 8u, 1));
    pack_bits(choices, p->match + (size_t)k * p->batch, n);
    OVL_TRY(ovl_cot_recv_start(&p->recv_b[k], p->ot, choices, n, msg));
    OVL_TRY(queue_msg(p, msg));
    p->recv_started++;
done:
    ovl_free_secret(choices, (p->batch + 7u) / 8u);
    return rc;
}

/* Cardinality: our sender terms, summed, are the peer's COUNT (SPEC.md §6.4). */
static ovl_err finish_products(ovl_cpsi *p)
{
    ovl_err rc = OVL_OK;
    uint8_t body[8];
    p->products_done = true;
    if (p->cfg.mode != OVL_MODE_CARDINALITY || !p->peer_gets)
        return OVL_OK;
    for (int i = 0; i < 8; i++)
        body[i] = (uint8_t)(p->send_sum >> (56 - 8 * i));
    OVL_TRY(cpsi_queue_frame(p, OVL_CPSI_COUNT, body, sizeof body));
done:
    sodium_memzero(body, sizeof body);
    return rc;
}

/* Cardinality: the shares of batch k's match bits of one direction. The
 * direction toward R is the output's value (one word per bin); the other,
 * toward C when both receive, only feeds its sum. */
static uint64_t *conv_out(ovl_cpsi *p, uint32_t k, bool sending)
{
    bool toward_r = p->cfg.runner != sending;
    return toward_r ? p->value + (size_t)k * p->batch : p->conv;
}

static void add_terms(uint64_t *sum, const uint64_t *t, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        *sum += t[i];
}

/* Our products for batch k as sender: bits and vector shares of its bins. */
static ovl_err send_products(ovl_cpsi *p, uint32_t k, ovl_buf *msg)
{
    ovl_err rc = OVL_OK;
    uint32_t n = batch_len(p, k);
    size_t first = (size_t)k * p->batch;
    uint8_t *bits = NULL;
    OVL_TRY(ovl_calloc((void **)&bits, (n + 7u) / 8u, 1));
    pack_bits(bits, p->match + first, n);
    if (p->cfg.mode == OVL_MODE_CARDINALITY) {
        uint64_t *out = conv_out(p, k, true);
        OVL_TRY(ovl_share_b2a_send(p->send_b[k], 64, bits, out, msg));
        add_terms(&p->send_sum, out, n);
    } else {
        OVL_TRY(ovl_share_bitvec_send(p->send_b[k], 64, p->words, bits,
                                      p->vec + first * p->words, p->value + first * p->words,
                                      msg));
    }
    OVL_TRY(queue_msg(p, msg));
done:
    ovl_free_secret(bits, (n + 7u) / 8u);
    return rc;
}

static ovl_err on_ot_msg(ovl_cpsi *p, uint8_t kind, ovl_buf *in, ovl_buf *msg)
{
    ovl_err rc = OVL_OK;
    uint32_t k;
    switch (kind) {
    case OVL_OTMSG_BASE:
        OVL_ENSURE(!p->base_got, OVL_ERR_PROTOCOL, "the peer sent a second OT_BASE");
        OVL_TRY(ovl_ot_base_read(p->ot, in));
        p->base_got = true;
        p->recv_open = true;
        break;
    case OVL_OTMSG_EXT_U:
        OVL_ENSURE(p->base_got && p->send_started < p->nsend, OVL_ERR_PROTOCOL,
                   "the peer started OT batch %u of %u", p->send_started + 1, p->nsend);
        k = p->send_started++;
        OVL_TRY(ovl_cot_send_start(&p->send_b[k], p->ot, in, msg));
        OVL_ENSURE(ovl_cot_count(p->send_b[k]) == batch_len(p, k), OVL_ERR_PROTOCOL,
                   "OT batch %u holds %zu OTs where %u bins were due", k,
                   ovl_cot_count(p->send_b[k]), batch_len(p, k));
        OVL_TRY(queue_msg(p, msg));
        break;
    case OVL_OTMSG_EXT_CHAL:
        OVL_ENSURE(p->chal_got < p->recv_started, OVL_ERR_PROTOCOL,
                   "the peer sent a challenge for an OT batch never started");
        OVL_TRY(ovl_cot_recv_prove(p->recv_b[p->chal_got++], in, msg));
        OVL_TRY(queue_msg(p, msg));
        break;
    case OVL_OTMSG_EXT_PROOF:
        OVL_ENSURE(p->proof_got < p->send_started, OVL_ERR_PROTOCOL,
                   "the peer sent a proof for an OT batch never started");
        k = p->proof_got++;
        OVL_TRY(ovl_cot_send_verify(p->send_b[k], in));
        break;
    case OVL_OTMSG_SHARE:
        OVL_ENSURE(p->share_got < p->chal_got, OVL_ERR_PROTOCOL,
                   "the peer sent SHARE_COT for an OT batch not yet proven");
        k = p->share_got++;
        if (p->cfg.mode == OVL_MODE_CARDINALITY) {
            uint64_t *out = conv_out(p, k, false);
            OVL_TRY(ovl_share_b2a_recv(p->recv_b[k], 64, in, out));
            add_terms(&p->recv_sum, out, batch_len(p, k));
        } else {
            OVL_TRY(ovl_share_bitvec_recv(p->recv_b[k], 64, p->words, in,
                                          p->value + (size_t)k * p->batch * p->words));
        }
        break;
    default:
        OVL_FAIL(ovl_err_set(OVL_ERR_PROTOCOL, "the peer sent OT message kind 0x%02x here",
                             kind));
    }
done:
    return rc;
}

ovl_err cpsi_shares_on_ot(ovl_cpsi *p, const uint8_t *payload, size_t len)
{
    ovl_err rc = OVL_OK;
    ovl_buf in, msg = {0};
    OVL_ENSURE(p->ot != NULL, OVL_ERR_PROTOCOL,
               "an OT message arrived before the garbled equality finished");
    OVL_ENSURE(!p->products_done, OVL_ERR_PROTOCOL, "an OT message after the products were done");
    OVL_ENSURE(len >= 1, OVL_ERR_MALFORMED, "an empty OT frame");
    ovl_buf_reader(&in, payload, len);
    OVL_TRY(ovl_buf_alloc(&msg, 4096, OVL_FRAME_MAX_PAYLOAD));
    OVL_TRY(on_ot_msg(p, payload[0], &in, &msg));
    if (p->share_sent == p->nsend && p->share_got == p->nrecv)
        OVL_TRY(finish_products(p));
done:
    ovl_buf_free(&msg);
    return rc;
}

/* Below CPSI_PUMP_LOW queued, pull makes the next bulk message: one batch's
 * EXT_U or SHARE_COT (at most a frame each), so the queue stays under the
 * pump's mark + a frame and wants_input's mark is never reached by it. */

ovl_err cpsi_shares_pump(ovl_cpsi *p)
{
    ovl_err rc = OVL_OK;
    ovl_buf msg = {0};
    if (p->ot == NULL || p->products_done)
        return OVL_OK;
    while (ovl_buf_remaining(&p->q) < CPSI_PUMP_LOW(p)) {
        /* the peer's SHARE_COT first: it ends a batch the peer waits on */
        bool share = p->share_sent < p->proof_got;
        if (!share && !(p->recv_open && p->recv_started < p->nrecv))
            break;
        if (msg.data == NULL)
            OVL_TRY(ovl_buf_alloc(&msg, 4096, OVL_FRAME_MAX_PAYLOAD));
        if (share) {
            OVL_TRY(send_products(p, p->share_sent, &msg));
            p->share_sent++;
            if (p->share_sent == p->nsend && p->share_got == p->nrecv)
                OVL_TRY(finish_products(p));
        } else {
            OVL_TRY(start_receiving(p, &msg));
        }
    }
done:
    ovl_buf_free(&msg);
    return rc;
}

/* The peer's COUNT follows its last SHARE_COT; an honest count is at most
 * min(n, m), and anything larger is refused (SPEC.md §6.4, §10). */
ovl_err cpsi_on_count(ovl_cpsi *p, ovl_buf *in)
{
    ovl_err rc = OVL_OK;
    uint64_t most = p->n_r < p->n_c ? p->n_r : p->n_c;
    OVL_ENSURE(p->cfg.mode == OVL_MODE_CARDINALITY && p->i_get, OVL_ERR_PROTOCOL,
               "the peer sent COUNT to a party that receives no count");
    OVL_ENSURE(!p->peer_share_got, OVL_ERR_PROTOCOL, "the peer sent a second COUNT");
    OVL_ENSURE(p->ot != NULL && p->share_got == p->nrecv, OVL_ERR_PROTOCOL,
               "COUNT arrived before the share phase ended (frames out of order)");
    OVL_TRY(ovl_buf_get_u64(in, &p->peer_share));
    OVL_TRY(ovl_buf_expect_end(in));
    p->peer_share_got = true;
    p->count = p->recv_sum + p->peer_share;
    OVL_ENSURE(p->count <= most, OVL_ERR_PROTOCOL,
               "the peer's COUNT opens a count of %llu, more than min(n, m) = %llu (a wrong "
               "count)", (unsigned long long)p->count, (unsigned long long)most);
    p->count_got = true;
done:
    if (rc != OVL_OK)
        p->count = 0;
    return rc;
}
