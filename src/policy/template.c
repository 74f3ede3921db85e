/* Analysis templates: lexer, parser, plan, canonical form and hash.
 * Grammar and the mapping onto the protocols: README "Policies, templates
 * and audit". Every rejection names line:column and the construct. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/guard.h"
#include "core/mem.h"
#include "policy/template.h"

/* ---- arena: every string and array of a template, freed at once ---- */

typedef struct chunk {
    struct chunk *next;
    max_align_t data[];
} chunk;

typedef struct {
    ovl_template t;
    chunk *chunks;
} tpl_impl;

static void *arena_alloc(tpl_impl *im, size_t n, size_t size)
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

static char *arena_strndup(tpl_impl *im, const char *s, size_t n)
{
    char *p = arena_alloc(im, n + 1, 1);
    if (p)
        memcpy(p, s, n);
    return p;
}

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
    tokvec toks, decls;
    size_t pos;
} pc;

static const char *const keywords[] = {
    "SELECT", "FROM", "AS", "INNER", "JOIN", "ON", "WHERE", "AND", "OR", "NOT", "GROUP",
    "BY", "HAVING", "BETWEEN", "IN", "COUNT", "DISTINCT", "SUM", "AVG", "DATE", "LEFT",
    "RIGHT", "FULL", "OUTER", "CROSS", "UNION", "ORDER", "LIMIT", "IS", "NULL", "LIKE",
    "CASE", "EXISTS", NULL};

static bool is_keyword(const char *s)
{
    for (size_t i = 0; keywords[i]; i++)
        if (strcasecmp(s, keywords[i]) == 0)
            return true;
    return false;
}

static void pos_of(const pc *c, size_t off, unsigned *line, unsigned *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off && i < c->len; i++) {
        if (c->src[i] == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

static ovl_err lerr(const pc *c, size_t off, const char *fmt, ...) OVL_PRINTF(3, 4);
static ovl_err lerr(const pc *c, size_t off, const char *fmt, ...)
{
    char msg[256];
    unsigned line, col;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    pos_of(c, off, &line, &col);
    return ovl_err_set(OVL_ERR_INPUT, "%s:%u:%u: %s", c->label, line, col, msg);
}

static ovl_err push(pc *c, tokvec *tv, tkind k, size_t off, size_t len, char *text)
{
    if (tv->n == tv->cap) {
        size_t cap = tv->cap ? tv->cap * 2 : 64;
        if (ovl_reallocarray((void **)&tv->v, cap, sizeof *tv->v) != OVL_OK)
            return ovl_err_set(OVL_ERR_NOMEM, "out of memory");
        tv->cap = cap;
    }
    tok *t = &tv->v[tv->n++];
    memset(t, 0, sizeof *t);
    t->k = k;
    t->off = off;
    t->len = len;
    t->text = text;
    pos_of(c, off, &t->line, &t->col);
    return text || k == T_EOF || k == T_EOL ? OVL_OK : ovl_err_set(OVL_ERR_NOMEM, "out of memory");
}

static bool ident_start(char ch) { return isalpha((unsigned char)ch) || ch == '_'; }
static bool ident_char(char ch) { return isalnum((unsigned char)ch) || ch == '_'; }

/* A quoted string ('...' with '' for a quote) or identifier ("..."). */
static ovl_err lex_quoted(pc *c, tokvec *tv, size_t *i, size_t end)
{
    char q = c->src[*i];
    size_t start = *i, n = 0;
    char *buf = arena_alloc(c->im, end - start + 1, 1);
    if (!buf)
        return ovl_err_set(OVL_ERR_NOMEM, "out of memory");
    for (size_t j = start + 1;; j++) {
        if (j >= end || c->src[j] == '\n')
            return lerr(c, start, "unterminated %s", q == '\'' ? "string" : "quoted identifier");
        if (c->src[j] == q) {
            if (j + 1 < end && c->src[j + 1] == q) {
                buf[n++] = q;
                j++;
                continue;
            }
            if (n > (q == '\'' ? OVL_TPL_MAX_LITERAL : OVL_TPL_MAX_IDENT))
                return lerr(c, start, "%s longer than %u bytes", q == '\'' ? "string" : "identifier",
                            q == '\'' ? OVL_TPL_MAX_LITERAL : OVL_TPL_MAX_IDENT);
            if (q == '"' && n == 0)
                return lerr(c, start, "empty quoted identifier");
            *i = j + 1;
            return push(c, tv, q == '\'' ? T_STRING : T_QIDENT, start, *i - start, buf);
        }
        if ((unsigned char)c->src[j] < 0x20 && c->src[j] != '\t')
            return lerr(c, j, "control character in %s", q == '\'' ? "string" : "identifier");
        buf[n++] = c->src[j];
    }
}

static ovl_err lex_range(pc *c, tokvec *tv, size_t from, size_t end, bool in_decl);

/* "-- param ..." declares a parameter; other comments are dropped. */
static ovl_err lex_comment(pc *c, size_t *i, size_t end)
{
    size_t s = *i + 2, e = s;
    while (e < end && c->src[e] != '\n')
        e++;
    *i = e;
    size_t b = s;
    while (b < e && (c->src[b] == ' ' || c->src[b] == '\t'))
        b++;
    if (e - b >= 6 && strncasecmp(c->src + b, "param", 5) == 0 &&
        (c->src[b + 5] == ' ' || c->src[b + 5] == '\t')) {
        ovl_err rc = lex_range(c, &c->decls, b + 5, e, true);
        if (rc != OVL_OK)
            return rc;
        return push(c, &c->decls, T_EOL, b, 0, NULL);
    }
    return OVL_OK;
}

static ovl_err lex_punct(pc *c, tokvec *tv, size_t *i, size_t end)
{
    static const char *const two[] = {"<>", "!=", "<=", ">=", "||", NULL};
    const char *p = c->src + *i;
    for (size_t k = 0; two[k]; k++)
        if (*i + 1 < end && p[0] == two[k][0] && p[1] == two[k][1]) {
            *i += 2;
            return push(c, tv, T_PUNCT, *i - 2, 2, arena_strndup(c->im, p, 2));
        }
    if (!strchr("(),.*;=<>+-/%", p[0]) || p[0] == '\0')
        return lerr(c, *i, "unexpected character '%c'", isprint((unsigned char)p[0]) ? p[0] : '?');
    *i += 1;
    return push(c, tv, T_PUNCT, *i - 1, 1, arena_strndup(c->im, p, 1));
}

static ovl_err lex_range(pc *c, tokvec *tv, size_t from, size_t end, bool in_decl)
{
    ovl_err rc = OVL_OK;
    size_t i = from;
    while (i < end) {
        char ch = c->src[i];
        size_t s = i;
        if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n') {
            i++;
        } else if (ch == '-' && i + 1 < end && c->src[i + 1] == '-') {
            if (in_decl)
                OVL_FAIL(lerr(c, i, "comment inside a parameter declaration"));
            OVL_TRY(lex_comment(c, &i, end));
        } else if (ch == '/' && i + 1 < end && c->src[i + 1] == '*') {
            const char *close = NULL;
            for (size_t j = i + 2; j + 1 < end && !close; j++)
                if (c->src[j] == '*' && c->src[j + 1] == '/')
                    close = c->src + j;
            if (!close)
                OVL_FAIL(lerr(c, i, "unterminated /* comment"));
            i = (size_t)(close - c->src) + 2;
        } else if (ch == '\'' || ch == '"') {
            OVL_TRY(lex_quoted(c, tv, &i, end));
        } else if (ident_start(ch)) {
            while (i < end && ident_char(c->src[i]))
                i++;
            if (i - s > OVL_TPL_MAX_IDENT)
                OVL_FAIL(lerr(c, s, "identifier longer than %u bytes", OVL_TPL_MAX_IDENT));
            OVL_TRY(push(c, tv, T_IDENT, s, i - s, arena_strndup(c->im, c->src + s, i - s)));
        } else if (isdigit((unsigned char)ch)) {
            while (i < end && (isdigit((unsigned char)c->src[i]) || c->src[i] == '.'))
                i++;
            if (i < end && ident_char(c->src[i]))
                OVL_FAIL(lerr(c, s, "malformed number"));
            if (i - s > 40)
                OVL_FAIL(lerr(c, s, "number longer than 40 digits"));
            OVL_TRY(push(c, tv, T_NUMBER, s, i - s, arena_strndup(c->im, c->src + s, i - s)));
        } else if (ch == ':' && i + 1 < end && ident_start(c->src[i + 1])) {
            i++;
            while (i < end && ident_char(c->src[i]))
                i++;
            if (i - s > OVL_TPL_MAX_IDENT)
                OVL_FAIL(lerr(c, s, "parameter name longer than %u bytes", OVL_TPL_MAX_IDENT));
            OVL_TRY(push(c, tv, T_PARAM, s, i - s, arena_strndup(c->im, c->src + s + 1, i - s - 1)));
        } else {
            OVL_TRY(lex_punct(c, tv, &i, end));
        }
    }
done:
    return rc;
}

/* ---- parser helpers ---- */

static const tok *cur(const pc *c) { return &c->toks.v[c->pos]; }
static const tok *at(const pc *c, size_t k)
{
    return &c->toks.v[c->pos + k < c->toks.n ? c->pos + k : c->toks.n - 1];
}

static bool kw(const tok *t, const char *k) { return t->k == T_IDENT && strcasecmp(t->text, k) == 0; }
static bool punct(const tok *t, const char *p) { return t->k == T_PUNCT && strcmp(t->text, p) == 0; }

/* The source text of a construct from token a to token b, whitespace folded, shortened. */
static void snippet(const pc *c, size_t a, size_t b, char *out, size_t cap)
{
    size_t from = c->toks.v[a].off, to = c->toks.v[b].off + c->toks.v[b].len, n = 0, i = from;
    bool space = false;
    /* room for a space, a character, "..." and the NUL */
    for (; i < to && n + 6 < cap; i++) {
        char ch = c->src[i];
        if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n') {
            space = n > 0;
            continue;
        }
        if (space)
            out[n++] = ' ';
        space = false;
        out[n++] = ch;
    }
    if (i < to) {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n] = '\0';
}

