/* Analysis templates: resolving the parsed statement into the plan (which
 * party holds each column, roles, outputs, filters). */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/guard.h"
#include "core/mem.h"
#include "policy/template_impl.h"

/* ---- resolution into the plan ---- */

static ovl_err party_of(const pc *c, const ovl_template *t, const colref *r, int *party)
{
    for (int k = 0; k < 2; k++)
        if (strcmp(r->qual, t->alias[k]) == 0) {
            *party = k;
            return OVL_OK;
        }
    return tpl_perr(c, r->tok, r->tok + 2, "unknown table alias '%s' (the template reads %s and %s)",
                r->qual, t->alias[0], t->alias[1]);
}

static ovl_err resolve_join(const pc *c, ovl_template *t, const parsed *p)
{
    ovl_err rc = OVL_OK;
    int a, b;
    OVL_ENSURE(strcmp(t->alias[0], t->alias[1]) != 0 && strcmp(t->table[0], t->table[1]) != 0,
               OVL_ERR_INPUT, "%s: the two joined tables (and their aliases) must differ", c->label);
    OVL_TRY(party_of(c, t, &p->on[0], &a));
    OVL_TRY(party_of(c, t, &p->on[1], &b));
    if (a == b)
        OVL_FAIL(tpl_perr(c, p->on_tok, p->on_tok + 6, "a join matches a column of each table"));
    t->join_column[a] = p->on[0].col;
    t->join_column[b] = p->on[1].col;
done:
    return rc;
}

/* Conditions across parties, turned to canonical orientation (CONDITIONS.md
 * §2.2): party 0's column on the left, offsets on party 1's. */
static ovl_cmp_op mirror(ovl_cmp_op op)
{
    switch (op) {
    case OVL_CMP_LT: return OVL_CMP_GT;
    case OVL_CMP_LE: return OVL_CMP_GE;
    case OVL_CMP_GT: return OVL_CMP_LT;
    case OVL_CMP_GE: return OVL_CMP_LE;
    default: return op;
    }
}

static ovl_err resolve_pair(const pc *c, ovl_template *t, const pairc *q, ovl_tpl_pair *out)
{
    ovl_err rc = OVL_OK;
    int l, r, r2 = -1;
    OVL_TRY(party_of(c, t, &q->l, &l));
    OVL_TRY(party_of(c, t, &q->r, &r));
    if (q->op == OVL_CMP_BETWEEN) {
        OVL_TRY(party_of(c, t, &q->r2, &r2));
        if (r2 != r || strcmp(q->r.col, q->r2.col) != 0)
            OVL_FAIL(tpl_perr(c, q->start, q->end, "BETWEEN bounds must be one column of the "
                                                   "other table, each with its own interval"));
    }
    if (l == r)
        OVL_FAIL(tpl_perr(c, q->start, q->end, "comparing two columns of one table is not "
                                               "supported; conditions here compare a column of "
                                               "each table"));
    out->interval = q->interval;
    out->column[l] = q->l.col;
    out->column[r] = q->r.col;
    if (l == 0) {
        out->op = q->op;
        out->offset[0] = q->off;
        out->offset[1] = q->op == OVL_CMP_BETWEEN ? q->off2 : 0;
    } else if (q->op == OVL_CMP_BETWEEN) {
        /* c BETWEEN r + a AND r + b  <=>  c - b <= r <= c - a */
        out->op = OVL_CMP_BETWEEN;
        out->offset[0] = -q->off2;
        out->offset[1] = -q->off;
    } else {
        /* c op r + a  <=>  r op' c - a */
        out->op = mirror(q->op);
        out->offset[0] = -q->off;
        out->offset[1] = 0;
    }
    /* SQL's BETWEEN is not symmetric: reversed bounds hold for no row. */
    if (out->op == OVL_CMP_BETWEEN && out->offset[0] > out->offset[1])
        OVL_FAIL(tpl_perr(c, q->start, q->end, "empty window: the lower bound is after the upper "
                                               "bound (by %ld days); write the earlier bound "
                                               "first", (long)out->offset[0] - out->offset[1]));
done:
    return rc;
}

