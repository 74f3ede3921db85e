/* The aggregates v2 plan from a template or the ad-hoc options (agg2_plan.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate/threshold.h"
#include "core/guard.h"
#include "core/mem.h"
#include "session/agg2_plan.h"

/* Where a plan comes from, for its errors. */
typedef struct {
    ovl_agg2_plan *p;
    ovl_err code;      /* OVL_ERR_INPUT for a template, OVL_ERR_USAGE ad hoc */
    const char *where; /* the template's label, or the options */
} builder;

static ovl_err name_into(const builder *b, char out[static OVL_AGG2_PLAN_MAX_NAME + 1],
                         const char *name, const char *what)
{
    size_t n = strlen(name);
    if (n == 0 || n > OVL_AGG2_PLAN_MAX_NAME)
        return ovl_err_set(b->code, "%s: %s '%.48s...' is longer than %u bytes%s", b->where,
                           what, name, OVL_AGG2_PLAN_MAX_NAME,
                           b->code == OVL_ERR_INPUT ? "; name it with AS" : "");
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)name[i] < 0x20)
            return ovl_err_set(b->code, "%s: %s '%.48s': control characters (a tab?) cannot "
                               "name a column of the result", b->where, what, name);
    memcpy(out, name, n + 1);
    return OVL_OK;
}

static ovl_err add_dim(builder *b, uint8_t side, ovl_trunc trunc, const char *column)
{
    ovl_agg2_plan *p = b->p;
    if (ovl_agg2_plan_dims_of(p, side) >= OVL_AGG2_PLAN_MAX_DIMS)
        return ovl_err_set(b->code, "%s: more than %u dimensions of the %s", b->where,
                           OVL_AGG2_PLAN_MAX_DIMS, side == OVL_AGG2_SIDE_R ? "runner" : "contributor");
    ovl_agg2_dim *d = &p->dims[p->ndims];
    d->side = side;
    d->trunc = (uint8_t)trunc;
    ovl_err rc = name_into(b, d->name, column, "dimension column");
    if (rc == OVL_OK)
        p->ndims++;
    return rc;
}

/* The plan index of a value column, appended on its first use. */
static ovl_err col_index(builder *b, uint8_t side, const char *column, unsigned decimals,
                         uint8_t *idx)
{
    ovl_agg2_plan *p = b->p;
    for (uint8_t i = 0; i < p->ncols; i++)
        if (p->cols[i].side == side && strcmp(p->cols[i].name, column) == 0) {
            if (p->cols[i].decimals != decimals)
                return ovl_err_set(b->code, "%s: value column %.64s is given %u and %u decimal "
                                   "places", b->where, column, p->cols[i].decimals, decimals);
            *idx = i;
            return OVL_OK;
        }
    if (p->ncols >= OVL_AGG2_PLAN_MAX_COLS)
        return ovl_err_set(b->code, "%s: more than %u value columns", b->where,
                           OVL_AGG2_PLAN_MAX_COLS);
    if (decimals > OVL_AGG2_PLAN_MAX_DECIMALS)
        return ovl_err_set(b->code, "%s: value column %.64s: more than %u decimal places",
                           b->where, column, OVL_AGG2_PLAN_MAX_DECIMALS);
    ovl_agg2_col *c = &p->cols[p->ncols];
    c->side = side;
    c->decimals = (uint8_t)decimals;
    ovl_err rc = name_into(b, c->name, column, "value column");
    if (rc == OVL_OK)
        *idx = p->ncols++;
    return rc;
}

static ovl_agg2_output *new_output(builder *b, const char *name, ovl_err *rc)
{
    ovl_agg2_plan *p = b->p;
    if (p->noutputs >= OVL_AGG2_PLAN_MAX_OUTPUTS) {
        *rc = ovl_err_set(b->code, "%s: more than %u outputs", b->where, OVL_AGG2_PLAN_MAX_OUTPUTS);
        return NULL;
    }
    for (unsigned i = 0; i < p->noutputs; i++)
        if (strcmp(p->outputs[i].name, name) == 0) {
            *rc = ovl_err_set(b->code, "%s: output column '%.64s' appears twice", b->where, name);
            return NULL;
        }
    ovl_agg2_output *o = &p->outputs[p->noutputs];
    memset(o, 0, sizeof *o);
    *rc = name_into(b, o->name, name, "output column");
    if (*rc != OVL_OK)
        return NULL;
    p->noutputs++;
    return o;
}