/* label:line:col: CONSTRUCT: message, CONSTRUCT being tokens a..b. */
static ovl_err perr(const pc *c, size_t a, size_t b, const char *fmt, ...) OVL_PRINTF(4, 5);
static ovl_err perr(const pc *c, size_t a, size_t b, const char *fmt, ...)
{
    char msg[256], snip[80];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const tok *t = &c->toks.v[a];
    if (c->toks.v[a].k == T_EOF)
        return ovl_err_set(OVL_ERR_INPUT, "%s:%u:%u: end of template: %s", c->label, t->line,
                           t->col, msg);
    snippet(c, a, b, snip, sizeof snip);
    return ovl_err_set(OVL_ERR_INPUT, "%s:%u:%u: %s: %s", c->label, t->line, t->col, snip, msg);
}

/* Index of the last token of the expression starting at `from`: up to a
 * top-level comma, clause keyword or end. */
static size_t expr_end(const pc *c, size_t from)
{
    static const char *const stops[] = {"FROM", "WHERE", "GROUP", "HAVING", "AS", "AND",
                                        "ORDER", "LIMIT", "INNER", "JOIN", "ON", NULL};
    int depth = 0;
    size_t i = from, last = from;
    for (; i < c->toks.n && c->toks.v[i].k != T_EOF; i++) {
        const tok *t = &c->toks.v[i];
        if (punct(t, "("))
            depth++;
        if (punct(t, ")") && --depth < 0)
            break;
        if (depth == 0 && i > from && (punct(t, ",") || punct(t, ";")))
            break;
        bool stop = false;
        for (size_t k = 0; depth == 0 && i > from && stops[k]; k++)
            stop = stop || kw(t, stops[k]);
        if (stop)
            break;
        last = i;
    }
    return last;
}

/* Whether tokens a..b reference columns of two different table qualifiers. */
static bool spans_two_parties(const pc *c, size_t a, size_t b)
{
    const char *first = NULL;
    for (size_t i = a; i + 2 <= b; i++)
        if ((c->toks.v[i].k == T_IDENT || c->toks.v[i].k == T_QIDENT) &&
            punct(&c->toks.v[i + 1], ".")) {
            if (first && strcmp(first, c->toks.v[i].text) != 0)
                return true;
            first = c->toks.v[i].text;
        }
    return false;
}

static bool is_arith(const tok *t)
{
    return punct(t, "+") || punct(t, "-") || punct(t, "*") || punct(t, "/") || punct(t, "%") ||
           punct(t, "||");
}

static ovl_err expect_kw(pc *c, const char *k, const char *what)
{
    if (!kw(cur(c), k))
        return perr(c, c->pos, c->pos, "expected %s", what);
    c->pos++;
    return OVL_OK;
}

static ovl_err expect_punct(pc *c, const char *p, const char *what)
{
    if (!punct(cur(c), p))
        return perr(c, c->pos, c->pos, "expected %s", what);
    c->pos++;
    return OVL_OK;
}

static bool is_name(const tok *t)
{
    return t->k == T_QIDENT || (t->k == T_IDENT && !is_keyword(t->text));
}

static ovl_err name(pc *c, char **out, const char *what)
{
    if (!is_name(cur(c)))
        return perr(c, c->pos, c->pos, "expected %s", what);
    *out = cur(c)->text;
    c->pos++;
    return OVL_OK;
}

/* ---- parsed (unresolved) pieces ---- */

