/* The aggregate v2 core (agg2_core.h): the OT session of the aggregate phase
 * (SPEC §4.4), the COT batch driver every product and shuffle batch runs
 * on, and the frame dispatch by phase. Each batch is four OT-layer messages:
 * EXT_U (receiver), EXT_CHAL (sender), EXT_PROOF (receiver), then the
 * sender's product message, or SHARE_COT and CHOSEN_FIX in a shuffle. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "aggregate/agg2_core_state.h"
#include "core/frame.h"
#include "core/guard.h"
#include "core/mem.h"

bool agg2_core_takes(uint8_t type)
{
    return type == OVL_AGG2_OT || type == OVL_AGG2_MASKED || type == OVL_AGG2_RELEASE ||
           type == OVL_AGG2_DONE || (type >= OVL_GC_SETUP && type <= OVL_GC_OUTPUT);
}

ovl_err agg2_core_check(const ovl_agg2_layout *l)
{
    ovl_err rc = OVL_OK;
    OVL_TRY(ovl_agg2_layout_check(l));
    size_t K = ovl_agg2_prod_cells(l), W = ovl_agg2_record_width(l);
    OVL_ENSURE(W <= OVL_SHUFFLE_MAX_WIDTH, OVL_ERR_LIMIT,
               "aggregate: %zu words per cell record exceed the shuffle's %u", W,
               OVL_SHUFFLE_MAX_WIDTH);
    /* RELEASE carries every passing record in one frame. */
    OVL_ENSURE(4u + 8u * W * K <= OVL_FRAME_MAX_PAYLOAD, OVL_ERR_LIMIT,
               "aggregate: %zu cells of %zu words exceed one RELEASE frame (at most %zu cells)",
               K, W, (size_t)(OVL_FRAME_MAX_PAYLOAD - 4u) / (8u * W));
done:
    return rc;
}

ovl_err agg2_core_queue(agg2_core *c, uint8_t type, const uint8_t *body, size_t len)
{
    ovl_err rc = OVL_OK;
    size_t mark;
    OVL_TRY(ovl_frame_begin(&c->q, type, &mark));
    OVL_TRY(ovl_buf_put_bytes(&c->q, body, len));
    OVL_TRY(ovl_frame_end(&c->q, mark));
done:
    return rc;
}

ovl_err agg2_core_queue_ot(agg2_core *c)
{
    ovl_err rc = agg2_core_queue(c, OVL_AGG2_OT, c->msg.data, ovl_buf_len(&c->msg));
    ovl_buf_clear(&c->msg);
    return rc;
}

bool agg2_core_helper_of_pass(const agg2_core *c)
{
    /* pass 1: the runner permutes; pass 2: the contributor */
    return c->pass == 1 ? !c->in.runner : c->in.runner;
}

void agg2_core_sub_key(uint8_t out[16], const uint8_t *transcript, const char *label)
{
    uint8_t h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const uint8_t *)label, strlen(label) + 1);
    crypto_hash_sha256_update(&st, transcript, OVL_TRANSCRIPT_LEN);
    crypto_hash_sha256_final(&st, h);
    memcpy(out, h, 16);
    sodium_memzero(h, sizeof h);
}