static ovl_err resolve_pairs(const pc *c, ovl_template *t, const parsed *p)
{
    ovl_err rc = OVL_OK;
    if (!p->npairs)
        return OVL_OK;
    t->pairs = tpl_arena_alloc(c->im, p->npairs, sizeof *t->pairs);
    OVL_ENSURE(t->pairs, OVL_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < p->npairs; i++)
        OVL_TRY(resolve_pair(c, t, &p->pairs[i], &t->pairs[t->npairs++]));
done:
    return rc;
}

static ovl_err check_distinct_ref(const pc *c, const ovl_template *t, const colref *r, size_t a,
                                  size_t b)
{
    int k;
    ovl_err rc = party_of(c, t, r, &k);
    if (rc != OVL_OK)
        return rc;
    if (strcmp(r->col, t->join_column[k]) != 0)
        return tpl_perr(c, a, b, "only the join column (%s.%s) can be counted distinct", r->qual,
                    t->join_column[k]);
    return OVL_OK;
}

static ovl_err resolve_agg(const pc *c, const ovl_template *t, ovl_aggfn fn, bool star,
                           const colref *r, size_t a, size_t b, ovl_tpl_agg *out)
{
    ovl_err rc = OVL_OK;
    int k = -1;
    if (!star)
        OVL_TRY(party_of(c, t, r, &k));
    if (fn == OVL_FN_COUNT_DISTINCT)
        OVL_TRY(check_distinct_ref(c, t, r, a, b));
    *out = (ovl_tpl_agg){fn, star ? -1 : k, star ? NULL : r->col, NULL};
done:
    return rc;
}

/* The one party of all such columns, or -1 (none, or both parties'). */
static void note_party(int *side, bool *seen, int k)
{
    *side = !*seen || *side == k ? k : -1;
    *seen = true;
}

static ovl_err resolve_expr(const pc *c, ovl_template *t, const sel_item *it, ovl_tpl_expr *e)
{
    ovl_err rc = OVL_OK;
    e->tok = tpl_arena_alloc(c->im, it->nxt, sizeof *e->tok);
    OVL_ENSURE(e->tok, OVL_ERR_NOMEM, "out of memory");
    e->output = it->output;
    for (size_t i = 0; i < it->nxt; i++) {
        const xtok *x = &it->xt[i];
        ovl_tpl_xtok *o = &e->tok[e->ntok++];
        o->op = x->op;
        o->value = x->value;
        o->decimals = x->decimals;
        if (x->op == OVL_TPL_X_AGG) {
            OVL_TRY(resolve_agg(c, t, x->fn, x->star, &x->r, x->start, x->end, &o->agg));
            t->functions |= x->fn;
        }
    }
done:
    return rc;
}

static ovl_err resolve_dim(const pc *c, ovl_template *t, const sel_item *it, int k)
{
    for (size_t d = 0; d < t->ndims; d++)
        if (t->dims[d].party == k && t->dims[d].trunc == it->r.trunc &&
            strcmp(t->dims[d].column, it->r.col) == 0)
            return tpl_perr(c, it->start, it->end, "selected twice");
    char *out = it->output ? it->output : it->r.col;
    if (!it->output && it->r.trunc != OVL_TRUNC_NONE) {
        /* DATE_TRUNC('week', p.day) is named week_day by default. */
        const char *unit = ovl_trunc_name(it->r.trunc);
        size_t n = strlen(unit) + strlen(it->r.col) + 2;
        out = tpl_arena_alloc(c->im, n, 1);
        if (!out)
            return ovl_err_set(OVL_ERR_NOMEM, "out of memory");
        snprintf(out, n, "%s_%s", unit, it->r.col);
    }
    t->items[t->nitems++] = (ovl_tpl_item){OVL_TPL_ITEM_DIM, t->ndims};
    t->dims[t->ndims++] = (ovl_tpl_dim){k, it->r.col, it->r.trunc, out};
    return OVL_OK;
}

/* The sides of the dimensions and of the SUM/AVG columns (one party, or -1). */
static void resolve_sides(ovl_template *t)
{
    bool dseen = false, vseen = false;
    t->group_party = t->value_party = -1;
    for (size_t i = 0; i < t->ndims; i++)
        note_party(&t->group_party, &dseen, t->dims[i].party);
    for (size_t i = 0; i < t->naggs; i++)
        if (ovl_aggfn_reads_values(t->aggs[i].fn))
            note_party(&t->value_party, &vseen, t->aggs[i].party);
    for (size_t e = 0; e < t->nexprs; e++)
        for (size_t i = 0; i < t->exprs[e].ntok; i++)
            if (t->exprs[e].tok[i].op == OVL_TPL_X_AGG &&
                ovl_aggfn_reads_values(t->exprs[e].tok[i].agg.fn))
                note_party(&t->value_party, &vseen, t->exprs[e].tok[i].agg.party);
}

