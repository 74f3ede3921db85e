/* The aggregate analysis statement each party puts in its HELLO params
 * (SPEC.md §4.1): encoding, parsing and the checks that stop incompatible
 * analyses at setup. */
#include <stdlib.h>
#include <string.h>

#include "aggregate/state.h"
#include "core/guard.h"
#include "core/mem.h"

#define PARAMS_MAGIC "AGG1"

enum { AGG_RUNNER = 0, AGG_CONTRIBUTOR = 1 };

ovl_err ovl_agg_params_encode(ovl_buf *out, const ovl_agg_config *cfg)
{
    ovl_err rc = OVL_OK;
    size_t dlen = strlen(cfg->domain);
    OVL_ENSURE(dlen >= 1 && dlen <= OVL_AGG_DOMAIN_MAX, OVL_ERR_USAGE, "bad identifier domain");
    OVL_TRY(ovl_buf_put_bytes(out, PARAMS_MAGIC, 4));
    OVL_TRY(ovl_buf_put_u8(out, cfg->contributor ? AGG_CONTRIBUTOR : AGG_RUNNER));
    OVL_TRY(ovl_buf_put_u8(out, (uint8_t)dlen));
    OVL_TRY(ovl_buf_put_bytes(out, cfg->domain, dlen));
    OVL_TRY(ovl_buf_put_u64(out, cfg->min_rows));
    OVL_TRY(ovl_buf_put_u16(out, (uint16_t)cfg->paillier_bits));
    OVL_TRY(ovl_buf_put_u8(out, cfg->contributor ? 0 : (uint8_t)cfg->group_by_cols));
    OVL_TRY(ovl_buf_put_u8(out, cfg->contributor ? (uint8_t)cfg->nvalues : 0));
    for (size_t i = 0; cfg->contributor && i < cfg->nvalues; i++) {
        size_t nlen = strlen(cfg->values[i].name);
        OVL_TRY(ovl_buf_put_u8(out, (uint8_t)cfg->values[i].decimals));
        OVL_TRY(ovl_buf_put_u8(out, (uint8_t)nlen));
        OVL_TRY(ovl_buf_put_bytes(out, cfg->values[i].name, nlen));
    }
    /* A negotiated analysis (protocols/setup/SPEC.md §3), identical on both sides. */
    OVL_ENSURE(cfg->agreement_len <= OVL_AGG_AGREEMENT_MAX, OVL_ERR_LIMIT, "agreement too long");
    OVL_TRY(ovl_buf_put_u32(out, (uint32_t)cfg->agreement_len));
    OVL_TRY(ovl_buf_put_bytes(out, cfg->agreement, cfg->agreement_len));
done:
    return rc;
}

void agg_params_clear(agg_params *p)
{
    for (size_t i = 0; i < OVL_VALUE_COLS_MAX; i++)
        free(p->values[i].name);
    memset(p, 0, sizeof *p);
}

static ovl_err params_parse(agg_params *p, const uint8_t *data, size_t len)
{
    ovl_err rc = OVL_OK;
    ovl_buf r;
    uint8_t magic[4], dlen, nlen;
    agg_params_clear(p);
    ovl_buf_reader(&r, data, len);
    OVL_TRY(ovl_buf_get_bytes(&r, magic, 4));
    OVL_ENSURE(memcmp(magic, PARAMS_MAGIC, 4) == 0, OVL_ERR_POLICY,
               "the peer does not run an aggregate analysis (its --mode parameters differ)");
    OVL_TRY(ovl_buf_get_u8(&r, &p->role));
    OVL_TRY(ovl_buf_get_u8(&r, &dlen));
    OVL_TRY(ovl_buf_get_bytes(&r, p->domain, dlen));
    OVL_TRY(ovl_buf_get_u64(&r, &p->min_rows));
    OVL_TRY(ovl_buf_get_u16(&r, &p->bits));
    OVL_TRY(ovl_buf_get_u8(&r, &p->group_by));
    OVL_TRY(ovl_buf_get_u8(&r, &p->nvalues));
    OVL_ENSURE(p->nvalues <= OVL_VALUE_COLS_MAX && p->group_by <= OVL_GROUP_BY_MAX,
               OVL_ERR_PROTOCOL, "the peer states %u value and %u group-by columns (caps %u, %u)",
               p->nvalues, p->group_by, OVL_VALUE_COLS_MAX, OVL_GROUP_BY_MAX);
    for (size_t i = 0; i < p->nvalues; i++) {
        uint8_t dec;
        OVL_TRY(ovl_buf_get_u8(&r, &dec));
        OVL_TRY(ovl_buf_get_u8(&r, &nlen));
        OVL_ENSURE(dec <= OVL_DECIMALS_MAX && nlen >= 1, OVL_ERR_PROTOCOL,
                   "the peer states a malformed value column");
        p->values[i].decimals = dec;
        OVL_TRY(ovl_calloc((void **)&p->values[i].name, (size_t)nlen + 1, 1));
        OVL_TRY(ovl_buf_get_bytes(&r, p->values[i].name, nlen));
        OVL_ENSURE(memchr(p->values[i].name, '\0', nlen) == NULL, OVL_ERR_PROTOCOL,
                   "the peer states a value column name with a NUL byte");
    }
    OVL_TRY(ovl_buf_get_u32(&r, &p->agreement_len));
    OVL_ENSURE(p->agreement_len <= OVL_AGG_AGREEMENT_MAX, OVL_ERR_PROTOCOL,
               "the peer's agreement of %u bytes exceeds the cap", p->agreement_len);
    OVL_TRY(ovl_buf_get_ptr(&r, p->agreement_len, &p->agreement));
    OVL_TRY(ovl_buf_expect_end(&r));
done:
    if (rc == OVL_ERR_MALFORMED)
        rc = ovl_err_set(OVL_ERR_PROTOCOL, "malformed aggregate parameters in the peer's HELLO");
    return rc;
}