typedef struct {
    char *qual, *col;
    size_t tok; /* first token, for errors */
} colref;

typedef struct {
    bool is_agg;
    ovl_aggfn fn;
    bool star;
    colref r;
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
    bool having;
    bool having_star;
    colref having_ref;
    size_t having_tok;
} parsed;

/* A column reference "alias.column"; a bare name gets a pointed error. */
static ovl_err parse_colref(pc *c, colref *r)
{
    r->tok = c->pos;
    if (is_name(cur(c)) && punct(at(c, 1), ".") && is_name(at(c, 2))) {
        r->qual = cur(c)->text;
        r->col = at(c, 2)->text;
        c->pos += 3;
        return OVL_OK;
    }
    if (is_name(cur(c)))
        return perr(c, c->pos, c->pos, "qualify columns with their table alias (e.g. a.%s)",
                    cur(c)->text);
    if (punct(cur(c), "(") && kw(at(c, 1), "SELECT"))
        return perr(c, c->pos, expr_end(c, c->pos), "subqueries are not supported");
    return perr(c, c->pos, c->pos, "expected a column (alias.column)");
}

static ovl_err reject_arith_after(pc *c, size_t start)
{
    if (!is_arith(cur(c)))
        return OVL_OK;
    size_t e = expr_end(c, start);
    if (spans_two_parties(c, start, e))
        return perr(c, start, e, "arithmetic across parties' columns cannot be computed privately");
    return perr(c, start, e, "expressions on columns or aggregates are not supported; "
                             "compute them from the output");
}

static ovl_err parse_agg_body(pc *c, sel_item *it, const char *fn)
{
    size_t s = it->start;
    bool count = strcasecmp(fn, "COUNT") == 0;
    if (count && punct(cur(c), "*")) {
        it->star = true;
        c->pos++;
    } else if (count && kw(cur(c), "DISTINCT")) {
        it->fn = OVL_FN_COUNT_DISTINCT;
        c->pos++;
        if (!(is_name(cur(c)) && punct(at(c, 1), ".") && is_name(at(c, 2)) && punct(at(c, 3), ")")))
            return perr(c, s, expr_end(c, s), "expressions inside aggregates cannot be computed privately");
        ovl_err rc = parse_colref(c, &it->r);
        if (rc != OVL_OK)
            return rc;
    } else {
        if (kw(cur(c), "DISTINCT"))
            return perr(c, s, expr_end(c, s), "DISTINCT is only supported as COUNT(DISTINCT <join column>)");
        if (!(is_name(cur(c)) && punct(at(c, 1), ".") && is_name(at(c, 2)) && punct(at(c, 3), ")")))
            return perr(c, s, expr_end(c, s), "expressions inside aggregates cannot be computed privately");
        if (count)
            return perr(c, s, expr_end(c, s), "count rows with COUNT(*) or identifiers with "
                                              "COUNT(DISTINCT <join column>)");
        ovl_err rc = parse_colref(c, &it->r);
        if (rc != OVL_OK)
            return rc;
    }
    return expect_punct(c, ")", "')'");
}

static ovl_err parse_select_item(pc *c, sel_item *it)
{
    ovl_err rc = OVL_OK;
    it->start = c->pos;
    const tok *t = cur(c);
    if ((t->k == T_IDENT) && punct(at(c, 1), "(")) {
        if (kw(t, "COUNT") || kw(t, "SUM") || kw(t, "AVG")) {
            it->is_agg = true;
            it->fn = kw(t, "COUNT") ? OVL_FN_COUNT : kw(t, "SUM") ? OVL_FN_SUM : OVL_FN_AVG;
            c->pos += 2;
            OVL_TRY(parse_agg_body(c, it, t->text));
        } else if (kw(at(c, 2), "SELECT")) {
            OVL_FAIL(perr(c, c->pos, expr_end(c, c->pos), "subqueries are not supported"));
        } else {
            OVL_FAIL(perr(c, c->pos, expr_end(c, c->pos),
                          "functions other than COUNT, SUM and AVG cannot be computed privately"));
        }
    } else if (punct(t, "*")) {
        OVL_FAIL(perr(c, c->pos, c->pos, "SELECT * would release rows; select dimension columns "
                                         "and aggregates"));
    } else if (punct(t, "(") && kw(at(c, 1), "SELECT")) {
        OVL_FAIL(perr(c, c->pos, expr_end(c, c->pos), "subqueries are not supported"));
    } else if (t->k == T_STRING || t->k == T_NUMBER) {
        OVL_FAIL(perr(c, c->pos, expr_end(c, c->pos), "constants in SELECT are not supported"));
    } else {
        OVL_TRY(parse_colref(c, &it->r));
    }
    OVL_TRY(reject_arith_after(c, it->start));
    it->end = c->pos - 1;
    if (kw(cur(c), "AS")) {
        c->pos++;
        OVL_TRY(name(c, &it->output, "an output column name after AS"));
    } else if (is_name(cur(c))) {
        OVL_TRY(name(c, &it->output, "an output column name"));
    }
done:
    return rc;
}

static ovl_err parse_select(pc *c, parsed *p)
{
    ovl_err rc = OVL_OK;
    OVL_TRY(expect_kw(c, "SELECT", "SELECT at the start of the template"));
    if (kw(cur(c), "DISTINCT"))
        OVL_FAIL(perr(c, c->pos, c->pos, "SELECT DISTINCT is not supported"));
    for (;;) {
        OVL_ENSURE(p->nsel < OVL_TPL_MAX_ITEMS, OVL_ERR_INPUT, "%s: more than %u select items",
                   c->label, OVL_TPL_MAX_ITEMS);
        OVL_TRY(parse_select_item(c, &p->sel[p->nsel++]));
        if (!punct(cur(c), ","))
            break;
        c->pos++;
    }
done:
    return rc;
}

static ovl_err parse_table_ref(pc *c, ovl_template *t, int k)
{
    ovl_err rc = OVL_OK;
    if (punct(cur(c), "("))
        OVL_FAIL(perr(c, c->pos, expr_end(c, c->pos), "subqueries are not supported"));
    OVL_TRY(name(c, &t->table[k], "a table name"));
    if (kw(cur(c), "AS"))
        c->pos++;
    if (is_name(cur(c)))
        OVL_TRY(name(c, &t->alias[k], "a table alias"));
    else
        t->alias[k] = t->table[k];
done:
    return rc;
}

