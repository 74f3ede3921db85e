/* The verifier: checks a requested analysis against one owner's policy and
 * gives that owner's terms. Each refusal names the rule and what it refused.
 * Combining both owners' terms into the agreement is the negotiation's
 * (protocols/setup/agreement.c). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/guard.h"
#include "core/mem.h"
#include "policy/adhoc.h"
#include "policy/verifier.h"


static ovl_err refuse(const ovl_policy *pol, const char *rule, const char *fmt, ...)
    OVL_PRINTF(3, 4);
static ovl_err refuse(const ovl_policy *pol, const char *rule, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return ovl_err_set(OVL_ERR_POLICY, "%s: %s: %s", pol->label, rule, msg);
}

static const char *peer_label(const ovl_policy *pol, const char *fpr)
{
    const ovl_policy_peer *p = ovl_policy_peer_find(pol, fpr);
    return p ? p->name : "unlisted peer";
}

static ovl_err check_receivers(const ovl_policy *pol, const char *rule, const ovl_strlist *allowed,
                               const char *self_fpr, const ovl_request *req)
{
    for (size_t i = 0; i < req->nreceivers; i++) {
        if (strcmp(req->receivers[i], self_fpr) == 0)
            continue;
        if (!ovl_strlist_has(allowed, req->receivers[i]))
            return refuse(pol, rule, "%s (%s) may not receive output", req->receivers[i],
                          peer_label(pol, req->receivers[i]));
    }
    return OVL_OK;
}

static ovl_err check_join(const ovl_policy *pol, const char *column, ovl_norm norm)
{
    const ovl_policy_join *j = column ? ovl_policy_join_find(pol, column) : NULL;
    if (!j)
        return refuse(pol, "join", "'%s' is not a join column", column ? column : "(none)");
    if (j->norm != norm)
        return refuse(pol, "join", "'%s' is normalised as %s, the run states %s", column,
                      ovl_norm_name(j->norm), ovl_norm_name(norm));
    return OVL_OK;
}

static ovl_err check_functions(const ovl_policy *pol, unsigned fns)
{
    for (size_t i = 0; i < ovl_naggfn_kinds; i++) {
        unsigned b = (unsigned)ovl_aggfn_kinds[i].fn;
        if ((fns & b) && !(pol->aggregation.functions & b))
            return refuse(pol, "aggregation.functions", "%s is not allowed",
                          ovl_aggfn_kinds[i].keyword);
    }
    return OVL_OK;
}

static ovl_err check_column(const ovl_policy *pol, const char *rule, const ovl_strlist *l,
                            const char *col, const char *use)
{
    if (!ovl_strlist_has(l, col))
        return refuse(pol, rule, "column '%s' is not listed, so it cannot be %s", col, use);
    return OVL_OK;
}

/* SUM and AVG read a column of aggregation.aggregates; COUNT(col) counts its
 * non-NULL values, which a dimension (or an aggregate) column may give. */
static ovl_err check_aggregated(const ovl_policy *pol, ovl_aggfn fn, const char *col)
{
    if (fn == OVL_FN_COUNT && ovl_strlist_has(&pol->aggregation.dimensions, col))
        return OVL_OK;
    return check_column(pol, "aggregation.aggregates", &pol->aggregation.aggregates, col,
                        fn == OVL_FN_COUNT ? "counted" : "aggregated");
}

static ovl_err check_cardinality(const ovl_policy *pol, const ovl_request *req)
{
    if ((req->reveals_cardinality || ovl_mode_reveals_size(req->mode)) &&
        !pol->aggregation.allow_cardinality)
        return refuse(pol, "aggregation.allow_cardinality",
                      "the number of shared identifiers may not be revealed");
    return OVL_OK;
}