/* SPEC.md §4.1: the checks that stop incompatible analyses at setup. */
static ovl_err params_check(ovl_agg *a, const agg_params *peer)
{
    ovl_err rc = OVL_OK;
    bool contributor = a->cfg.contributor;
    OVL_ENSURE(peer->role <= AGG_CONTRIBUTOR, OVL_ERR_PROTOCOL, "the peer states an unknown role");
    OVL_ENSURE(peer->role != (contributor ? AGG_CONTRIBUTOR : AGG_RUNNER), OVL_ERR_POLICY,
               contributor ? "both parties give --values: exactly one party (the contributor) "
                             "holds value columns"
                           : "neither party gives --values: the contributor must name its value "
                             "columns with --values");
    /* Both parties may print these (one of them from the other's ABORT):
     * they name the roles, not "the peer" and "this party". */
    const char *run_dom = contributor ? peer->domain : a->cfg.domain;
    const char *con_dom = contributor ? a->cfg.domain : peer->domain;
    OVL_ENSURE(strcmp(peer->domain, a->cfg.domain) == 0, OVL_ERR_POLICY,
               "identifier mismatch: the runner uses '%s', the contributor '%s' (check "
               "--normalize)", run_dom, con_dom);
    OVL_ENSURE(peer->agreement_len == a->cfg.agreement_len &&
                   (peer->agreement_len == 0 ||
                    memcmp(peer->agreement, a->cfg.agreement, peer->agreement_len) == 0),
               OVL_ERR_POLICY,
               "the two parties' negotiated analyses differ (policies, template, "
               "parameters, threshold or receivers)");
    OVL_ENSURE(peer->bits == a->cfg.paillier_bits, OVL_ERR_POLICY,
               "--paillier-bits mismatch: the runner states %u, the contributor %u",
               contributor ? peer->bits : a->cfg.paillier_bits,
               contributor ? a->cfg.paillier_bits : peer->bits);
    OVL_ENSURE(peer->min_rows >= 1, OVL_ERR_PROTOCOL, "the peer states --min-rows 0");
    if (contributor)
        OVL_ENSURE(peer->nvalues == 0, OVL_ERR_PROTOCOL, "the runner states value columns");
    else
        OVL_ENSURE(peer->nvalues >= 1 && peer->group_by == 0, OVL_ERR_PROTOCOL,
                   "the contributor states no value columns or group-by columns");
    a->threshold = peer->min_rows > a->cfg.min_rows ? peer->min_rows : a->cfg.min_rows;
    if (!contributor) {
        a->values = peer->values;
        a->nvalues = peer->nvalues;
    }
done:
    return rc;
}

/* Each party states its own side of the analysis, so the statements are
 * compared here rather than byte for byte (SPEC.md §4.1). The reveal field
 * follows from the roles and is checked here too. */
ovl_err agg_params_statement(void *agg, const ovl_hello *mine, const ovl_hello *peer)
{
    ovl_agg *a = agg;
    ovl_err rc = OVL_OK;
    OVL_TRY(params_parse(&a->peer, peer->params, peer->params_len));
    OVL_TRY(params_check(a, &a->peer));
    OVL_ENSURE(peer->reveal == mine->reveal, OVL_ERR_PROTOCOL,
               "the peer's HELLO names the wrong receiver of the result");
done:
    return rc;
}
