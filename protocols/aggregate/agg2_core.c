/* The aggregate v2 core (agg2_core.h): the OT session of the aggregate phase
 * (SPEC §4.4), the COT batch driver every product and shuffle batch runs
 * on, and the frame dispatch by phase. Each batch is four OT-layer messages:
 * EXT_U (receiver), EXT_CHAL (sender), EXT_PROOF (receiver), then the
 * sender's product message, or SHARE_COT and CHOSEN_FIX in a shuffle; up to
 * CORE_WINDOW batches overlap, so neither party waits on the other's step. */
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
    for (size_t i = 0; i < CORE_WINDOW; i++) {
        OVL_TRY(ovl_buf_alloc(&c->win[i].share, 64, OVL_FRAME_MAX_PAYLOAD));
        OVL_TRY(ovl_buf_alloc(&c->win[i].fix, 64, OVL_FRAME_MAX_PAYLOAD));
    }
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
    for (size_t i = 0; i < CORE_WINDOW; i++) {
        ovl_cot_free(c->win[i].cot);
        ovl_buf_free(&c->win[i].share);
        ovl_buf_free(&c->win[i].fix);
    }
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

/* ---- the batch driver (SPEC §4.4) ----
 *
 * The phase's batches form one sequence, known to both parties from public
 * parameters, each with its COT receiver. Up to CORE_WINDOW consecutive ones
 * are in flight: batch j starts (its receiver's EXT_U) only once every batch
 * before j - CORE_WINDOW + 1 is done at the receiver, and its sender refuses
 * an EXT_U beyond that at its own side (an honest receiver's done batches are
 * done at the sender too, or their SHARE_COT is held there, to be used first:
 * the frames that end them came first). Each frame names its batch by order
 * alone: per direction, EXT_U, EXT_CHAL, EXT_PROOF and SHARE_COT each go to
 * the next batch awaiting one (the OT layer's sequence numbers check it),
 * CHOSEN_FIX right after its SHARE_COT. feed only
 * records what is due (a SHARE_COT and CHOSEN_FIX are held, at most a window
 * of them) or answers with a small frame (EXT_CHAL, EXT_PROOF). The heavy
 * steps, our EXT_U, the peer's SHARE_COT and the end of our batch from the
 * held ones, are taken by pull, one at a time and only once the queue is
 * empty: the core never stops reading because of them, and a small answer
 * never waits behind them, for after the frames it gave in a turn of the
 * driver (which starts with job_take or feed) pull returns none, so that the
 * driver sends them, and computes in the next turn. */

static core_batch *slot(agg2_core *c, size_t j) { return &c->win[j % CORE_WINDOW]; }

static size_t batches(const agg2_core *c) { return c->plan.first[3]; }

/* The first batch at or after j whose COT receiver is this party (recv) or the peer. */
static size_t next_of(const agg2_core *c, size_t j, bool recv)
{
    const core_plan *p = &c->plan;
    for (int k = 0; k < 3; k++) {
        if (j >= p->first[k + 1] || p->first[k] == p->first[k + 1])
            continue;
        if (p->recv[k] == recv)
            return j > p->first[k] ? j : p->first[k];
    }
    return p->first[3];
}

/* Batch j's kind, items and COTs, from the plan, into its free slot. */
static ovl_err batch_open(agg2_core *c, size_t j, core_batch **out)
{
    const core_plan *p = &c->plan;
    core_batch *b = slot(c, j);
    int k = 0;
    if (b->live)
        return ovl_err_set(OVL_ERR_INTERNAL, "aggregate: batch %zu's window slot is taken", j);
    while (k < 2 && j >= p->first[k + 1])
        k++;
    b->kind = k;
    b->at = (j - p->first[k]) * p->step[k];
    b->cnt = p->total[k] - b->at < p->step[k] ? p->total[k] - b->at : p->step[k];
    b->n = b->cnt * p->per[k];
    b->cot = NULL;
    b->live = true;
    b->done = false;
    *out = b;
    return OVL_OK;
}