ovl_err agg2_core_new(agg2_core **out, const agg2_core_in *in)
{
    ovl_err rc = OVL_OK;
    agg2_core *c = NULL;
    uint8_t key[16];
    *out = NULL;
    OVL_TRY(agg2_core_check(&in->l));
    OVL_ENSURE(in->threshold >= OVL_AGG2_MIN_THRESHOLD && in->threshold <= OVL_AGG2_MAX_THRESHOLD,
               OVL_ERR_USAGE, "aggregate: threshold %llu outside %u..%u",
               (unsigned long long)in->threshold, OVL_AGG2_MIN_THRESHOLD,
               OVL_AGG2_MAX_THRESHOLD);
    OVL_ENSURE(in->pairs != NULL || ovl_agg2_payload_words(&in->l) == 0 ||
                   in->payload_words == ovl_agg2_payload_words(&in->l),
               OVL_ERR_USAGE, "aggregate: the payload is not the contributor's words of the "
               "layout (SPEC §6)");
    if (in->pairs != NULL) {
        ovl_agg2_layout cl;
        OVL_TRY(ovl_pp_layout_check(in->pairs));
        ovl_pp_cells_layout(&cl, in->pairs);
        OVL_ENSURE(memcmp(&cl, &in->l, sizeof cl) == 0 && in->crow != NULL &&
                       (in->pairs->words_c == 0 || in->x != NULL) &&
                       (!in->runner || (in->rrow != NULL && in->rwp != NULL)),
                   OVL_ERR_USAGE, "aggregate: the pairs phase's inputs do not match its layout");
    }
    OVL_ENSURE(in->receiver || in->keys != NULL, OVL_ERR_USAGE, "aggregate: the helper has no keys");
    OVL_TRY(ovl_calloc((void **)&c, 1, sizeof *c));
    c->in = *in;
    c->K = ovl_agg2_prod_cells(&in->l);
    c->P = ovl_agg2_prod_words(&in->l);
    c->W = ovl_agg2_record_width(&in->l);
    OVL_TRY(ovl_buf_alloc(&c->q, 4096, CORE_QUEUE_MAX));
    OVL_TRY(ovl_buf_alloc(&c->msg, 4096, 2 * OVL_FRAME_MAX_PAYLOAD));
    OVL_TRY(ovl_buf_alloc(&c->held, 4096, OVL_FRAME_MAX_PAYLOAD));
    OVL_TRY(ovl_calloc((void **)&c->choices, OVL_COT_BATCH_MAX / 8 + 1, 1));
    OVL_TRY(ovl_calloc((void **)&c->cells, c->K * c->P, sizeof *c->cells));
    OVL_TRY(ovl_calloc((void **)&c->cur, c->K * c->W, sizeof *c->cur));
    OVL_TRY(ovl_calloc((void **)&c->next, c->K * c->W, sizeof *c->next));
    if (in->pairs != NULL) {
        c->pp = *in->pairs;
        c->has_pairs = true;
        OVL_TRY(ovl_calloc((void **)&c->z, (size_t)in->bins * ovl_pp_out_bits(&c->pp) + 1, 1));
    }
    agg2_core_sub_key(key, in->transcript, "overlap-agg2 pi");
    ovl_tweak_space_init(&c->sp, key);
    agg2_core_sub_key(c->gc_pi, in->transcript, "overlap-agg2 gc pi");
    OVL_TRY(ovl_ot_new(&c->ot, (unsigned)in->role, NULL, in->rng, &c->sp));
    OVL_TRY(ovl_ot_base_write(c->ot, &c->msg));
    OVL_TRY(agg2_core_queue_ot(c));
    c->phase = CORE_BASE;
    c->kind = OVL_AGG2_PROD_A;
    *out = c;
    c = NULL;
done:
    sodium_memzero(key, sizeof key);
    agg2_core_free(c);
    return rc;
}

void agg2_core_free(agg2_core *c)
{
    if (c == NULL)
        return;
    ovl_buf_free(&c->q);
    ovl_buf_free(&c->msg);
    ovl_buf_free(&c->held);
    ovl_cot_free(c->cot);
    ovl_ot_free(c->ot);
    /* the last batch's choices: count bits, shares of β and φ, or switch bits (π) */
    ovl_free_secret(c->choices, OVL_COT_BATCH_MAX / 8 + 1);
    ovl_free_secret(c->cells, c->K * c->P * sizeof *c->cells);
    ovl_free_secret(c->cur, c->K * c->W * sizeof *c->cur);
    ovl_free_secret(c->next, c->K * c->W * sizeof *c->next);
    agg2_core_shuffle_free(c);
    agg2_core_release_free(c);
    agg2_core_pairs_free(c);
    sodium_memzero(c->gc_pi, sizeof c->gc_pi);
    free(c);
}

/* ---- the batch driver ---- */

static ovl_err start_recv(agg2_core *c)
{
    ovl_err rc = OVL_OK;
    OVL_TRY(ovl_cot_recv_start(&c->cot, c->ot, c->choices, c->n, &c->msg));
    OVL_TRY(agg2_core_queue_ot(c));
    c->stage = ST_WAIT_CHAL;
done:
    return rc;
}

static size_t kind_cots(const agg2_core *c, int kind)
{
    if (c->has_pairs)
        return ovl_pp_cots_per_bin(&c->pp, (ovl_pp_kind)kind);
    return ovl_agg2_prod_cots_per_bin(&c->in.l, (ovl_agg2_prod_kind)kind);
}