static ovl_err resolve_select(const pc *c, ovl_template *t, const parsed *p)
{
    ovl_err rc = OVL_OK;
    t->dims = tpl_arena_alloc(c->im, p->nsel, sizeof *t->dims);
    t->aggs = tpl_arena_alloc(c->im, p->nsel, sizeof *t->aggs);
    t->exprs = tpl_arena_alloc(c->im, p->nsel, sizeof *t->exprs);
    t->items = tpl_arena_alloc(c->im, p->nsel, sizeof *t->items);
    OVL_ENSURE(t->dims && t->aggs && t->exprs && t->items, OVL_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < p->nsel; i++) {
        const sel_item *it = &p->sel[i];
        int k = -1;
        if (it->is_expr) {
            t->items[t->nitems++] = (ovl_tpl_item){OVL_TPL_ITEM_EXPR, t->nexprs};
            OVL_TRY(resolve_expr(c, t, it, &t->exprs[t->nexprs++]));
            continue;
        }
        if (!it->is_agg) {
            OVL_TRY(party_of(c, t, &it->r, &k));
            OVL_TRY(resolve_dim(c, t, it, k));
            continue;
        }
        t->functions |= it->fn;
        ovl_tpl_agg *ag = &t->aggs[t->naggs];
        OVL_TRY(resolve_agg(c, t, it->fn, it->star, &it->r, it->start, it->end, ag));
        ag->output = it->output;
        t->items[t->nitems++] = (ovl_tpl_item){OVL_TPL_ITEM_AGG, t->naggs++};
    }
    OVL_ENSURE(t->naggs + t->nexprs > 0, OVL_ERR_INPUT, "%s: SELECT needs at least one aggregate "
               "(COUNT, SUM or AVG); templates never release rows", c->label);
    resolve_sides(t);
done:
    return rc;
}

static char *default_output(const pc *c, const ovl_tpl_agg *a)
{
    const char *fn = ovl_aggfn_kind_of(a->fn)->label;
    size_t n = strlen(fn) + (a->column ? strlen(a->column) + 1 : 0) + 1;
    char *s = tpl_arena_alloc(c->im, n, 1);
    if (s)
        snprintf(s, n, "%s%s%s", fn, a->column ? "_" : "", a->column ? a->column : "");
    return s;
}

static ovl_err resolve_outputs(const pc *c, ovl_template *t)
{
    ovl_err rc = OVL_OK;
    for (size_t i = 0; i < t->naggs; i++)
        if (!t->aggs[i].output) {
            t->aggs[i].output = default_output(c, &t->aggs[i]);
            OVL_ENSURE(t->aggs[i].output, OVL_ERR_NOMEM, "out of memory");
        }
    for (size_t i = 0; i < t->nitems; i++)
        for (size_t j = 0; j < i; j++) {
            const char *a = ovl_template_output(t, i), *b = ovl_template_output(t, j);
            OVL_ENSURE(strcmp(a, b) != 0, OVL_ERR_INPUT,
                       "%s: output column '%s' appears twice; name them apart with AS", c->label, a);
        }
done:
    return rc;
}

static bool same_ref(const colref *a, const colref *b)
{
    return strcmp(a->qual, b->qual) == 0 && strcmp(a->col, b->col) == 0 && a->trunc == b->trunc;
}

static ovl_err resolve_groups(const pc *c, ovl_template *t, const parsed *p)
{
    for (size_t i = 0; i < p->ngroups; i++) {
        bool found = false;
        for (size_t k = 0; k < p->nsel; k++)
            found = found || (!p->sel[k].is_agg && !p->sel[k].is_expr &&
                              same_ref(&p->sel[k].r, &p->groups[i]));
        if (!found)
            return tpl_perr(c, p->groups[i].tok, p->groups[i].tok + 2,
                        "grouped columns must also be selected");
    }
    for (size_t k = 0; k < p->nsel; k++) {
        bool found = false;
        if (p->sel[k].is_agg || p->sel[k].is_expr)
            continue;
        for (size_t i = 0; i < p->ngroups; i++)
            found = found || same_ref(&p->sel[k].r, &p->groups[i]);
        if (!found)
            return tpl_perr(c, p->sel[k].start, p->sel[k].end,
                        "selected columns must be in GROUP BY (only aggregates leave the "
                        "clean room)");
    }
    (void)t;
    return OVL_OK;
}