/* The plan token of one aggregate (COUNT(*) has no column, COUNT(DISTINCT
 * id) needs none). */
static ovl_err agg_token(builder *b, ovl_aggfn fn, uint8_t side, const char *column,
                         unsigned decimals, ovl_agg2_token *tok)
{
    memset(tok, 0, sizeof *tok);
    if (fn == OVL_FN_COUNT_DISTINCT) {
        tok->op = OVL_AGG2_OP_COUNT_DISTINCT;
        return OVL_OK;
    }
    if (fn == OVL_FN_COUNT && column == NULL) {
        tok->op = OVL_AGG2_OP_COUNT_STAR;
        return OVL_OK;
    }
    tok->op = fn == OVL_FN_SUM   ? OVL_AGG2_OP_SUM
              : fn == OVL_FN_AVG ? OVL_AGG2_OP_AVG
                                 : OVL_AGG2_OP_COUNT;
    return col_index(b, side, column, decimals, &tok->arg);
}

/* ---- from a template ---- */

static const uint8_t xop_of[] = {
    [OVL_TPL_X_INT] = OVL_AGG2_OP_INT,   [OVL_TPL_X_DEC] = OVL_AGG2_OP_DEC,
    [OVL_TPL_X_ADD] = OVL_AGG2_OP_ADD,   [OVL_TPL_X_SUB] = OVL_AGG2_OP_SUB,
    [OVL_TPL_X_MUL] = OVL_AGG2_OP_MUL,   [OVL_TPL_X_DIV] = OVL_AGG2_OP_DIV,
    [OVL_TPL_X_NULLIF0] = OVL_AGG2_OP_NULLIF0,
};

static uint8_t side_of(int party, int runner_party)
{
    return party == runner_party ? OVL_AGG2_SIDE_R : OVL_AGG2_SIDE_C;
}

static ovl_err tpl_agg(builder *b, const ovl_template *t, const ovl_tpl_agg *a, int runner,
                       ovl_agg2_token *tok)
{
    return agg_token(b, a->fn, side_of(a->party, runner), a->column,
                     ovl_template_decimals(t, a->party, a->column), tok);
}

static ovl_err tpl_expr(builder *b, const ovl_template *t, const ovl_tpl_expr *e, int runner)
{
    ovl_err rc = OVL_OK;
    ovl_agg2_output *o = new_output(b, e->output, &rc);
    if (!o)
        return rc;
    OVL_ENSURE(e->ntok <= OVL_AGG2_PLAN_MAX_TOKENS, b->code, "%s: %s: more than %u tokens",
               b->where, e->output, OVL_AGG2_PLAN_MAX_TOKENS);
    for (size_t i = 0; i < e->ntok; i++) {
        const ovl_tpl_xtok *x = &e->tok[i];
        ovl_agg2_token *k = &o->tok[o->ntok++];
        if (x->op == OVL_TPL_X_AGG) {
            OVL_TRY(tpl_agg(b, t, &x->agg, runner, k));
            continue;
        }
        OVL_ENSURE((size_t)x->op < sizeof xop_of && xop_of[x->op] != 0, OVL_ERR_INTERNAL,
                   "%s: an unknown expression token", b->where);
        memset(k, 0, sizeof *k);
        k->op = xop_of[x->op];
        if (x->op == OVL_TPL_X_INT || x->op == OVL_TPL_X_DEC)
            k->value = x->value;
        if (x->op == OVL_TPL_X_DEC)
            k->decimals = (uint8_t)x->decimals;
    }
done:
    return rc;
}

static ovl_err tpl_item(builder *b, const ovl_template *t, const ovl_tpl_item *it, int runner)
{
    ovl_err rc = OVL_OK;
    ovl_agg2_output *o;
    if (it->kind == OVL_TPL_ITEM_EXPR)
        return tpl_expr(b, t, &t->exprs[it->index], runner);
    if (it->kind == OVL_TPL_ITEM_DIM) {
        const ovl_tpl_dim *d = &t->dims[it->index];
        uint8_t at = b->p->ndims;
        OVL_TRY(add_dim(b, side_of(d->party, runner), d->trunc, d->column));
        if ((o = new_output(b, d->output, &rc)) == NULL)
            return rc;
        o->ntok = 1;
        o->tok[0] = (ovl_agg2_token){.op = OVL_AGG2_OP_DIM, .arg = at};
        return OVL_OK;
    }
    const ovl_tpl_agg *a = &t->aggs[it->index];
    if ((o = new_output(b, a->output, &rc)) == NULL)
        return rc;
    o->ntok = 1;
    OVL_TRY(tpl_agg(b, t, a, runner, &o->tok[0]));
done:
    return rc;
}