static ovl_err parse_from(pc *c, ovl_template *t, parsed *p)
{
    ovl_err rc = OVL_OK;
    OVL_TRY(expect_kw(c, "FROM", "FROM after the select list"));
    OVL_TRY(parse_table_ref(c, t, 0));
    if (punct(cur(c), ","))
        OVL_FAIL(perr(c, c->pos, c->pos, "comma joins are not supported; use INNER JOIN ... ON"));
    if (kw(cur(c), "LEFT") || kw(cur(c), "RIGHT") || kw(cur(c), "FULL") || kw(cur(c), "CROSS") ||
        kw(cur(c), "OUTER"))
        OVL_FAIL(perr(c, c->pos, c->pos + 1, "only INNER JOIN can be computed privately"));
    if (kw(cur(c), "INNER"))
        c->pos++;
    OVL_TRY(expect_kw(c, "JOIN", "INNER JOIN: a template reads exactly two tables"));
    OVL_TRY(parse_table_ref(c, t, 1));
    OVL_TRY(expect_kw(c, "ON", "ON after the joined table"));
    p->on_tok = c->pos;
    OVL_TRY(parse_colref(c, &p->on[0]));
    if (!punct(cur(c), "="))
        OVL_FAIL(perr(c, p->on_tok, expr_end(c, p->on_tok),
                      "a join matches join columns by equality only"));
    c->pos++;
    if (c->toks.v[c->pos].k != T_IDENT && c->toks.v[c->pos].k != T_QIDENT)
        OVL_FAIL(perr(c, p->on_tok, expr_end(c, p->on_tok),
                      "a join matches a join column of each table"));
    OVL_TRY(parse_colref(c, &p->on[1]));
    OVL_TRY(reject_arith_after(c, p->on_tok));
    if (kw(cur(c), "AND") || kw(cur(c), "OR"))
        OVL_FAIL(perr(c, c->pos, expr_end(c, c->pos + 1),
                      "a join may only match one join column of each table by equality "
                      "(joins on other columns cannot be computed privately)"));
done:
    return rc;
}

static ovl_err parse_value(pc *c, ovl_tpl_value *v, size_t cond_start)
{
    const tok *t = cur(c);
    size_t s = c->pos;
    if (t->k == T_PARAM) {
        v->is_param = true;
        v->text = t->text;
        c->pos++;
    } else if (t->k == T_STRING) {
        v->type = OVL_PARAM_STRING;
        v->text = t->text;
        c->pos++;
    } else if (kw(t, "DATE") && at(c, 1)->k == T_STRING) {
        v->type = OVL_PARAM_DATE;
        v->text = at(c, 1)->text;
        if (!ovl_param_value_ok(OVL_PARAM_DATE, v->text))
            return perr(c, s, s + 1, "not a valid date (YYYY-MM-DD)");
        c->pos += 2;
    } else if (t->k == T_NUMBER || (punct(t, "-") && at(c, 1)->k == T_NUMBER)) {
        bool neg = punct(t, "-");
        const char *num = neg ? at(c, 1)->text : t->text;
        size_t n = strlen(num);
        char *txt = arena_alloc(c->im, n + 2, 1);
        if (!txt)
            return ovl_err_set(OVL_ERR_NOMEM, "out of memory");
        snprintf(txt, n + 2, "%s%s", neg ? "-" : "", num);
        v->type = strchr(txt, '.') ? OVL_PARAM_DECIMAL : OVL_PARAM_INTEGER;
        if (!ovl_param_value_ok(v->type, txt))
            return perr(c, s, s + neg, "malformed number");
        v->text = txt;
        c->pos += 1 + neg;
    } else if (punct(t, "(") && kw(at(c, 1), "SELECT")) {
        return perr(c, s, expr_end(c, s), "subqueries are not supported");
    } else if (is_name(t) && punct(at(c, 1), ".")) {
        size_t e = expr_end(c, cond_start);
        if (spans_two_parties(c, cond_start, e))
            return perr(c, cond_start, e, "comparisons across parties' columns cannot be "
                                          "computed privately");
        return perr(c, cond_start, e, "a filter compares a column with literals or :parameters");
    } else {
        return perr(c, s, s, "expected a literal ('text', 12, 1.5, DATE '2026-07-01') or a "
                             ":parameter");
    }
    return is_arith(cur(c)) ? perr(c, s, expr_end(c, s), "expressions are not supported in filters")
                            : OVL_OK;
}

static ovl_err parse_in_list(pc *c, filt *f)
{
    ovl_err rc = OVL_OK;
    if (punct(cur(c), "(") && kw(at(c, 1), "SELECT"))
        OVL_FAIL(perr(c, c->pos, expr_end(c, c->pos), "subqueries are not supported"));
    OVL_TRY(expect_punct(c, "(", "'(' after IN"));
    for (;;) {
        OVL_ENSURE(f->nvals < OVL_TPL_MAX_ITEMS, OVL_ERR_INPUT, "%s: more than %u IN values",
                   c->label, OVL_TPL_MAX_ITEMS);
        f->valtok[f->nvals] = c->pos;
        OVL_TRY(parse_value(c, &f->vals[f->nvals++], f->start));
        if (!punct(cur(c), ","))
            break;
        c->pos++;
    }
    OVL_TRY(expect_punct(c, ")", "')' closing the IN list"));
done:
    return rc;
}

static ovl_err parse_cond(pc *c, filt *f)
{
    ovl_err rc = OVL_OK;
    static const struct {
        const char *p;
        ovl_cmp_op op;
    } ops[] = {{"=", OVL_CMP_EQ}, {"<>", OVL_CMP_NE}, {"!=", OVL_CMP_NE}, {"<", OVL_CMP_LT},
               {"<=", OVL_CMP_LE}, {">", OVL_CMP_GT}, {">=", OVL_CMP_GE}};
    f->start = c->pos;
    if (kw(cur(c), "NOT") || kw(cur(c), "EXISTS"))
        OVL_FAIL(perr(c, c->pos, expr_end(c, c->pos), "NOT and EXISTS are not supported"));
    if (punct(cur(c), "("))
        OVL_FAIL(perr(c, c->pos, expr_end(c, c->pos),
                      kw(at(c, 1), "SELECT") ? "subqueries are not supported"
                                             : "parentheses are not supported in WHERE"));
    if (cur(c)->k == T_STRING || cur(c)->k == T_NUMBER || cur(c)->k == T_PARAM)
        OVL_FAIL(perr(c, c->pos, expr_end(c, c->pos), "put the column on the left of a filter"));
    OVL_TRY(parse_colref(c, &f->r));
    OVL_TRY(reject_arith_after(c, f->start));
    if (kw(cur(c), "BETWEEN")) {
        c->pos++;
        f->op = OVL_CMP_BETWEEN;
        f->valtok[0] = c->pos;
        OVL_TRY(parse_value(c, &f->vals[0], f->start));
        OVL_TRY(expect_kw(c, "AND", "AND in BETWEEN ... AND ..."));
        f->valtok[1] = c->pos;
        OVL_TRY(parse_value(c, &f->vals[1], f->start));
        f->nvals = 2;
        goto done;
    }
    if (kw(cur(c), "IN")) {
        c->pos++;
        f->op = OVL_CMP_IN;
        OVL_TRY(parse_in_list(c, f));
        goto done;
    }
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (punct(cur(c), ops[i].p))
            f->op = ops[i].op;
    if (f->op == 0)
        OVL_FAIL(perr(c, f->start, expr_end(c, f->start),
                      "expected a comparison (=, <>, <, <=, >, >=, BETWEEN, IN)"));
    c->pos++;
    f->valtok[0] = c->pos;
    OVL_TRY(parse_value(c, &f->vals[0], f->start));
    f->nvals = 1;
done:
    return rc;
}

