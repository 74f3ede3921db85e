/* Analysis templates: the parser, from tokens to the unresolved statement
 * and the parameter declarations (GRAMMAR.md). Every rejection names
 * line:column and the construct. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/guard.h"
#include "core/mem.h"
#include "policy/template_impl.h"

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
ovl_err tpl_perr(const pc *c, size_t a, size_t b, const char *fmt, ...) OVL_PRINTF(4, 5);
ovl_err tpl_perr(const pc *c, size_t a, size_t b, const char *fmt, ...)
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
        return tpl_perr(c, c->pos, c->pos, "expected %s", what);
    c->pos++;
    return OVL_OK;
}

static ovl_err expect_punct(pc *c, const char *p, const char *what)
{
    if (!punct(cur(c), p))
        return tpl_perr(c, c->pos, c->pos, "expected %s", what);
    c->pos++;
    return OVL_OK;
}

static bool is_name(const tok *t)
{
    return t->k == T_QIDENT || (t->k == T_IDENT && !tpl_is_keyword(t->text));
}

static ovl_err name(pc *c, char **out, const char *what)
{
    if (!is_name(cur(c)))
        return tpl_perr(c, c->pos, c->pos, "expected %s", what);
    *out = cur(c)->text;
    c->pos++;
    return OVL_OK;
}


static bool colref_at(const pc *c, size_t k);

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
        return tpl_perr(c, c->pos, c->pos, "qualify columns with their table alias (e.g. a.%s)",
                    cur(c)->text);
    if (punct(cur(c), "(") && kw(at(c, 1), "SELECT"))
        return tpl_perr(c, c->pos, expr_end(c, c->pos), "subqueries are not supported");
    return tpl_perr(c, c->pos, c->pos, "expected a column (alias.column)");
}

static ovl_err reject_arith_after(pc *c, size_t start)
{
    if (!is_arith(cur(c)))
        return OVL_OK;
    size_t e = expr_end(c, start);
    if (spans_two_parties(c, start, e))
        return tpl_perr(c, start, e, "arithmetic across parties' columns cannot be computed privately");
    return tpl_perr(c, start, e, "expressions on columns or aggregates are not supported; "
                             "compute them from the output");
}

/* The argument of an aggregate call, the cursor just past its '(':
 * *, DISTINCT alias.col or alias.col, then ')'. */
static ovl_err parse_agg_body(pc *c, size_t s, const char *fn, bool *star, ovl_aggfn *out,
                              colref *r)
{
    bool count = strcasecmp(fn, "COUNT") == 0;
    if (count && punct(cur(c), "*")) {
        *star = true;
        c->pos++;
    } else if (count && kw(cur(c), "DISTINCT")) {
        *out = OVL_FN_COUNT_DISTINCT;
        c->pos++;
        if (!(colref_at(c, 0) && punct(at(c, 3), ")")))
            return tpl_perr(c, s, expr_end(c, s),
                            "expressions inside aggregates cannot be computed privately");
        ovl_err rc = parse_colref(c, r);
        if (rc != OVL_OK)
            return rc;
    } else {
        if (kw(cur(c), "DISTINCT"))
            return tpl_perr(c, s, expr_end(c, s),
                            "DISTINCT is only supported as COUNT(DISTINCT <join column>)");
        if (!(colref_at(c, 0) && punct(at(c, 3), ")")))
            return tpl_perr(c, s, expr_end(c, s),
                            "expressions inside aggregates cannot be computed privately");
        ovl_err rc = parse_colref(c, r);
        if (rc != OVL_OK)
            return rc;
    }
    return expect_punct(c, ")", "')'");
}

/* DATE_TRUNC('day'|'week'|'month', alias.col), the cursor on DATE_TRUNC. */
static ovl_err parse_date_trunc(pc *c, colref *r)
{
    ovl_err rc = OVL_OK;
    size_t s = c->pos;
    c->pos += 2;
    ovl_trunc unit = cur(c)->k == T_STRING ? ovl_trunc_parse(cur(c)->text) : OVL_TRUNC_NONE;
    if (unit == OVL_TRUNC_NONE)
        OVL_FAIL(tpl_perr(c, s, expr_end(c, s), "DATE_TRUNC truncates to 'day', 'week' or "
                                                "'month'"));
    c->pos++;
    OVL_TRY(expect_punct(c, ",", "',' after the DATE_TRUNC unit"));
    if (!(colref_at(c, 0) && punct(at(c, 3), ")")))
        OVL_FAIL(tpl_perr(c, s, expr_end(c, s), "DATE_TRUNC takes a date column: "
                                                "DATE_TRUNC('week', alias.col)"));
    OVL_TRY(parse_colref(c, r));
    r->tok = s;
    r->trunc = unit;
    OVL_TRY(expect_punct(c, ")", "')'"));
done:
    return rc;
}

static bool is_call(const pc *c, const char *name)
{
    return cur(c)->k == T_IDENT && punct(at(c, 1), "(") && strcasecmp(cur(c)->text, name) == 0;
}

/* ---- arithmetic on aggregates in the select list, to postfix ---- */