const ovl_tpl_param *tpl_find_param(const ovl_template *t, const char *name)
{
    for (size_t i = 0; i < t->nparams; i++)
        if (strcmp(t->params[i].name, name) == 0)
            return &t->params[i];
    return NULL;
}

static ovl_err resolve_filters(const pc *c, ovl_template *t, const parsed *p)
{
    ovl_err rc = OVL_OK;
    bool *used = NULL;
    OVL_TRY(ovl_calloc((void **)&used, t->nparams + 1, sizeof *used));
    t->filters = tpl_arena_alloc(c->im, p->nfilters, sizeof *t->filters);
    OVL_ENSURE(t->filters, OVL_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < p->nfilters; i++) {
        const filt *f = &p->filters[i];
        ovl_tpl_filter *o = &t->filters[t->nfilters++];
        OVL_TRY(party_of(c, t, &f->r, &o->party));
        o->column = f->r.col;
        o->op = f->op;
        o->nvalues = f->nvals;
        o->values = tpl_arena_alloc(c->im, f->nvals, sizeof *o->values);
        OVL_ENSURE(o->values, OVL_ERR_NOMEM, "out of memory");
        for (size_t k = 0; k < f->nvals; k++) {
            o->values[k] = f->vals[k];
            if (!f->vals[k].is_param)
                continue;
            const ovl_tpl_param *pr = tpl_find_param(t, f->vals[k].text);
            if (!pr)
                OVL_FAIL(tpl_perr(c, f->valtok[k], f->valtok[k],
                              "unknown parameter (declare it: -- param %s string|integer|decimal|date)",
                              f->vals[k].text));
            o->values[k].type = pr->type;
            used[pr - t->params] = true;
        }
    }
    for (size_t i = 0; i < t->nparams; i++)
        OVL_ENSURE(used[i], OVL_ERR_INPUT, "%s: parameter %s is declared but not used", c->label,
                   t->params[i].name);
done:
    free(used);
    return rc;
}

ovl_err tpl_resolve(const pc *c, ovl_template *t, const parsed *p)
{
    ovl_err rc = OVL_OK;
    OVL_TRY(resolve_join(c, t, p));
    OVL_TRY(resolve_pairs(c, t, p));
    OVL_TRY(resolve_select(c, t, p));
    OVL_TRY(resolve_outputs(c, t));
    if (p->has_group || t->ndims > 0)
        OVL_TRY(resolve_groups(c, t, p));
    OVL_TRY(resolve_filters(c, t, p));
    if (p->having)
        OVL_TRY(check_distinct_ref(c, t, &p->having_ref, p->having_tok, p->having_tok + 5));
done:
    return rc;
}


/* ---- types, once the declarations are read (CONDITIONS.md §2.1) ---- */

/* How column `col` of `party` is used as a date outside condition `self`
 * (a DATE_TRUNC, a WHERE comparison with a date, a condition comparing
 * dates), or NULL. */
static const char *date_use(const ovl_template *t, int party, const char *col, size_t self)
{
    for (size_t i = 0; i < t->ndims; i++)
        if (t->dims[i].party == party && t->dims[i].trunc != OVL_TRUNC_NONE &&
            strcmp(t->dims[i].column, col) == 0)
            return "it is truncated with DATE_TRUNC";
    for (size_t i = 0; i < t->nfilters; i++)
        if (t->filters[i].party == party && t->filters[i].values[0].type == OVL_PARAM_DATE &&
            strcmp(t->filters[i].column, col) == 0)
            return "WHERE compares it with a date";
    for (size_t i = 0; i < t->npairs; i++)
        if (i != self && t->pairs[i].dates && strcmp(t->pairs[i].column[party], col) == 0)
            return "another condition compares it as a date";
    return NULL;
}