static ovl_err next_product_batch(agg2_core *c, bool *started)
{
    ovl_err rc = OVL_OK;
    *started = false;
    /* the pairs phase's kinds (ROWS, CONTRIB, FLAG) take the places of A, B_COUNT, B_FLAG */
    while (c->kind <= OVL_AGG2_PROD_B_FLAG &&
           (kind_cots(c, c->kind) == 0 || c->at >= c->in.bins)) {
        c->kind++;
        c->at = 0;
    }
    if (c->kind > OVL_AGG2_PROD_B_FLAG)
        goto done;
    size_t per = kind_cots(c, c->kind);
    size_t step = c->has_pairs ? ovl_pp_bins_per_batch(&c->pp, (ovl_pp_kind)c->kind)
                               : ovl_agg2_prod_bins_per_batch(&c->in.l, (ovl_agg2_prod_kind)c->kind);
    c->cnt = c->in.bins - c->at < step ? c->in.bins - c->at : step;
    c->n = c->cnt * per;
    /* type A: the runner chooses with its count bits or flags; type B: the
     * contributor with its shares */
    if (c->has_pairs)
        c->i_recv = ovl_pp_runner_receives((ovl_pp_kind)c->kind) == c->in.runner;
    else
        c->i_recv = ovl_agg2_prod_runner_chooses(&c->in.l, (ovl_agg2_prod_kind)c->kind) ==
                    c->in.runner;
    *started = true;
    if (c->i_recv) {
        OVL_TRY(agg2_core_products_choices(c));
        OVL_TRY(start_recv(c));
    } else {
        c->stage = ST_WAIT_U;
    }
done:
    return rc;
}

ovl_err agg2_core_advance(agg2_core *c)
{
    ovl_err rc = OVL_OK;
    while (c->stage == ST_NONE) {
        if (c->phase == CORE_PRODUCTS) {
            bool started;
            OVL_TRY(next_product_batch(c, &started));
            if (started)
                break;
            OVL_TRY(agg2_core_products_end(c));
            if (c->K == 1) {
                /* one cell's position reveals nothing: no shuffle (§8.1) */
                OVL_TRY(agg2_core_compare_start(c));
                break;
            }
            c->pass = 1;
            OVL_TRY(agg2_core_pass_start(c));
        } else if (c->phase == CORE_SHUFFLE) {
            if (c->at >= c->net.switches) {
                OVL_TRY(agg2_core_pass_end(c));
                if (c->pass == 1) {
                    c->pass = 2;
                    OVL_TRY(agg2_core_pass_start(c));
                    continue;
                }
                OVL_TRY(agg2_core_compare_start(c));
                break;
            }
            size_t step = ovl_shuffle_batch_max(c->W);
            c->cnt = c->net.switches - c->at < step ? c->net.switches - c->at : step;
            c->n = c->cnt;
            c->i_recv = !agg2_core_helper_of_pass(c);
            if (c->i_recv) {
                OVL_TRY(agg2_core_shuffle_choices(c));
                OVL_TRY(start_recv(c));
            } else {
                c->stage = ST_WAIT_U;
            }
        } else {
            break;
        }
    }
done:
    return rc;
}

static ovl_err batch_done(agg2_core *c)
{
    ovl_cot_free(c->cot);
    c->cot = NULL;
    c->at += c->cnt;
    c->stage = ST_NONE;
    return agg2_core_advance(c);
}

static const char *stage_wants(core_stage s)
{
    switch (s) {
    case ST_WAIT_U:
        return "EXT_U";
    case ST_WAIT_CHAL:
        return "EXT_CHAL";
    case ST_WAIT_PROOF:
        return "EXT_PROOF";
    case ST_WAIT_SHARE:
        return "SHARE_COT";
    case ST_WAIT_FIX:
        return "CHOSEN_FIX";
    default:
        return "nothing";
    }
}