static ovl_err parse_where(pc *c, parsed *p)
{
    ovl_err rc = OVL_OK;
    if (!kw(cur(c), "WHERE"))
        return OVL_OK;
    c->pos++;
    OVL_TRY(ovl_calloc((void **)&p->filters, OVL_TPL_MAX_ITEMS, sizeof *p->filters));
    for (;;) {
        OVL_ENSURE(p->nfilters < OVL_TPL_MAX_ITEMS, OVL_ERR_INPUT, "%s: more than %u filters",
                   c->label, OVL_TPL_MAX_ITEMS);
        OVL_TRY(parse_cond(c, &p->filters[p->nfilters++]));
        if (kw(cur(c), "OR"))
            OVL_FAIL(perr(c, c->pos, c->pos,
                          "OR is not supported: filters are combined with AND"));
        if (!kw(cur(c), "AND"))
            break;
        c->pos++;
    }
done:
    return rc;
}

static ovl_err parse_group(pc *c, parsed *p)
{
    ovl_err rc = OVL_OK;
    if (!kw(cur(c), "GROUP"))
        return OVL_OK;
    c->pos++;
    OVL_TRY(expect_kw(c, "BY", "BY after GROUP"));
    p->has_group = true;
    for (;;) {
        OVL_ENSURE(p->ngroups < OVL_TPL_MAX_ITEMS, OVL_ERR_INPUT, "%s: more than %u GROUP BY columns",
                   c->label, OVL_TPL_MAX_ITEMS);
        colref *g = &p->groups[p->ngroups++];
        if (cur(c)->k == T_NUMBER) {
            /* GROUP BY 1, 2: positions in the select list */
            char *end;
            unsigned long k = strtoul(cur(c)->text, &end, 10);
            if (*end != '\0' || k < 1 || k > p->nsel || p->sel[k - 1].is_agg)
                OVL_FAIL(perr(c, c->pos, c->pos, "GROUP BY position must name a selected column"));
            *g = p->sel[k - 1].r;
            g->tok = c->pos++;
        } else {
            OVL_TRY(parse_colref(c, g));
            OVL_TRY(reject_arith_after(c, g->tok));
        }
        if (!punct(cur(c), ","))
            break;
        c->pos++;
    }
done:
    return rc;
}

static ovl_err parse_having(pc *c, parsed *p, ovl_template *t)
{
    ovl_err rc = OVL_OK;
    size_t s;
    if (!kw(cur(c), "HAVING"))
        return OVL_OK;
    c->pos++;
    s = p->having_tok = c->pos;
    if (!(kw(cur(c), "COUNT") && punct(at(c, 1), "(")))
        OVL_FAIL(perr(c, s, expr_end(c, s), "HAVING must be COUNT(*) >= k or "
                                            "COUNT(DISTINCT a.<join column>) >= k"));
    c->pos += 2;
    if (punct(cur(c), "*")) {
        p->having_star = true;
        c->pos++;
    } else if (kw(cur(c), "DISTINCT")) {
        c->pos++;
        OVL_TRY(parse_colref(c, &p->having_ref));
    } else {
        OVL_FAIL(perr(c, s, expr_end(c, s), "HAVING must be COUNT(*) >= k or "
                                            "COUNT(DISTINCT a.<join column>) >= k"));
    }
    OVL_TRY(expect_punct(c, ")", "')'"));
    if (!punct(cur(c), ">=") || at(c, 1)->k != T_NUMBER)
        OVL_FAIL(perr(c, s, expr_end(c, s), "HAVING must compare the count with >= and a whole "
                                            "number"));
    c->pos++;
    char *end;
    unsigned long long k = strtoull(cur(c)->text, &end, 10);
    /* A group of one would publish that person's own values. */
    if (*end != '\0' || k < OVL_MIN_ROWS_LO || k > OVL_MIN_ROWS_HI)
        OVL_FAIL(perr(c, c->pos, c->pos, "the threshold must be a whole number from %u to %u",
                      OVL_MIN_ROWS_LO, OVL_MIN_ROWS_HI));
    t->threshold = k;
    c->pos++;
    p->having = true;
    if (kw(cur(c), "AND") || kw(cur(c), "OR"))
        OVL_FAIL(perr(c, c->pos, expr_end(c, c->pos + 1), "HAVING has exactly one condition"));
done:
    return rc;
}

static ovl_err parse_statement(pc *c, parsed *p, ovl_template *t)
{
    ovl_err rc = OVL_OK;
    OVL_TRY(parse_select(c, p));
    OVL_TRY(parse_from(c, t, p));
    OVL_TRY(parse_where(c, p));
    OVL_TRY(parse_group(c, p));
    OVL_TRY(parse_having(c, p, t));
    if (punct(cur(c), ";"))
        c->pos++;
    if (cur(c)->k != T_EOF) {
        const char *what = kw(cur(c), "ORDER") ? "ORDER BY is not supported"
                           : kw(cur(c), "LIMIT") ? "LIMIT is not supported"
                           : kw(cur(c), "UNION") ? "UNION is not supported"
                           : kw(cur(c), "OR")    ? "OR is not supported"
                           : kw(cur(c), "JOIN")  ? "a template joins exactly two tables"
                                                 : "unexpected text after the template";
        OVL_FAIL(perr(c, c->pos, expr_end(c, c->pos), "%s", what));
    }
done:
    return rc;
}

/* ---- parameter declarations: "-- param NAME TYPE [IN (v, ...)]" ---- */

static ovl_err derr(const pc *c, const tok *t, const char *fmt, ...) OVL_PRINTF(3, 4);
static ovl_err derr(const pc *c, const tok *t, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return ovl_err_set(OVL_ERR_INPUT, "%s:%u:%u: -- param: %s", c->label, t->line, t->col, msg);
}

static bool parse_type(const char *s, ovl_param_type *out)
{
    static const char *const names[] = {"string", "integer", "decimal", "date"};
    for (int i = 0; i < 4; i++)
        if (strcasecmp(s, names[i]) == 0) {
            *out = (ovl_param_type)(i + 1);
            return true;
        }
    return false;
}

