/* The receiver's output rows of aggregates version 2 (result.h). Values are
 * exact rationals num/den (den > 0) in 128 bits, reduced after every step,
 * so that rounding happens once, at the end, as SPEC.md §8.4 says. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "aggregate/result.h"
#include "core/guard.h"
#include "core/mem.h"

typedef __int128 i128;
#define I128_MIN (-(i128)(((unsigned __int128)1 << 127) - 1) - 1)

#define FIELD_MAX 96u     /* a 128-bit integer with its sign and point */
#define DIV_DIGITS 6u     /* an expression with '/' */
#define AVG_EXTRA 4u      /* AVG: the column's decimals + 4 */
#define MAX_DIGITS 36u    /* fractional digits any result may ask for */

typedef struct {
    bool null;
    i128 num, den;
    unsigned digits; /* the natural fractional digits of the value */
    bool div;        /* a '/' took part */
} val;

static i128 gcd128(i128 a, i128 b)
{
    if (a < 0)
        a = -a;
    while (b != 0) {
        i128 t = a % b;
        a = b;
        b = t;
    }
    return a;
}

static bool reduce(val *v)
{
    if (v->num == I128_MIN || v->den == I128_MIN) /* the one value without a negation */
        return false;
    if (v->den < 0) {
        v->num = -v->num;
        v->den = -v->den;
    }
    i128 g = gcd128(v->num, v->den);
    if (g > 1) {
        v->num /= g;
        v->den /= g;
    }
    return true;
}

static bool pow10_128(i128 *out, unsigned k)
{
    i128 p = 1;
    for (unsigned i = 0; i < k; i++)
        if (__builtin_mul_overflow(p, 10, &p))
            return false;
    *out = p;
    return true;
}

static val leaf(i128 num, i128 den, unsigned digits)
{
    val v = {.num = num, .den = den, .digits = digits};
    (void)reduce(&v);
    return v;
}

/* a op b for + - * /; false on overflow. */
static bool arith(val *out, const val *a, const val *b, uint8_t op)
{
    val r = {.div = a->div || b->div || op == OVL_AGG2_OP_DIV};
    r.digits = a->digits > b->digits ? a->digits : b->digits;
    if (a->null || b->null) {
        r.null = true;
        *out = r;
        return true;
    }
    i128 x, y;
    switch (op) {
    case OVL_AGG2_OP_ADD:
    case OVL_AGG2_OP_SUB:
        if (__builtin_mul_overflow(a->num, b->den, &x) ||
            __builtin_mul_overflow(b->num, a->den, &y) ||
            __builtin_mul_overflow(a->den, b->den, &r.den))
            return false;
        if (op == OVL_AGG2_OP_ADD ? __builtin_add_overflow(x, y, &r.num)
                                  : __builtin_sub_overflow(x, y, &r.num))
            return false;
        break;
    case OVL_AGG2_OP_MUL:
        r.digits = a->digits + b->digits;
        if (__builtin_mul_overflow(a->num, b->num, &r.num) ||
            __builtin_mul_overflow(a->den, b->den, &r.den))
            return false;
        break;
    default: /* DIV: by zero is NULL, as SQLite */
        if (b->num == 0) {
            r.null = true;
            *out = r;
            return true;
        }
        if (__builtin_mul_overflow(a->num, b->den, &r.num) ||
            __builtin_mul_overflow(a->den, b->num, &r.den))
            return false;
        break;
    }
    if (!reduce(&r))
        return false;
    *out = r;
    return true;
}

/* num/den rounded half to even to k fractional digits, as text. */
static bool format_rounded(char out[static FIELD_MAX], i128 num, i128 den, unsigned k)
{
    i128 scale, a, q, r;
    char digits[FIELD_MAX];
    size_t n = 0, o = 0;
    if (!pow10_128(&scale, k) || __builtin_mul_overflow(num, scale, &a) || a == I128_MIN)
        return false;
    bool neg = a < 0;
    if (neg)
        a = -a;
    q = a / den;
    r = a % den;
    if (r > den - r || (r == den - r && (q & 1)))
        q++;
    do {
        digits[n++] = (char)('0' + (int)(q % 10));
        q /= 10;
    } while (q > 0 || n <= k);
    bool zero = true;
    for (size_t i = 0; i < n; i++)
        zero &= digits[i] == '0';
    if (neg && !zero)
        out[o++] = '-';
    while (n > 0) {
        out[o++] = digits[--n];
        if (n == k && k > 0)
            out[o++] = '.';
    }
    out[o] = '\0';
    return true;
}

typedef struct {
    const ovl_agg2_plan *p;
    uint32_t star, k_r;
} ctx;

