/* Analysis templates: loading, the arena, and the entry points that run the
 * stages: lexer (template_lex.c), parser (template_parse.c), resolution into
 * the plan (template_resolve.c), canonical form and hash (template_canon.c);
 * parameters and row filters are evaluated in template_eval.c. Grammar and
 * the mapping onto the protocols: GRAMMAR.md beside this file. */
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


/* ---- arena: every string and array of a template, freed at once ---- */

void *tpl_arena_alloc(tpl_impl *im, size_t n, size_t size)
{
    size_t bytes, total;
    if (!ovl_mul_ok(n ? n : 1, size ? size : 1, &bytes) || !ovl_add_ok(bytes, sizeof(chunk), &total))
        return NULL;
    chunk *c = calloc(1, total);
    if (!c)
        return NULL;
    c->next = im->chunks;
    im->chunks = c;
    return c->data;
}

char *tpl_arena_strndup(tpl_impl *im, const char *s, size_t n)
{
    char *p = tpl_arena_alloc(im, n + 1, 1);
    if (p)
        memcpy(p, s, n);
    return p;
}

/* ---- entry points ---- */

ovl_err ovl_template_parse(ovl_template **out, const char *label, const char *text, size_t len)
{
    ovl_err rc = OVL_OK;
    tpl_impl *im = NULL;
    parsed *p = NULL;
    pc c = {.label = label, .src = text, .len = len};
    *out = NULL;
    OVL_ENSURE(len <= OVL_TPL_MAX_BYTES, OVL_ERR_INPUT, "%s: larger than %u bytes", label,
               OVL_TPL_MAX_BYTES);
    OVL_ENSURE(memchr(text, '\0', len) == NULL, OVL_ERR_INPUT, "%s: contains a NUL byte", label);
    OVL_TRY(ovl_calloc((void **)&im, 1, sizeof *im));
    OVL_TRY(ovl_calloc((void **)&p, 1, sizeof *p));
    c.im = im;
    im->t.label = tpl_arena_strndup(im, label, strlen(label));
    OVL_ENSURE(im->t.label, OVL_ERR_NOMEM, "out of memory");
    OVL_TRY(tpl_lex_range(&c, &c.toks, 0, len, false));
    OVL_TRY(tpl_push(&c, &c.toks, T_EOF, len, 0, NULL));
    OVL_TRY(tpl_push(&c, &c.decls, T_EOF, len, 0, NULL));
    OVL_TRY(tpl_push(&c, &c.capd, T_EOF, len, 0, NULL));
    OVL_TRY(tpl_push(&c, &c.decd, T_EOF, len, 0, NULL));
    OVL_TRY(tpl_push(&c, &c.datd, T_EOF, len, 0, NULL));
    OVL_TRY(tpl_parse_decls(&c, &im->t));
    OVL_TRY(tpl_parse_statement(&c, p, &im->t));
    OVL_TRY(tpl_resolve(&c, &im->t, p));
    OVL_TRY(tpl_parse_cap(&c, &im->t));
    OVL_TRY(tpl_parse_decimals(&c, &im->t));
    OVL_TRY(tpl_parse_dates(&c, &im->t));
    OVL_TRY(tpl_check_types(&c, &im->t, p));
    OVL_TRY(tpl_canonicalize(&im->t, p, im));
    *out = &im->t;
    im = NULL;
done:
    free(c.toks.v);
    free(c.decls.v);
    free(c.capd.v);
    free(c.decd.v);
    free(c.datd.v);
    if (p)
        free(p->filters);
    free(p);
    ovl_template_free(im ? &im->t : NULL);
    return rc;
}

ovl_err ovl_template_load(ovl_template **out, const char *path)
{
    ovl_err rc = OVL_OK;
    FILE *f = NULL;
    char *text = NULL;
    size_t n;
    *out = NULL;
    f = fopen(path, "rb");
    OVL_ENSURE(f != NULL, OVL_ERR_INPUT, "%s: cannot open template", path);
    OVL_TRY(ovl_calloc((void **)&text, OVL_TPL_MAX_BYTES + 1, 1));
    n = fread(text, 1, OVL_TPL_MAX_BYTES + 1, f);
    OVL_ENSURE(!ferror(f), OVL_ERR_IO, "%s: read failed", path);
    OVL_TRY(ovl_template_parse(out, path, text, n));
done:
    if (f)
        fclose(f);
    free(text);
    return rc;
}

void ovl_template_free(ovl_template *t)
{
    if (!t)
        return;
    tpl_impl *im = (tpl_impl *)t; /* t is the first member */
    for (chunk *c = im->chunks, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    free(im);
}

int ovl_template_party(const ovl_template *t, const char *table_name)
{
    for (int k = 0; k < 2; k++)
        if (strcmp(t->table[k], table_name) == 0)
            return k;
    return -1;
}


unsigned ovl_template_decimals(const ovl_template *t, int party, const char *column)
{
    for (size_t i = 0; column && i < t->nscales; i++)
        if (t->scales[i].party == party && strcmp(t->scales[i].column, column) == 0)
            return t->scales[i].decimals;
    return 0;
}

bool ovl_template_is_date(const ovl_template *t, int party, const char *column)
{
    for (size_t i = 0; column && i < t->ndates; i++)
        if (t->dates[i].party == party && strcmp(t->dates[i].column, column) == 0)
            return true;
    return false;
}

const char *ovl_template_output(const ovl_template *t, size_t item)
{
    const ovl_tpl_item *it = &t->items[item];
    if (it->kind == OVL_TPL_ITEM_DIM)
        return t->dims[it->index].output;
    if (it->kind == OVL_TPL_ITEM_AGG)
        return t->aggs[it->index].output;
    return t->exprs[it->index].output;
}