static ovl_err check_pair_type(const pc *c, const ovl_template *t, const pairc *q,
                               const ovl_tpl_pair *o, size_t self)
{
    bool declared[2];
    for (int k = 0; k < 2; k++)
        declared[k] = ovl_template_is_date(t, k, o->column[k]);
    for (int k = 0; o->dates && k < 2; k++) {
        unsigned d = ovl_template_decimals(t, k, o->column[k]);
        if (d == 0)
            continue;
        /* a column with decimals is not itself in -- dates (tpl_parse_dates) */
        if (!declared[1 - k])
            return tpl_perr(c, q->start, q->end, "an INTERVAL compares dates, but %s.%s has -- "
                            "decimals %u; compare numbers without INTERVAL, or drop its "
                            "-- decimals", t->alias[k], o->column[k], d);
        return tpl_perr(c, q->start, q->end, "%s.%s is declared a date (-- dates), but %s.%s has "
                        "-- decimals %u: a condition compares two columns of one type",
                        t->alias[1 - k], o->column[1 - k], t->alias[k], o->column[k], d);
    }
    for (int k = 0; !o->dates && k < 2; k++) {
        const char *why = date_use(t, k, o->column[k], self);
        if (why)
            return tpl_perr(c, q->start, q->end, "%s.%s is a date (%s), but this condition "
                            "compares numbers: declare the dates (-- dates %s.%s, %s.%s)",
                            t->alias[k], o->column[k], why, t->alias[0], o->column[0],
                            t->alias[1], o->column[1]);
    }
    return OVL_OK;
}

/* A WHERE comparison of a -- dates column compares dates: a 'YYYY-MM-DD'
 * string literal is read as DATE (as SQL reads a string compared with a
 * date column); numbers and other parameters are refused. */
static ovl_err type_date_filter(const pc *c, const ovl_template *t, const filt *f,
                                ovl_tpl_filter *o)
{
    const char *al = t->alias[o->party];
    for (size_t k = 0; k < o->nvalues; k++) {
        ovl_tpl_value *v = &o->values[k];
        if (v->type == OVL_PARAM_DATE)
            continue;
        if (v->is_param)
            return tpl_perr(c, f->valtok[k], f->valtok[k], "%s.%s is declared a date (-- dates), "
                            "but :%s is a %s parameter; declare it -- param %s date", al,
                            o->column, v->text, ovl_param_type_name(v->type), v->text);
        if (v->type != OVL_PARAM_STRING)
            return tpl_perr(c, f->valtok[k], f->valtok[k], "%s.%s is declared a date (-- dates): "
                            "compare it with DATE 'YYYY-MM-DD' or a date parameter", al,
                            o->column);
        if (!ovl_param_value_ok(OVL_PARAM_DATE, v->text))
            return tpl_perr(c, f->valtok[k], f->valtok[k], "%s.%s is declared a date (-- dates), "
                            "and this is not a date (YYYY-MM-DD)", al, o->column);
        v->type = OVL_PARAM_DATE;
    }
    return OVL_OK;
}

/* A filter compares with values of one type (after type_date_filter). */
static ovl_err check_filter_type(const pc *c, const filt *f, const ovl_tpl_filter *o)
{
    for (size_t k = 1; k < o->nvalues; k++)
        if (o->values[k].type != o->values[0].type)
            return tpl_perr(c, f->start, f->valtok[o->nvalues - 1],
                            "compared values must all be of one type (%s vs %s)",
                            ovl_param_type_name(o->values[0].type),
                            ovl_param_type_name(o->values[k].type));
    return OVL_OK;
}

ovl_err tpl_check_types(const pc *c, ovl_template *t, const parsed *p)
{
    ovl_err rc = OVL_OK;
    OVL_ENSURE(t->npairs == p->npairs && t->nfilters == p->nfilters, OVL_ERR_INTERNAL,
               "%s: the resolved conditions do not match the parsed ones", c->label);
    for (size_t i = 0; i < t->nfilters; i++) {
        if (ovl_template_is_date(t, t->filters[i].party, t->filters[i].column))
            OVL_TRY(type_date_filter(c, t, &p->filters[i], &t->filters[i]));
        OVL_TRY(check_filter_type(c, &p->filters[i], &t->filters[i]));
    }
    for (size_t i = 0; i < t->npairs; i++) {
        ovl_tpl_pair *o = &t->pairs[i];
        o->dates = o->interval || ovl_template_is_date(t, 0, o->column[0]) ||
                   ovl_template_is_date(t, 1, o->column[1]);
    }
    for (size_t i = 0; i < t->npairs; i++)
        OVL_TRY(check_pair_type(c, t, &p->pairs[i], &t->pairs[i], i));
done:
    return rc;
}