/* Conditions across parties (CONDITIONS.md §2, §7): dates when written with
 * an INTERVAL or naming a column of -- dates, else numbers (decimals when
 * either column declares a scale; the template compiler refuses a scale on
 * a date condition), oriented with the runner's column on the left (§2.2). */
static ovl_err tpl_pair(builder *b, const ovl_template *t, const ovl_tpl_pair *q, int runner,
                        ovl_pc_plan_cond *c)
{
    ovl_err rc = OVL_OK;
    unsigned d0 = ovl_template_decimals(t, 0, q->column[0]);
    unsigned d1 = ovl_template_decimals(t, 1, q->column[1]);
    memset(c, 0, sizeof *c);
    c->op = q->op == OVL_CMP_BETWEEN ? OVL_PC_BETWEEN : (uint8_t)(q->op - OVL_CMP_EQ);
    if (q->dates) {
        OVL_ENSURE(d0 == 0 && d1 == 0, OVL_ERR_INTERNAL, "%s: %s.%s / %s.%s: a date condition "
                   "with decimals passed the template compiler", b->where, t->alias[0],
                   q->column[0], t->alias[1], q->column[1]);
        c->type = OVL_PC_TYPE_DATE;
        c->width = OVL_PC_DATE_BITS;
        c->lo = q->offset[0];
        c->hi = q->op == OVL_CMP_BETWEEN ? q->offset[1] : 0;
    } else {
        c->decimals = (uint8_t)(d0 > d1 ? d0 : d1);
        c->type = c->decimals ? OVL_PC_TYPE_DECIMAL : OVL_PC_TYPE_INT;
        c->width = OVL_AGG2_COND_BITS;
    }
    OVL_TRY(name_into(b, c->r_col, q->column[0], "condition column"));
    OVL_TRY(name_into(b, c->c_col, q->column[1], "condition column"));
    if (runner == 1)
        ovl_pc_cond_mirror(c);
done:
    return rc;
}

static ovl_err tpl_pairs(builder *b, const ovl_template *t, int runner)
{
    ovl_err rc = OVL_OK;
    ovl_pc_plan *pp = &b->p->pairs;
    if (t->npairs == 0)
        return OVL_OK;
    OVL_ENSURE(t->npairs <= OVL_PC_MAX_CONDS, b->code, "%s: more than %u conditions across parties",
               b->where, OVL_PC_MAX_CONDS);
    for (size_t i = 0; i < t->npairs; i++)
        OVL_TRY(tpl_pair(b, t, &t->pairs[i], runner, &pp->conds[pp->nconds++]));
    pp->cap_rows = (uint8_t)t->cap_rows;
    /* for the owners' own errors naming a condition (not encoded) */
    OVL_TRY(name_into(b, pp->r_alias, t->alias[runner], "table alias"));
    OVL_TRY(name_into(b, pp->c_alias, t->alias[1 - runner], "table alias"));
    if (t->cap_order[runner])
        OVL_TRY(name_into(b, pp->r_order, t->cap_order[runner], "cap ordering column"));
    if (t->cap_order[1 - runner])
        OVL_TRY(name_into(b, pp->c_order, t->cap_order[1 - runner], "cap ordering column"));
done:
    return rc;
}

ovl_err ovl_agg2_plan_from_template(ovl_agg2_plan *out, const ovl_template *t, int runner_party,
                                    int receiver_party)
{
    ovl_err rc = OVL_OK;
    builder b = {out, OVL_ERR_INPUT, t->label};
    memset(out, 0, sizeof *out);
    OVL_ENSURE((runner_party == 0 || runner_party == 1) &&
                   (receiver_party == 0 || receiver_party == 1),
               OVL_ERR_USAGE, "%s: the runner and the receiver are parties 0 or 1", t->label);
    out->having = t->threshold;
    out->receiver = receiver_party == runner_party ? 0 : 1;
    for (size_t i = 0; i < t->nitems; i++)
        OVL_TRY(tpl_item(&b, t, &t->items[i], runner_party));
    OVL_TRY(tpl_pairs(&b, t, runner_party));
    OVL_TRY(ovl_agg2_plan_check(out));
done:
    if (rc != OVL_OK)
        memset(out, 0, sizeof *out);
    return rc;
}