static ovl_err x_push(pc *c, sel_item *it, xtok x)
{
    if (it->nxt >= OVL_TPL_MAX_XTOK)
        return tpl_perr(c, it->start, expr_end(c, it->start),
                        "an expression has at most %u aggregates, numbers and operators",
                        OVL_TPL_MAX_XTOK);
    it->xt[it->nxt++] = x;
    return OVL_OK;
}

/* 12 or 1.50 (optionally after '-'): value and decimals, at most 18 digits. */
static ovl_err x_number(pc *c, sel_item *it)
{
    size_t s = c->pos;
    bool neg = punct(cur(c), "-");
    const char *txt = at(c, neg)->text;
    xtok x = {.op = OVL_TPL_X_INT, .start = s, .end = s + neg};
    size_t ndig = 0;
    bool dot = false;
    for (const char *q = txt; *q; q++) {
        if (*q == '.') {
            if (dot || q == txt || q[1] == '\0')
                return tpl_perr(c, s, s + neg, "malformed number");
            dot = true;
            continue;
        }
        if (++ndig > 18)
            return tpl_perr(c, s, s + neg, "a number in an expression has at most 18 digits");
        x.value = x.value * 10 + (*q - '0');
        x.decimals += dot;
    }
    if (dot)
        x.op = OVL_TPL_X_DEC;
    x.value = neg ? -x.value : x.value;
    c->pos += 1 + neg;
    return x_push(c, it, x);
}

static ovl_err x_expr(pc *c, sel_item *it, unsigned depth);

static ovl_err x_agg(pc *c, sel_item *it)
{
    ovl_err rc = OVL_OK;
    xtok x = {.op = OVL_TPL_X_AGG, .start = c->pos};
    const ovl_aggfn_kind *fk = ovl_aggfn_by_call(cur(c)->text);
    x.fn = fk->fn;
    c->pos += 2;
    OVL_TRY(parse_agg_body(c, x.start, fk->call, &x.star, &x.fn, &x.r));
    x.end = c->pos - 1;
    OVL_TRY(x_push(c, it, x));
done:
    return rc;
}

static ovl_err x_factor(pc *c, sel_item *it, unsigned depth)
{
    ovl_err rc = OVL_OK;
    const tok *t = cur(c);
    size_t s = c->pos;
    if (depth > 16)
        OVL_FAIL(tpl_perr(c, it->start, expr_end(c, it->start), "expression nested too deeply"));
    if (punct(t, "(") && kw(at(c, 1), "SELECT")) {
        OVL_FAIL(tpl_perr(c, s, expr_end(c, s), "subqueries are not supported"));
    } else if (punct(t, "(")) {
        c->pos++;
        OVL_TRY(x_expr(c, it, depth + 1));
        OVL_TRY(expect_punct(c, ")", "')'"));
    } else if (is_call(c, "NULLIF")) {
        c->pos += 2;
        OVL_TRY(x_expr(c, it, depth + 1));
        if (!(punct(cur(c), ",") && at(c, 1)->k == T_NUMBER && strcmp(at(c, 1)->text, "0") == 0 &&
              punct(at(c, 2), ")")))
            OVL_FAIL(tpl_perr(c, s, expr_end(c, s), "NULLIF is supported as NULLIF(expression, 0)"));
        c->pos += 3;
        OVL_TRY(x_push(c, it, (xtok){.op = OVL_TPL_X_NULLIF0, .start = s}));
    } else if (t->k == T_IDENT && punct(at(c, 1), "(") && ovl_aggfn_by_call(t->text)) {
        OVL_TRY(x_agg(c, it));
    } else if (t->k == T_NUMBER || (punct(t, "-") && at(c, 1)->k == T_NUMBER)) {
        OVL_TRY(x_number(c, it));
    } else if (t->k == T_PARAM) {
        OVL_FAIL(tpl_perr(c, s, s, "parameters are not supported in the select list"));
    } else if (t->k == T_IDENT && punct(at(c, 1), "(")) {
        OVL_FAIL(tpl_perr(c, s, expr_end(c, s), "functions other than COUNT, SUM, AVG, NULLIF and "
                                                "DATE_TRUNC cannot be computed privately"));
    } else if (colref_at(c, 0)) {
        OVL_FAIL(tpl_perr(c, it->start, expr_end(c, it->start),
                          "arithmetic in the select list combines aggregates and numbers, not "
                          "columns"));
    } else {
        OVL_FAIL(tpl_perr(c, s, s, "expected an aggregate, a number or '('"));
    }
done:
    return rc;
}

static ovl_err x_term(pc *c, sel_item *it, unsigned depth)
{
    ovl_err rc = OVL_OK;
    OVL_TRY(x_factor(c, it, depth));
    while (punct(cur(c), "*") || punct(cur(c), "/")) {
        ovl_tpl_xop op = punct(cur(c), "*") ? OVL_TPL_X_MUL : OVL_TPL_X_DIV;
        c->pos++;
        OVL_TRY(x_factor(c, it, depth));
        OVL_TRY(x_push(c, it, (xtok){.op = op}));
    }
done:
    return rc;
}

