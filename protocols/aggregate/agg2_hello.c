/* AggParams2 and the checks on the peer's HELLO (SPEC §4.1, §4.2), run
 * from circuit PSI's check_peer before any data-derived frame. */
#include <string.h>

#include <sodium.h>

#include "aggregate/agg2_state.h"
#include "aggregate/threshold.h"
#include "core/guard.h"

#define MAGIC_LEN 4u

static uint32_t own_groups(const ovl_agg2 *a) { return a->cfg.own->shape.groups; }

ovl_err agg2_params_write(ovl_agg2 *a)
{
    ovl_err rc = OVL_OK;
    ovl_buf *b = &a->params;
    size_t dlen = strlen(a->cfg.domain);
    OVL_TRY(ovl_buf_put_bytes(b, OVL_AGG2_MAGIC, MAGIC_LEN));
    OVL_TRY(ovl_buf_put_u8(b, a->cfg.runner ? 0 : 1));
    OVL_TRY(ovl_buf_put_u8(b, (uint8_t)dlen));
    OVL_TRY(ovl_buf_put_bytes(b, a->cfg.domain, dlen));
    OVL_TRY(ovl_buf_put_u64(b, a->cfg.min_rows));
    OVL_TRY(ovl_buf_put_u32(b, a->cfg.max_cells));
    OVL_TRY(ovl_buf_put_u32(b, own_groups(a)));
    OVL_TRY(ovl_buf_put_u8(b, (uint8_t)a->cfg.own->shape.count_bits));
    OVL_TRY(ovl_buf_put_u8(b, (uint8_t)a->cfg.own->shape.value_bits));
    OVL_TRY(ovl_buf_put_u32(b, (uint32_t)ovl_buf_len(&a->plan_enc)));
    OVL_TRY(ovl_buf_put_bytes(b, a->plan_enc.data, ovl_buf_len(&a->plan_enc)));
    OVL_TRY(ovl_buf_put_u32(b, a->cfg.agreement_len));
    OVL_TRY(ovl_buf_put_bytes(b, a->cfg.agreement, a->cfg.agreement_len));
done:
    return rc;
}

ovl_err agg2_params_parse(agg2_params *p, const uint8_t *data, size_t len)
{
    ovl_err rc = OVL_OK;
    ovl_buf in;
    const uint8_t *magic;
    memset(p, 0, sizeof *p);
    ovl_buf_reader(&in, data, len);
    OVL_ENSURE(len >= MAGIC_LEN && memcmp(data, OVL_AGG2_MAGIC, MAGIC_LEN) == 0, OVL_ERR_POLICY,
               "the peer speaks aggregate version 1 (or another protocol), not version 2");
    OVL_TRY(ovl_buf_get_ptr(&in, MAGIC_LEN, &magic));
    OVL_TRY(ovl_buf_get_u8(&in, &p->agg_role));
    OVL_TRY(ovl_buf_get_u8(&in, &p->domain_len));
    OVL_TRY(ovl_buf_get_ptr(&in, p->domain_len, &p->domain));
    OVL_TRY(ovl_buf_get_u64(&in, &p->min_rows));
    OVL_TRY(ovl_buf_get_u32(&in, &p->max_cells));
    OVL_TRY(ovl_buf_get_u32(&in, &p->groups));
    OVL_TRY(ovl_buf_get_u8(&in, &p->count_bits));
    OVL_TRY(ovl_buf_get_u8(&in, &p->value_bits));
    OVL_TRY(ovl_buf_get_u32(&in, &p->plan_len));
    OVL_ENSURE(p->plan_len <= OVL_AGG2_PLAN_MAX, OVL_ERR_MALFORMED,
               "aggregate HELLO: a %u-byte plan (at most %u)", p->plan_len, OVL_AGG2_PLAN_MAX);
    OVL_TRY(ovl_buf_get_ptr(&in, p->plan_len, &p->plan));
    OVL_TRY(ovl_buf_get_u32(&in, &p->agreement_len));
    OVL_ENSURE(p->agreement_len <= OVL_AGG2_MAX_AGREEMENT, OVL_ERR_MALFORMED,
               "aggregate HELLO: a %u-byte agreement (at most %u)", p->agreement_len,
               OVL_AGG2_MAX_AGREEMENT);
    OVL_TRY(ovl_buf_get_ptr(&in, p->agreement_len, &p->agreement));
    OVL_TRY(ovl_buf_expect_end(&in));
done:
    return rc;
}

static uint64_t max64(uint64_t a, uint64_t b) { return a > b ? a : b; }