static ovl_err verify_intersection(const ovl_policy *pol, const char *self_fpr, const ovl_request *req)
{
    ovl_err rc = OVL_OK;
    OVL_ENSURE(pol->list.allowed, OVL_ERR_POLICY, "%s: list.allowed: intersection (row-level) "
               "runs are refused", pol->label);
    OVL_TRY(check_join(pol, req->join_column, req->norm));
    OVL_TRY(check_receivers(pol, "list.receivers", &pol->list.receivers, self_fpr, req));
    for (size_t i = 0; i < req->nlist_columns; i++)
        OVL_TRY(check_column(pol, "list.columns", &pol->list.columns, req->list_columns[i],
                             "in the partner's output"));
done:
    return rc;
}

static ovl_err verify_adhoc_aggregate(const ovl_policy *pol, const char *self_fpr,
                                      const ovl_request *req)
{
    ovl_err rc = OVL_OK;
    unsigned fns = 0;
    OVL_ENSURE(pol->aggregation.adhoc, OVL_ERR_POLICY, "%s: aggregation.adhoc: aggregates "
               "without an approved template are refused", pol->label);
    OVL_TRY(check_join(pol, req->join_column, req->norm));
    for (size_t i = 0; i < req->nvalues; i++)
        fns |= req->values[i].fn;
    OVL_TRY(check_functions(pol, fns));
    OVL_ENSURE(req->side == OVL_SIDE_GROUP || req->side == OVL_SIDE_VALUES, OVL_ERR_USAGE,
               "aggregate request without this owner's side");
    /* Each item names its party (adhoc.h); this owner checks its own. */
    int me = req->side == OVL_SIDE_GROUP ? OVL_ADHOC_SIDE_RUNNER : OVL_ADHOC_SIDE_CONTRIBUTOR;
    for (size_t i = 0; i < req->ngroup_by; i++) {
        ovl_adhoc_dim d;
        if (ovl_adhoc_dim_parse(&d, req->group_by[i]) != OVL_OK)
            OVL_FAIL(ovl_err_wrap(OVL_ERR_POLICY, "%s: the request's group-by column: ",
                                  pol->label));
        if (d.side == me)
            OVL_TRY(check_column(pol, "aggregation.dimensions", &pol->aggregation.dimensions,
                                 d.column, "grouped by"));
    }
    for (size_t i = 0; i < req->nvalues; i++) {
        ovl_adhoc_col c;
        if (!req->values[i].column)
            continue;
        if (ovl_adhoc_col_parse(&c, req->values[i].column, false) != OVL_OK)
            OVL_FAIL(ovl_err_wrap(OVL_ERR_POLICY, "%s: the request's value column: ", pol->label));
        if (c.side == me)
            OVL_TRY(check_aggregated(pol, req->values[i].fn, c.column));
    }
    OVL_TRY(check_receivers(pol, "aggregation.receivers", &pol->aggregation.receivers, self_fpr,
                            req));
    OVL_TRY(check_cardinality(pol, req));
done:
    return rc;
}

static ovl_err verify_cardinality(const ovl_policy *pol, const char *self_fpr,
                                  const ovl_request *req)
{
    ovl_err rc = OVL_OK;
    OVL_TRY(check_join(pol, req->join_column, req->norm));
    OVL_TRY(check_cardinality(pol, req));
    OVL_TRY(check_receivers(pol, "aggregation.receivers", &pol->aggregation.receivers, self_fpr,
                            req));
done:
    return rc;
}

/* The rules each ad-hoc mode is held to (a template run has its own). */
static const struct {
    ovl_mode mode;
    ovl_err (*verify)(const ovl_policy *pol, const char *self_fpr, const ovl_request *req);
} verify_by_mode[] = {
    {OVL_MODE_INTERSECTION, verify_intersection},
    {OVL_MODE_CARDINALITY, verify_cardinality},
    {OVL_MODE_AGGREGATE, verify_adhoc_aggregate},
};