/* The cell word of column col: its non-NULL count (sum = false) or its sum. */
static int64_t col_word(const ctx *x, const ovl_agg2_cell *c, uint32_t col, bool sum)
{
    uint32_t base = 1u + x->star + (x->p->cols[col].side == OVL_AGG2_SIDE_C ? x->k_r : 0u);
    uint32_t w = sum ? ovl_agg2_plan_sum_word(x->p, col) : ovl_agg2_plan_count_word(x->p, col);
    return c->words[base + w];
}

static bool token_value(val *v, const ctx *x, const ovl_agg2_cell *c, const ovl_agg2_token *t)
{
    i128 p10 = 1;
    unsigned d = t->op == OVL_AGG2_OP_DEC ? t->decimals : 0;
    if (t->op == OVL_AGG2_OP_SUM || t->op == OVL_AGG2_OP_AVG)
        d = x->p->cols[t->arg].decimals;
    if (!pow10_128(&p10, d))
        return false;
    switch (t->op) {
    case OVL_AGG2_OP_COUNT_DISTINCT:
        *v = leaf(c->words[0], 1, 0);
        return true;
    case OVL_AGG2_OP_COUNT_STAR:
        *v = leaf(c->words[1], 1, 0);
        return true;
    case OVL_AGG2_OP_COUNT:
        *v = leaf(col_word(x, c, t->arg, false), 1, 0);
        return true;
    case OVL_AGG2_OP_INT:
        *v = leaf(t->value, 1, 0);
        return true;
    case OVL_AGG2_OP_DEC:
        *v = leaf(t->value, p10, d);
        return true;
    default: { /* SUM, AVG: NULL over no values */
        int64_t n = col_word(x, c, t->arg, false);
        if (n <= 0) {
            *v = (val){.null = true, .digits = d + (t->op == OVL_AGG2_OP_AVG ? AVG_EXTRA : 0)};
            return true;
        }
        i128 den = p10;
        if (t->op == OVL_AGG2_OP_AVG && __builtin_mul_overflow(den, (i128)n, &den))
            return false;
        *v = leaf(col_word(x, c, t->arg, true), den,
                  d + (t->op == OVL_AGG2_OP_AVG ? AVG_EXTRA : 0));
        return true;
    }
    }
}

static bool eval(val *out, const ctx *x, const ovl_agg2_cell *c, const ovl_agg2_output *o)
{
    val st[OVL_AGG2_PLAN_MAX_TOKENS];
    size_t sp = 0;
    for (unsigned i = 0; i < o->ntok; i++) {
        const ovl_agg2_token *t = &o->tok[i];
        if (t->op == OVL_AGG2_OP_NULLIF0) {
            st[sp - 1].null |= st[sp - 1].num == 0;
        } else if (t->op >= OVL_AGG2_OP_ADD && t->op <= OVL_AGG2_OP_DIV) {
            if (!arith(&st[sp - 2], &st[sp - 2], &st[sp - 1], t->op))
                return false;
            sp--;
        } else if (!token_value(&st[sp++], x, c, t)) {
            return false;
        }
    }
    *out = st[0];
    return true;
}

/* The value of dimension dim from its side's label (§5.2: u16 len || bytes
 * per dimension of that side, in plan order). */
static ovl_err dim_value(char **out, const ovl_agg2_plan *p, const ovl_agg2_cell *c, unsigned dim)
{
    ovl_err rc = OVL_OK;
    ovl_buf b;
    uint16_t len = 0;
    const uint8_t *v = NULL;
    unsigned side = p->dims[dim].side, skip = 0;
    for (unsigned j = 0; j < dim; j++)
        skip += p->dims[j].side == side;
    if (side == OVL_AGG2_SIDE_R)
        ovl_buf_reader(&b, c->label_r, c->label_r_len);
    else
        ovl_buf_reader(&b, c->label_c, c->label_c_len);
    for (unsigned j = 0; j <= skip; j++) {
        rc = ovl_buf_get_u16(&b, &len);
        if (rc == OVL_OK)
            rc = ovl_buf_get_ptr(&b, len, &v);
        OVL_ENSURE(rc == OVL_OK && memchr(v, 0, len) == NULL, OVL_ERR_PROTOCOL,
                   "aggregate result: a released label does not hold dimension '%s'",
                   p->dims[dim].name);
    }
    OVL_TRY(ovl_calloc((void **)out, (size_t)len + 1, 1));
    memcpy(*out, v, len);
done:
    return rc;
}

static ovl_err value_field(char **out, const ctx *x, const ovl_agg2_cell *c,
                           const ovl_agg2_output *o)
{
    ovl_err rc = OVL_OK;
    char text[FIELD_MAX] = "";
    val v;
    bool ok = eval(&v, x, c, o);
    if (ok && !v.null)
        ok = format_rounded(text, v.num, v.den,
                            v.div ? DIV_DIGITS : v.digits > MAX_DIGITS ? MAX_DIGITS : v.digits);
    OVL_ENSURE(ok, OVL_ERR_LIMIT, "aggregate result: output '%s' does not fit 128-bit exact "
               "arithmetic", o->name);
    *out = strdup(text);
    OVL_ENSURE(*out != NULL, OVL_ERR_NOMEM, "out of memory");
    sodium_memzero(text, sizeof text);
done:
    return rc;
}