static ovl_err parse_decl(pc *c, size_t *i, ovl_tpl_param *pr)
{
    tok *d = c->decls.v;
    size_t n = c->decls.n;
    if (d[*i].k != T_IDENT)
        return derr(c, &d[*i], "expected a parameter name");
    pr->name = d[*i].text;
    (*i)++;
    if (*i >= n || d[*i].k != T_IDENT || !parse_type(d[*i].text, &pr->type))
        return derr(c, &d[*i - 1], "%s: expected a type: string, integer, decimal or date", pr->name);
    (*i)++;
    if (d[*i].k == T_EOL)
        return OVL_OK;
    if (!(d[*i].k == T_IDENT && strcasecmp(d[*i].text, "in") == 0 && d[*i + 1].k == T_PUNCT &&
          strcmp(d[*i + 1].text, "(") == 0))
        return derr(c, &d[*i], "%s: expected IN ('value', ...) or the end of the line", pr->name);
    *i += 2;
    pr->allowed = arena_alloc(c->im, OVL_TPL_MAX_ITEMS, sizeof *pr->allowed);
    if (!pr->allowed)
        return ovl_err_set(OVL_ERR_NOMEM, "out of memory");
    for (;;) {
        tok *v = &d[*i];
        if (pr->nallowed >= OVL_TPL_MAX_ITEMS)
            return derr(c, v, "%s: more than %u allowed values", pr->name, OVL_TPL_MAX_ITEMS);
        if ((v->k != T_STRING && v->k != T_NUMBER) || !ovl_param_value_ok(pr->type, v->text))
            return derr(c, v, "%s: allowed values must be %s literals", pr->name,
                        ovl_param_type_name(pr->type));
        for (size_t k = 0; k < pr->nallowed; k++)
            if (strcmp(pr->allowed[k], v->text) == 0)
                return derr(c, v, "%s: value listed twice", pr->name);
        pr->allowed[pr->nallowed++] = v->text;
        (*i)++;
        if (d[*i].k == T_PUNCT && strcmp(d[*i].text, ",") == 0) {
            (*i)++;
            continue;
        }
        if (d[*i].k == T_PUNCT && strcmp(d[*i].text, ")") == 0 && d[*i + 1].k == T_EOL) {
            (*i)++;
            return OVL_OK;
        }
        return derr(c, &d[*i], "%s: expected ',' or ')' ending the line", pr->name);
    }
}

static ovl_err parse_decls(pc *c, ovl_template *t)
{
    ovl_err rc = OVL_OK;
    size_t count = 0;
    for (size_t i = 0; i < c->decls.n; i++)
        count += c->decls.v[i].k == T_EOL;
    OVL_ENSURE(count <= OVL_TPL_MAX_ITEMS, OVL_ERR_INPUT, "%s: more than %u parameters", c->label,
               OVL_TPL_MAX_ITEMS);
    t->params = arena_alloc(c->im, count + 1, sizeof *t->params);
    OVL_ENSURE(t->params, OVL_ERR_NOMEM, "out of memory");
    for (size_t i = 0; c->decls.v[i].k != T_EOF; i++) {
        if (c->decls.v[i].k == T_EOL)
            OVL_FAIL(derr(c, &c->decls.v[i], "expected a parameter name"));
        ovl_tpl_param *pr = &t->params[t->nparams];
        OVL_TRY(parse_decl(c, &i, pr));
        for (size_t k = 0; k < t->nparams; k++)
            OVL_ENSURE(strcmp(t->params[k].name, pr->name) != 0, OVL_ERR_INPUT,
                       "%s: parameter %s declared twice", c->label, pr->name);
        t->nparams++;
    }
done:
    return rc;
}

/* ---- resolution into the plan ---- */