static ovl_err phase_end(agg2_core *c)
{
    ovl_err rc = OVL_OK;
    if (c->phase == CORE_PRODUCTS) {
        OVL_TRY(agg2_core_products_end(c));
        if (c->K == 1) {
            /* one cell's position reveals nothing: no shuffle (§8.1) */
            OVL_TRY(agg2_core_compare_start(c));
            goto done;
        }
        c->pass = 1;
        OVL_TRY(agg2_core_pass_start(c));
        goto done;
    }
    OVL_TRY(agg2_core_pass_end(c));
    if (c->pass == 1) {
        c->pass = 2;
        OVL_TRY(agg2_core_pass_start(c));
        goto done;
    }
    OVL_TRY(agg2_core_compare_start(c));
done:
    return rc;
}

ovl_err agg2_core_advance(agg2_core *c)
{
    if (c->phase == CORE_PRODUCTS)
        agg2_core_products_plan(c);
    else
        agg2_core_shuffle_plan(c);
    c->lo = 0;
    c->fix_due = false;
    c->mine_next = c->mine_chal = c->mine_share = c->mine_done = next_of(c, 0, true);
    c->peer_next = c->peer_proof = c->peer_share = next_of(c, 0, false);
    return batches(c) == 0 ? phase_end(c) : OVL_OK;
}

/* The window slides past the batches done; the phase ends with its last. */
static ovl_err batch_end(agg2_core *c, core_batch *b)
{
    ovl_cot_free(b->cot);
    b->cot = NULL;
    b->done = true;
    while (c->lo < batches(c) && slot(c, c->lo)->live && slot(c, c->lo)->done) {
        slot(c, c->lo)->live = false;
        c->lo++;
    }
    return c->lo == batches(c) ? phase_end(c) : OVL_OK;
}

/* Our next batch: its choices and EXT_U. */
static ovl_err start_mine(agg2_core *c)
{
    ovl_err rc = OVL_OK;
    core_batch *b;
    OVL_TRY(batch_open(c, c->mine_next, &b));
    OVL_TRY(c->phase == CORE_PRODUCTS ? agg2_core_products_choices(c, b)
                                      : agg2_core_shuffle_choices(c, b));
    OVL_TRY(ovl_cot_recv_start(&b->cot, c->ot, c->choices, b->n, &c->msg));
    OVL_TRY(agg2_core_queue_ot(c));
    c->mine_next = next_of(c, c->mine_next + 1, true);
done:
    return rc;
}

/* The peer's oldest verified batch: its product message, or SHARE_COT and CHOSEN_FIX. */
static ovl_err send_share(agg2_core *c)
{
    ovl_err rc = OVL_OK;
    core_batch *b = slot(c, c->peer_share);
    OVL_TRY(c->phase == CORE_PRODUCTS ? agg2_core_products_send(c, b)
                                      : agg2_core_shuffle_send(c, b));
    c->peer_share = next_of(c, c->peer_share + 1, false);
    OVL_TRY(batch_end(c, b));
done:
    return rc;
}

/* Our oldest batch whose SHARE_COT (and CHOSEN_FIX) came: its products or switches. */
static ovl_err end_mine(agg2_core *c)
{
    ovl_err rc = OVL_OK;
    core_batch *b = slot(c, c->mine_done);
    ovl_buf share, fix;
    ovl_buf_reader(&share, b->share.data, ovl_buf_len(&b->share));
    ovl_buf_reader(&fix, b->fix.data, ovl_buf_len(&b->fix));
    if (c->phase == CORE_PRODUCTS)
        OVL_TRY(agg2_core_products_recv(c, b, &share));
    else
        OVL_TRY(agg2_core_shuffle_recv(c, b, &share, &fix));
    ovl_buf_clear(&b->share);
    ovl_buf_clear(&b->fix);
    c->mine_done = next_of(c, c->mine_done + 1, true);
    OVL_TRY(batch_end(c, b));
done:
    return rc;
}

static bool can_start(const agg2_core *c)
{
    return c->mine_next < batches(c) && c->mine_next < c->lo + CORE_WINDOW;
}

static bool work_due(const agg2_core *c)
{
    return (c->phase == CORE_PRODUCTS || c->phase == CORE_SHUFFLE) &&
           (c->peer_share < c->peer_proof || can_start(c) || c->mine_done < c->mine_share);
}

/* One heavy step: the peer's SHARE_COT first (the peer waits on it), then
 * our next batch within the window (the peer's next work), then the end of
 * our oldest batch (which slides the window). */
static ovl_err work(agg2_core *c)
{
    if (c->peer_share < c->peer_proof)
        return send_share(c);
    if (can_start(c))
        return start_mine(c);
    return end_mine(c);
}