static ovl_err x_expr(pc *c, sel_item *it, unsigned depth)
{
    ovl_err rc = OVL_OK;
    OVL_TRY(x_term(c, it, depth));
    while (punct(cur(c), "+") || punct(cur(c), "-")) {
        ovl_tpl_xop op = punct(cur(c), "+") ? OVL_TPL_X_ADD : OVL_TPL_X_SUB;
        c->pos++;
        OVL_TRY(x_term(c, it, depth));
        OVL_TRY(x_push(c, it, (xtok){.op = op}));
    }
done:
    return rc;
}

/* Whether the select item at the cursor is an aggregate or arithmetic on aggregates. */
static bool expr_ahead(const pc *c)
{
    const tok *t = cur(c);
    if (t->k == T_IDENT && punct(at(c, 1), "("))
        return ovl_aggfn_by_call(t->text) != NULL || strcasecmp(t->text, "NULLIF") == 0;
    return (punct(t, "(") && !kw(at(c, 1), "SELECT")) || t->k == T_NUMBER ||
           (punct(t, "-") && at(c, 1)->k == T_NUMBER);
}

static ovl_err parse_select_expr(pc *c, sel_item *it)
{
    ovl_err rc = OVL_OK;
    bool aggs = false;
    OVL_TRY(x_expr(c, it, 0));
    if (is_arith(cur(c)))
        OVL_FAIL(tpl_perr(c, it->start, expr_end(c, it->start), "arithmetic on aggregates is "
                                                                "+, -, * and /"));
    for (size_t i = 0; i < it->nxt; i++) {
        aggs = aggs || it->xt[i].op == OVL_TPL_X_AGG;
        /* the divisor is the token just before a '/' when it is a number */
        if (it->xt[i].op == OVL_TPL_X_DIV && i > 0 &&
            (it->xt[i - 1].op == OVL_TPL_X_INT || it->xt[i - 1].op == OVL_TPL_X_DEC) &&
            it->xt[i - 1].value == 0)
            OVL_FAIL(tpl_perr(c, it->start, expr_end(c, it->start), "division by zero"));
    }
    if (!aggs)
        OVL_FAIL(tpl_perr(c, it->start, expr_end(c, it->start),
                          "constants in SELECT are not supported"));
    if (it->nxt == 1) {
        /* A plain aggregate (parentheses around it change nothing). */
        it->is_agg = true;
        it->fn = it->xt[0].fn;
        it->star = it->xt[0].star;
        it->r = it->xt[0].r;
        it->nxt = 0;
    } else {
        it->is_expr = true;
    }
done:
    return rc;
}

static ovl_err parse_select_item(pc *c, sel_item *it)
{
    ovl_err rc = OVL_OK;
    it->start = c->pos;
    const tok *t = cur(c);
    if (is_call(c, "DATE_TRUNC")) {
        OVL_TRY(parse_date_trunc(c, &it->r));
        OVL_TRY(reject_arith_after(c, it->start));
    } else if (expr_ahead(c)) {
        OVL_TRY(parse_select_expr(c, it));
    } else if ((t->k == T_IDENT) && punct(at(c, 1), "(")) {
        if (kw(at(c, 2), "SELECT"))
            OVL_FAIL(tpl_perr(c, c->pos, expr_end(c, c->pos), "subqueries are not supported"));
        OVL_FAIL(tpl_perr(c, c->pos, expr_end(c, c->pos),
                          "functions other than COUNT, SUM, AVG, NULLIF and DATE_TRUNC cannot be "
                          "computed privately"));
    } else if (punct(t, "*")) {
        OVL_FAIL(tpl_perr(c, c->pos, c->pos, "SELECT * would release rows; select dimension columns "
                                         "and aggregates"));
    } else if (punct(t, "(") && kw(at(c, 1), "SELECT")) {
        OVL_FAIL(tpl_perr(c, c->pos, expr_end(c, c->pos), "subqueries are not supported"));
    } else if (t->k == T_STRING) {
        OVL_FAIL(tpl_perr(c, c->pos, expr_end(c, c->pos), "constants in SELECT are not supported"));
    } else {
        OVL_TRY(parse_colref(c, &it->r));
        OVL_TRY(reject_arith_after(c, it->start));
    }
    it->end = c->pos - 1;
    if (kw(cur(c), "AS")) {
        c->pos++;
        OVL_TRY(name(c, &it->output, "an output column name after AS"));
    } else if (is_name(cur(c))) {
        OVL_TRY(name(c, &it->output, "an output column name"));
    }
    if (it->is_expr && !it->output)
        OVL_FAIL(tpl_perr(c, it->start, it->end, "name the expression's output column with AS "
                                                 "(e.g. AS roas)"));
done:
    return rc;
}