static int label_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    int c = n ? memcmp(a, b, n) : 0;
    return c != 0 ? c : (alen > blen) - (alen < blen);
}

static int cell_cmp(const void *va, const void *vb)
{
    const ovl_agg2_cell *a = *(const ovl_agg2_cell *const *)va;
    const ovl_agg2_cell *b = *(const ovl_agg2_cell *const *)vb;
    int c = label_cmp(a->label_r, a->label_r_len, b->label_r, b->label_r_len);
    return c != 0 ? c : label_cmp(a->label_c, a->label_c_len, b->label_c, b->label_c_len);
}

static bool has_dim_outputs(const ovl_agg2_plan *p)
{
    for (unsigned i = 0; i < p->noutputs; i++)
        if (p->outputs[i].tok[0].op == OVL_AGG2_OP_DIM)
            return true;
    return false;
}

static ovl_err header(ovl_agg2_result *r, const ovl_agg2_plan *p, bool lead_dims)
{
    ovl_err rc = OVL_OK;
    size_t k = 0;
    OVL_TRY(ovl_calloc((void **)&r->header, r->ncols, sizeof *r->header));
    for (unsigned i = 0; lead_dims && i < p->ndims; i++, k++)
        OVL_ENSURE((r->header[k] = strdup(p->dims[i].name)) != NULL, OVL_ERR_NOMEM,
                   "out of memory");
    for (unsigned i = 0; i < p->noutputs; i++, k++)
        OVL_ENSURE((r->header[k] = strdup(p->outputs[i].name)) != NULL, OVL_ERR_NOMEM,
                   "out of memory");
done:
    return rc;
}

static ovl_err row(ovl_agg2_result *r, const ctx *x, const ovl_agg2_cell *c, size_t at,
                   bool lead_dims)
{
    ovl_err rc = OVL_OK;
    const ovl_agg2_plan *p = x->p;
    char **f = &r->fields[at * r->ncols];
    for (unsigned i = 0; lead_dims && i < p->ndims; i++)
        OVL_TRY(dim_value(f++, p, c, i));
    for (unsigned i = 0; i < p->noutputs; i++) {
        const ovl_agg2_output *o = &p->outputs[i];
        if (o->tok[0].op == OVL_AGG2_OP_DIM)
            OVL_TRY(dim_value(f++, p, c, o->tok[0].arg));
        else
            OVL_TRY(value_field(f++, x, c, o));
    }
done:
    return rc;
}

ovl_err ovl_agg2_result_build(ovl_agg2_result *out, const ovl_agg2_plan *plan,
                              const ovl_agg2_cell *cells, size_t n)
{
    ovl_err rc = OVL_OK;
    const ovl_agg2_cell **order = NULL;
    ctx x = {.p = plan, .star = ovl_agg2_plan_star(plan), .k_r = ovl_agg2_plan_k_r(plan)};
    bool lead_dims = !has_dim_outputs(plan);
    size_t total;
    memset(out, 0, sizeof *out);
    OVL_TRY(ovl_agg2_plan_check(plan));
    out->ncols = (lead_dims ? plan->ndims : 0u) + plan->noutputs;
    OVL_ENSURE(out->ncols > 0, OVL_ERR_USAGE, "aggregate result: the plan selects nothing");
    OVL_ENSURE(ovl_mul_ok(n ? n : 1, out->ncols, &total), OVL_ERR_LIMIT,
               "aggregate result: too many cells");
    OVL_TRY(header(out, plan, lead_dims));
    OVL_TRY(ovl_calloc((void **)&out->fields, total, sizeof *out->fields));
    OVL_TRY(ovl_calloc((void **)&order, n ? n : 1, sizeof *order));
    for (size_t i = 0; i < n; i++)
        order[i] = &cells[i];
    qsort(order, n, sizeof *order, cell_cmp);
    out->nrows = n;
    for (size_t i = 0; i < n; i++)
        OVL_TRY(row(out, &x, order[i], i, lead_dims));
done:
    free(order);
    if (rc != OVL_OK)
        ovl_agg2_result_free(out);
    return rc;
}

void ovl_agg2_result_free(ovl_agg2_result *r)
{
    for (size_t i = 0; r->header && i < r->ncols; i++)
        free(r->header[i]);
    for (size_t i = 0; r->fields && i < r->nrows * r->ncols; i++)
        if (r->fields[i]) {
            sodium_memzero(r->fields[i], strlen(r->fields[i]));
            free(r->fields[i]);
        }
    free(r->header);
    free(r->fields);
    memset(r, 0, sizeof *r);
}
