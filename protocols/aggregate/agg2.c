/* The aggregate v2 engine (agg2.h, SPEC §9): configuration, the
 * circuit-PSI phase as a sub-engine whose HELLO is ours, the frame routing by
 * phase, the hand-over of circuit PSI's shares to the core, and the output. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "aggregate/agg2_state.h"
#include "core/frame.h"
#include "core/guard.h"
#include "core/mem.h"
#include "mpc/okvs.h"

static ovl_err fail(ovl_agg2 *a, ovl_err rc)
{
    if (rc != OVL_OK && !a->failed) {
        a->failed = true;
        a->failure = rc;
        a->phase = AGG2_END;
    }
    return a->failed ? a->failure : rc;
}


/* ---- creation ---- */

/* The contributor's circuit-PSI entry (§6): without conditions across
 * parties its words and counts per group, with them its capped rows (the
 * runner's group count, unknown before HELLO, does not enter either). */
/* The contributor's payload layout for its G groups (SPEC §6): one for the
 * check before contact and for the payload it then writes. */
static ovl_agg2_layout contributor_layout(const ovl_agg2_plan *plan, uint32_t G)
{
    return (ovl_agg2_layout){.groups_r = 1, .groups_c = G, .words_c = ovl_agg2_plan_k_c(plan),
                             .bits_r = 1, .bits_c = 1, .star = ovl_agg2_plan_star(plan),
                             .runner_recv = plan->receiver == 0};
}

static ovl_err contributor_entry_check(const ovl_agg2_plan *plan, const ovl_agg_ident *own)
{
    ovl_err rc = OVL_OK;
    uint32_t G = own->shape.groups;
    if (plan->pairs.nconds > 0) {
        ovl_pp_layout pp;
        return agg2_pairs_layout(&pp, plan, 1, G);
    }
    ovl_agg2_layout l = contributor_layout(plan, G);
    uint64_t L = ovl_agg2_payload_words(&l);
    OVL_ENSURE(L <= OVL_CPSI_MAX_WORDS, OVL_ERR_INPUT,
               "aggregate: %u groups x %u words per group exceed circuit PSI's %u payload words "
               "per identifier (group by fewer values, or aggregate fewer columns)",
               G, (uint32_t)(L / G), OVL_CPSI_MAX_WORDS);
    uint64_t entry = ovl_cpsi_entry_words((uint32_t)L, G, own->shape.count_bits);
    OVL_ENSURE(entry <= OVL_OKVS_MAX_WORDS, OVL_ERR_INPUT,
               "aggregate: %u groups of %u payload words and %u-bit row counts take %llu words "
               "per identifier in circuit PSI's store, over its %u (group by fewer values, or "
               "lower aggregation.max_rows_per_identifier)",
               G, (uint32_t)(L / G), own->shape.count_bits, (unsigned long long)entry,
               OVL_OKVS_MAX_WORDS);
done:
    return rc;
}

ovl_err ovl_agg2_check_own(const ovl_agg2_plan *plan, bool runner, const ovl_agg_ident *own)
{
    ovl_err rc = OVL_OK;
    const char *names[OVL_AGG2_MAX_COLS];
    unsigned side = runner ? OVL_AGG2_SIDE_R : OVL_AGG2_SIDE_C;
    uint32_t k = 0;
    OVL_ENSURE(own->shape.cols == ovl_agg2_plan_cols_of(plan, side) &&
                   own->shape.cols <= OVL_AGG2_MAX_COLS,
               OVL_ERR_USAGE,
               "aggregate: the identifier table has %u value columns, the plan %u of this party",
               own->shape.cols, ovl_agg2_plan_cols_of(plan, side));
    for (uint32_t i = 0; i < plan->ncols; i++)
        if (plan->cols[i].side == side)
            names[k++] = plan->cols[i].name;
    OVL_ENSURE(own->shape.nids <= OVL_CPSI_MAX_SET, OVL_ERR_INPUT,
               "aggregate: %u distinct identifiers exceed circuit PSI's cap of %u",
               own->shape.nids, OVL_CPSI_MAX_SET);
    /* §5.1: the totals with the widest count a peer may state, so that the
     * same check after HELLO (kept as a defence) cannot refuse an honest
     * owner's data and tell the peer one bit of it */
    OVL_TRY(ovl_agg_ident_check_totals_named(own, OVL_AGG2_MAX_COUNT_BITS, names));
    if (!runner)
        OVL_TRY(contributor_entry_check(plan, own));
done:
    return rc;
}