/* ---- ad hoc ---- */

static const char *fn_prefix(ovl_aggfn fn)
{
    return fn == OVL_FN_SUM ? "sum" : fn == OVL_FN_AVG ? "avg" : "count";
}

static ovl_err adhoc_dims(builder *b, const ovl_agg2_adhoc *a)
{
    ovl_err rc = OVL_OK;
    for (size_t i = 0; i < a->ngroup_by; i++) {
        ovl_adhoc_dim d;
        char name[2 * OVL_ADHOC_MAX_NAME];
        ovl_agg2_output *o;
        OVL_TRY(ovl_adhoc_dim_parse(&d, a->group_by[i]));
        uint8_t at = b->p->ndims;
        OVL_TRY(add_dim(b, d.side == OVL_ADHOC_SIDE_RUNNER ? OVL_AGG2_SIDE_R : OVL_AGG2_SIDE_C,
                        d.trunc, d.column));
        if (d.trunc == OVL_TRUNC_NONE)
            snprintf(name, sizeof name, "%s", d.column);
        else
            snprintf(name, sizeof name, "%s_%s", ovl_trunc_name(d.trunc), d.column);
        if ((o = new_output(b, name, &rc)) == NULL)
            goto done;
        o->ntok = 1;
        o->tok[0] = (ovl_agg2_token){.op = OVL_AGG2_OP_DIM, .arg = at};
    }
done:
    return rc;
}

static ovl_err adhoc_values(builder *b, const ovl_agg2_adhoc *a)
{
    ovl_err rc = OVL_OK;
    for (size_t i = 0; i < a->nvalues; i++) {
        ovl_adhoc_col c;
        char name[OVL_ADHOC_MAX_NAME + 8];
        ovl_agg2_output *o;
        OVL_ENSURE(a->fns[i] == OVL_FN_SUM || a->fns[i] == OVL_FN_AVG || a->fns[i] == OVL_FN_COUNT,
                   OVL_ERR_USAGE, "%s: a value column is summed, averaged or counted", b->where);
        OVL_TRY(ovl_adhoc_col_parse(&c, a->values[i], false));
        snprintf(name, sizeof name, "%s_%s", fn_prefix(a->fns[i]), c.column);
        if ((o = new_output(b, name, &rc)) == NULL)
            goto done;
        o->ntok = 1;
        OVL_TRY(agg_token(b, a->fns[i],
                          c.side == OVL_ADHOC_SIDE_RUNNER ? OVL_AGG2_SIDE_R : OVL_AGG2_SIDE_C,
                          c.column, a->decimals[i], &o->tok[0]));
    }
done:
    return rc;
}

ovl_err ovl_agg2_plan_from_adhoc(ovl_agg2_plan *out, const ovl_agg2_adhoc *a)
{
    ovl_err rc = OVL_OK;
    builder b = {out, OVL_ERR_USAGE, "--group-by/--values"};
    ovl_agg2_output *o;
    memset(out, 0, sizeof *out);
    OVL_ENSURE(a->receiver == OVL_ADHOC_SIDE_RUNNER || a->receiver == OVL_ADHOC_SIDE_CONTRIBUTOR,
               OVL_ERR_USAGE, "the receiver is the runner or the contributor");
    OVL_ENSURE(a->having <= OVL_AGG2_MAX_THRESHOLD, OVL_ERR_LIMIT,
               "--min-rows %llu exceeds the aggregate threshold cap %u",
               (unsigned long long)a->having, OVL_AGG2_MAX_THRESHOLD);
    out->having = a->having;
    out->receiver = (uint8_t)a->receiver;
    OVL_TRY(adhoc_dims(&b, a));
    if ((o = new_output(&b, "matched", &rc)) == NULL)
        goto done;
    o->ntok = 1;
    o->tok[0].op = OVL_AGG2_OP_COUNT_DISTINCT;
    if ((o = new_output(&b, "rows", &rc)) == NULL)
        goto done;
    o->ntok = 1;
    o->tok[0].op = OVL_AGG2_OP_COUNT_STAR;
    OVL_TRY(adhoc_values(&b, a));
    OVL_TRY(ovl_agg2_plan_check(out));
done:
    if (rc != OVL_OK)
        memset(out, 0, sizeof *out);
    return rc;
}