static ovl_err parse_select(pc *c, parsed *p)
{
    ovl_err rc = OVL_OK;
    OVL_TRY(expect_kw(c, "SELECT", "SELECT at the start of the template"));
    if (kw(cur(c), "DISTINCT"))
        OVL_FAIL(tpl_perr(c, c->pos, c->pos, "SELECT DISTINCT is not supported"));
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
        OVL_FAIL(tpl_perr(c, c->pos, expr_end(c, c->pos), "subqueries are not supported"));
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

/* ---- conditions across parties (protocols/aggregate/CONDITIONS.md §2) ---- */

static const struct {
    const char *p;
    ovl_cmp_op op;
} cmp_ops[] = {{"=", OVL_CMP_EQ}, {"<>", OVL_CMP_NE}, {"!=", OVL_CMP_NE}, {"<", OVL_CMP_LT},
               {"<=", OVL_CMP_LE}, {">", OVL_CMP_GT}, {">=", OVL_CMP_GE}};

static ovl_cmp_op cmp_op(const tok *t)
{
    for (size_t i = 0; i < sizeof cmp_ops / sizeof cmp_ops[0]; i++)
        if (punct(t, cmp_ops[i].p))
            return cmp_ops[i].op;
    return (ovl_cmp_op)0;
}

static bool colref_at(const pc *c, size_t k)
{
    return is_name(at(c, k)) && punct(at(c, k + 1), ".") && is_name(at(c, k + 2));
}

/* Whether the condition at the cursor compares a column with a column. */
static bool pair_ahead(const pc *c)
{
    size_t k = 3;
    if (!colref_at(c, 0))
        return false;
    if ((punct(at(c, 3), "+") || punct(at(c, 3), "-")) && kw(at(c, 4), "INTERVAL"))
        k = 6;
    if (kw(at(c, k), "BETWEEN"))
        return colref_at(c, k + 1);
    return cmp_op(at(c, k)) != 0 && colref_at(c, k + 1);
}

/* "'n days'" / "'n day'" / "'n weeks'" / "'n week'" to days. */
static bool interval_days(const char *s, int32_t *days)
{
    int64_t n = 0;
    size_t i = 0;
    if (s[0] < '0' || s[0] > '9')
        return false;
    for (; s[i] >= '0' && s[i] <= '9'; i++)
        if ((n = n * 10 + (s[i] - '0')) > OVL_TPL_MAX_INTERVAL)
            return false;
    if (s[i++] != ' ')
        return false;
    if (strcasecmp(s + i, "day") == 0 || strcasecmp(s + i, "days") == 0)
        ;
    else if (strcasecmp(s + i, "week") == 0 || strcasecmp(s + i, "weeks") == 0)
        n *= 7;
    else
        return false;
    if (n > OVL_TPL_MAX_INTERVAL)
        return false;
    *days = (int32_t)n;
    return true;
}

/* alias.col [(+|-) INTERVAL 'n days'] */
static ovl_err parse_offset_ref(pc *c, colref *r, int32_t *off, bool *interval, size_t start)
{
    ovl_err rc = OVL_OK;
    OVL_TRY(parse_colref(c, r));
    *off = 0;
    if ((punct(cur(c), "+") || punct(cur(c), "-")) && kw(at(c, 1), "INTERVAL")) {
        bool neg = punct(cur(c), "-");
        size_t s = c->pos;
        if (at(c, 2)->k != T_STRING || !interval_days(at(c, 2)->text, off))
            OVL_FAIL(tpl_perr(c, s, s + 2, "an interval is INTERVAL 'n days' or 'n weeks', "
                                           "at most %d days", OVL_TPL_MAX_INTERVAL));
        *off = neg ? -*off : *off;
        *interval = true;
        c->pos += 3;
    }
    OVL_TRY(reject_arith_after(c, start));
done:
    return rc;
}

static ovl_err parse_pair(pc *c, parsed *p)
{
    ovl_err rc = OVL_OK;
    OVL_ENSURE(p->npairs < OVL_TPL_MAX_PAIRS, OVL_ERR_INPUT,
               "%s: more than %u conditions across parties", c->label, OVL_TPL_MAX_PAIRS);
    pairc *q = &p->pairs[p->npairs];
    q->start = c->pos;
    int32_t left = 0;
    /* l + x op r + y is l op r + (y - x): the offset moves to the right. */
    OVL_TRY(parse_offset_ref(c, &q->l, &left, &q->interval, q->start));
    if (kw(cur(c), "BETWEEN")) {
        c->pos++;
        q->op = OVL_CMP_BETWEEN;
        OVL_TRY(parse_offset_ref(c, &q->r, &q->off, &q->interval, q->start));
        OVL_TRY(expect_kw(c, "AND", "AND in BETWEEN ... AND ..."));
        OVL_TRY(parse_offset_ref(c, &q->r2, &q->off2, &q->interval, q->start));
    } else {
        q->op = cmp_op(cur(c));
        OVL_ENSURE(q->op != 0, OVL_ERR_INPUT, "%s: expected a comparison", c->label);
        c->pos++;
        OVL_TRY(parse_offset_ref(c, &q->r, &q->off, &q->interval, q->start));
    }
    q->off -= left;
    q->off2 -= left;
    if (q->off > OVL_TPL_MAX_INTERVAL || q->off < -OVL_TPL_MAX_INTERVAL ||
        q->off2 > OVL_TPL_MAX_INTERVAL || q->off2 < -OVL_TPL_MAX_INTERVAL)
        OVL_FAIL(tpl_perr(c, q->start, c->pos - 1, "the intervals add up to more than %d days",
                          OVL_TPL_MAX_INTERVAL));
    q->end = c->pos ? c->pos - 1 : 0;
    p->npairs++;
done:
    return rc;
}

/* After ON's join equality: AND conditions across parties only. */
static ovl_err parse_on_conditions(pc *c, parsed *p)
{
    ovl_err rc = OVL_OK;
    while (kw(cur(c), "AND")) {
        c->pos++;
        if (!pair_ahead(c))
            OVL_FAIL(tpl_perr(c, c->pos, expr_end(c, c->pos),
                              "ON holds the join equality and conditions comparing a column of "
                              "each table; filter a table's own columns in WHERE"));
        OVL_TRY(parse_pair(c, p));
    }
    if (kw(cur(c), "OR"))
        OVL_FAIL(tpl_perr(c, c->pos, c->pos, "OR is not supported: conditions are combined with "
                                             "AND"));
done:
    return rc;
}

static ovl_err parse_from(pc *c, ovl_template *t, parsed *p)
{
    ovl_err rc = OVL_OK;
    OVL_TRY(expect_kw(c, "FROM", "FROM after the select list"));
    OVL_TRY(parse_table_ref(c, t, 0));
    if (punct(cur(c), ","))
        OVL_FAIL(tpl_perr(c, c->pos, c->pos, "comma joins are not supported; use INNER JOIN ... ON"));
    if (kw(cur(c), "LEFT") || kw(cur(c), "RIGHT") || kw(cur(c), "FULL") || kw(cur(c), "CROSS") ||
        kw(cur(c), "OUTER"))
        OVL_FAIL(tpl_perr(c, c->pos, c->pos + 1, "only INNER JOIN can be computed privately"));
    if (kw(cur(c), "INNER"))
        c->pos++;
    OVL_TRY(expect_kw(c, "JOIN", "INNER JOIN: a template reads exactly two tables"));
    OVL_TRY(parse_table_ref(c, t, 1));
    OVL_TRY(expect_kw(c, "ON", "ON after the joined table"));
    p->on_tok = c->pos;
    OVL_TRY(parse_colref(c, &p->on[0]));
    if (!punct(cur(c), "="))
        OVL_FAIL(tpl_perr(c, p->on_tok, expr_end(c, p->on_tok),
                      "a join matches join columns by equality only"));
    c->pos++;
    if (c->toks.v[c->pos].k != T_IDENT && c->toks.v[c->pos].k != T_QIDENT)
        OVL_FAIL(tpl_perr(c, p->on_tok, expr_end(c, p->on_tok),
                      "a join matches a join column of each table"));
    OVL_TRY(parse_colref(c, &p->on[1]));
    OVL_TRY(reject_arith_after(c, p->on_tok));
    OVL_TRY(parse_on_conditions(c, p));
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
            return tpl_perr(c, s, s + 1, "not a valid date (YYYY-MM-DD)");
        c->pos += 2;
    } else if (t->k == T_NUMBER || (punct(t, "-") && at(c, 1)->k == T_NUMBER)) {
        bool neg = punct(t, "-");
        const char *num = neg ? at(c, 1)->text : t->text;
        size_t n = strlen(num);
        char *txt = tpl_arena_alloc(c->im, n + 2, 1);
        if (!txt)
            return ovl_err_set(OVL_ERR_NOMEM, "out of memory");
        snprintf(txt, n + 2, "%s%s", neg ? "-" : "", num);
        v->type = strchr(txt, '.') ? OVL_PARAM_DECIMAL : OVL_PARAM_INTEGER;
        if (!ovl_param_value_ok(v->type, txt))
            return tpl_perr(c, s, s + neg, "malformed number");
        v->text = txt;
        c->pos += 1 + neg;
    } else if (punct(t, "(") && kw(at(c, 1), "SELECT")) {
        return tpl_perr(c, s, expr_end(c, s), "subqueries are not supported");
    } else if (is_name(t) && punct(at(c, 1), ".")) {
        size_t e = expr_end(c, cond_start);
        if (spans_two_parties(c, cond_start, e))
            return tpl_perr(c, cond_start, e, "a condition across parties compares two columns: "
                                          "x.col op y.col [+ INTERVAL 'n days'] or x.col BETWEEN "
                                          "y.col ... AND y.col ...");
        return tpl_perr(c, cond_start, e, "a filter compares a column with literals or :parameters");
    } else {
        return tpl_perr(c, s, s, "expected a literal ('text', 12, 1.5, DATE '2026-07-01') or a "
                             ":parameter");
    }
    return is_arith(cur(c)) ? tpl_perr(c, s, expr_end(c, s), "expressions are not supported in filters")
                            : OVL_OK;
}

