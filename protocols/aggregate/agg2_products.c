/* The PRODUCTS phase of the aggregate v2 core (SPEC §7): each batch's
 * choices and product messages over products.c, in (kind, bin) order (the
 * batches are independent: each adds into the cells, so any number may be in
 * flight), and the cell records once every batch is in; with conditions across parties, the
 * pairs phase's ROWS, CONTRIB and FLAG in their places. */
#include <string.h>

#include "aggregate/agg2_core_state.h"
#include "core/guard.h"

/* The batch sequence of §7: every kind's bins in (kind, bin) order; the
 * pairs phase's kinds (ROWS, CONTRIB, FLAG) take the places of A, B_COUNT,
 * B_FLAG. Type A: the runner chooses with its count bits or flags; type B:
 * the contributor with its shares. */
void agg2_core_products_plan(agg2_core *c)
{
    core_plan *p = &c->plan;
    size_t j = 0;
    memset(p, 0, sizeof *p);
    for (int k = OVL_AGG2_PROD_A; k <= OVL_AGG2_PROD_B_FLAG; k++) {
        p->first[k] = j;
        p->total[k] = c->in.bins;
        if (c->has_pairs) {
            p->per[k] = ovl_pp_cots_per_bin(&c->pp, (ovl_pp_kind)k);
            p->step[k] = p->per[k] ? ovl_pp_bins_per_batch(&c->pp, (ovl_pp_kind)k) : 0;
            p->recv[k] = ovl_pp_runner_receives((ovl_pp_kind)k) == c->in.runner;
        } else {
            p->per[k] = ovl_agg2_prod_cots_per_bin(&c->in.l, (ovl_agg2_prod_kind)k);
            p->step[k] = p->per[k] ? ovl_agg2_prod_bins_per_batch(&c->in.l, (ovl_agg2_prod_kind)k)
                                   : 0;
            p->recv[k] = ovl_agg2_prod_runner_chooses(&c->in.l, (ovl_agg2_prod_kind)k) ==
                         c->in.runner;
        }
        if (p->step[k] != 0)
            j += (c->in.bins + p->step[k] - 1) / p->step[k];
    }
    p->first[3] = j;
}

/* The bit shares of a batch's first bin. */
static const uint8_t *bits_at(const agg2_core *c, const core_batch *b)
{
    const ovl_agg2_layout *l = &c->in.l;
    if (b->kind == OVL_AGG2_PROD_B_COUNT)
        return c->in.beta + b->at * l->groups_c * l->bits_c;
    return c->in.phi + b->at * l->groups_c;
}

/* With conditions across parties: the pairs phase's products over the bin
 * circuit's output shares (pairs_phase.h); z, rwp and x of the batch's bins. */
static const uint8_t *z_at(const agg2_core *c, const core_batch *b)
{
    return c->z + b->at * ovl_pp_out_bits(&c->pp);
}

static const uint64_t *x_at(const agg2_core *c, const core_batch *b)
{
    return c->in.x ? c->in.x + b->at * c->pp.s.cap_c * c->pp.words_c : NULL;
}

ovl_err agg2_core_products_choices(agg2_core *c, const core_batch *b)
{
    const ovl_agg2_layout *l = &c->in.l;
    ovl_agg2_prod_kind k = (ovl_agg2_prod_kind)b->kind;
    if (c->has_pairs)
        return ovl_pp_choices(c->choices, &c->pp, (ovl_pp_kind)b->kind, z_at(c, b), b->cnt);
    if (ovl_agg2_prod_runner_chooses(l, k))
        return ovl_agg2_prod_a_choices(c->choices, k, l, c->in.nr + b->at * l->groups_r, b->cnt);
    return ovl_agg2_prod_b_choices(c->choices, k, l, bits_at(c, b), b->cnt);
}

ovl_err agg2_core_products_send(agg2_core *c, const core_batch *b)
{
    ovl_err rc = OVL_OK;
    const ovl_agg2_layout *l = &c->in.l;
    ovl_agg2_prod_kind k = (ovl_agg2_prod_kind)b->kind;
    ovl_buf_clear(&c->msg);
    if (c->has_pairs) {
        const uint64_t *rw =
            c->in.runner ? c->in.rwp + b->at * c->pp.s.cap_r * c->pp.words_r : NULL;
        OVL_TRY(ovl_pp_send(b->cot, &c->pp, (ovl_pp_kind)b->kind, z_at(c, b), rw, x_at(c, b),
                            b->cnt, &c->msg, c->cells));
    } else if (ovl_agg2_prod_runner_chooses(l, k)) {
        /* only the contributor sends type A: its payload shares */
        OVL_TRY(ovl_agg2_prod_a_send(b->cot, k, l, c->in.pay + b->at * c->in.payload_words,
                                     b->cnt, &c->msg, c->cells));
    } else {
        OVL_TRY(ovl_agg2_prod_b_send(b->cot, k, l, bits_at(c, b), c->in.nr + b->at * l->groups_r,
                                     c->in.rw + b->at * l->groups_r * l->words_r, b->cnt,
                                     &c->msg, c->cells));
    }
    OVL_TRY(agg2_core_queue_ot(c));
done:
    return rc;
}

ovl_err agg2_core_products_recv(agg2_core *c, const core_batch *b, ovl_buf *in)
{
    const ovl_agg2_layout *l = &c->in.l;
    ovl_agg2_prod_kind k = (ovl_agg2_prod_kind)b->kind;
    if (c->has_pairs)
        return ovl_pp_recv(b->cot, &c->pp, (ovl_pp_kind)b->kind, b->cnt, in, c->cells);
    if (ovl_agg2_prod_runner_chooses(l, k))
        return ovl_agg2_prod_a_recv(b->cot, k, l, c->in.nr + b->at * l->groups_r,
                                    c->in.pay + b->at * c->in.payload_words, b->cnt, in,
                                    c->cells);
    return ovl_agg2_prod_b_recv(b->cot, k, l, b->cnt, in, c->cells);
}

/* The helper's index word of each record is the published index of its
 * group's label, not the group index: the receiver must not learn where a
 * released label ranks among the helper's labels (SPEC.md §4.3). */
static void publish_indices(agg2_core *c)
{
    const ovl_agg2_layout *l = &c->in.l;
    size_t P = ovl_agg2_prod_words(l), W = ovl_agg2_record_width(l);
    for (uint32_t g = 0; g < l->groups_r; g++)
        for (uint32_t k = 0; k < l->groups_c; k++) {
            uint64_t *r = c->cur + ((size_t)g * l->groups_c + k) * W;
            if (c->in.runner)
                r[P] = c->in.hidx[g];
            else
                r[P + 1] = c->in.hidx[k];
        }
}

ovl_err agg2_core_products_end(agg2_core *c)
{
    ovl_err rc = ovl_agg2_records_build(c->cur, &c->in.l, c->cells, c->in.runner,
                                        c->in.receiver ? NULL : c->in.keys);
    if (rc == OVL_OK && !c->in.receiver && c->in.hidx != NULL)
        publish_indices(c);
    return rc;
}
