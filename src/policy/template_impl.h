/* overlap: what the template compiler's stages share (template.c and
 * template_{lex,parse,resolve,canon,eval}.c): the arena, the tokens, the
 * parsed but unresolved statement, and each stage's entry. Not for use
 * outside src/policy/. */
#ifndef OVERLAP_TEMPLATE_IMPL_H
#define OVERLAP_TEMPLATE_IMPL_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"
#include "policy/template.h"

/* Every string and array of a template lives in its arena, freed at once. */
typedef struct chunk {
    struct chunk *next;
    max_align_t data[];
} chunk;

typedef struct {
    ovl_template t;
    chunk *chunks;
} tpl_impl;

/* ---- tokens ---- */

typedef enum { T_EOF, T_IDENT, T_QIDENT, T_STRING, T_NUMBER, T_PARAM, T_PUNCT, T_EOL } tkind;

typedef struct {
    tkind k;
    size_t off, len; /* source span */
    unsigned line, col;
    char *text; /* identifier, unescaped string, number, parameter name, punctuation */
} tok;

typedef struct {
    tok *v;
    size_t n, cap;
} tokvec;

typedef struct {
    const char *label;
    const char *src;
    size_t len;
    tpl_impl *im;
    tokvec toks, decls, capd; /* statement, "-- param" lines, the "-- cap rows" line */
    tokvec decd;              /* "-- decimals" lines */
    tokvec datd;              /* "-- dates" lines */
    size_t pos;
} pc;


/* ---- parsed (unresolved) pieces ---- */

typedef struct {
    char *qual, *col;
    size_t tok;      /* first token, for errors */
    ovl_trunc trunc; /* DATE_TRUNC(unit, qual.col) as a dimension */
} colref;

/* One token of a select-list expression, postfix, before resolution. */
typedef struct {
    ovl_tpl_xop op;
    ovl_aggfn fn; /* X_AGG */
    bool star;    /* X_AGG: COUNT(*) */
    colref r;     /* X_AGG with a column */
    int64_t value;
    unsigned decimals;
    size_t start, end; /* X_AGG: its tokens, for errors */
} xtok;

typedef struct {
    bool is_agg;
    ovl_aggfn fn;
    bool star;
    colref r;
    bool is_expr; /* arithmetic on aggregates: xt[0 .. nxt) */
    xtok xt[OVL_TPL_MAX_XTOK];
    size_t nxt;
    char *output;
    size_t start, end;
} sel_item;

typedef struct {
    colref r;
    ovl_cmp_op op;
    ovl_tpl_value vals[OVL_TPL_MAX_ITEMS];
    size_t valtok[OVL_TPL_MAX_ITEMS];
    size_t nvals;
    size_t start;
} filt;

/* A condition across parties as written: l op r [+ off], or
 * l BETWEEN r [+ off] AND r2 [+ off2] (offsets in days). */
typedef struct {
    colref l, r, r2;
    ovl_cmp_op op;
    int32_t off, off2;
    bool interval;
    size_t start, end;
} pairc;

typedef struct {
    sel_item sel[OVL_TPL_MAX_ITEMS];
    size_t nsel;
    filt *filters;
    size_t nfilters;
    colref groups[OVL_TPL_MAX_ITEMS];
    size_t ngroups;
    bool has_group;
    colref on[2];
    size_t on_tok;
    pairc pairs[OVL_TPL_MAX_PAIRS];
    size_t npairs;
    bool having;
    colref having_ref;
    size_t having_tok;
} parsed;


/* The arena (template.c). */
void *tpl_arena_alloc(tpl_impl *im, size_t n, size_t size);
char *tpl_arena_strndup(tpl_impl *im, const char *s, size_t n);

/* Lexer (template_lex.c). */
bool tpl_ident_char(char ch);
bool tpl_ident_start(char ch);
bool tpl_is_keyword(const char *s);
ovl_err tpl_lex_range(pc *c, tokvec *tv, size_t from, size_t end, bool in_decl);
ovl_err tpl_push(pc *c, tokvec *tv, tkind k, size_t off, size_t len, char *text);

/* Parser (template_parse.c): errors name line:column and the construct. */
ovl_err tpl_parse_decls(pc *c, ovl_template *t);
ovl_err tpl_parse_statement(pc *c, parsed *p, ovl_template *t);
/* "-- cap rows N [by alias.col [, alias.col]]", after resolution (it names aliases). */
ovl_err tpl_parse_cap(pc *c, ovl_template *t);
/* "-- decimals alias.col N [, alias.col N]" lines, after resolution. */
ovl_err tpl_parse_decimals(pc *c, ovl_template *t);
/* "-- dates alias.col [, alias.col]" lines, after the decimals. */
ovl_err tpl_parse_dates(pc *c, ovl_template *t);
ovl_err tpl_perr(const pc *c, size_t a, size_t b, const char *fmt, ...) OVL_PRINTF(4, 5);

/* Resolution into the plan (template_resolve.c). */
const ovl_tpl_param *tpl_find_param(const ovl_template *t, const char *name);
ovl_err tpl_resolve(const pc *c, ovl_template *t, const parsed *p);
/* Each condition's type once the declarations are read (CONDITIONS.md
 * §2.1): conflicts refused, WHERE literals on -- dates columns typed. */
ovl_err tpl_check_types(const pc *c, ovl_template *t, const parsed *p);

/* Canonical form and hash (template_canon.c). */
ovl_err tpl_canonicalize(ovl_template *t, const parsed *p, tpl_impl *im);

#endif