static ovl_err verify_adhoc(const ovl_policy *pol, const char *self_fpr, const ovl_request *req)
{
    for (size_t i = 0; i < sizeof verify_by_mode / sizeof verify_by_mode[0]; i++)
        if (verify_by_mode[i].mode == req->mode)
            return verify_by_mode[i].verify(pol, self_fpr, req);
    return ovl_err_set(OVL_ERR_USAGE, "unknown analysis mode");
}

static bool approved_by(const ovl_approvals *a, const char *fpr)
{
    for (size_t i = 0; a && i < a->n; i++)
        if (strcmp(a->fpr[i], fpr) == 0)
            return true;
    return false;
}

static ovl_err check_template_agg(const ovl_policy *pol, const ovl_tpl_agg *a, int me)
{
    if (a->party != me || a->column == NULL || a->fn == OVL_FN_COUNT_DISTINCT)
        return OVL_OK;
    return check_aggregated(pol, a->fn, a->column);
}

/* ---- the template's worst-case group space (SPEC §4.2 step 5) ---- */

/* A filter value's text: the literal, or the supplied parameter's. */
static const char *filter_value(const ovl_tpl_value *v, const ovl_request *req)
{
    if (!v->is_param)
        return v->text;
    for (size_t i = 0; i < req->nparams; i++)
        if (strcmp(req->params[i].name, v->text) == 0)
            return req->params[i].value;
    return NULL;
}

/* A date or an integer of a filter as a number (days for dates). */
static bool filter_number(const ovl_tpl_value *v, const ovl_request *req, int64_t *out)
{
    const char *s = filter_value(v, req);
    char *end = NULL;
    if (s == NULL)
        return false;
    if (v->type == OVL_PARAM_DATE)
        return ovl_date_days(out, s);
    if (v->type != OVL_PARAM_INTEGER)
        return false;
    long long x = strtoll(s, &end, 10);
    *out = x;
    return *end == '\0' && x > -(1LL << 40) && x < (1LL << 40);
}

/* Periods of `unit` from day lo to day hi (inclusive; integers: values). */
static uint64_t periods(ovl_trunc unit, int64_t lo, int64_t hi)
{
    char a[11], b[11];
    if (hi < lo)
        return 0;
    if (unit == OVL_TRUNC_WEEK) {
        /* Mondays: 1970-01-05 is day 4 */
        int64_t ml = lo - (((lo - 4) % 7) + 7) % 7, mh = hi - (((hi - 4) % 7) + 7) % 7;
        return (uint64_t)((mh - ml) / 7 + 1);
    }
    if (unit == OVL_TRUNC_MONTH) {
        ovl_date_format(a, lo);
        ovl_date_format(b, hi);
        return (uint64_t)((atoi(b) * 12 + atoi(b + 5)) - (atoi(a) * 12 + atoi(a + 5)) + 1);
    }
    return (uint64_t)(hi - lo) + 1;
}

/* The most distinct values a dimension can take under its party's filters
 * on the same column, or 0 when they do not bound it. */
