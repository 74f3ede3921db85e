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
    if (k->arg == OVL_AGG_ARG_STAR) {
        sb(s, "(*)");
        return;
    }
    sb(s, k->arg == OVL_AGG_ARG_DISTINCT ? "(DISTINCT " : "(");
    sb_col(s, t, party, col);
    sb(s, ")");
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
        sb(s, " AND ");
        sb_col(s, t, 0, q->column[0]);
        if (q->op == OVL_CMP_BETWEEN) {
            sb(s, " BETWEEN ");
            sb_col(s, t, 1, q->column[1]);
            sb_offset(s, q->offset[0]);
            sb(s, " AND ");
            sb_col(s, t, 1, q->column[1]);
            sb_offset(s, q->offset[1]);
        } else {
            sb(s, ops[q->op]);
            sb_col(s, t, 1, q->column[1]);
            sb_offset(s, q->offset[0]);
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
    sb(&s, "SELECT ");
    for (size_t i = 0, d = 0, a = 0; i < p->nsel; i++) {
        sb(&s, i ? ", " : "");
        if (p->sel[i].is_agg) {
            const ovl_tpl_agg *g = &t->aggs[a++];
            sb_agg(&s, t, g->fn, g->party, g->column);
            sb(&s, " AS ");
            sb_ident(&s, g->output);
        } else {
            const ovl_tpl_dim *g = &t->dims[d++];
            sb_col(&s, t, g->party, g->column);
            sb(&s, " AS ");
            sb_ident(&s, g->output);
        }
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
        sb_col(&s, t, t->dims[i].party, t->dims[i].column);
    }
    sb(&s, t->ndims ? "\n" : "");
    if (p->having) {
        char num[32];
        sb(&s, "HAVING ");
        if (p->having_star) {
            sb(&s, "COUNT(*)");
        } else {
            int k = strcmp(p->having_ref.qual, t->alias[0]) == 0 ? 0 : 1;
            sb_agg(&s, t, OVL_FN_COUNT_DISTINCT, k, p->having_ref.col);
        }
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