static ovl_err check_config(const ovl_agg2_config *c)
{
    ovl_err rc = OVL_OK;
    OVL_ENSURE(c->plan != NULL && c->own != NULL && c->domain != NULL, OVL_ERR_USAGE,
               "aggregate: no plan, identifier table or domain given");
    OVL_TRY(ovl_agg2_plan_check(c->plan));
    OVL_ENSURE((c->plan->pairs.nconds > 0) == (c->pair_rows != NULL), OVL_ERR_USAGE,
               "aggregate: conditions across parties need this party's capped rows, and rows "
               "need conditions (CONDITIONS.md §3)");
    OVL_ENSURE(c->pair_rows == NULL || c->pair_rows->nids == c->nids, OVL_ERR_USAGE,
               "aggregate: the capped rows cover %u identifiers of %zu",
               c->pair_rows ? c->pair_rows->nids : 0, c->nids);
    OVL_ENSURE(strlen(c->domain) <= OVL_AGG2_MAX_DOMAIN, OVL_ERR_USAGE,
               "aggregate: the identifier domain is longer than %u bytes", OVL_AGG2_MAX_DOMAIN);
    OVL_ENSURE(c->nids == 0 || (c->ids != NULL && c->id_len != NULL), OVL_ERR_USAGE,
               "aggregate: no identifiers given");
    const ovl_agg_ident_shape *s = &c->own->shape;
    OVL_ENSURE(s->nids == c->nids, OVL_ERR_USAGE,
               "aggregate: the identifier table covers %u identifiers of %zu", s->nids, c->nids);
    unsigned side = c->runner ? OVL_AGG2_SIDE_R : OVL_AGG2_SIDE_C;
    OVL_ENSURE(s->cols == ovl_agg2_plan_cols_of(c->plan, side), OVL_ERR_USAGE,
               "aggregate: the identifier table has %u value columns, the plan %u of this party",
               s->cols, ovl_agg2_plan_cols_of(c->plan, side));
    OVL_ENSURE(s->groups >= 1 && c->labels != NULL && c->label_len != NULL, OVL_ERR_USAGE,
               "aggregate: no group labels given");
    for (uint32_t g = 0; g < s->groups; g++)
        OVL_ENSURE(c->label_len[g] <= OVL_AGG2_LABEL_MAX &&
                       (c->label_len[g] == 0 || c->labels[g] != NULL),
                   OVL_ERR_USAGE, "aggregate: group %u's label is longer than %u bytes", g,
                   OVL_AGG2_LABEL_MAX);
    OVL_ENSURE(c->min_rows >= 1, OVL_ERR_USAGE, "aggregate: min_rows must be at least 1");
    OVL_ENSURE(c->max_cells >= 1 && c->max_cells <= OVL_AGG2_MAX_CELLS, OVL_ERR_USAGE,
               "aggregate: max_cells %u outside 1..%u", c->max_cells, OVL_AGG2_MAX_CELLS);
    OVL_ENSURE(s->groups <= c->max_cells, OVL_ERR_POLICY,
               "the data form %u groups where aggregation.max_cells allows %u", s->groups,
               c->max_cells);
    /* the session ran these before contacting the peer: again, as a defence */
    OVL_TRY(ovl_agg2_check_own(c->plan, c->runner, c->own));
    OVL_ENSURE(c->agreement_len <= OVL_AGG2_MAX_AGREEMENT &&
                   (c->agreement_len == 0 || c->agreement != NULL),
               OVL_ERR_USAGE, "aggregate: the agreement is longer than %u bytes",
               OVL_AGG2_MAX_AGREEMENT);
done:
    return rc;
}