static ovl_err on_ot(agg2_core *c, const uint8_t *payload, size_t len)
{
    ovl_err rc = OVL_OK;
    ovl_buf in;
    static const uint8_t want_kind[] = {
        [ST_WAIT_U] = OVL_OTMSG_EXT_U,       [ST_WAIT_CHAL] = OVL_OTMSG_EXT_CHAL,
        [ST_WAIT_PROOF] = OVL_OTMSG_EXT_PROOF, [ST_WAIT_SHARE] = OVL_OTMSG_SHARE,
        [ST_WAIT_FIX] = OVL_OTMSG_CHOSEN_FIX,
    };
    OVL_ENSURE(len >= 1, OVL_ERR_MALFORMED, "aggregate: an empty AGG_OT frame");
    ovl_buf_reader(&in, payload, len);
    if (c->phase == CORE_BASE) {
        OVL_ENSURE(payload[0] == OVL_OTMSG_BASE, OVL_ERR_PROTOCOL,
                   "aggregate: AGG_OT kind 0x%02x where the base OTs were due", payload[0]);
        OVL_TRY(ovl_ot_base_read(c->ot, &in));
        if (c->has_pairs) {
            OVL_TRY(agg2_core_pairs_start(c));
            goto done;
        }
        c->phase = CORE_PRODUCTS;
        OVL_TRY(agg2_core_advance(c));
        goto done;
    }
    OVL_ENSURE((c->phase == CORE_PRODUCTS || c->phase == CORE_SHUFFLE) && c->stage != ST_NONE,
               OVL_ERR_PROTOCOL, "aggregate: an AGG_OT frame where none was due");
    OVL_ENSURE(payload[0] == want_kind[c->stage], OVL_ERR_PROTOCOL,
               "aggregate: AGG_OT kind 0x%02x where %s was due", payload[0],
               stage_wants(c->stage));
    bool prod = c->phase == CORE_PRODUCTS;
    switch (c->stage) {
    case ST_WAIT_U:
        OVL_TRY(ovl_cot_send_start(&c->cot, c->ot, &in, &c->msg));
        OVL_ENSURE(ovl_cot_count(c->cot) == c->n, OVL_ERR_PROTOCOL,
                   "aggregate: a batch of %zu COTs where %zu were due", ovl_cot_count(c->cot),
                   c->n);
        OVL_TRY(agg2_core_queue_ot(c));
        c->stage = ST_WAIT_PROOF;
        break;
    case ST_WAIT_CHAL:
        OVL_TRY(ovl_cot_recv_prove(c->cot, &in, &c->msg));
        OVL_TRY(agg2_core_queue_ot(c));
        c->stage = ST_WAIT_SHARE;
        break;
    case ST_WAIT_PROOF:
        OVL_TRY(ovl_cot_send_verify(c->cot, &in));
        OVL_TRY(prod ? agg2_core_products_send(c) : agg2_core_shuffle_send(c));
        OVL_TRY(batch_done(c));
        break;
    case ST_WAIT_SHARE:
        if (prod) {
            OVL_TRY(agg2_core_products_recv(c, &in));
            OVL_TRY(batch_done(c));
        } else {
            ovl_buf_clear(&c->held);
            OVL_TRY(ovl_buf_put_bytes(&c->held, payload, len));
            c->stage = ST_WAIT_FIX;
        }
        break;
    case ST_WAIT_FIX: {
        ovl_buf share;
        ovl_buf_reader(&share, c->held.data, ovl_buf_len(&c->held));
        OVL_TRY(agg2_core_shuffle_recv(c, &share, &in));
        ovl_buf_clear(&c->held);
        OVL_TRY(batch_done(c));
        break;
    }
    default:
        OVL_FAIL(ovl_err_set(OVL_ERR_INTERNAL, "aggregate: batch stage %d", (int)c->stage));
    }
done:
    return rc;
}

/* ---- the ops ---- */

static ovl_err fail(agg2_core *c, ovl_err rc)
{
    if (rc != OVL_OK && !c->failed) {
        c->failed = true;
        c->failure = rc;
    }
    return c->failed ? c->failure : rc;
}

static ovl_err core_feed(void *proto, uint8_t type, const uint8_t *payload, size_t len)
{
    agg2_core *c = proto;
    ovl_err rc = OVL_OK;
    if (c->failed)
        return c->failure;
    switch (type) {
    case OVL_AGG2_OT:
        OVL_TRY(on_ot(c, payload, len));
        break;
    case OVL_AGG2_MASKED:
        OVL_ENSURE(c->phase == CORE_MASKED, OVL_ERR_PROTOCOL,
                   "aggregate: MASKED where none was due (only a shuffle pass's helper sends "
                   "it, before the pass's switches)");
        OVL_TRY(agg2_core_on_masked(c, payload, len));
        break;
    case OVL_AGG2_RELEASE:
        OVL_ENSURE(c->phase == CORE_RELEASE, OVL_ERR_PROTOCOL,
                   c->in.receiver ? "aggregate: RELEASE before the comparisons ended"
                                  : "aggregate: the receiver sent RELEASE (a helper's frame)");
        OVL_TRY(agg2_core_on_release(c, payload, len));
        break;
    case OVL_AGG2_DONE:
        OVL_ENSURE(c->phase == CORE_DONE_WAIT, OVL_ERR_PROTOCOL,
                   c->in.receiver ? "aggregate: the helper sent DONE (a receiver's frame)"
                                  : "aggregate: DONE before RELEASE");
        OVL_TRY(agg2_core_on_done(c, len));
        break;
    default:
        OVL_ENSURE(type >= OVL_GC_SETUP && type <= OVL_GC_OUTPUT, OVL_ERR_PROTOCOL,
                   "aggregate: the peer sent unknown frame type 0x%02x", type);
        if (c->phase == CORE_PAIRS && c->pgc != NULL) {
            OVL_TRY(ovl_gc_ops.feed(c->pgc, type, payload, len));
            OVL_TRY(agg2_core_pairs_poll(c));
            break;
        }
        OVL_ENSURE(c->phase == CORE_COMPARE && c->gc != NULL, OVL_ERR_PROTOCOL,
                   "aggregate: garbled-circuit frame 0x%02x outside the pairs and comparison "
                   "phases", type);
        OVL_TRY(ovl_gc_ops.feed(c->gc, type, payload, len));
        OVL_TRY(agg2_core_compare_poll(c));
    }
done:
    return fail(c, rc);
}