static ovl_err parse_in_list(pc *c, filt *f)
{
    ovl_err rc = OVL_OK;
    if (punct(cur(c), "(") && kw(at(c, 1), "SELECT"))
        OVL_FAIL(tpl_perr(c, c->pos, expr_end(c, c->pos), "subqueries are not supported"));
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
        OVL_FAIL(tpl_perr(c, c->pos, expr_end(c, c->pos), "NOT and EXISTS are not supported"));
    if (punct(cur(c), "("))
        OVL_FAIL(tpl_perr(c, c->pos, expr_end(c, c->pos),
                      kw(at(c, 1), "SELECT") ? "subqueries are not supported"
                                             : "parentheses are not supported in WHERE"));
    if (cur(c)->k == T_STRING || cur(c)->k == T_NUMBER || cur(c)->k == T_PARAM)
        OVL_FAIL(tpl_perr(c, c->pos, expr_end(c, c->pos), "put the column on the left of a filter"));
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
        OVL_FAIL(tpl_perr(c, f->start, expr_end(c, f->start),
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
        if (pair_ahead(c))
            OVL_TRY(parse_pair(c, p));
        else
            OVL_TRY(parse_cond(c, &p->filters[p->nfilters++]));
        if (kw(cur(c), "OR"))
            OVL_FAIL(tpl_perr(c, c->pos, c->pos,
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
            if (*end != '\0' || k < 1 || k > p->nsel || p->sel[k - 1].is_agg ||
                p->sel[k - 1].is_expr)
                OVL_FAIL(tpl_perr(c, c->pos, c->pos, "GROUP BY position must name a selected column"));
            *g = p->sel[k - 1].r;
            g->tok = c->pos++;
        } else if (is_call(c, "DATE_TRUNC")) {
            OVL_TRY(parse_date_trunc(c, g));
            OVL_TRY(reject_arith_after(c, g->tok));
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

/* HAVING COUNT(DISTINCT alias.<join column>) >= k only: the threshold counts
 * identifiers (SPEC §1). */
static ovl_err parse_having(pc *c, parsed *p, ovl_template *t)
{
    ovl_err rc = OVL_OK;
    size_t s;
    static const char shape[] = "HAVING must be COUNT(DISTINCT a.<join column>) >= k";
    if (!kw(cur(c), "HAVING"))
        return OVL_OK;
    c->pos++;
    s = p->having_tok = c->pos;
    if (!(kw(cur(c), "COUNT") && punct(at(c, 1), "(")))
        OVL_FAIL(tpl_perr(c, s, expr_end(c, s), "%s", shape));
    c->pos += 2;
    if (punct(cur(c), "*"))
        OVL_FAIL(tpl_perr(c, s, expr_end(c, s), "HAVING COUNT(*) is refused: one customer with "
                                                "many rows would pass it; the threshold counts "
                                                "customers: HAVING COUNT(DISTINCT a.<join "
                                                "column>) >= k"));
    if (!kw(cur(c), "DISTINCT"))
        OVL_FAIL(tpl_perr(c, s, expr_end(c, s), "%s", shape));
    c->pos++;
    OVL_TRY(parse_colref(c, &p->having_ref));
    OVL_TRY(expect_punct(c, ")", "')'"));
    if (!punct(cur(c), ">=") || at(c, 1)->k != T_NUMBER)
        OVL_FAIL(tpl_perr(c, s, expr_end(c, s), "HAVING must compare the count with >= and a whole "
                                            "number"));
    c->pos++;
    char *end;
    unsigned long long k = strtoull(cur(c)->text, &end, 10);
    /* A group of one would publish that person's own values. */
    if (*end != '\0' || k < OVL_MIN_ROWS_LO || k > OVL_MIN_ROWS_HI)
        OVL_FAIL(tpl_perr(c, c->pos, c->pos, "the threshold must be a whole number from %u to %u",
                          OVL_MIN_ROWS_LO, OVL_MIN_ROWS_HI));
    t->threshold = k;
    c->pos++;
    p->having = true;
    if (kw(cur(c), "AND") || kw(cur(c), "OR"))
        OVL_FAIL(tpl_perr(c, c->pos, expr_end(c, c->pos + 1), "HAVING has exactly one condition"));
done:
    return rc;
}

ovl_err tpl_parse_statement(pc *c, parsed *p, ovl_template *t)
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
        OVL_FAIL(tpl_perr(c, c->pos, expr_end(c, c->pos), "%s", what));
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
    pr->allowed = tpl_arena_alloc(c->im, OVL_TPL_MAX_ITEMS, sizeof *pr->allowed);
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

ovl_err tpl_parse_decls(pc *c, ovl_template *t)
{
    ovl_err rc = OVL_OK;
    size_t count = 0;
    for (size_t i = 0; i < c->decls.n; i++)
        count += c->decls.v[i].k == T_EOL;
    OVL_ENSURE(count <= OVL_TPL_MAX_ITEMS, OVL_ERR_INPUT, "%s: more than %u parameters", c->label,
               OVL_TPL_MAX_ITEMS);
    t->params = tpl_arena_alloc(c->im, count + 1, sizeof *t->params);
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


/* ---- "-- cap rows N [by alias.col [, alias.col]]" (CONDITIONS.md §3.2) ---- */

static ovl_err cerr(const pc *c, const tok *t, const char *fmt, ...) OVL_PRINTF(3, 4);
static ovl_err cerr(const pc *c, const tok *t, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return ovl_err_set(OVL_ERR_INPUT, "%s:%u:%u: -- cap rows: %s", c->label, t->line, t->col, msg);
}

static ovl_err cap_order(const pc *c, ovl_template *t, const tok *d)
{
    if (!(d[0].k == T_IDENT || d[0].k == T_QIDENT) || d[1].k != T_PUNCT ||
        strcmp(d[1].text, ".") != 0 || !(d[2].k == T_IDENT || d[2].k == T_QIDENT))
        return cerr(c, d, "expected alias.column after BY");
    for (int k = 0; k < 2; k++)
        if (strcmp(d[0].text, t->alias[k]) == 0) {
            if (t->cap_order[k])
                return cerr(c, d, "one ordering column per table");
            t->cap_order[k] = d[2].text;
            return OVL_OK;
        }
    return cerr(c, d, "unknown table alias '%s'", d[0].text);
}

ovl_err tpl_parse_cap(pc *c, ovl_template *t)
{
    const tok *d = c->capd.v;
    if (d[0].k == T_EOF) {
        t->cap_rows = t->npairs ? OVL_TPL_DEFAULT_CAP_ROWS : 0;
        return OVL_OK;
    }
    if (!t->npairs)
        return cerr(c, d, "a cap applies only with conditions across parties (ON or WHERE "
                          "comparing a column of each table)");
    if (d[0].k != T_IDENT || strcasecmp(d[0].text, "rows") != 0 || d[1].k != T_NUMBER)
        return cerr(c, d, "expected -- cap rows N [by alias.col [, alias.col]]");
    char *end = NULL;
    unsigned long n = strtoul(d[1].text, &end, 10);
    if (*end != '\0' || n < 1 || n > OVL_TPL_MAX_CAP_ROWS)
        return cerr(c, &d[1], "N must be an integer from 1 to %u", OVL_TPL_MAX_CAP_ROWS);
    t->cap_rows = (uint32_t)n;
    size_t i = 2;
    if (d[i].k == T_IDENT && strcasecmp(d[i].text, "by") == 0) {
        for (i++;; i += 4) {
            ovl_err rc = cap_order(c, t, &d[i]);
            if (rc != OVL_OK)
                return rc;
            if (!(d[i + 3].k == T_PUNCT && strcmp(d[i + 3].text, ",") == 0))
                break;
        }
        i += 3;
    }
    if (d[i].k != T_EOL)
        return cerr(c, &d[i], "expected the end of the line");
    return OVL_OK;
}


/* ---- "-- decimals alias.col N [, alias.col N]" (SPEC §5.1) ---- */

/* An error in a declaration line (decl: "decimals", "dates"), at its token. */
static ovl_err decl_err(const pc *c, const tok *t, const char *decl, const char *fmt, ...)
    OVL_PRINTF(4, 5);
static ovl_err decl_err(const pc *c, const tok *t, const char *decl, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return ovl_err_set(OVL_ERR_INPUT, "%s:%u:%u: -- %s: %s", c->label, t->line, t->col, decl, msg);
}
#define scale_err(c, t, ...) decl_err(c, t, "decimals", __VA_ARGS__)
#define date_err(c, t, ...) decl_err(c, t, "dates", __VA_ARGS__)

/* Whether an aggregate of the select list or of an expression reads this
 * column with a function `want` accepts. */
static bool agg_reads(const ovl_template *t, int party, const char *col, bool (*want)(ovl_aggfn))
{
    for (size_t i = 0; i < t->naggs; i++)
        if (t->aggs[i].party == party && t->aggs[i].column &&
            strcmp(t->aggs[i].column, col) == 0 && want(t->aggs[i].fn))
            return true;
    for (size_t e = 0; e < t->nexprs; e++)
        for (size_t i = 0; i < t->exprs[e].ntok; i++) {
            const ovl_tpl_agg *a = &t->exprs[e].tok[i].agg;
            if (t->exprs[e].tok[i].op == OVL_TPL_X_AGG && a->party == party && a->column &&
                strcmp(a->column, col) == 0 && want(a->fn))
                return true;
        }
    return false;
}

static bool not_distinct(ovl_aggfn fn) { return fn != OVL_FN_COUNT_DISTINCT; }

/* Whether the template aggregates this column (SUM, AVG or COUNT of it) or
 * compares it with the peer's (its scale is then the condition's). */
static bool aggregated(const ovl_template *t, int party, const char *col)
{
    for (size_t i = 0; i < t->npairs; i++)
        if (strcmp(t->pairs[i].column[party], col) == 0)
            return true;
    return agg_reads(t, party, col, not_distinct);
}

static ovl_err parse_scale(const pc *c, ovl_template *t, const tok *d)
{
    int party = -1;
    if (!(d[0].k == T_IDENT || d[0].k == T_QIDENT) || d[1].k != T_PUNCT ||
        strcmp(d[1].text, ".") != 0 || !(d[2].k == T_IDENT || d[2].k == T_QIDENT) ||
        d[3].k != T_NUMBER)
        return scale_err(c, d, "expected -- decimals alias.col N [, alias.col N]");
    for (int k = 0; k < 2; k++)
        if (strcmp(d[0].text, t->alias[k]) == 0)
            party = k;
    if (party < 0)
        return scale_err(c, d, "unknown table alias '%s'", d[0].text);
    if (!aggregated(t, party, d[2].text))
        return scale_err(c, d, "%s.%s is not summed, averaged, counted or compared by the "
                         "template",
                         d[0].text, d[2].text);
    char *end = NULL;
    unsigned long n = strtoul(d[3].text, &end, 10);
    if (*end != '\0' || n > OVL_TPL_MAX_DECIMALS)
        return scale_err(c, &d[3], "N must be an integer from 0 to %u", OVL_TPL_MAX_DECIMALS);
    for (size_t i = 0; i < t->nscales; i++)
        if (t->scales[i].party == party && strcmp(t->scales[i].column, d[2].text) == 0)
            return scale_err(c, d, "%s.%s is declared twice", d[0].text, d[2].text);
    t->scales[t->nscales++] = (ovl_tpl_scale){party, d[2].text, (unsigned)n};
    return OVL_OK;
}

typedef ovl_err (*decl_entry_fn)(const pc *c, ovl_template *t, const tok *d);

/* The entries of one kind of declaration line (-- decimals, -- dates), each
 * `width` tokens, separated by ',' or ending a line. */
static ovl_err parse_decl_entries(const pc *c, ovl_template *t, const tok *d, size_t width,
                                  decl_entry_fn entry, const char *decl, const char *usage)
{
    for (size_t i = 0; d[i].k != T_EOF;) {
        for (size_t k = 0; k < width; k++)
            if (d[i + k].k == T_EOL || d[i + k].k == T_EOF)
                return decl_err(c, &d[i], decl, "expected %s", usage);
        ovl_err rc = entry(c, t, &d[i]);
        if (rc != OVL_OK)
            return rc;
        i += width;
        if (d[i].k == T_PUNCT && strcmp(d[i].text, ",") == 0 && d[i + 1].k != T_EOL)
            i++;
        else if (d[i].k == T_EOL)
            i++;
        else
            return decl_err(c, &d[i], decl, "expected ',' or the end of the line");
    }
    return OVL_OK;
}

ovl_err tpl_parse_decimals(pc *c, ovl_template *t)
{
    const tok *d = c->decd.v;
    size_t count = 0;
    for (size_t i = 0; i < c->decd.n; i++)
        count += d[i].k == T_NUMBER;
    if (count > OVL_TPL_MAX_ITEMS)
        return scale_err(c, d, "more than %u columns", OVL_TPL_MAX_ITEMS);
    t->scales = tpl_arena_alloc(c->im, count + 1, sizeof *t->scales);
    if (!t->scales)
        return ovl_err_set(OVL_ERR_NOMEM, "out of memory");
    return parse_decl_entries(c, t, d, 4, parse_scale, "decimals",
                              "-- decimals alias.col N [, alias.col N]");
}


/* ---- "-- dates alias.col [, alias.col]" (CONDITIONS.md §2.1) ---- */

/* Whether a condition compares this column: one across parties or a WHERE
 * filter (the declaration types both). */
static bool compared(const ovl_template *t, int party, const char *col)
{
    for (size_t i = 0; i < t->npairs; i++)
        if (strcmp(t->pairs[i].column[party], col) == 0)
            return true;
    for (size_t i = 0; i < t->nfilters; i++)
        if (t->filters[i].party == party && strcmp(t->filters[i].column, col) == 0)
            return true;
    return false;
}

/* Whether SUM or AVG reads this column (a date has no sum). */
static bool summed(const ovl_template *t, int party, const char *col)
{
    return agg_reads(t, party, col, ovl_aggfn_reads_values);
}

static ovl_err parse_datecol(const pc *c, ovl_template *t, const tok *d)
{
    int party = -1;
    if (!(d[0].k == T_IDENT || d[0].k == T_QIDENT) || d[1].k != T_PUNCT ||
        strcmp(d[1].text, ".") != 0 || !(d[2].k == T_IDENT || d[2].k == T_QIDENT))
        return date_err(c, d, "expected -- dates alias.col [, alias.col]");
    for (int k = 0; k < 2; k++)
        if (strcmp(d[0].text, t->alias[k]) == 0)
            party = k;
    if (party < 0)
        return date_err(c, d, "unknown table alias '%s'", d[0].text);
    const char *col = d[2].text;
    if (!compared(t, party, col))
        return date_err(c, d, "%s.%s is not compared by the template (the declaration types "
                        "the columns of conditions)", d[0].text, col);
    if (summed(t, party, col))
        return date_err(c, d, "%s.%s is summed or averaged: a date can be compared, truncated "
                        "or counted", d[0].text, col);
    for (size_t i = 0; i < t->nscales; i++)
        if (t->scales[i].party == party && strcmp(t->scales[i].column, col) == 0)
            return date_err(c, d, "%s.%s is declared with -- decimals too: a column holds "
                            "dates or numbers", d[0].text, col);
    if (ovl_template_is_date(t, party, col))
        return date_err(c, d, "%s.%s is declared twice", d[0].text, col);
    t->dates[t->ndates++] = (ovl_tpl_datecol){party, d[2].text};
    return OVL_OK;
}

ovl_err tpl_parse_dates(pc *c, ovl_template *t)
{
    const tok *d = c->datd.v;
    size_t count = 0;
    for (size_t i = 0; i < c->datd.n; i++)
        count += d[i].k == T_PUNCT && strcmp(d[i].text, ".") == 0;
    if (count > OVL_TPL_MAX_ITEMS)
        return date_err(c, d, "more than %u columns", OVL_TPL_MAX_ITEMS);
    t->dates = tpl_arena_alloc(c->im, count + 1, sizeof *t->dates);
    if (!t->dates)
        return ovl_err_set(OVL_ERR_NOMEM, "out of memory");
    return parse_decl_entries(c, t, d, 3, parse_datecol, "dates",
                              "-- dates alias.col [, alias.col]");
}