/* Column j of this party's (count, sum) pairs into its plan words. */
static void project(const ovl_agg2_plan *p, unsigned side, const int64_t *pairs, uint64_t *out)
{
    uint32_t j = 0, k = 0;
    for (uint32_t i = 0; i < p->ncols; i++) {
        if (p->cols[i].side != side)
            continue;
        out[k++] = (uint64_t)pairs[2 * j];
        if (ovl_agg2_plan_col_summed(p, i))
            out[k++] = (uint64_t)pairs[2 * j + 1];
        j++;
    }
}

ovl_err agg2_pairs_layout(ovl_pp_layout *out, const ovl_agg2_plan *plan, uint32_t groups_r,
                          uint32_t groups_c)
{
    ovl_err rc = OVL_OK;
    memset(out, 0, sizeof *out);
    OVL_TRY(ovl_pc_plan_shape(&out->s, &plan->pairs, groups_r, groups_c));
    out->words_r = ovl_agg2_plan_k_r(plan);
    out->words_c = ovl_agg2_plan_k_c(plan);
    out->star = ovl_agg2_plan_star(plan);
    OVL_TRY(ovl_pp_layout_check(out));
    OVL_TRY(ovl_pp_cpsi_check(out));
done:
    return rc;
}

/* Elements of the bit payload per identifier: G_C counts, or the row bits. */
static size_t bit_elems(const ovl_agg2 *a)
{
    return a->has_pairs ? ovl_pp_contrib_bits(&a->pp) : a->cfg.own->shape.groups;
}

/* With conditions across parties: the capped rows as circuit PSI's bit
 * payload (one width-1 group per row bit) and their words as its arithmetic
 * payload (CONDITIONS.md §4.3). The runner's group count does not enter the
 * contributor's rows: 1 stands for it until HELLO. */
static ovl_err contributor_rows_payload(ovl_agg2 *a)
{
    ovl_err rc = OVL_OK;
    size_t n = a->cfg.nids ? a->cfg.nids : 1;
    OVL_TRY(agg2_pairs_layout(&a->pp, &a->plan, 1, a->cfg.own->shape.groups));
    a->L = a->pp.s.cap_c * a->pp.words_c;
    OVL_TRY(ovl_calloc((void **)&a->payload, n * (a->L ? a->L : 1), sizeof *a->payload));
    OVL_TRY(ovl_calloc((void **)&a->counts, n * bit_elems(a), sizeof *a->counts));
    OVL_TRY(ovl_pp_contrib_payload(a->counts, a->payload, &a->pp, a->cfg.pair_rows));
done:
    return rc;
}

/* The contributor's circuit-PSI payload: per identifier, per group its plan
 * words (arithmetic payload) and its row count (bit payload). When the
 * runner receives, the arithmetic payload also carries per group the row
 * count (with COUNT(*)) before the plan words, and after every group's words
 * the flags [n > 0]: the runner's factors of D and N then enter by its COT
 * choices, not by vectors it writes (SPEC §6, §7, §10.3). */
static ovl_err contributor_payload(ovl_agg2 *a)
{
    ovl_err rc = OVL_OK;
    if (a->has_pairs)
        return contributor_rows_payload(a);
    const ovl_agg_ident *t = a->cfg.own;
    uint32_t G = t->shape.groups, k = ovl_agg2_plan_k_c(&a->plan);
    ovl_agg2_layout l = contributor_layout(&a->plan, G);
    uint32_t sa = l.star && l.runner_recv, per = k + sa;
    a->L = (uint32_t)ovl_agg2_payload_words(&l); /* within the cap: ovl_agg2_check_own */
    size_t n = a->cfg.nids ? a->cfg.nids : 1;
    OVL_TRY(ovl_calloc((void **)&a->payload, n * (a->L ? a->L : 1), sizeof *a->payload));
    OVL_TRY(ovl_calloc((void **)&a->counts, n * G, sizeof *a->counts));
    for (uint32_t y = 0; y < a->cfg.nids; y++)
        for (uint32_t e = t->first[y]; e < t->first[y + 1]; e++) {
            uint32_t c = t->group[e];
            uint64_t *py = a->payload + (size_t)y * a->L;
            a->counts[(size_t)y * G + c] = (uint16_t)t->count[e];
            if (sa)
                py[(size_t)c * per] = t->count[e];
            project(&a->plan, OVL_AGG2_SIDE_C, t->words + (size_t)e * 2 * t->shape.cols,
                    py + (size_t)c * per + sa);
            if (l.runner_recv)
                py[(size_t)G * per + c] = t->count[e] > 0;
        }
done:
    return rc;
}

