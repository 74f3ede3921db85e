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
    if (req->side == OVL_SIDE_GROUP)
        for (size_t i = 0; i < req->ngroup_by; i++)
            OVL_TRY(check_column(pol, "aggregation.dimensions", &pol->aggregation.dimensions,
                                 req->group_by[i], "grouped by"));
    if (req->side == OVL_SIDE_VALUES)
        for (size_t i = 0; i < req->nvalues; i++)
            if (req->values[i].column)
                OVL_TRY(check_column(pol, "aggregation.aggregates", &pol->aggregation.aggregates,
                                     req->values[i].column, "aggregated"));
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
        if (t->aggs[i].party == me && ovl_aggfn_reads_values(t->aggs[i].fn))
            OVL_TRY(check_column(pol, "aggregation.aggregates", &pol->aggregation.aggregates,
                                 t->aggs[i].column, "aggregated"));
    for (size_t i = 0; i < t->npairs; i++)
        OVL_TRY(check_column(pol, "aggregation.join_conditions", &pol->aggregation.join_conditions,
                             t->pairs[i].column[me], "compared with the partner's columns"));
    for (size_t i = 0; i < t->nfilters; i++)
        if (t->filters[i].party == me && !ovl_policy_join_find(pol, t->filters[i].column))
            OVL_TRY(check_column(pol, "aggregation.dimensions", &pol->aggregation.dimensions,
                                 t->filters[i].column, "filtered on"));
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
done:
    return rc;
}