static ovl_err party_of(const pc *c, const ovl_template *t, const colref *r, int *party)
{
    for (int k = 0; k < 2; k++)
        if (strcmp(r->qual, t->alias[k]) == 0) {
            *party = k;
            return OVL_OK;
        }
    return perr(c, r->tok, r->tok + 2, "unknown table alias '%s' (the template reads %s and %s)",
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
        OVL_FAIL(perr(c, p->on_tok, p->on_tok + 6, "a join matches a column of each table"));
    t->join_column[a] = p->on[0].col;
    t->join_column[b] = p->on[1].col;
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
        return perr(c, a, b, "only the join column (%s.%s) can be counted distinct", r->qual,
                    t->join_column[k]);
    return OVL_OK;
}

static ovl_err resolve_select(const pc *c, ovl_template *t, const parsed *p)
{
    ovl_err rc = OVL_OK;
    t->dims = arena_alloc(c->im, p->nsel, sizeof *t->dims);
    t->aggs = arena_alloc(c->im, p->nsel, sizeof *t->aggs);
    OVL_ENSURE(t->dims && t->aggs, OVL_ERR_NOMEM, "out of memory");
    t->group_party = t->value_party = -1;
    for (size_t i = 0; i < p->nsel; i++) {
        const sel_item *it = &p->sel[i];
        int k = -1;
        if (!it->star)
            OVL_TRY(party_of(c, t, &it->r, &k));
        if (!it->is_agg) {
            if (t->group_party >= 0 && t->group_party != k)
                OVL_FAIL(perr(c, it->start, it->end, "dimensions must all come from one party "
                                                     "(the aggregate protocol groups by one side)"));
            t->group_party = k;
            t->dims[t->ndims++] = (ovl_tpl_dim){k, it->r.col, it->output ? it->output : it->r.col};
            continue;
        }
        t->functions |= it->fn;
        if (it->fn == OVL_FN_COUNT_DISTINCT)
            OVL_TRY(check_distinct_ref(c, t, &it->r, it->start, it->end));
        if (it->fn == OVL_FN_SUM || it->fn == OVL_FN_AVG) {
            if (t->value_party >= 0 && t->value_party != k)
                OVL_FAIL(perr(c, it->start, it->end, "aggregated columns must all come from one "
                                                     "party (the value side)"));
            t->value_party = k;
        }
        t->aggs[t->naggs++] = (ovl_tpl_agg){it->fn, it->star ? -1 : k, it->star ? NULL : it->r.col,
                                            it->output};
    }
    OVL_ENSURE(t->naggs > 0, OVL_ERR_INPUT, "%s: SELECT needs at least one aggregate "
               "(COUNT, SUM or AVG); templates never release rows", c->label);
    /* SUM/AVG over the group side's own columns: the protocol sums the value
     * side's values per group of the other side. */
    for (size_t i = 0; i < p->nsel; i++)
        if (p->sel[i].is_agg && (p->sel[i].fn == OVL_FN_SUM || p->sel[i].fn == OVL_FN_AVG) &&
            t->group_party >= 0 && t->value_party == t->group_party)
            OVL_FAIL(perr(c, p->sel[i].start, p->sel[i].end,
                          "aggregates must be over the other party's columns than the GROUP BY "
                          "columns (%s)", t->alias[t->group_party]));
done:
    return rc;
}

static char *default_output(const pc *c, const ovl_tpl_agg *a)
{
    const char *fn = a->fn == OVL_FN_COUNT ? "count" : a->fn == OVL_FN_COUNT_DISTINCT ? "count_distinct"
                     : a->fn == OVL_FN_SUM ? "sum" : "avg";
    size_t n = strlen(fn) + (a->column ? strlen(a->column) + 1 : 0) + 1;
    char *s = arena_alloc(c->im, n, 1);
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
    for (size_t i = 0; i < t->ndims + t->naggs; i++)
        for (size_t j = 0; j < i; j++) {
            const char *a = i < t->ndims ? t->dims[i].output : t->aggs[i - t->ndims].output;
            const char *b = j < t->ndims ? t->dims[j].output : t->aggs[j - t->ndims].output;
            OVL_ENSURE(strcmp(a, b) != 0, OVL_ERR_INPUT,
                       "%s: output column '%s' appears twice; name them apart with AS", c->label, a);
        }
done:
    return rc;
}

static ovl_err resolve_groups(const pc *c, ovl_template *t, const parsed *p)
{
    for (size_t i = 0; i < p->ngroups; i++) {
        bool found = false;
        for (size_t k = 0; k < p->nsel; k++)
            found = found || (!p->sel[k].is_agg && strcmp(p->sel[k].r.qual, p->groups[i].qual) == 0 &&
                              strcmp(p->sel[k].r.col, p->groups[i].col) == 0);
        if (!found)
            return perr(c, p->groups[i].tok, p->groups[i].tok + 2,
                        "grouped columns must also be selected");
    }
    for (size_t k = 0; k < p->nsel; k++) {
        bool found = false;
        if (p->sel[k].is_agg)
            continue;
        for (size_t i = 0; i < p->ngroups; i++)
            found = found || (strcmp(p->sel[k].r.qual, p->groups[i].qual) == 0 &&
                              strcmp(p->sel[k].r.col, p->groups[i].col) == 0);
        if (!found)
            return perr(c, p->sel[k].start, p->sel[k].end,
                        "selected columns must be in GROUP BY (only aggregates leave the "
                        "clean room)");
    }
    (void)t;
    return OVL_OK;
}

static const ovl_tpl_param *find_param(const ovl_template *t, const char *name)
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
    t->filters = arena_alloc(c->im, p->nfilters, sizeof *t->filters);
    OVL_ENSURE(t->filters, OVL_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < p->nfilters; i++) {
        const filt *f = &p->filters[i];
        ovl_tpl_filter *o = &t->filters[t->nfilters++];
        OVL_TRY(party_of(c, t, &f->r, &o->party));
        o->column = f->r.col;
        o->op = f->op;
        o->nvalues = f->nvals;
        o->values = arena_alloc(c->im, f->nvals, sizeof *o->values);
        OVL_ENSURE(o->values, OVL_ERR_NOMEM, "out of memory");
        for (size_t k = 0; k < f->nvals; k++) {
            o->values[k] = f->vals[k];
            if (!f->vals[k].is_param)
                continue;
            const ovl_tpl_param *pr = find_param(t, f->vals[k].text);
            if (!pr)
                OVL_FAIL(perr(c, f->valtok[k], f->valtok[k],
                              "unknown parameter (declare it: -- param %s string|integer|decimal|date)",
                              f->vals[k].text));
            o->values[k].type = pr->type;
            used[pr - t->params] = true;
        }
        for (size_t k = 1; k < o->nvalues; k++)
            if (o->values[k].type != o->values[0].type)
                OVL_FAIL(perr(c, f->start, f->valtok[o->nvalues - 1],
                              "compared values must all be of one type (%s vs %s)",
                              ovl_param_type_name(o->values[0].type),
                              ovl_param_type_name(o->values[k].type)));
    }
    for (size_t i = 0; i < t->nparams; i++)
        OVL_ENSURE(used[i], OVL_ERR_INPUT, "%s: parameter %s is declared but not used", c->label,
                   t->params[i].name);
done:
    free(used);
    return rc;
}

static ovl_err resolve(const pc *c, ovl_template *t, const parsed *p)
{
    ovl_err rc = OVL_OK;
    OVL_TRY(resolve_join(c, t, p));
    OVL_TRY(resolve_select(c, t, p));
    OVL_TRY(resolve_outputs(c, t));
    if (p->has_group || t->ndims > 0)
        OVL_TRY(resolve_groups(c, t, p));
    OVL_TRY(resolve_filters(c, t, p));
    if (p->having && !p->having_star)
        OVL_TRY(check_distinct_ref(c, t, &p->having_ref, p->having_tok, p->having_tok + 5));
done:
    return rc;
}

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
    bool plain = ident_start(id[0]) && !is_keyword(id);
    for (const char *x = id; plain && *x; x++)
        plain = ident_char(*x);
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
    if (fn == OVL_FN_COUNT) {
        sb(s, "COUNT(*)");
        return;
    }
    sb(s, fn == OVL_FN_COUNT_DISTINCT ? "COUNT(DISTINCT " : fn == OVL_FN_SUM ? "SUM(" : "AVG(");
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

static ovl_err canonicalize(ovl_template *t, const parsed *p, tpl_impl *im)
{
    sbuf s = {0};
    canon_params(&s, t);
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
    t->canonical = arena_strndup(im, s.p, s.len);
    free(s.p);
    if (!t->canonical)
        return ovl_err_set(OVL_ERR_NOMEM, "out of memory");
    crypto_hash_sha256(t->hash, (const uint8_t *)t->canonical, strlen(t->canonical));
    return OVL_OK;
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
    im->t.label = arena_strndup(im, label, strlen(label));
    OVL_ENSURE(im->t.label, OVL_ERR_NOMEM, "out of memory");
    OVL_TRY(lex_range(&c, &c.toks, 0, len, false));
    OVL_TRY(push(&c, &c.toks, T_EOF, len, 0, NULL));
    OVL_TRY(push(&c, &c.decls, T_EOF, len, 0, NULL));
    OVL_TRY(parse_decls(&c, &im->t));
    OVL_TRY(parse_statement(&c, p, &im->t));
    OVL_TRY(resolve(&c, &im->t, p));
    OVL_TRY(canonicalize(&im->t, p, im));
    *out = &im->t;
    im = NULL;
done:
    free(c.toks.v);
    free(c.decls.v);
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

const char *ovl_param_type_name(ovl_param_type t)
{
    switch (t) {
    case OVL_PARAM_STRING: return "string";
    case OVL_PARAM_INTEGER: return "integer";
    case OVL_PARAM_DECIMAL: return "decimal";
    case OVL_PARAM_DATE: return "date";
    }
    return "?";
}

static bool digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return n > 0;
}