static uint64_t dim_bound(const ovl_template *t, const ovl_tpl_dim *d, const ovl_request *req)
{
    uint64_t best = 0;
    bool has_lo = false, has_hi = false, dates = false;
    int64_t lo = 0, hi = 0, x;
    for (size_t i = 0; i < t->nfilters; i++) {
        const ovl_tpl_filter *f = &t->filters[i];
        if (f->party != d->party || strcmp(f->column, d->column) != 0)
            continue;
        if (f->op == OVL_CMP_EQ || f->op == OVL_CMP_IN) {
            uint64_t n = f->op == OVL_CMP_EQ ? 1 : f->nvalues;
            best = best == 0 || n < best ? n : best;
            continue;
        }
        bool date = f->values[0].type == OVL_PARAM_DATE;
        if (d->trunc != OVL_TRUNC_NONE && !date)
            continue;
        for (size_t k = 0; k < f->nvalues; k++) {
            if (!filter_number(&f->values[k], req, &x))
                break;
            bool low = f->op == OVL_CMP_GE || f->op == OVL_CMP_GT ||
                       (f->op == OVL_CMP_BETWEEN && k == 0);
            bool high = f->op == OVL_CMP_LE || f->op == OVL_CMP_LT ||
                        (f->op == OVL_CMP_BETWEEN && k == 1);
            int64_t v = x + (f->op == OVL_CMP_GT) - (f->op == OVL_CMP_LT);
            if (low && (!has_lo || v > lo))
                lo = v, has_lo = true;
            if (high && (!has_hi || v < hi))
                hi = v, has_hi = true;
            dates = dates || date;
        }
    }
    if (has_lo && has_hi) {
        uint64_t n = periods(dates ? d->trunc : OVL_TRUNC_NONE, lo, hi);
        n = n ? n : 1;
        best = best == 0 || n < best ? n : best;
    }
    return best;
}

/* The template's group space when its filters bound every dimension; 0
 * when they do not (the engine then checks the actual one at HELLO). */
static uint64_t worst_cells(const ovl_template *t, const ovl_request *req)
{
    uint64_t cells = 1;
    for (size_t i = 0; i < t->ndims; i++) {
        uint64_t n = dim_bound(t, &t->dims[i], req);
        if (n == 0)
            return 0;
        cells = cells > UINT64_MAX / n ? UINT64_MAX : cells * n;
    }
    return cells;
}

/* The cap's ordering column (-- cap rows N by x.col, CONDITIONS.md §8)
 * decides which of an identifier's rows are kept, as a filter's column
 * decides which are left out, so it follows the filter rule (a join column
 * or one of aggregation.dimensions); aggregation.join_conditions allows it
 * too, since the cap usually orders by the very column compared. */
static ovl_err check_cap_order(const ovl_policy *pol, const char *col)
{
    if (col == NULL || ovl_policy_join_find(pol, col) ||
        ovl_strlist_has(&pol->aggregation.join_conditions, col))
        return OVL_OK;
    return check_column(pol, "aggregation.dimensions", &pol->aggregation.dimensions, col,
                        "the cap's ordering column (-- cap rows N by; list it in "
                        "aggregation.dimensions or aggregation.join_conditions)");
}

/* The template's use of this owner's columns must fit the aggregation rule. */
static ovl_err verify_template_columns(const ovl_policy *pol, const ovl_template *t, int me)
{
    ovl_err rc = OVL_OK;
    OVL_TRY(check_functions(pol, t->functions));
    for (size_t i = 0; i < t->ndims; i++)
        if (t->dims[i].party == me)
            OVL_TRY(check_column(pol, "aggregation.dimensions", &pol->aggregation.dimensions,
                                 t->dims[i].column, "grouped by"));
    for (size_t i = 0; i < t->naggs; i++)
        OVL_TRY(check_template_agg(pol, &t->aggs[i], me));
    for (size_t e = 0; e < t->nexprs; e++)
        for (size_t i = 0; i < t->exprs[e].ntok; i++)
            if (t->exprs[e].tok[i].op == OVL_TPL_X_AGG)
                OVL_TRY(check_template_agg(pol, &t->exprs[e].tok[i].agg, me));
    for (size_t i = 0; i < t->npairs; i++)
        OVL_TRY(check_column(pol, "aggregation.join_conditions", &pol->aggregation.join_conditions,
                             t->pairs[i].column[me], "compared with the partner's columns"));
    for (size_t i = 0; i < t->nfilters; i++)
        if (t->filters[i].party == me && !ovl_policy_join_find(pol, t->filters[i].column))
            OVL_TRY(check_column(pol, "aggregation.dimensions", &pol->aggregation.dimensions,
                                 t->filters[i].column, "filtered on"));
    if (t->npairs > 0)
        OVL_TRY(check_cap_order(pol, t->cap_order[me]));
done:
    return rc;
}

