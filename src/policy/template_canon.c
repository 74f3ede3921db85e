/* Analysis templates: the canonical form and its hash, which owners
 * approve (GRAMMAR.md, "Canonical form and hash"). */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "core/guard.h"
#include "core/mem.h"
#include "policy/template_impl.h"


/* ---- canonical form ---- */

typedef struct {
    char *p;
    size_t len, cap;
    bool oom;
} sbuf;

static void sb_raw(sbuf *s, const char *str, size_t n)
{
    if (s->oom)
        return;
    if (s->len + n + 1 > s->cap) {
        size_t cap = (s->len + n + 1) * 2;
        char *q = realloc(s->p, cap);
        if (!q) {
            s->oom = true;
            return;
        }
        s->p = q;
        s->cap = cap;
    }
    memcpy(s->p + s->len, str, n);
    s->len += n;
    s->p[s->len] = '\0';
}

static void sb(sbuf *s, const char *str) { sb_raw(s, str, strlen(str)); }

static void sb_quoted(sbuf *s, const char *str, char q)
{
    sb_raw(s, &q, 1);
    for (const char *x = str; *x; x++) {
        if (*x == q)
            sb_raw(s, &q, 1);
        sb_raw(s, x, 1);
    }
    sb_raw(s, &q, 1);
}

static void sb_ident(sbuf *s, const char *id)
{
    bool plain = tpl_ident_start(id[0]) && !tpl_is_keyword(id);
    for (const char *x = id; plain && *x; x++)
        plain = tpl_ident_char(*x);
    if (plain)
        sb(s, id);
    else
        sb_quoted(s, id, '"');
}

static void sb_col(sbuf *s, const ovl_template *t, int party, const char *col)
{
    sb_ident(s, t->alias[party]);
    sb(s, ".");
    sb_ident(s, col);
}

static void sb_value(sbuf *s, const ovl_tpl_value *v)
{
    if (v->is_param) {
        sb(s, ":");
        sb(s, v->text);
    } else if (v->type == OVL_PARAM_STRING) {
        sb_quoted(s, v->text, '\'');
    } else if (v->type == OVL_PARAM_DATE) {
        sb(s, "DATE ");
        sb_quoted(s, v->text, '\'');
    } else {
        sb(s, v->text);
    }
}

static void sb_agg(sbuf *s, const ovl_template *t, ovl_aggfn fn, int party, const char *col)
{
    const ovl_aggfn_kind *k = ovl_aggfn_kind_of(fn);
    sb(s, k->call);
    if (k->arg == OVL_AGG_ARG_STAR && col == NULL) {
        sb(s, "(*)");
        return;
    }
    sb(s, k->arg == OVL_AGG_ARG_DISTINCT ? "(DISTINCT " : "(");
    sb_col(s, t, party, col);
    sb(s, ")");
}

static void sb_dim(sbuf *s, const ovl_template *t, const ovl_tpl_dim *d)
{
    if (d->trunc == OVL_TRUNC_NONE) {
        sb_col(s, t, d->party, d->column);
        return;
    }
    sb(s, "DATE_TRUNC('");
    sb(s, ovl_trunc_name(d->trunc));
    sb(s, "', ");
    sb_col(s, t, d->party, d->column);
    sb(s, ")");
}

/* A number token: integers as digits, decimals with exactly their places. */
static void sb_number(sbuf *s, const ovl_tpl_xtok *x)
{
    char num[48];
    uint64_t mag = x->value < 0 ? (uint64_t)0 - (uint64_t)x->value : (uint64_t)x->value;
    if (x->op == OVL_TPL_X_INT || x->decimals == 0) {
        snprintf(num, sizeof num, "%s%llu", x->value < 0 ? "-" : "", (unsigned long long)mag);
    } else {
        uint64_t scale = 1;
        for (unsigned i = 0; i < x->decimals; i++)
            scale *= 10;
        snprintf(num, sizeof num, "%s%llu.%0*llu", x->value < 0 ? "-" : "",
                 (unsigned long long)(mag / scale), (int)x->decimals,
                 (unsigned long long)(mag % scale));
    }
    sb(s, num);
}

/* Arithmetic on aggregates, from postfix back to infix with the fewest
 * parentheses that keep the same postfix (left-associative operators: a
 * right operand of equal precedence keeps its parentheses). */