ovl_err ovl_agg2_new(ovl_agg2 **out, const ovl_agg2_config *cfg)
{
    ovl_err rc = OVL_OK;
    ovl_agg2 *a = NULL;
    *out = NULL;
    OVL_TRY(check_config(cfg));
    OVL_TRY(ovl_calloc((void **)&a, 1, sizeof *a));
    a->cfg = *cfg;
    a->plan = *cfg->plan;
    a->receiver = (a->plan.receiver == 0) == cfg->runner;
    a->has_pairs = a->plan.pairs.nconds > 0;
    ovl_engine_rng_init(&a->rng, cfg->test_seed, "overlap-agg2 test");
    OVL_TRY(ovl_buf_alloc(&a->plan_enc, 256, OVL_AGG2_PLAN_MAX));
    OVL_TRY(ovl_agg2_plan_write(&a->plan, &a->plan_enc));
    OVL_TRY(ovl_buf_alloc(&a->params, 256, OVL_HELLO_PARAMS_MAX));
    OVL_TRY(agg2_params_write(a));
    OVL_TRY(ovl_buf_alloc(&a->q, 4096, AGG2_QUEUE_MAX));
    OVL_TRY(ovl_buf_alloc(&a->pending, 256, AGG2_PENDING_MAX));
    if (!cfg->runner)
        OVL_TRY(contributor_payload(a));
    bool me_listener = cfg->role == OVL_ROLE_LISTENER;
    ovl_cpsi_config cc = {
        .role = cfg->role,
        .runner = cfg->runner,
        .mode = OVL_MODE_AGGREGATE,
        .reveal = a->receiver == me_listener ? OVL_REVEAL_LISTENER : OVL_REVEAL_CONNECTOR,
        .ids = cfg->ids,
        .id_len = cfg->id_len,
        .nids = cfg->nids,
        .payload = a->payload,
        /* the runner learns the contributor's shape from its HELLO (check_peer) */
        .words = cfg->runner ? 1u : a->L,
        .max_peer_set = cfg->max_peer_set,
        .params = a->params.data,
        .params_len = (uint32_t)ovl_buf_len(&a->params),
        .test_seed = cfg->test_seed,
        .expect_peer_set = cfg->expect_peer_set,
        .peer_set_expected = cfg->peer_set_expected,
        .bit_groups = cfg->runner ? 1u : (uint32_t)bit_elems(a),
        .bit_width = cfg->runner || a->has_pairs ? 1u : cfg->own->shape.count_bits,
        .bit_counts = a->counts,
        .bit_gate_every = !cfg->runner && a->has_pairs ? ovl_pp_gate_every(&a->pp) : 0u,
        .check_peer = agg2_check_peer,
        .check_ctx = a,
    };
    OVL_TRY(ovl_cpsi_new(&a->cpsi, &cc));
    a->phase = AGG2_SETUP;
    *out = a;
    a = NULL;
done:
    ovl_agg2_free(a);
    return rc;
}

void ovl_agg2_free(ovl_agg2 *a)
{
    if (a == NULL)
        return;
    agg2_core_free(a->core);
    ovl_cpsi_free(a->cpsi);
    agg2_labels_free(a);
    size_t n = a->cfg.nids ? a->cfg.nids : 1;
    ovl_free_secret(a->payload, a->payload ? n * (a->L ? a->L : 1) * sizeof *a->payload : 0);
    ovl_free_secret(a->counts, a->counts ? n * bit_elems(a) * sizeof *a->counts : 0);
    size_t bins = a->nr_bins;
    if (a->has_pairs) {
        ovl_free_secret(a->rrow, a->rrow ? bins * ovl_pp_runner_bits(&a->pp) : 0);
        ovl_free_secret(a->rwp, a->rwp ? (bins * a->pp.s.cap_r * a->pp.words_r + 1) *
                                             sizeof *a->rwp
                                       : 0);
    }
    ovl_free_secret(a->nr, bins * a->l.groups_r * sizeof *a->nr);
    ovl_free_secret(a->rw, (bins * a->l.groups_r * a->l.words_r + 1) * sizeof *a->rw);
    ovl_buf_free(&a->params);
    ovl_buf_free(&a->plan_enc);
    ovl_buf_free(&a->q);
    ovl_buf_free(&a->pending);
    ovl_rng_wipe(&a->rng);
    sodium_memzero(a->th, sizeof a->th);
    free(a);
}