static ovl_err verify_template(const ovl_policy *pol, const char *self_fpr, const char *peer_fpr,
                               const ovl_request *req)
{
    ovl_err rc = OVL_OK;
    const ovl_template *t = req->tpl;
    char hex[2 * OVL_HASH_LEN + 1];
    int me = ovl_template_party(t, pol->table_name);
    ovl_hex_encode(hex, t->hash, OVL_HASH_LEN);
    OVL_ENSURE(ovl_mode_aggregates(req->mode), OVL_ERR_USAGE, "a template run is an aggregate");
    if (me < 0)
        OVL_FAIL(refuse(pol, "table", "template %s reads tables %s and %s, not %s", t->label,
                        t->table[0], t->table[1], pol->table_name));
    if (!ovl_policy_template_find(pol, t->hash))
        OVL_FAIL(refuse(pol, "custom.templates", "template %s (hash %.16s...) is not approved "
                        "by this policy", t->label, hex));
    if (!approved_by(req->approvals, self_fpr))
        OVL_FAIL(refuse(pol, "custom", "template %s carries no valid approval by this owner "
                        "(%s); run overlap template approve", t->label, self_fpr));
    if (!approved_by(req->approvals, peer_fpr))
        OVL_FAIL(refuse(pol, "custom", "template %s carries no valid approval by the peer %s "
                        "(%s), whose table it also reads", t->label, peer_label(pol, peer_fpr),
                        peer_fpr));
    if (ovl_template_check_params(t, req->params, req->nparams) != OVL_OK)
        OVL_FAIL(ovl_err_wrap(OVL_ERR_POLICY, "%s: parameters: ", pol->label));
    OVL_TRY(check_join(pol, t->join_column[me], req->norm));
    OVL_TRY(verify_template_columns(pol, t, me));
    uint64_t cells = worst_cells(t, req);
    if (cells > pol->aggregation.max_cells)
        OVL_FAIL(refuse(pol, "aggregation.max_cells", "template %s's filters allow up to %llu "
                        "cells (runner groups x contributor groups), where this policy allows "
                        "%u", t->label, (unsigned long long)cells,
                        (unsigned)pol->aggregation.max_cells));
    OVL_TRY(check_receivers(pol, "aggregation.receivers", &pol->aggregation.receivers, self_fpr,
                            req));
    OVL_TRY(check_cardinality(pol, req));
done:
    return rc;
}

ovl_err ovl_verify_request(ovl_policy_terms *terms, const ovl_policy *pol, const char *self_fpr,
                           const char *peer_fpr, const ovl_request *req)
{
    ovl_err rc = OVL_OK;
    memset(terms, 0, sizeof *terms);
    terms->max_cells = OVL_MAX_CELLS_DEFAULT;
    terms->count_bits = ovl_count_bits_of(OVL_MAX_ROWS_PER_ID_DEFAULT);
    terms->value_bits = OVL_VALUE_BITS_DEFAULT;
    OVL_ENSURE(req->nreceivers <= OVL_RECEIVERS_MAX, OVL_ERR_USAGE, "too many receivers");
    if (!ovl_policy_peer_find(pol, peer_fpr))
        OVL_FAIL(refuse(pol, "peers", "%s is not listed, so it may not connect", peer_fpr));
    if (req->tpl)
        OVL_TRY(verify_template(pol, self_fpr, peer_fpr, req));
    else
        OVL_TRY(verify_adhoc(pol, self_fpr, req));
    terms->has_policy = true;
    terms->min_rows = pol->aggregation.min_rows;
    terms->allow_cardinality = pol->aggregation.allow_cardinality;
    terms->max_cells = pol->aggregation.max_cells;
    terms->count_bits = ovl_policy_count_bits(pol);
    terms->value_bits = pol->aggregation.value_bits;
done:
    return rc;
}