static void canon_expr(sbuf *out, const ovl_template *t, const ovl_tpl_expr *e)
{
    sbuf st[OVL_TPL_MAX_XTOK];
    int prec[OVL_TPL_MAX_XTOK];
    size_t n = 0;
    for (size_t i = 0; i < e->ntok; i++) {
        const ovl_tpl_xtok *x = &e->tok[i];
        sbuf r = {0};
        int p = 3;
        if (x->op == OVL_TPL_X_AGG) {
            sb_agg(&r, t, x->agg.fn, x->agg.party, x->agg.column);
        } else if (x->op == OVL_TPL_X_INT || x->op == OVL_TPL_X_DEC) {
            sb_number(&r, x);
        } else if (x->op == OVL_TPL_X_NULLIF0 && n >= 1) {
            sb(&r, "NULLIF(");
            sb(&r, st[n - 1].p ? st[n - 1].p : "");
            sb(&r, ", 0)");
            free(st[--n].p);
        } else if (n >= 2) {
            static const char *const ops[] = {" + ", " - ", " * ", " / "};
            int q = x->op == OVL_TPL_X_ADD || x->op == OVL_TPL_X_SUB ? 1 : 2;
            bool lp = prec[n - 2] < q, rp = prec[n - 1] <= q;
            sb(&r, lp ? "(" : "");
            sb(&r, st[n - 2].p ? st[n - 2].p : "");
            sb(&r, lp ? ")" : "");
            sb(&r, ops[x->op - OVL_TPL_X_ADD]);
            sb(&r, rp ? "(" : "");
            sb(&r, st[n - 1].p ? st[n - 1].p : "");
            sb(&r, rp ? ")" : "");
            free(st[--n].p);
            free(st[--n].p);
            p = q;
        }
        out->oom = out->oom || r.oom;
        st[n] = r;
        prec[n++] = p;
    }
    for (size_t i = 0; i < n; i++) {
        if (i + 1 == n)
            sb(out, st[i].p ? st[i].p : "");
        free(st[i].p);
    }
}

static int cmp_scale(const void *a, const void *b)
{
    const ovl_tpl_scale *x = a, *y = b;
    if (x->party != y->party)
        return x->party < y->party ? -1 : 1;
    return strcmp(x->column, y->column);
}

/* "-- decimals a.x 2, b.y 2": declared scales other than 0, sorted. */
static void canon_scales(sbuf *s, ovl_template *t)
{
    char num[24];
    size_t k = 0;
    qsort(t->scales, t->nscales, sizeof *t->scales, cmp_scale);
    for (size_t i = 0; i < t->nscales; i++) {
        if (t->scales[i].decimals == 0)
            continue;
        sb(s, k++ ? ", " : "-- decimals ");
        sb_col(s, t, t->scales[i].party, t->scales[i].column);
        snprintf(num, sizeof num, " %u", t->scales[i].decimals);
        sb(s, num);
    }
    sb(s, k ? "\n" : "");
}

static int cmp_datecol(const void *a, const void *b)
{
    const ovl_tpl_datecol *x = a, *y = b;
    if (x->party != y->party)
        return x->party < y->party ? -1 : 1;
    return strcmp(x->column, y->column);
}

/* "-- dates a.x, b.y", sorted; nothing without a declaration, so that a
 * template without one keeps the hash it had before the line existed. */
static void canon_dates(sbuf *s, ovl_template *t)
{
    qsort(t->dates, t->ndates, sizeof *t->dates, cmp_datecol);
    for (size_t i = 0; i < t->ndates; i++) {
        sb(s, i ? ", " : "-- dates ");
        sb_col(s, t, t->dates[i].party, t->dates[i].column);
    }
    sb(s, t->ndates ? "\n" : "");
}

static int cmp_param(const void *a, const void *b)
{
    return strcmp(((const ovl_tpl_param *)a)->name, ((const ovl_tpl_param *)b)->name);
}

static void canon_params(sbuf *s, ovl_template *t)
{
    static const char *const names[] = {"", "STRING", "INTEGER", "DECIMAL", "DATE"};
    qsort(t->params, t->nparams, sizeof *t->params, cmp_param);
    for (size_t i = 0; i < t->nparams; i++) {
        const ovl_tpl_param *pr = &t->params[i];
        sb(s, "-- param ");
        sb(s, pr->name);
        sb(s, " ");
        sb(s, names[pr->type]);
        for (size_t k = 0; k < pr->nallowed; k++) {
            sb(s, k ? ", " : " IN (");
            sb_quoted(s, pr->allowed[k], '\'');
        }
        sb(s, pr->nallowed ? ")\n" : "\n");
    }
}

static void canon_filters(sbuf *s, const ovl_template *t)
{
    static const char *const ops[] = {"", " = ", " <> ", " < ", " <= ", " > ", " >= "};
    for (size_t i = 0; i < t->nfilters; i++) {
        const ovl_tpl_filter *f = &t->filters[i];
        sb(s, i ? " AND " : "WHERE ");
        sb_col(s, t, f->party, f->column);
        if (f->op == OVL_CMP_BETWEEN) {
            sb(s, " BETWEEN ");
            sb_value(s, &f->values[0]);
            sb(s, " AND ");
            sb_value(s, &f->values[1]);
        } else if (f->op == OVL_CMP_IN) {
            for (size_t k = 0; k < f->nvalues; k++) {
                sb(s, k ? ", " : " IN (");
                sb_value(s, &f->values[k]);
            }
            sb(s, ")");
        } else {
            sb(s, ops[f->op]);
            sb_value(s, &f->values[0]);
        }
    }
    if (t->nfilters)
        sb(s, "\n");
}

/* Conditions across parties after the join equality, canonical orientation
 * (party 0 left, offsets in days, 0 omitted): mirror images and week
 * spellings hash as one. */
