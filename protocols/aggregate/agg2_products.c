/* The PRODUCTS phase of the aggregate v2 core (SPEC §7): each batch's
 * choices and product messages over products.c, in (kind, bin) order, and the
 * cell records once every batch is in; with conditions across parties, the
 * pairs phase's ROWS, CONTRIB and FLAG in their places. */
#include "aggregate/agg2_core_state.h"
#include "core/guard.h"

/* The bit shares of a batch's first bin. */
static const uint8_t *bits_at(const agg2_core *c)
{
    const ovl_agg2_layout *l = &c->in.l;
    if (c->kind == OVL_AGG2_PROD_B_COUNT)
        return c->in.beta + c->at * l->groups_c * l->bits_c;
    return c->in.phi + c->at * l->groups_c;
}

/* With conditions across parties: the pairs phase's products over the bin
 * circuit's output shares (pairs_phase.h); z, rwp and x of the batch's bins. */
static const uint8_t *z_at(const agg2_core *c)
{
    return c->z + c->at * ovl_pp_out_bits(&c->pp);
}

static const uint64_t *x_at(const agg2_core *c)
{
    return c->in.x ? c->in.x + c->at * c->pp.s.cap_c * c->pp.words_c : NULL;
}

ovl_err agg2_core_products_choices(agg2_core *c)
{
    const ovl_agg2_layout *l = &c->in.l;
    if (c->has_pairs)
        return ovl_pp_choices(c->choices, &c->pp, (ovl_pp_kind)c->kind, z_at(c), c->cnt);
    if (ovl_agg2_prod_runner_chooses(l, (ovl_agg2_prod_kind)c->kind))
        return ovl_agg2_prod_a_choices(c->choices, (ovl_agg2_prod_kind)c->kind, l,
                                       c->in.nr + c->at * l->groups_r, c->cnt);
    return ovl_agg2_prod_b_choices(c->choices, (ovl_agg2_prod_kind)c->kind, l, bits_at(c),
                                   c->cnt);
}

ovl_err agg2_core_products_send(agg2_core *c)
{
    ovl_err rc = OVL_OK;
    const ovl_agg2_layout *l = &c->in.l;
    ovl_buf_clear(&c->msg);
    if (c->has_pairs) {
        const uint64_t *rw =
            c->in.runner ? c->in.rwp + c->at * c->pp.s.cap_r * c->pp.words_r : NULL;
        OVL_TRY(ovl_pp_send(c->cot, &c->pp, (ovl_pp_kind)c->kind, z_at(c), rw, x_at(c), c->cnt,
                            &c->msg, c->cells));
    } else if (ovl_agg2_prod_runner_chooses(l, (ovl_agg2_prod_kind)c->kind)) {
        /* only the contributor sends type A: its payload shares */
        OVL_TRY(ovl_agg2_prod_a_send(c->cot, (ovl_agg2_prod_kind)c->kind, l,
                                     c->in.pay + c->at * c->in.payload_words, c->cnt, &c->msg,
                                     c->cells));
    } else {
        OVL_TRY(ovl_agg2_prod_b_send(c->cot, (ovl_agg2_prod_kind)c->kind, l, bits_at(c),
                                     c->in.nr + c->at * l->groups_r,
                                     c->in.rw + c->at * l->groups_r * l->words_r, c->cnt,
                                     &c->msg, c->cells));
    }
    OVL_TRY(agg2_core_queue_ot(c));
done:
    return rc;
}

ovl_err agg2_core_products_recv(agg2_core *c, ovl_buf *in)
{
    const ovl_agg2_layout *l = &c->in.l;
    if (c->has_pairs)
        return ovl_pp_recv(c->cot, &c->pp, (ovl_pp_kind)c->kind, c->cnt, in, c->cells);
    if (ovl_agg2_prod_runner_chooses(l, (ovl_agg2_prod_kind)c->kind))
        return ovl_agg2_prod_a_recv(c->cot, (ovl_agg2_prod_kind)c->kind, l,
                                    c->in.nr + c->at * l->groups_r,
                                    c->in.pay + c->at * c->in.payload_words, c->cnt, in,
                                    c->cells);
    return ovl_agg2_prod_b_recv(c->cot, (ovl_agg2_prod_kind)c->kind, l, c->cnt, in, c->cells);
}

/* The helper's index word of each record is the published index of its
 * group's label, not the group index: the receiver must not learn where a
 * released label ranks among the helper's labels (SPEC-v2 §4.3). */
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