ovl_err agg2_queue_frame(ovl_buf *q, uint8_t type, const uint8_t *body, size_t len)
{
    ovl_err rc = OVL_OK;
    size_t mark;
    OVL_TRY(ovl_frame_begin(q, type, &mark));
    OVL_TRY(ovl_buf_put_bytes(q, body, len));
    OVL_TRY(ovl_frame_end(q, mark));
done:
    return rc;
}

/* ---- circuit PSI → core ---- */

/* The runner's plaintext per bin: its counts and words of the identifier the
 * bin holds (all 0 for an empty bin). */
static ovl_err runner_bins(ovl_agg2 *a, const ovl_cpsi_shares *s)
{
    ovl_err rc = OVL_OK;
    const ovl_agg_ident *t = a->cfg.own;
    const ovl_agg2_layout *l = &a->l;
    a->nr_bins = s->bins;
    OVL_TRY(ovl_calloc((void **)&a->nr, (size_t)s->bins * l->groups_r + 1, sizeof *a->nr));
    OVL_TRY(ovl_calloc((void **)&a->rw, (size_t)s->bins * l->groups_r * l->words_r + 1,
                       sizeof *a->rw));
    for (uint32_t i = 0; i < s->bins; i++) {
        uint32_t x = s->bin_item[i];
        if (x == UINT32_MAX)
            continue;
        OVL_ENSURE(x < a->cfg.nids, OVL_ERR_INTERNAL, "aggregate: bin %u holds identifier %u", i,
                   x);
        for (uint32_t e = t->first[x]; e < t->first[x + 1]; e++) {
            size_t at = (size_t)i * l->groups_r + t->group[e];
            a->nr[at] = t->count[e];
            project(&a->plan, OVL_AGG2_SIDE_R, t->words + (size_t)e * 2 * t->shape.cols,
                    a->rw + at * l->words_r);
        }
    }
done:
    return rc;
}

/* With conditions across parties: the runner's capped rows of each bin's
 * identifier (all padding in an empty bin). */
static ovl_err runner_rows_bins(ovl_agg2 *a, const ovl_cpsi_shares *s)
{
    ovl_err rc = OVL_OK;
    a->nr_bins = s->bins;
    OVL_TRY(ovl_calloc((void **)&a->rrow, (size_t)s->bins * ovl_pp_runner_bits(&a->pp) + 1, 1));
    OVL_TRY(ovl_calloc((void **)&a->rwp, (size_t)s->bins * a->pp.s.cap_r * a->pp.words_r + 1,
                       sizeof *a->rwp));
    OVL_TRY(ovl_pp_runner_bins(a->rrow, a->rwp, &a->pp, a->cfg.pair_rows, s->bin_item, s->bins));
done:
    return rc;
}

static ovl_err feed_pending(ovl_agg2 *a)
{
    ovl_err rc = OVL_OK;
    ovl_buf in;
    ovl_buf_reader(&in, a->pending.data, ovl_buf_len(&a->pending));
    while (ovl_buf_remaining(&in) > 0) {
        uint8_t type;
        ovl_buf payload;
        bool complete;
        OVL_TRY(ovl_frame_parse(&in, OVL_FRAME_MAX_PAYLOAD, &type, &payload, &complete));
        OVL_ENSURE(complete, OVL_ERR_INTERNAL, "aggregate: a held frame is incomplete");
        OVL_TRY(agg2_core_ops.feed(a->core, type, ovl_buf_rptr(&payload),
                                   ovl_buf_remaining(&payload)));
    }
    ovl_buf_clear(&a->pending);
done:
    return rc;
}

