/* One served session: see session.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate/aggregate.h"
#include "cli/session.h"
#include "core/guard.h"
#include "net/drive.h"
#include "crypto/group.h"
#include "core/mem.h"
#include "core/pool.h"
#include "psi/psi.h"

typedef struct {
    const ovl_session_opts *o;
    ovl_analysis a;
    ovl_idtable ids;
    ovl_tpl_rowfilter filter;
    ovl_pool *pool;
    ovl_value_col *cols;
    size_t ncols;
    int64_t *vectors;
} serve_state;

static const ovl_policy_join *join_rule(const serve_state *s, const char *column)
{
    return ovl_policy_join_find(s->o->policy, column);
}

/* One pass over the owner's table: identifiers (after the template's
 * filters) and, with `values`, per identifier the row count and value sums. */
static ovl_err load_table(serve_state *s, const char *join, bool values)
{
    ovl_err rc = OVL_OK;
    const ovl_policy_join *j = join_rule(s, join);
    ovl_table_input in;
    ovl_load_spec want = {.query = s->o->query, .join = join, .norm = s->a.nego.norm,
                          .prehashed = j ? j->prehashed : false,
                          .filter = ovl_tpl_rowfilter_ops(&s->filter)};
    if (values) {
        want.values = s->cols;
        want.nvalues = s->ncols;
    }
    OVL_TRY(ovl_table_load(&in, s->o->table, &want));
    s->ids = in.ids;
    s->a.local_set = s->ids.nids;
    if (values)
        rc = ovl_value_vectors(&s->vectors, &in.values, s->cols, &s->ids);
    ovl_value_table_free(&in.values);
done:
    return rc;
}

static ovl_err drive(serve_state *s, ovl_conn *c, const ovl_proto_ops *ops, void *proto)
{
    ovl_drive_opts d = {.timeout_ms = (int)(s->o->timeout_s * 1000), .pool = s->pool};
    return ovl_drive(c, ops, proto, &d);
}

static ovl_err serve_psi(serve_state *s, ovl_conn *c, ovl_session_result *res)
{
    ovl_err rc = OVL_OK;
    ovl_psi *psi = NULL;
    ovl_buf params = {0};
    if (s->a.nego.reveal != OVL_REVEAL_CONNECTOR)
        OVL_FAIL(ovl_analysis_refuse(c, ovl_err_set(OVL_ERR_POLICY, "a served table never "
                                                     "receives output: ask with --reveal connector")));
    rc = load_table(s, s->a.nego.join[0], false);
    if (rc != OVL_OK)
        OVL_FAIL(ovl_analysis_refuse(c, ovl_err_set(rc, "the owner's table cannot be read")));
    OVL_TRY(ovl_analysis_listener_reply(&s->a, c));
    OVL_TRY(ovl_buf_alloc(&params, 256, OVL_HELLO_PARAMS_MAX));
    OVL_TRY(ovl_analysis_psi_params(&s->a, &params));
    ovl_psi_config cfg = {
        .role = OVL_ROLE_LISTENER,
        .mode = s->a.nego.mode,
        .reveal = s->a.nego.reveal,
        .group = ovl_group_default(),
        .ids = (const uint8_t(*)[32])s->ids.ids,
        .nids = s->ids.nids,
        .max_peer_set = s->o->max_peer,
        .max_jobs = (size_t)(2 * s->o->threads + 2),
        .params = params.data,
        .params_len = (uint32_t)params.wpos,
        .expect_peer_set = true,
        .peer_set_expected = s->a.peer_set,
    };
    OVL_TRY(ovl_psi_new(&psi, &cfg));
    OVL_TRY(drive(s, c, &ovl_psi_ops, psi));
    OVL_TRY(ovl_analysis_cosign(&s->a, c, ovl_psi_transcript(psi), (int)(s->o->timeout_s * 1000)));
    snprintf(res->summary, sizeof res->summary, "%s, %zu vs %llu identifiers, completed",
             ovl_mode_name(s->a.nego.mode), s->ids.nids, (unsigned long long)s->a.peer_set);
done:
    ovl_psi_free(psi);
    ovl_buf_free(&params);
    return rc;
}

/* The value columns asked for: the template's SUM/AVG columns of this
 * party, or the ad-hoc request's, each once. */
static ovl_err value_columns(serve_state *s)
{
    ovl_err rc = OVL_OK;
    const ovl_template *t = s->a.tpl;
    size_t max = t ? t->naggs : s->a.nego.nvalues;
    OVL_TRY(ovl_calloc((void **)&s->cols, max + 1, sizeof *s->cols));
    for (size_t i = 0; i < max; i++) {
        const char *col = t ? t->aggs[i].column : s->a.nego.values[i].column;
        ovl_aggfn fn = t ? t->aggs[i].fn : s->a.nego.values[i].fn;
        if ((t && t->aggs[i].party != s->a.party) || col == NULL ||
            !ovl_aggfn_reads_values(fn))
            continue;
        bool seen = false;
        for (size_t k = 0; k < s->ncols && !seen; k++)
            seen = strcmp(s->cols[k].name, col) == 0;
        if (seen)
            continue;
        s->cols[s->ncols].name = strdup(col);
        OVL_ENSURE(s->cols[s->ncols].name != NULL, OVL_ERR_NOMEM, "out of memory");
        if (t)
            s->cols[s->ncols].decimals = OVL_DECIMALS_AUTO; /* as many as the cells show */
        else
            s->cols[s->ncols].decimals = s->a.nego.decimals[i];
        s->ncols++;
    }
    OVL_ENSURE(s->ncols > 0 && s->ncols <= OVL_VALUE_COLS_MAX, OVL_ERR_POLICY,
               "the analysis asks for %zu value columns of this table (1..%u)", s->ncols,
               OVL_VALUE_COLS_MAX);
done:
    return rc;
}