static bool date_ok(const char *s)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-' || !digits(s, 4) || !digits(s + 5, 2) ||
        !digits(s + 8, 2))
        return false;
    int y = atoi(s), m = (s[5] - '0') * 10 + (s[6] - '0'), d = (s[8] - '0') * 10 + (s[9] - '0');
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return !(m == 2 && d == 29 && !leap);
}

bool ovl_param_value_ok(ovl_param_type type, const char *v)
{
    size_t n = strlen(v);
    const char *dot;
    if (n == 0 || n > OVL_TPL_MAX_LITERAL)
        return false;
    switch (type) {
    case OVL_PARAM_STRING:
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
                return false;
        return true;
    case OVL_PARAM_INTEGER:
        return n <= 19 && digits(v + (v[0] == '-'), n - (v[0] == '-'));
    case OVL_PARAM_DECIMAL:
        if (n > 40)
            return false;
        v += v[0] == '-';
        dot = strchr(v, '.');
        if (!dot)
            return digits(v, strlen(v));
        return digits(v, (size_t)(dot - v)) && digits(dot + 1, strlen(dot + 1));
    case OVL_PARAM_DATE:
        return date_ok(v);
    }
    return false;
}

/* Usage errors: the values come from the command line (--param); the
 * verifier turns a peer's bad values into a policy refusal. */
ovl_err ovl_template_check_params(const ovl_template *t, const ovl_param_value *vals, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const ovl_tpl_param *pr = find_param(t, vals[i].name);
        if (!pr)
            return ovl_err_set(OVL_ERR_USAGE, "%s: parameter %.64s: the template declares no such "
                               "parameter", t->label, vals[i].name);
        for (size_t k = 0; k < i; k++)
            if (strcmp(vals[k].name, vals[i].name) == 0)
                return ovl_err_set(OVL_ERR_USAGE, "%s: parameter %s: given twice", t->label,
                                   pr->name);
        if (!ovl_param_value_ok(pr->type, vals[i].value))
            return ovl_err_set(OVL_ERR_USAGE, "%s: parameter %s: must be a %s%s", t->label,
                               pr->name, ovl_param_type_name(pr->type),
                               pr->type == OVL_PARAM_DATE ? " (YYYY-MM-DD)" : "");
        bool listed = pr->nallowed == 0;
        for (size_t k = 0; k < pr->nallowed; k++)
            listed = listed || strcmp(pr->allowed[k], vals[i].value) == 0;
        if (!listed)
            return ovl_err_set(OVL_ERR_USAGE, "%s: parameter %s: value is not in its allowed "
                               "list (%zu values)", t->label, pr->name, pr->nallowed);
    }
    for (size_t k = 0; k < t->nparams; k++) {
        bool given = false;
        for (size_t i = 0; i < n; i++)
            given = given || strcmp(vals[i].name, t->params[k].name) == 0;
        if (!given)
            return ovl_err_set(OVL_ERR_USAGE, "%s: parameter %s: no value given (--param %s=...)",
                               t->label, t->params[k].name, t->params[k].name);
    }
    return OVL_OK;
}

/* ---- filter evaluation ---- */

/* Exact comparison of two decimal numbers given as validated text. */
static int cmp_decimal(const char *a, const char *b)
{
    bool na = a[0] == '-', nb = b[0] == '-';
    a += na;
    b += nb;
    while (*a == '0' && a[1] && a[1] != '.')
        a++;
    while (*b == '0' && b[1] && b[1] != '.')
        b++;
    size_t ia = strcspn(a, "."), ib = strcspn(b, ".");
    int r = ia != ib ? (ia < ib ? -1 : 1) : strncmp(a, b, ia);
    if (r == 0) {
        const char *fa = a[ia] ? a + ia + 1 : "", *fb = b[ib] ? b + ib + 1 : "";
        while (r == 0 && (*fa || *fb)) {
            char x = *fa ? *fa++ : '0', y = *fb ? *fb++ : '0';
            r = (x > y) - (x < y);
        }
    }
    if (r == 0)
        return 0; /* -0 == 0 */
    if (na != nb)
        return na ? -1 : 1;
    return na ? -r : r;
}

static int cmp_typed(ovl_param_type type, const char *cell, const char *v)
{
    if (type == OVL_PARAM_INTEGER || type == OVL_PARAM_DECIMAL)
        return cmp_decimal(cell, v);
    int r = strcmp(cell, v);
    return (r > 0) - (r < 0);
}

static const char *value_text(const ovl_tpl_value *v, const ovl_param_value *vals, size_t n)
{
    if (!v->is_param)
        return v->text;
    for (size_t i = 0; i < n; i++)
        if (strcmp(vals[i].name, v->text) == 0)
            return vals[i].value;
    return NULL;
}

ovl_err ovl_tpl_filter_match(const ovl_tpl_filter *f, const ovl_param_value *vals, size_t n,
                             const char *cell, size_t cell_len, bool *match)
{
    char buf[OVL_TPL_MAX_LITERAL + 1];
    ovl_param_type type = f->values[0].type;
    *match = false;
    if (type != OVL_PARAM_STRING)
        while (cell_len && (cell[0] == ' ' || cell[0] == '\t'))
            cell++, cell_len--;
    if (type != OVL_PARAM_STRING)
        while (cell_len && (cell[cell_len - 1] == ' ' || cell[cell_len - 1] == '\t'))
            cell_len--;
    if (cell_len > OVL_TPL_MAX_LITERAL || memchr(cell, '\0', cell_len))
        return OVL_OK;
    memcpy(buf, cell, cell_len);
    buf[cell_len] = '\0';
    if (type != OVL_PARAM_STRING &&
        !ovl_param_value_ok(type == OVL_PARAM_INTEGER ? OVL_PARAM_DECIMAL : type, buf))
        return OVL_OK;
    int c[OVL_TPL_MAX_ITEMS];
    for (size_t i = 0; i < f->nvalues; i++) {
        const char *v = value_text(&f->values[i], vals, n);
        if (!v)
            return ovl_err_set(OVL_ERR_USAGE, "filter on %s: parameter :%s has no value",
                               f->column, f->values[i].text);
        c[i] = cmp_typed(type, buf, v);
    }
    switch (f->op) {
    case OVL_CMP_EQ: *match = c[0] == 0; break;
    case OVL_CMP_NE: *match = c[0] != 0; break;
    case OVL_CMP_LT: *match = c[0] < 0; break;
    case OVL_CMP_LE: *match = c[0] <= 0; break;
    case OVL_CMP_GT: *match = c[0] > 0; break;
    case OVL_CMP_GE: *match = c[0] >= 0; break;
    case OVL_CMP_BETWEEN: *match = c[0] >= 0 && c[1] <= 0; break;
    case OVL_CMP_IN:
        for (size_t i = 0; i < f->nvalues; i++)
            *match = *match || c[i] == 0;
        break;
    }
    return OVL_OK;
}