static ovl_err after_cpsi(ovl_agg2 *a)
{
    ovl_err rc = OVL_OK;
    ovl_cpsi_shares s;
    if (a->phase != AGG2_CPSI || !ovl_cpsi_ops.done(a->cpsi))
        goto done;
    if (a->receiver)
        OVL_ENSURE(a->labels_got == (a->cfg.runner ? a->groups_c : a->groups_r),
                   OVL_ERR_PROTOCOL, "aggregate: %u of the helper's labels arrived before its "
                   "circuit-PSI frames ended", a->labels_got);
    OVL_TRY(ovl_cpsi_result(a->cpsi, &s));
    if (a->has_pairs)
        OVL_ENSURE(s.bit_groups == ovl_pp_contrib_bits(&a->pp) && s.bit_width == 1 &&
                       s.words == a->L && s.beta != NULL,
                   OVL_ERR_INTERNAL, "aggregate: circuit PSI left rows of another shape");
    else
        OVL_ENSURE(s.bit_groups == a->l.groups_c && s.bit_width == a->l.bits_c &&
                       s.words == a->L && s.beta != NULL && s.phi != NULL,
                   OVL_ERR_INTERNAL, "aggregate: circuit PSI left shares of another shape");
    if (a->cfg.runner && a->has_pairs)
        OVL_TRY(runner_rows_bins(a, &s));
    else if (a->cfg.runner)
        OVL_TRY(runner_bins(a, &s));
    agg2_core_in in = {
        .l = a->l,
        .role = a->cfg.role,
        .runner = a->cfg.runner,
        .receiver = a->receiver,
        .threshold = a->threshold,
        .bins = s.bins,
        .nr = a->nr,
        .rw = a->rw,
        .pay = s.value,
        .payload_words = s.words,
        .beta = s.beta,
        .phi = s.phi,
        .keys = a->receiver ? NULL : (const uint8_t(*)[OVL_AGG2_KEY_LEN])a->keys,
        .hidx = a->receiver ? NULL : a->hidx,
        .transcript = ovl_cpsi_transcript(a->cpsi),
        .rng = &a->rng,
        .pairs = a->has_pairs ? &a->pp : NULL,
        .rrow = a->rrow,
        .rwp = a->rwp,
        .crow = a->has_pairs ? s.beta : NULL,
        .x = a->has_pairs ? s.value : NULL,
    };
    OVL_TRY(agg2_core_new(&a->core, &in));
    a->phase = AGG2_CORE;
    OVL_TRY(feed_pending(a));
done:
    return rc;
}

static ovl_err after_core(ovl_agg2 *a)
{
    ovl_err rc = OVL_OK;
    if (a->phase != AGG2_CORE || !agg2_core_ops.done(a->core))
        goto done;
    if (a->receiver)
        OVL_TRY(agg2_cells_build(a));
    a->phase = AGG2_END;
done:
    return rc;
}

/* ---- the ops ---- */

static ovl_err hold(ovl_agg2 *a, uint8_t type, const uint8_t *payload, size_t len)
{
    ovl_err rc = OVL_OK;
    OVL_ENSURE(ovl_buf_len(&a->pending) + OVL_FRAME_HDR + len <= AGG2_PENDING_MAX,
               OVL_ERR_PROTOCOL, "aggregate: frame 0x%02x (and more) before circuit PSI ended",
               type);
    OVL_TRY(agg2_queue_frame(&a->pending, type, payload, len));
done:
    return rc;
}

