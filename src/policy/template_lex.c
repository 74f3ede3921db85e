/* Analysis templates: the lexer (tokens of GRAMMAR.md). Every
 * rejection names line:column. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/guard.h"
#include "core/mem.h"
#include "policy/template_impl.h"

static const char *const keywords[] = {
    "SELECT", "FROM", "AS", "INNER", "JOIN", "ON", "WHERE", "AND", "OR", "NOT", "GROUP",
    "BY", "HAVING", "BETWEEN", "IN", "COUNT", "DISTINCT", "SUM", "AVG", "DATE", "LEFT",
    "RIGHT", "FULL", "OUTER", "CROSS", "UNION", "ORDER", "LIMIT", "IS", "NULL", "LIKE",
    "CASE", "EXISTS", NULL};

bool tpl_is_keyword(const char *s)
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

ovl_err tpl_push(pc *c, tokvec *tv, tkind k, size_t off, size_t len, char *text)
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

bool tpl_ident_start(char ch) { return isalpha((unsigned char)ch) || ch == '_'; }
bool tpl_ident_char(char ch) { return isalnum((unsigned char)ch) || ch == '_'; }

/* A quoted string ('...' with '' for a quote) or identifier ("..."). */
static ovl_err lex_quoted(pc *c, tokvec *tv, size_t *i, size_t end)
{
    char q = c->src[*i];
    size_t start = *i, n = 0;
    char *buf = tpl_arena_alloc(c->im, end - start + 1, 1);
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
            return tpl_push(c, tv, q == '\'' ? T_STRING : T_QIDENT, start, *i - start, buf);
        }
        if ((unsigned char)c->src[j] < 0x20 && c->src[j] != '\t')
            return lerr(c, j, "control character in %s", q == '\'' ? "string" : "identifier");
        buf[n++] = c->src[j];
    }
}

ovl_err tpl_lex_range(pc *c, tokvec *tv, size_t from, size_t end, bool in_decl);

/* "-- param ..." declares a parameter, "-- cap rows ..." the per-identifier
 * row cap, "-- decimals ..." value columns' scales and "-- dates ..." the
 * columns holding dates; other comments are dropped. */
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
        ovl_err rc = tpl_lex_range(c, &c->decls, b + 5, e, true);
        if (rc != OVL_OK)
            return rc;
        return tpl_push(c, &c->decls, T_EOL, b, 0, NULL);
    }
    if (e - b >= 4 && strncasecmp(c->src + b, "cap", 3) == 0 &&
        (c->src[b + 3] == ' ' || c->src[b + 3] == '\t')) {
        if (c->capd.n > 0)
            return lerr(c, b, "-- cap rows: given twice");
        ovl_err rc = tpl_lex_range(c, &c->capd, b + 3, e, true);
        if (rc != OVL_OK)
            return rc;
        return tpl_push(c, &c->capd, T_EOL, b, 0, NULL);
    }
    if (e - b >= 9 && strncasecmp(c->src + b, "decimals", 8) == 0 &&
        (c->src[b + 8] == ' ' || c->src[b + 8] == '\t')) {
        ovl_err rc = tpl_lex_range(c, &c->decd, b + 8, e, true);
        if (rc != OVL_OK)
            return rc;
        return tpl_push(c, &c->decd, T_EOL, b, 0, NULL);
    }
    if (e - b >= 6 && strncasecmp(c->src + b, "dates", 5) == 0 &&
        (c->src[b + 5] == ' ' || c->src[b + 5] == '\t')) {
        ovl_err rc = tpl_lex_range(c, &c->datd, b + 5, e, true);
        if (rc != OVL_OK)
            return rc;
        return tpl_push(c, &c->datd, T_EOL, b, 0, NULL);
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
            return tpl_push(c, tv, T_PUNCT, *i - 2, 2, tpl_arena_strndup(c->im, p, 2));
        }
    if (!strchr("(),.*;=<>+-/%", p[0]) || p[0] == '\0')
        return lerr(c, *i, "unexpected character '%c'", isprint((unsigned char)p[0]) ? p[0] : '?');
    *i += 1;
    return tpl_push(c, tv, T_PUNCT, *i - 1, 1, tpl_arena_strndup(c->im, p, 1));
}

ovl_err tpl_lex_range(pc *c, tokvec *tv, size_t from, size_t end, bool in_decl)
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
        } else if (tpl_ident_start(ch)) {
            while (i < end && tpl_ident_char(c->src[i]))
                i++;
            if (i - s > OVL_TPL_MAX_IDENT)
                OVL_FAIL(lerr(c, s, "identifier longer than %u bytes", OVL_TPL_MAX_IDENT));
            OVL_TRY(tpl_push(c, tv, T_IDENT, s, i - s, tpl_arena_strndup(c->im, c->src + s, i - s)));
        } else if (isdigit((unsigned char)ch)) {
            while (i < end && (isdigit((unsigned char)c->src[i]) || c->src[i] == '.'))
                i++;
            if (i < end && tpl_ident_char(c->src[i]))
                OVL_FAIL(lerr(c, s, "malformed number"));
            if (i - s > 40)
                OVL_FAIL(lerr(c, s, "number longer than 40 digits"));
            OVL_TRY(tpl_push(c, tv, T_NUMBER, s, i - s, tpl_arena_strndup(c->im, c->src + s, i - s)));
        } else if (ch == ':' && i + 1 < end && tpl_ident_start(c->src[i + 1])) {
            i++;
            while (i < end && tpl_ident_char(c->src[i]))
                i++;
            if (i - s > OVL_TPL_MAX_IDENT)
                OVL_FAIL(lerr(c, s, "parameter name longer than %u bytes", OVL_TPL_MAX_IDENT));
            OVL_TRY(tpl_push(c, tv, T_PARAM, s, i - s,
                             tpl_arena_strndup(c->im, c->src + s + 1, i - s - 1)));
        } else {
            OVL_TRY(lex_punct(c, tv, &i, end));
        }
    }
done:
    return rc;
}