static ovl_err serve_aggregate(serve_state *s, ovl_conn *c, ovl_session_result *res)
{
    ovl_err rc = OVL_OK;
    ovl_agg *agg = NULL;
    char domain[64];
    bool runner = s->a.tpl ? s->a.tpl->group_party == s->a.party : s->a.nego.runner_is_listener;
    const char *join = s->a.tpl ? s->a.tpl->join_column[s->a.party] : s->a.nego.join[0];
    if (runner)
        OVL_FAIL(ovl_analysis_refuse(c, ovl_err_set(OVL_ERR_POLICY, "a served table never "
                                                     "receives output: it contributes values")));
    if (s->a.tpl)
        OVL_TRY(ovl_tpl_rowfilter_init(&s->filter, s->a.tpl, s->a.party, s->a.nego.params,
                                       s->a.nego.nparams));
    rc = value_columns(s);
    if (rc == OVL_OK)
        rc = load_table(s, join, true);
    if (rc != OVL_OK)
        OVL_FAIL(ovl_analysis_refuse(c, rc == OVL_ERR_POLICY ? rc : OVL_ERR_INPUT));
    OVL_TRY(ovl_analysis_listener_reply(&s->a, c));
    snprintf(domain, sizeof domain, "id=sha256 normalize=%s", ovl_norm_name(s->a.nego.norm));
    ovl_agg_config cfg = {
        .role = OVL_ROLE_LISTENER,
        .contributor = true,
        .group = ovl_group_default(),
        .domain = domain,
        .min_rows = s->a.agreement.threshold ? s->a.agreement.threshold : 1,
        .paillier_bits = 2048,
        .max_peer_set = s->o->max_peer,
        .max_jobs = (size_t)(2 * s->o->threads + 2),
        .ids = (const uint8_t(*)[32])s->ids.ids,
        .nids = s->ids.nids,
        .vectors = s->vectors,
        .values = s->cols,
        .nvalues = s->ncols,
        .agreement = s->a.agreement.encoding,
        .agreement_len = s->a.agreement.encoding_len,
        .expect_peer_set = true,
        .peer_set_expected = s->a.peer_set,
    };
    OVL_TRY(ovl_agg_new(&agg, &cfg));
    OVL_TRY(drive(s, c, &ovl_agg_ops, agg));
    OVL_TRY(ovl_analysis_cosign(&s->a, c, ovl_agg_transcript(agg), (int)(s->o->timeout_s * 1000)));
    snprintf(res->summary, sizeof res->summary, "aggregate%s, %zu identifiers contributed, "
             "threshold %llu, completed", s->a.tpl ? " (template)" : "", s->ids.nids,
             (unsigned long long)ovl_agg_threshold(agg));
done:
    ovl_agg_free(agg);
    return rc;
}

static ovl_err serve(serve_state *s, ovl_conn *c, ovl_session_result *res)
{
    ovl_err rc = OVL_OK;
    ovl_buf f = {0};
    bool request;
    OVL_TRY(ovl_analysis_first_frame(c, &f, (int)(s->o->timeout_s * 1000), &request));
    if (!request)
        OVL_FAIL(ovl_analysis_refuse(c, ovl_err_set(OVL_ERR_POLICY,
                 "this endpoint answers negotiated analyses only: run with --policy or "
                 "--template (protocols/setup/SPEC.md)")));
    OVL_TRY(ovl_analysis_listener(&s->a, c, f.data + OVL_FRAME_HDR, f.wpos - OVL_FRAME_HDR, NULL));
    OVL_TRY(ovl_pool_new(&s->pool, (size_t)s->o->threads));
    if (s->a.nego.mode == OVL_MODE_AGGREGATE)
        OVL_TRY(serve_aggregate(s, c, res));
    else
        OVL_TRY(serve_psi(s, c, res));
done:
    ovl_buf_free(&f);
    return rc;
}

ovl_err ovl_session_serve(ovl_session_result *res, ovl_conn *c, const ovl_session_opts *o)
{
    serve_state s;
    memset(&s, 0, sizeof s);
    memset(res, 0, sizeof *res);
    s.o = o;
    s.a.self = o->self;
    s.a.policy = o->policy;
    s.a.audit_path = o->audit_path;
    s.a.table_name = o->policy->table_name;
    s.a.role = OVL_ROLE_LISTENER;
    s.a.party = -1;
    ovl_err rc = serve(&s, c, res);
    ovl_analysis_audit(&s.a, rc);
    ovl_analysis_clear(&s.a);
    ovl_idtable_free(&s.ids);
    ovl_value_cols_free(s.cols, s.ncols);
    free(s.vectors);
    ovl_pool_free(s.pool);
    return rc;
}