static ovl_err agg2_feed(void *proto, uint8_t type, const uint8_t *payload, size_t len)
{
    ovl_agg2 *a = proto;
    ovl_err rc = OVL_OK;
    if (a->failed)
        return a->failure;
    if (type == OVL_FRAME_ABORT)
        OVL_FAIL(ovl_frame_abort_decode(payload, len));
    switch (a->phase) {
    case AGG2_SETUP:
    case AGG2_CPSI:
        if (type == OVL_AGG2_LABELS) {
            OVL_TRY(agg2_labels_on_frame(a, payload, len));
        } else if (type >= OVL_AGG2_OT && type <= OVL_AGG2_DONE) {
            OVL_ENSURE(a->phase == AGG2_CPSI, OVL_ERR_PROTOCOL,
                       "the peer sent frame type 0x%02x before HELLO", type);
            OVL_TRY(hold(a, type, payload, len));
        } else {
            bool setup = a->phase == AGG2_SETUP;
            OVL_TRY(ovl_cpsi_ops.feed(a->cpsi, type, payload, len));
            /* the helper's labels leave right after HELLO, before circuit PSI's frames */
            if (setup && a->phase == AGG2_CPSI && !a->receiver)
                OVL_TRY(agg2_labels_queue(a));
            OVL_ENSURE(a->phase == AGG2_CPSI, OVL_ERR_INTERNAL,
                       "aggregate: circuit PSI passed HELLO without the aggregate's checks");
            OVL_TRY(after_cpsi(a));
        }
        break;
    case AGG2_CORE:
        OVL_ENSURE(agg2_core_takes(type), OVL_ERR_PROTOCOL,
                   "aggregate: frame type 0x%02x after circuit PSI ended", type);
        OVL_TRY(agg2_core_ops.feed(a->core, type, payload, len));
        OVL_TRY(after_core(a));
        break;
    default:
        OVL_FAIL(ovl_err_set(OVL_ERR_PROTOCOL, "aggregate: frame type 0x%02x after the run ended",
                             type));
    }
done:
    return fail(a, rc);
}

static ovl_err take_queued(ovl_buf *q, ovl_buf *out, bool *have)
{
    ovl_err rc = OVL_OK;
    const uint8_t *f = ovl_buf_rptr(q);
    size_t flen = OVL_FRAME_HDR + (((size_t)f[1] << 24) | ((size_t)f[2] << 16) |
                                   ((size_t)f[3] << 8) | f[4]);
    OVL_TRY(ovl_buf_put_bytes(out, f, flen));
    OVL_TRY(ovl_buf_skip(q, flen));
    if (ovl_buf_remaining(q) == 0)
        ovl_buf_clear(q);
    *have = true;
done:
    return rc;
}

static ovl_err agg2_pull(void *proto, ovl_buf *out, bool *have)
{
    ovl_agg2 *a = proto;
    ovl_err rc = OVL_OK;
    size_t before = ovl_buf_len(out);
    *have = false;
    if (a->failed)
        return a->failure;
    if (a->hello_out && ovl_buf_remaining(&a->q) != 0) {
        OVL_TRY(take_queued(&a->q, out, have));
    } else if (a->phase == AGG2_SETUP || a->phase == AGG2_CPSI) {
        OVL_TRY(ovl_cpsi_ops.pull(a->cpsi, out, have));
        a->hello_out |= *have;
        OVL_TRY(after_cpsi(a));
    } else if (a->phase == AGG2_CORE) {
        OVL_TRY(agg2_core_ops.pull(a->core, out, have));
        OVL_TRY(after_core(a));
    }
done:
    if (rc == OVL_OK && *have)
        a->bytes_sent += ovl_buf_len(out) - before;
    return fail(a, rc);
}

static ovl_err agg2_job_take(void *proto, ovl_job **job)
{
    ovl_agg2 *a = proto;
    *job = NULL;
    if (a->failed)
        return a->failure;
    if (a->phase == AGG2_SETUP || a->phase == AGG2_CPSI)
        return fail(a, ovl_cpsi_ops.job_take(a->cpsi, job));
    if (a->phase == AGG2_CORE)
        return fail(a, agg2_core_ops.job_take(a->core, job));
    return OVL_OK;
}

static ovl_err agg2_job_finish(void *proto, ovl_job *job)
{
    ovl_agg2 *a = proto;
    ovl_err rc = OVL_OK;
    if (a->phase == AGG2_CORE) {
        OVL_TRY(agg2_core_ops.job_finish(a->core, job));
        OVL_TRY(after_core(a));
    } else {
        OVL_ENSURE(a->phase == AGG2_CPSI, OVL_ERR_INTERNAL,
                   "aggregate: a job finished outside the phases that hand them out");
        OVL_TRY(ovl_cpsi_ops.job_finish(a->cpsi, job));
        OVL_TRY(after_cpsi(a));
    }
done:
    return fail(a, rc);
}

