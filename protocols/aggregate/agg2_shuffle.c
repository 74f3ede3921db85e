/* SHUFFLE1 and SHUFFLE2 of the aggregate v2 core (SPEC §8.1): a
 * Permute+Share pass per party over shuffle.c, the helper's MASKED frames
 * and the permuter's switch batches (up to CORE_WINDOW in flight within a
 * pass). Pass 1 is permuted by the runner, pass 2 by the contributor. */
#include <stdlib.h>
#include <string.h>

#include "aggregate/agg2_core_state.h"
#include "core/frame.h"
#include "core/guard.h"
#include "core/mem.h"

static size_t masked_per_frame(size_t width)
{
    return (OVL_FRAME_MAX_PAYLOAD - CORE_MASKED_HDR) / (8u * width);
}

static ovl_err queue_masked(agg2_core *c)
{
    ovl_err rc = OVL_OK;
    size_t step = masked_per_frame(c->W);
    for (size_t first = 0; first < c->K; first += step) {
        size_t count = c->K - first < step ? c->K - first : step, mark;
        OVL_TRY(ovl_frame_begin(&c->q, OVL_AGG2_MASKED, &mark));
        OVL_TRY(ovl_buf_put_u8(&c->q, (uint8_t)c->pass));
        OVL_TRY(ovl_buf_put_u32(&c->q, (uint32_t)first));
        OVL_TRY(ovl_buf_put_u32(&c->q, (uint32_t)count));
        for (size_t i = first * c->W; i < (first + count) * c->W; i++)
            OVL_TRY(ovl_buf_put_u64(&c->q, c->masked[i]));
        OVL_TRY(ovl_frame_end(&c->q, mark));
    }
done:
    return rc;
}

ovl_err agg2_core_pass_start(agg2_core *c)
{
    ovl_err rc = OVL_OK;
    if (!c->net_live) {
        OVL_TRY(ovl_permnet_new(&c->net, (uint32_t)c->K));
        c->net_live = true;
        OVL_TRY(ovl_calloc((void **)&c->masked, c->K * c->W, sizeof *c->masked));
        OVL_TRY(ovl_calloc((void **)&c->dest, c->K, sizeof *c->dest));
    }
    c->masked_got = 0;
    if (agg2_core_helper_of_pass(c)) {
        OVL_TRY(ovl_shuffle_helper_new(&c->sh, &c->net, c->W, c->in.rng, c->cur, c->masked));
        OVL_TRY(queue_masked(c));
        c->phase = CORE_SHUFFLE;
        OVL_TRY(agg2_core_advance(c));
    } else {
        for (uint32_t i = 0; i < c->K; i++)
            c->dest[i] = i;
        ovl_rng_shuffle_u32(c->in.rng, c->dest, c->K);
        c->phase = CORE_MASKED;
    }
done:
    return rc;
}

ovl_err agg2_core_on_masked(agg2_core *c, const uint8_t *payload, size_t len)
{
    ovl_err rc = OVL_OK;
    ovl_buf in;
    uint8_t pass;
    uint32_t first, count;
    ovl_buf_reader(&in, payload, len);
    OVL_TRY(ovl_buf_get_u8(&in, &pass));
    OVL_TRY(ovl_buf_get_u32(&in, &first));
    OVL_TRY(ovl_buf_get_u32(&in, &count));
    OVL_ENSURE(pass == c->pass, OVL_ERR_PROTOCOL, "aggregate: MASKED of pass %u during pass %u",
               pass, c->pass);
    OVL_ENSURE(first == c->masked_got, OVL_ERR_PROTOCOL,
               "aggregate: MASKED starting at record %u where %zu was next", first,
               c->masked_got);
    OVL_ENSURE(count >= 1 && count <= masked_per_frame(c->W) && count <= c->K - first,
               OVL_ERR_PROTOCOL, "aggregate: MASKED of %u records (%zu of %zu remain)", count,
               c->K - first, c->K);
    OVL_ENSURE(ovl_buf_remaining(&in) == (size_t)count * c->W * 8u, OVL_ERR_MALFORMED,
               "aggregate: MASKED of %u records is %zu bytes long", count, len);
    for (size_t i = (size_t)first * c->W; i < ((size_t)first + count) * c->W; i++)
        OVL_TRY(ovl_buf_get_u64(&in, &c->masked[i]));
    c->masked_got += count;
    if (c->masked_got < c->K)
        goto done;
    OVL_TRY(ovl_shuffle_perm_new(&c->perm, &c->net, c->W, c->dest, c->masked));
    c->phase = CORE_SHUFFLE;
    OVL_TRY(agg2_core_advance(c));
done:
    return rc;
}

/* A pass's switches in batches of ovl_shuffle_batch_max(W), all with the
 * permuter as COT receiver; they move the values in order, so only their
 * messages may overlap, never two passes (pass 2 masks pass 1's output). */
void agg2_core_shuffle_plan(agg2_core *c)
{
    core_plan *p = &c->plan;
    memset(p, 0, sizeof *p);
    p->total[0] = c->net.switches;
    p->step[0] = ovl_shuffle_batch_max(c->W);
    p->per[0] = 1;
    p->recv[0] = !agg2_core_helper_of_pass(c);
    size_t n = (c->net.switches + p->step[0] - 1) / p->step[0];
    p->first[1] = p->first[2] = p->first[3] = n;
}

ovl_err agg2_core_shuffle_choices(agg2_core *c, const core_batch *b)
{
    return ovl_shuffle_perm_choices(c->perm, b->at, b->cnt, c->choices);
}

ovl_err agg2_core_shuffle_send(agg2_core *c, const core_batch *b)
{
    ovl_err rc = OVL_OK;
    ovl_buf fix = {0};
    OVL_TRY(ovl_buf_alloc(&fix, 4096, OVL_FRAME_MAX_PAYLOAD));
    ovl_buf_clear(&c->msg);
    OVL_TRY(ovl_shuffle_helper_batch(c->sh, b->cot, &c->msg, &fix));
    OVL_TRY(agg2_core_queue_ot(c));
    OVL_TRY(agg2_core_queue(c, OVL_AGG2_OT, fix.data, ovl_buf_len(&fix)));
done:
    ovl_buf_free(&fix);
    return rc;
}

ovl_err agg2_core_shuffle_recv(agg2_core *c, const core_batch *b, ovl_buf *share, ovl_buf *fix)
{
    return ovl_shuffle_perm_batch(c->perm, b->cot, share, fix);
}

ovl_err agg2_core_pass_end(agg2_core *c)
{
    ovl_err rc = OVL_OK;
    if (c->sh != NULL)
        OVL_TRY(ovl_shuffle_helper_finish(c->sh, c->next));
    else
        OVL_TRY(ovl_shuffle_perm_finish(c->perm, c->cur, c->next));
    uint64_t *t = c->cur;
    c->cur = c->next;
    c->next = t;
    ovl_shuffle_helper_free(c->sh);
    ovl_shuffle_perm_free(c->perm);
    c->sh = NULL;
    c->perm = NULL;
done:
    return rc;
}

void agg2_core_shuffle_free(agg2_core *c)
{
    ovl_shuffle_helper_free(c->sh);
    ovl_shuffle_perm_free(c->perm);
    if (c->net_live)
        ovl_permnet_free(&c->net);
    ovl_free_secret(c->masked, c->K * c->W * sizeof *c->masked);
    ovl_free_secret(c->dest, c->K * sizeof *c->dest);
    c->sh = NULL;
    c->perm = NULL;
    c->masked = NULL;
    c->dest = NULL;
    c->net_live = false;
}