ovl_err ovl_agg2_plan_from_options(ovl_agg2_plan *out, const char *group_by, const char *values,
                                   uint64_t having, int receiver)
{
    ovl_err rc = OVL_OK;
    ovl_adhoc_items g = {0}, v = {0};
    const char *vals[2 * OVL_ADHOC_MAX_ITEMS];
    ovl_aggfn fns[2 * OVL_ADHOC_MAX_ITEMS];
    unsigned dec[2 * OVL_ADHOC_MAX_ITEMS];
    char (*names)[OVL_ADHOC_MAX_NAME + 16] = NULL;
    memset(out, 0, sizeof *out);
    OVL_TRY(ovl_adhoc_split(&g, group_by, "--group-by"));
    OVL_TRY(ovl_adhoc_split(&v, values, "--values"));
    OVL_TRY(ovl_calloc((void **)&names, v.n + 1, sizeof *names));
    for (size_t i = 0; i < v.n; i++) {
        ovl_adhoc_col c;
        OVL_TRY(ovl_adhoc_col_parse(&c, v.items[i], true));
        /* the request's spelling: the side explicit, the decimals apart */
        snprintf(names[i], sizeof names[i], "%s%s",
                 c.side == OVL_ADHOC_SIDE_RUNNER ? "runner:" : "contributor:", c.column);
        for (int k = 0; k < 2; k++) {
            vals[2 * i + k] = names[i];
            fns[2 * i + k] = k ? OVL_FN_AVG : OVL_FN_SUM;
            dec[2 * i + k] = c.decimals;
        }
    }
    ovl_agg2_adhoc a = {.group_by = (const char *const *)g.items, .ngroup_by = g.n,
                        .values = vals, .fns = fns, .decimals = dec, .nvalues = 2 * v.n,
                        .having = having, .receiver = receiver};
    OVL_TRY(ovl_agg2_plan_from_adhoc(out, &a));
done:
    free(names);
    ovl_adhoc_items_free(&g);
    ovl_adhoc_items_free(&v);
    return rc;
}

/* ---- group labels ---- */

ovl_err ovl_agg2_group_label(uint8_t out[static OVL_AGG2_LABEL_MAX], size_t *len,
                             const ovl_agg2_plan *p, unsigned side, const char *const *cells,
                             const size_t *cell_len)
{
    size_t n = 0, k = 0;
    *len = 0;
    for (unsigned i = 0; i < p->ndims; i++) {
        const ovl_agg2_dim *d = &p->dims[i];
        char day[11];
        const char *v;
        size_t vl;
        if (d->side != side)
            continue;
        v = cells[k];
        vl = cell_len[k++];
        if (d->trunc != OVL_AGG2_TRUNC_NONE) {
            ovl_err rc = ovl_date_trunc(day, (ovl_trunc)d->trunc, v, vl);
            if (rc != OVL_OK)
                return ovl_err_set(OVL_ERR_INPUT, "column %s: DATE_TRUNC('%s') of a value that "
                                   "is not a date (YYYY-MM-DD)", d->name,
                                   ovl_trunc_name((ovl_trunc)d->trunc));
            v = day;
            vl = 10;
        }
        if (vl > OVL_AGG2_LABEL_MAX || n + 2 + vl > OVL_AGG2_LABEL_MAX)
            return ovl_err_set(OVL_ERR_INPUT, "a group's dimension values (up to column %s) are "
                               "longer than the %u bytes of a label", d->name, OVL_AGG2_LABEL_MAX);
        out[n++] = (uint8_t)(vl >> 8);
        out[n++] = (uint8_t)vl;
        memcpy(out + n, v, vl);
        n += vl;
    }
    *len = n;
    return OVL_OK;
}

bool ovl_agg2_label_field(const uint8_t *label, size_t len, unsigned i, const uint8_t **field,
                          size_t *field_len)
{
    size_t at = 0;
    for (unsigned k = 0;; k++) {
        if (len - at < 2)
            return false;
        size_t n = (size_t)label[at] << 8 | label[at + 1];
        if (n > len - at - 2)
            return false;
        if (k == i) {
            *field = label + at + 2;
            *field_len = n;
            return true;
        }
        at += 2 + n;
    }
}