static ovl_err core_pull(void *proto, ovl_buf *out, bool *have)
{
    agg2_core *c = proto;
    ovl_err rc = OVL_OK;
    *have = false;
    if (c->failed)
        return c->failure;
    if (ovl_buf_remaining(&c->q) != 0) {
        const uint8_t *f = ovl_buf_rptr(&c->q);
        size_t flen = OVL_FRAME_HDR + (((size_t)f[1] << 24) | ((size_t)f[2] << 16) |
                                       ((size_t)f[3] << 8) | f[4]);
        OVL_TRY(ovl_buf_put_bytes(out, f, flen));
        OVL_TRY(ovl_buf_skip(&c->q, flen));
        if (ovl_buf_remaining(&c->q) == 0)
            ovl_buf_clear(&c->q);
        *have = true;
        goto done;
    }
    if (c->phase == CORE_PAIRS && c->pgc != NULL) {
        OVL_TRY(ovl_gc_ops.pull(c->pgc, out, have));
        OVL_TRY(agg2_core_pairs_poll(c));
    } else if (c->phase == CORE_COMPARE && c->gc != NULL) {
        OVL_TRY(ovl_gc_ops.pull(c->gc, out, have));
        OVL_TRY(agg2_core_compare_poll(c));
    }
done:
    return fail(c, rc);
}

static ovl_err core_job_take(void *proto, ovl_job **job)
{
    agg2_core *c = proto;
    *job = NULL;
    if (c->failed)
        return c->failure;
    if (c->phase == CORE_PAIRS && c->pgc != NULL)
        return fail(c, ovl_gc_ops.job_take(c->pgc, job));
    if (c->phase != CORE_COMPARE || c->gc == NULL)
        return OVL_OK;
    return fail(c, ovl_gc_ops.job_take(c->gc, job));
}

static ovl_err core_job_finish(void *proto, ovl_job *job)
{
    agg2_core *c = proto;
    ovl_err rc = OVL_OK;
    if (c->phase == CORE_PAIRS && c->pgc != NULL) {
        OVL_TRY(ovl_gc_ops.job_finish(c->pgc, job));
        OVL_TRY(agg2_core_pairs_poll(c));
        goto done;
    }
    OVL_ENSURE(c->gc != NULL, OVL_ERR_INTERNAL, "aggregate: a job finished with no job out");
    OVL_TRY(ovl_gc_ops.job_finish(c->gc, job));
    OVL_TRY(agg2_core_compare_poll(c));
done:
    return fail(c, rc);
}

static bool core_wants_input(const void *proto)
{
    const agg2_core *c = proto;
    if (c->failed || c->phase == CORE_END || ovl_buf_remaining(&c->q) > CORE_QUEUE_MAX / 2)
        return false;
    if (c->phase == CORE_PAIRS && c->pgc != NULL)
        return ovl_gc_ops.wants_input(c->pgc);
    return c->phase != CORE_COMPARE || c->gc == NULL || ovl_gc_ops.wants_input(c->gc);
}

static bool core_done(const void *proto)
{
    const agg2_core *c = proto;
    return !c->failed && c->phase == CORE_END && ovl_buf_remaining(&c->q) == 0;
}

const ovl_proto_ops agg2_core_ops = {
    .feed = core_feed,
    .pull = core_pull,
    .job_take = core_job_take,
    .job_finish = core_job_finish,
    .wants_input = core_wants_input,
    .done = core_done,
};

uint64_t agg2_core_released(const agg2_core *c) { return c->r; }

const uint64_t *agg2_core_opened(const agg2_core *c, const uint8_t **ok, size_t *inconsistent)
{
    *ok = c->ok;
    *inconsistent = c->inconsistent;
    return core_done(c) && c->in.receiver ? c->opened : NULL;
}