static bool agg2_wants_input(const void *proto)
{
    const ovl_agg2 *a = proto;
    /* held frames are bounded by hold(): circuit PSI still takes its own */
    if (a->failed)
        return false;
    if (a->phase == AGG2_SETUP || a->phase == AGG2_CPSI)
        return ovl_cpsi_ops.wants_input(a->cpsi);
    if (a->phase == AGG2_CORE)
        return agg2_core_ops.wants_input(a->core);
    /* Ended: what follows on the connection is the next engine's (co-signatures). */
    return a->phase != AGG2_END;
}

static bool agg2_done(const void *proto)
{
    const ovl_agg2 *a = proto;
    return !a->failed && a->phase == AGG2_END && ovl_buf_remaining(&a->q) == 0;
}

const ovl_proto_ops ovl_agg2_ops = {
    .feed = agg2_feed,
    .pull = agg2_pull,
    .job_take = agg2_job_take,
    .job_finish = agg2_job_finish,
    .wants_input = agg2_wants_input,
    .done = agg2_done,
};

/* ---- output ---- */

ovl_err ovl_agg2_released(const ovl_agg2 *a, const ovl_agg2_cell **cells, size_t *n)
{
    *cells = NULL;
    *n = 0;
    if (!agg2_done(a) || !a->receiver)
        return ovl_err_set(OVL_ERR_USAGE, "aggregate: no released cells (%s)",
                           a->receiver ? "the run has not completed" : "this party is the helper");
    *cells = a->cells;
    *n = a->ncells;
    return OVL_OK;
}

uint64_t ovl_agg2_released_count(const ovl_agg2 *a)
{
    return a->core ? agg2_core_released(a->core) : 0;
}

/* Everything here is public to both parties (SPEC §10.1): the announced
 * sizes and group counts, the plan's words, the stated widths and r. */
ovl_err ovl_agg2_cost_inputs(ovl_agg2_cost_in *out, const ovl_agg2 *a)
{
    memset(out, 0, sizeof *out);
    if (!agg2_done(a))
        return ovl_err_set(OVL_ERR_USAGE, "aggregate: the run's shape is complete only once "
                                          "it has ended");
    if (a->has_pairs)
        return ovl_err_set(OVL_ERR_USAGE, "aggregate: the cost formula (SPEC §11) does not "
                                          "cover conditions across parties");
    uint64_t own = a->cfg.nids;
    *out = (ovl_agg2_cost_in){
        .n = a->cfg.runner ? own : a->peer_set,
        .m = a->cfg.runner ? a->peer_set : own,
        .groups_r = a->l.groups_r,
        .groups_c = a->l.groups_c,
        .words_r = a->l.words_r,
        .words_c = a->l.words_c,
        .star = a->l.star,
        .bits_r = a->l.bits_r,
        .bits_c = a->l.bits_c,
        .released = (uint32_t)ovl_agg2_released_count(a),
        .helper_groups = a->l.runner_recv ? a->l.groups_c : a->l.groups_r,
        .runner_receives = a->l.runner_recv,
    };
    return OVL_OK;
}

uint64_t ovl_agg2_inconsistent(const ovl_agg2 *a) { return a->inconsistent; }
bool ovl_agg2_is_receiver(const ovl_agg2 *a) { return a->receiver; }
uint64_t ovl_agg2_peer_set_size(const ovl_agg2 *a) { return a->peer_set; }
const uint8_t *ovl_agg2_transcript(const ovl_agg2 *a) { return ovl_cpsi_transcript(a->cpsi); }
uint64_t ovl_agg2_bytes_sent(const ovl_agg2 *a) { return a->bytes_sent; }
uint64_t ovl_agg2_threshold(const ovl_agg2 *a) { return a->threshold; }
uint32_t ovl_agg2_peer_groups(const ovl_agg2 *a) { return a->peer_groups; }