static const char *phase_name(const agg2_core *c)
{
    return c->phase == CORE_PRODUCTS ? "the products" : "the shuffle pass";
}

/* The peer starts its next batch. */
static ovl_err on_ext_u(agg2_core *c, ovl_buf *in)
{
    ovl_err rc = OVL_OK;
    size_t j = c->peer_next;
    core_batch *b;
    OVL_ENSURE(j < batches(c), OVL_ERR_PROTOCOL,
               "aggregate: EXT_U after the last batch the peer receives in %s", phase_name(c));
    /* the peer counts a batch done once it sent the SHARE_COT; we, once we
     * ended it with the one we hold: end the held ones that keep j out */
    while (j >= c->lo + CORE_WINDOW && c->mine_done < c->mine_share)
        OVL_TRY(end_mine(c));
    OVL_ENSURE(j < c->lo + CORE_WINDOW, OVL_ERR_PROTOCOL,
               "aggregate: EXT_U of batch %zu beyond the window: batch %zu is not done and at "
               "most %u batches are in flight (SPEC §4.4)",
               j, c->lo, CORE_WINDOW);
    OVL_TRY(batch_open(c, j, &b));
    OVL_TRY(ovl_cot_send_start(&b->cot, c->ot, in, &c->msg));
    OVL_ENSURE(ovl_cot_count(b->cot) == b->n, OVL_ERR_PROTOCOL,
               "aggregate: batch %zu of %zu COTs where %zu were due", j, ovl_cot_count(b->cot),
               b->n);
    OVL_TRY(agg2_core_queue_ot(c));
    c->peer_next = next_of(c, j + 1, false);
done:
    return rc;
}

static ovl_err on_ext_chal(agg2_core *c, ovl_buf *in)
{
    ovl_err rc = OVL_OK;
    size_t j = c->mine_chal;
    OVL_ENSURE(j < c->mine_next, OVL_ERR_PROTOCOL,
               "aggregate: EXT_CHAL where none was due (this party has not started batch %zu)",
               j);
    OVL_TRY(ovl_cot_recv_prove(slot(c, j)->cot, in, &c->msg));
    OVL_TRY(agg2_core_queue_ot(c));
    c->mine_chal = next_of(c, j + 1, true);
done:
    return rc;
}

static ovl_err on_ext_proof(agg2_core *c, ovl_buf *in)
{
    ovl_err rc = OVL_OK;
    size_t j = c->peer_proof;
    OVL_ENSURE(j < c->peer_next, OVL_ERR_PROTOCOL,
               "aggregate: EXT_PROOF where none was due (batch %zu's EXT_U did not come)", j);
    /* verified: its SHARE_COT is due, made by pull */
    OVL_TRY(ovl_cot_send_verify(slot(c, j)->cot, in));
    c->peer_proof = next_of(c, j + 1, false);
done:
    return rc;
}

/* SHARE_COT (and in a shuffle CHOSEN_FIX, next) of our oldest batch
 * challenged: held for pull, which ends the batch with them. */
static ovl_err on_share(agg2_core *c, const uint8_t *payload, size_t len)
{
    ovl_err rc = OVL_OK;
    size_t j = c->mine_share;
    OVL_ENSURE(j < c->mine_chal, OVL_ERR_PROTOCOL,
               "aggregate: SHARE_COT where none was due (batch %zu had no EXT_CHAL)", j);
    OVL_TRY(ovl_buf_put_bytes(&slot(c, j)->share, payload, len));
    if (c->phase == CORE_SHUFFLE)
        c->fix_due = true;
    else
        c->mine_share = next_of(c, j + 1, true);
done:
    return rc;
}

static ovl_err on_fix(agg2_core *c, const uint8_t *payload, size_t len)
{
    ovl_err rc = OVL_OK;
    OVL_TRY(ovl_buf_put_bytes(&slot(c, c->mine_share)->fix, payload, len));
    c->fix_due = false;
    c->mine_share = next_of(c, c->mine_share + 1, true);
done:
    return rc;
}

