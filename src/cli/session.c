/* One served session: see session.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate/aggregate.h"
#include "cli/session.h"
#include "core/guard.h"
#include "session/drive.h"
#include "crypto/group.h"
#include "core/mem.h"
#include "core/pool.h"
#include "psi/psi.h"

ovl_err ovl_tpl_rowfilter_init(ovl_tpl_rowfilter *f, const ovl_template *tpl, int party,
                               const ovl_param_value *params, size_t nparams,
                               const char *table_path)
{
    ovl_err rc = OVL_OK;
    ovl_csv *csv = NULL;
    memset(f, 0, sizeof *f);
    f->tpl = tpl;
    f->party = party;
    f->params = params;
    f->nparams = nparams;
    if (tpl == NULL)
        return OVL_OK;
    OVL_TRY(ovl_csv_open(&csv, table_path));
    for (size_t i = 0; i < tpl->nfilters; i++) {
        if (tpl->filters[i].party != party)
            continue;
        OVL_ENSURE(f->n < sizeof f->cols / sizeof f->cols[0], OVL_ERR_LIMIT,
                   "too many filters on one table");
        OVL_TRY(ovl_csv_col(csv, tpl->filters[i].column, &f->cols[f->n]));
        f->filters[f->n++] = &tpl->filters[i];
    }
done:
    ovl_csv_close(csv);
    return rc;
}

ovl_err ovl_tpl_rowfilter_apply(void *arg, const ovl_csv *csv, bool *keep)
{
    const ovl_tpl_rowfilter *f = arg;
    *keep = true;
    for (size_t i = 0; i < f->n && *keep; i++) {
        const char *cell;
        size_t len;
        ovl_csv_field(csv, f->cols[i], &cell, &len);
        ovl_err rc = ovl_tpl_filter_match(f->filters[i], f->params, f->nparams, cell, len, keep);
        if (rc != OVL_OK)
            return rc;
    }
    return OVL_OK;
}

ovl_err ovl_column_decimals(unsigned *out, const char *table_path, const char *column)
{
    ovl_err rc = OVL_OK;
    ovl_csv *csv = NULL;
    size_t col;
    bool eof = false;
    unsigned most = 0;
    OVL_TRY(ovl_csv_open(&csv, table_path));
    OVL_TRY(ovl_csv_col(csv, column, &col));
    for (;;) {
        const char *p;
        size_t len;
        OVL_TRY(ovl_csv_next(csv, &eof));
        if (eof)
            break;
        ovl_csv_field(csv, col, &p, &len);
        const char *dot = memchr(p, '.', len);
        if (dot != NULL) {
            size_t d = len - (size_t)(dot - p) - 1;
            while (d > 0 && (dot[d] == ' ' || dot[d] == '\t'))
                d--;
            if (d > most)
                most = d > OVL_DECIMALS_MAX ? OVL_DECIMALS_MAX : (unsigned)d;
        }
    }
    *out = most;
done:
    ovl_csv_close(csv);
    return rc;
}

typedef struct {
    const ovl_session_opts *o;
    ovl_analysis a;
    ovl_idtable ids;
    ovl_tpl_rowfilter filter;
    ovl_pool *pool;
    ovl_value_col *cols;
    size_t ncols;
    int64_t *vectors;
    ovl_drive_opts dopts;
    ovl_buf carry; /* bytes read past one engine, for the next */
} serve_state;

static const ovl_policy_join *join_rule(const serve_state *s, const char *column)
{
    return ovl_policy_join_find(s->o->policy, column);
}

static ovl_err load_ids(serve_state *s, const char *join)
{
    const ovl_policy_join *j = join_rule(s, join);
    ovl_err rc = ovl_idtable_load_filtered(&s->ids, s->o->table, join, s->a.nego.norm,
                                           j ? j->prehashed : false,
                                           s->filter.n ? ovl_tpl_rowfilter_apply : NULL,
                                           &s->filter);
    if (rc == OVL_OK)
        s->a.local_set = s->ids.nids;
    return rc;
}

static ovl_err drive(serve_state *s, ovl_conn *c, const ovl_proto_ops *ops, void *proto)
{
    ovl_drive_opts d = s->dopts;
    d.preread = s->carry.data + s->carry.rpos;
    d.preread_len = ovl_buf_remaining(&s->carry);
    d.rest = &s->carry;
    return ovl_drive(c, ops, proto, &d);
}

static ovl_err prepare_psi(serve_state *s)
{
    ovl_err rc;
    if (s->a.nego.reveal != OVL_REVEAL_CONNECTOR)
        return ovl_err_set(OVL_ERR_POLICY, "a served table never receives output: ask with "
                           "--reveal connector");
    rc = load_ids(s, s->a.nego.join[0]);
    if (rc != OVL_OK)
        return ovl_err_set(rc, "the owner's table cannot be read");
    return OVL_OK;
}