static void sb_offset(sbuf *s, int32_t off)
{
    char num[48];
    if (off == 0)
        return;
    snprintf(num, sizeof num, " %c INTERVAL '%ld days'", off < 0 ? '-' : '+',
             off < 0 ? -(long)off : (long)off);
    sb(s, num);
}

static void canon_pairs(sbuf *s, const ovl_template *t)
{
    static const char *const ops[] = {"", " = ", " <> ", " < ", " <= ", " > ", " >= "};
    for (size_t i = 0; i < t->npairs; i++) {
        const ovl_tpl_pair *q = &t->pairs[i];
        /* Written with INTERVAL, a condition compares dates (CONDITIONS.md
         * §2.1): with every offset 0 and no -- dates column to say so,
         * "+ INTERVAL '0 days'" keeps it so. */
        bool zero = q->interval && q->offset[0] == 0 && q->offset[1] == 0 &&
                    !ovl_template_is_date(t, 0, q->column[0]) &&
                    !ovl_template_is_date(t, 1, q->column[1]);
        sb(s, " AND ");
        sb_col(s, t, 0, q->column[0]);
        if (q->op == OVL_CMP_BETWEEN) {
            sb(s, " BETWEEN ");
            sb_col(s, t, 1, q->column[1]);
            sb_offset(s, q->offset[0]);
            sb(s, zero ? " + INTERVAL '0 days'" : "");
            sb(s, " AND ");
            sb_col(s, t, 1, q->column[1]);
            sb_offset(s, q->offset[1]);
        } else {
            sb(s, ops[q->op]);
            sb_col(s, t, 1, q->column[1]);
            sb_offset(s, q->offset[0]);
            sb(s, zero ? " + INTERVAL '0 days'" : "");
        }
    }
}

/* "-- cap rows N [by ...]" with the default filled in, whenever the template
 * has conditions across parties: the cap changes what is computed. */
static void canon_cap(sbuf *s, const ovl_template *t)
{
    char num[48];
    if (!t->npairs)
        return;
    snprintf(num, sizeof num, "-- cap rows %u", (unsigned)t->cap_rows);
    sb(s, num);
    for (int k = 0, n = 0; k < 2; k++)
        if (t->cap_order[k]) {
            sb(s, n++ ? ", " : " by ");
            sb_col(s, t, k, t->cap_order[k]);
        }
    sb(s, "\n");
}

ovl_err tpl_canonicalize(ovl_template *t, const parsed *p, tpl_impl *im)
{
    sbuf s = {0};
    canon_params(&s, t);
    canon_cap(&s, t);
    canon_scales(&s, t);
    canon_dates(&s, t);
    sb(&s, "SELECT ");
    for (size_t i = 0; i < t->nitems; i++) {
        const ovl_tpl_item *it = &t->items[i];
        sb(&s, i ? ", " : "");
        if (it->kind == OVL_TPL_ITEM_AGG) {
            const ovl_tpl_agg *g = &t->aggs[it->index];
            sb_agg(&s, t, g->fn, g->party, g->column);
        } else if (it->kind == OVL_TPL_ITEM_DIM) {
            sb_dim(&s, t, &t->dims[it->index]);
        } else {
            canon_expr(&s, t, &t->exprs[it->index]);
        }
        sb(&s, " AS ");
        sb_ident(&s, ovl_template_output(t, i));
    }
    sb(&s, "\nFROM ");
    for (int k = 0; k < 2; k++) {
        sb(&s, k ? " INNER JOIN " : "");
        sb_ident(&s, t->table[k]);
        sb(&s, " AS ");
        sb_ident(&s, t->alias[k]);
    }
    sb(&s, " ON ");
    sb_col(&s, t, 0, t->join_column[0]);
    sb(&s, " = ");
    sb_col(&s, t, 1, t->join_column[1]);
    canon_pairs(&s, t);
    sb(&s, "\n");
    canon_filters(&s, t);
    for (size_t i = 0; i < t->ndims; i++) {
        sb(&s, i ? ", " : "GROUP BY ");
        sb_dim(&s, t, &t->dims[i]);
    }
    sb(&s, t->ndims ? "\n" : "");
    if (p->having) {
        char num[32];
        sb(&s, "HAVING ");
        int k = strcmp(p->having_ref.qual, t->alias[0]) == 0 ? 0 : 1;
        sb_agg(&s, t, OVL_FN_COUNT_DISTINCT, k, p->having_ref.col);
        snprintf(num, sizeof num, " >= %llu\n", (unsigned long long)t->threshold);
        sb(&s, num);
    }
    if (s.oom) {
        free(s.p);
        return ovl_err_set(OVL_ERR_NOMEM, "out of memory");
    }
    t->canonical = tpl_arena_strndup(im, s.p, s.len);
    free(s.p);
    if (!t->canonical)
        return ovl_err_set(OVL_ERR_NOMEM, "out of memory");
    crypto_hash_sha256(t->hash, (const uint8_t *)t->canonical, strlen(t->canonical));
    return OVL_OK;
}