static ovl_err on_batch_msg(agg2_core *c, const uint8_t *payload, size_t len)
{
    ovl_err rc = OVL_OK;
    ovl_buf in;
    uint8_t kind = payload[0];
    ovl_buf_reader(&in, payload, len);
    if (c->fix_due) {
        OVL_ENSURE(kind == OVL_OTMSG_CHOSEN_FIX, OVL_ERR_PROTOCOL,
                   "aggregate: AGG_OT kind 0x%02x where batch %zu's CHOSEN_FIX was due (right "
                   "after its SHARE_COT)",
                   kind, c->mine_share);
        OVL_TRY(on_fix(c, payload, len));
        goto done;
    }
    switch (kind) {
    case OVL_OTMSG_EXT_U:
        OVL_TRY(on_ext_u(c, &in));
        break;
    case OVL_OTMSG_EXT_CHAL:
        OVL_TRY(on_ext_chal(c, &in));
        break;
    case OVL_OTMSG_EXT_PROOF:
        OVL_TRY(on_ext_proof(c, &in));
        break;
    case OVL_OTMSG_SHARE:
        OVL_TRY(on_share(c, payload, len));
        break;
    case OVL_OTMSG_CHOSEN_FIX:
        OVL_FAIL(ovl_err_set(OVL_ERR_PROTOCOL, "aggregate: CHOSEN_FIX where none was due (it "
                                               "follows its batch's SHARE_COT, in a shuffle)"));
    default:
        OVL_FAIL(ovl_err_set(OVL_ERR_PROTOCOL,
                             "aggregate: AGG_OT kind 0x%02x in %s (EXT_U, EXT_CHAL, EXT_PROOF, "
                             "SHARE_COT or CHOSEN_FIX were possible)",
                             kind, phase_name(c)));
    }
done:
    return rc;
}

static ovl_err on_ot(agg2_core *c, const uint8_t *payload, size_t len)
{
    ovl_err rc = OVL_OK;
    ovl_buf in;
    OVL_ENSURE(len >= 1, OVL_ERR_MALFORMED, "aggregate: an empty AGG_OT frame");
    if (c->phase == CORE_BASE) {
        OVL_ENSURE(payload[0] == OVL_OTMSG_BASE, OVL_ERR_PROTOCOL,
                   "aggregate: AGG_OT kind 0x%02x where the base OTs were due", payload[0]);
        ovl_buf_reader(&in, payload, len);
        OVL_TRY(ovl_ot_base_read(c->ot, &in));
        if (c->has_pairs) {
            OVL_TRY(agg2_core_pairs_start(c));
            goto done;
        }
        c->phase = CORE_PRODUCTS;
        OVL_TRY(agg2_core_advance(c));
        goto done;
    }
    OVL_ENSURE(c->phase == CORE_PRODUCTS || c->phase == CORE_SHUFFLE, OVL_ERR_PROTOCOL,
               "aggregate: an AGG_OT frame where none was due");
    OVL_TRY(on_batch_msg(c, payload, len));
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
    c->pulled = false; /* a new turn of the driver */
    /* the peer's next phase began: our held batches end first */
    while (type != OVL_AGG2_OT && (c->phase == CORE_PRODUCTS || c->phase == CORE_SHUFFLE) &&
           c->mine_done < c->mine_share)
        OVL_TRY(end_mine(c));
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
    if (ovl_buf_remaining(&c->q) == 0 && work_due(c)) {
        /* the frames given in this turn leave before the next heavy step */
        if (c->pulled)
            goto done;
        while (ovl_buf_remaining(&c->q) == 0 && work_due(c))
            OVL_TRY(work(c));
    }
    if (ovl_buf_remaining(&c->q) != 0) {
        const uint8_t *f = ovl_buf_rptr(&c->q);
        size_t flen = OVL_FRAME_HDR + (((size_t)f[1] << 24) | ((size_t)f[2] << 16) |
                                       ((size_t)f[3] << 8) | f[4]);
        OVL_TRY(ovl_buf_put_bytes(out, f, flen));
        OVL_TRY(ovl_buf_skip(&c->q, flen));
        /* small answers may refill the queue before it empties: drop the
         * sent front once it outweighs the rest (amortised) */
        if (ovl_buf_remaining(&c->q) == 0)
            ovl_buf_clear(&c->q);
        else if (c->q.rpos >= ovl_buf_remaining(&c->q))
            ovl_buf_compact(&c->q);
        *have = true;
        c->pulled = true;
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
    if (!*have)
        c->pulled = false;
    return fail(c, rc);
}

static ovl_err core_job_take(void *proto, ovl_job **job)
{
    agg2_core *c = proto;
    *job = NULL;
    if (c->failed)
        return c->failure;
    c->pulled = false; /* a new turn of the driver */
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