/* §4.2, in order; then the shapes every later phase takes from HELLO. */
static ovl_err check(ovl_agg2 *a, const ovl_hello *peer)
{
    ovl_err rc = OVL_OK;
    agg2_params p;
    const ovl_agg2_config *cfg = &a->cfg;
    OVL_TRY(agg2_params_parse(&p, peer->params, peer->params_len));
    /* 2 */
    OVL_ENSURE(p.agg_role == (cfg->runner ? 1 : 0), OVL_ERR_POLICY,
               "both parties are the aggregate's %s", cfg->runner ? "runner" : "contributor");
    OVL_ENSURE(p.domain_len == strlen(cfg->domain) &&
                   memcmp(p.domain, cfg->domain, p.domain_len) == 0,
               OVL_ERR_POLICY, "the peer states another identifier domain");
    /* 3 */
    OVL_ENSURE(p.plan_len == ovl_buf_len(&a->plan_enc) &&
                   memcmp(p.plan, a->plan_enc.data, p.plan_len) == 0,
               OVL_ERR_POLICY, "the peer states another aggregate plan (analysis, columns, "
               "outputs or receiver differ)");
    OVL_ENSURE(p.agreement_len == cfg->agreement_len &&
                   (p.agreement_len == 0 ||
                    memcmp(p.agreement, cfg->agreement, p.agreement_len) == 0),
               OVL_ERR_POLICY, "the peer states another setup agreement");
    uint8_t mine = (uint8_t)(a->receiver == (cfg->role == OVL_ROLE_LISTENER)
                                 ? OVL_REVEAL_LISTENER
                                 : OVL_REVEAL_CONNECTOR);
    OVL_ENSURE(peer->reveal == mine, OVL_ERR_POLICY,
               "the peer names another receiver of the aggregate");
    /* 4 */
    OVL_ENSURE(p.count_bits >= 1 && p.count_bits <= OVL_AGG2_MAX_COUNT_BITS &&
                   p.value_bits >= OVL_AGG2_MIN_VALUE_BITS &&
                   p.value_bits <= OVL_AGG2_MAX_VALUE_BITS,
               OVL_ERR_POLICY, "the peer's count width %u or value width %u is out of range",
               p.count_bits, p.value_bits);
    OVL_ENSURE(p.groups >= 1 && p.groups <= OVL_AGG2_MAX_GROUPS, OVL_ERR_POLICY,
               "the peer announces %u groups (1 to %u)", p.groups, OVL_AGG2_MAX_GROUPS);
    OVL_ENSURE(p.min_rows >= 1 && p.max_cells >= 1 && p.max_cells <= OVL_AGG2_MAX_CELLS,
               OVL_ERR_POLICY, "the peer's min_rows or max_cells is out of range");
    /* 5: before any data-derived byte */
    uint64_t K = (uint64_t)own_groups(a) * p.groups;
    uint64_t M = p.max_cells < cfg->max_cells ? p.max_cells : cfg->max_cells;
    OVL_ENSURE(K <= M, OVL_ERR_POLICY,
               "the group space has %llu cells where the policy allows %llu",
               (unsigned long long)K, (unsigned long long)M);
    /* 6 */
    OVL_TRY(ovl_agg_ident_check_totals(cfg->own, p.count_bits));

    a->peer_groups = p.groups;
    a->groups_r = cfg->runner ? own_groups(a) : p.groups;
    a->groups_c = cfg->runner ? p.groups : own_groups(a);
    a->bits_r = cfg->runner ? cfg->own->shape.count_bits : p.count_bits;
    a->bits_c = cfg->runner ? p.count_bits : cfg->own->shape.count_bits;
    a->peer_set = peer->set_size;
    a->threshold = max64(max64(a->plan.having, OVL_AGG2_MIN_THRESHOLD),
                         max64(cfg->min_rows, p.min_rows));
    OVL_ENSURE(a->threshold <= OVL_AGG2_MAX_THRESHOLD, OVL_ERR_POLICY,
               "the threshold %llu exceeds the comparison's cap %u",
               (unsigned long long)a->threshold, OVL_AGG2_MAX_THRESHOLD);
    a->l = (ovl_agg2_layout){
        .groups_r = a->groups_r,
        .groups_c = a->groups_c,
        .words_r = ovl_agg2_plan_k_r(&a->plan),
        .words_c = ovl_agg2_plan_k_c(&a->plan),
        .bits_r = a->bits_r,
        .bits_c = a->bits_c,
        .star = ovl_agg2_plan_star(&a->plan),
        .runner_recv = a->plan.receiver == 0,
    };
    if (a->has_pairs) {
        /* CONDITIONS.md §4.3: the rows of both, the cells' words of the pairs phase */
        OVL_TRY(agg2_pairs_layout(&a->pp, &a->plan, a->groups_r, a->groups_c));
        ovl_pp_cells_layout(&a->l, &a->pp);
        OVL_TRY(agg2_core_check(&a->l));
        a->L = a->pp.s.cap_c * a->pp.words_c;
        if (cfg->runner)
            OVL_TRY(ovl_cpsi_set_shape(a->cpsi, a->L, (uint32_t)ovl_pp_contrib_bits(&a->pp), 1,
                                       ovl_pp_gate_every(&a->pp)));
        goto shaped;
    }
    OVL_TRY(agg2_core_check(&a->l));
    uint64_t L = ovl_agg2_payload_words(&a->l);
    OVL_ENSURE(L <= OVL_CPSI_MAX_WORDS, OVL_ERR_LIMIT,
               "%u contributor groups x %u words per group exceed circuit PSI's %u payload "
               "words", a->groups_c, (uint32_t)(L / a->groups_c), OVL_CPSI_MAX_WORDS);
    a->L = (uint32_t)L;
    if (cfg->runner)
        OVL_TRY(ovl_cpsi_set_shape(a->cpsi, a->L, a->groups_c, a->bits_c, 0));
shaped:
    crypto_hash_sha256(a->th, ovl_cpsi_transcript(a->cpsi), OVL_TRANSCRIPT_LEN);
    a->phase = AGG2_CPSI;
done:
    return rc;
}

ovl_err agg2_check_peer(void *ctx, const ovl_hello *peer)
{
    return check(ctx, peer);
}