static ovl_err serve_psi(serve_state *s, ovl_conn *c, ovl_session_result *res)
{
    ovl_err rc = OVL_OK;
    ovl_psi *psi = NULL;
    ovl_buf params = {0};
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
    OVL_TRY(ovl_analysis_cosign(&s->a, c, ovl_psi_transcript(psi), &s->dopts, &s->carry));
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
        ovl_aggfn fn = t ? t->aggs[i].fn : (ovl_aggfn)s->a.nego.values[i].fn;
        if ((t && t->aggs[i].party != s->a.party) || col == NULL ||
            (fn != OVL_FN_SUM && fn != OVL_FN_AVG))
            continue;
        bool seen = false;
        for (size_t k = 0; k < s->ncols && !seen; k++)
            seen = strcmp(s->cols[k].name, col) == 0;
        if (seen)
            continue;
        s->cols[s->ncols].name = strdup(col);
        OVL_ENSURE(s->cols[s->ncols].name != NULL, OVL_ERR_NOMEM, "out of memory");
        if (t)
            OVL_TRY(ovl_column_decimals(&s->cols[s->ncols].decimals, s->o->table, col));
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

static ovl_err prepare_aggregate(serve_state *s)
{
    ovl_err rc = OVL_OK;
    bool runner = s->a.tpl ? s->a.tpl->group_party == s->a.party : s->a.nego.runner_is_listener;
    const char *join = s->a.tpl ? s->a.tpl->join_column[s->a.party] : s->a.nego.join[0];
    if (runner)
        return ovl_err_set(OVL_ERR_POLICY, "a served table never receives output: it "
                           "contributes values");
    if (s->a.tpl)
        OVL_TRY(ovl_tpl_rowfilter_init(&s->filter, s->a.tpl, s->a.party, s->a.params,
                                       s->a.nego.nparams, s->o->table));
    rc = value_columns(s);
    if (rc == OVL_OK)
        rc = load_ids(s, join);
    if (rc == OVL_OK)
        rc = ovl_value_vectors(&s->vectors, s->o->table, s->cols, s->ncols, &s->ids);
    if (rc != OVL_OK && rc != OVL_ERR_POLICY)
        rc = ovl_err_set(OVL_ERR_INPUT, "%s", ovl_err_detail());
done:
    return rc;
}

static ovl_err serve_aggregate(serve_state *s, ovl_conn *c, ovl_session_result *res)
{
    ovl_err rc = OVL_OK;
    ovl_agg *agg = NULL;
    char domain[64];
    snprintf(domain, sizeof domain, "id=sha256 normalize=%s", ovl_norm_name(s->a.nego.norm));
    ovl_agg_config cfg = {
        .role = OVL_ROLE_LISTENER,
        .contributor = true,
        .group = ovl_group_default(),
        .domain = domain,
        .min_rows = s->a.agreement.threshold >= OVL_MIN_ROWS_LO ? s->a.agreement.threshold
                                                                : OVL_MIN_ROWS_LO,
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
    s->a.groups_released = ovl_agg_groups_released(agg); /* the runner's count (FINISH) */
    s->a.groups_suppressed = ovl_agg_group_count(agg) - s->a.groups_released;
    OVL_TRY(ovl_analysis_cosign(&s->a, c, ovl_agg_transcript(agg), &s->dopts, &s->carry));
    snprintf(res->summary, sizeof res->summary, "aggregate%s, %zu identifiers contributed, "
             "threshold %llu, completed", s->a.tpl ? " (template)" : "", s->ids.nids,
             (unsigned long long)ovl_agg_threshold(agg));
done:
    ovl_agg_free(agg);
    return rc;
}

/* What the partner reads when the served table cannot provide the analysis
 * (its ABORT carries the detail): never the owner's paths or line numbers.
 * The owner's log keeps the full detail. */
static ovl_err peer_safe_input_error(const serve_state *s, ovl_err rc)
{
    char detail[512], col[OVL_COL_NAME_MAX + 1];
    snprintf(detail, sizeof detail, "%s", ovl_err_detail());
    fprintf(stderr, "overlap: session with %s: the served table cannot provide the analysis: %s\n",
            s->a.peer.name, detail);
    const char *q = strstr(detail, ": no column \"");
    if (q != NULL && sscanf(q, ": no column \"%255[^\"]\"", col) == 1)
        return ovl_err_set(rc, "the served table lacks column '%s'", col);
    return ovl_err_set(rc, "the served table cannot provide this analysis (the owner's log "
                           "says why)");
}

/* The served table's input, once the peer's request is known. */
static ovl_err load_for_request(void *arg, ovl_analysis *a)
{
    serve_state *s = arg;
    ovl_err rc = a->nego.mode == OVL_MODE_AGGREGATE ? prepare_aggregate(s) : prepare_psi(s);
    return rc == OVL_OK || rc == OVL_ERR_POLICY ? rc : peer_safe_input_error(s, rc);
}

static ovl_err serve(serve_state *s, ovl_conn *c, ovl_session_result *res)
{
    ovl_err rc = OVL_OK;
    OVL_TRY(ovl_buf_alloc(&s->carry, 4096, OVL_DRIVE_CARRY_MAX));
    OVL_TRY(ovl_pool_new(&s->pool, (size_t)s->o->threads));
    s->dopts.timeout_ms = (int)(s->o->timeout_s * 1000);
    s->dopts.pool = s->pool;
    s->a.plain_refusal = "this endpoint answers negotiated analyses only: run with --policy, "
                         "--template or --negotiate (protocols/setup/SPEC.md)";
    s->a.load_input = load_for_request;
    s->a.load_arg = s;
    OVL_TRY(ovl_analysis_negotiate(&s->a, c, &s->dopts, &s->carry));
    if (s->a.nego.mode == OVL_MODE_AGGREGATE)
        OVL_TRY(serve_aggregate(s, c, res));
    else
        OVL_TRY(serve_psi(s, c, res));
done:
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
    ovl_buf_free(&s.carry);
    ovl_pool_free(s.pool);
    return rc;
}
