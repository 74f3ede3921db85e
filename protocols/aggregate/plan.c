/* The aggregate v2 plan: checks, canonical codec and shapes (plan.h). */
#include <string.h>

#include <sodium.h>

#include "aggregate/plan.h"
#include "aggregate/threshold.h"
#include "core/guard.h"

static ovl_err bad(const char *fmt, unsigned i)
{
    return ovl_err_set(OVL_ERR_MALFORMED, fmt, i);
}

static bool name_ok(const char *s)
{
    const char *z = memchr(s, 0, OVL_AGG2_PLAN_MAX_NAME + 1);
    size_t n = z ? (size_t)(z - s) : OVL_AGG2_PLAN_MAX_NAME + 1;
    if (n == 0 || n > OVL_AGG2_PLAN_MAX_NAME)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20)
            return false;
    return true;
}

/* How many values a token takes from the stack and leaves. */
static bool token_arity(uint8_t op, unsigned *pops)
{
    switch (op) {
    case OVL_AGG2_OP_COUNT_DISTINCT:
    case OVL_AGG2_OP_COUNT_STAR:
    case OVL_AGG2_OP_COUNT:
    case OVL_AGG2_OP_SUM:
    case OVL_AGG2_OP_AVG:
    case OVL_AGG2_OP_INT:
    case OVL_AGG2_OP_DEC:
    case OVL_AGG2_OP_DIM:
        *pops = 0;
        return true;
    case OVL_AGG2_OP_NULLIF0:
        *pops = 1;
        return true;
    case OVL_AGG2_OP_ADD:
    case OVL_AGG2_OP_SUB:
    case OVL_AGG2_OP_MUL:
    case OVL_AGG2_OP_DIV:
        *pops = 2;
        return true;
    default:
        return false;
    }
}

static ovl_err output_check(const ovl_agg2_plan *p, const ovl_agg2_output *o, unsigned i)
{
    if (!name_ok(o->name))
        return bad("aggregate plan: output %u: name empty, too long or with control bytes", i);
    if (o->ntok < 1 || o->ntok > OVL_AGG2_PLAN_MAX_TOKENS)
        return bad("aggregate plan: output %u: expression of no or too many tokens", i);
    unsigned depth = 0;
    for (unsigned t = 0; t < o->ntok; t++) {
        const ovl_agg2_token *k = &o->tok[t];
        unsigned pops;
        if (!token_arity(k->op, &pops))
            return bad("aggregate plan: output %u: unknown operator", i);
        bool col = k->op == OVL_AGG2_OP_COUNT || k->op == OVL_AGG2_OP_SUM ||
                   k->op == OVL_AGG2_OP_AVG;
        if (col ? k->arg >= p->ncols : k->op == OVL_AGG2_OP_DIM ? k->arg >= p->ndims : k->arg != 0)
            return bad("aggregate plan: output %u: column or dimension index out of range", i);
        if (k->op == OVL_AGG2_OP_DEC ? k->decimals > OVL_AGG2_PLAN_MAX_DECIMALS : k->decimals != 0)
            return bad("aggregate plan: output %u: literal decimals out of range", i);
        if (k->op != OVL_AGG2_OP_INT && k->op != OVL_AGG2_OP_DEC && k->value != 0)
            return bad("aggregate plan: output %u: a value on a non-literal token", i);
        if (k->op == OVL_AGG2_OP_DIM && o->ntok != 1)
            return bad("aggregate plan: output %u: a dimension inside an expression", i);
        if (depth < pops)
            return bad("aggregate plan: output %u: operator without its operands", i);
        depth = depth - pops + 1;
    }
    if (depth != 1)
        return bad("aggregate plan: output %u: expression leaves more than one value", i);
    return OVL_OK;
}

ovl_err ovl_agg2_plan_check(const ovl_agg2_plan *p)
{
    ovl_err rc = OVL_OK;
    OVL_ENSURE(p->having <= OVL_AGG2_MAX_THRESHOLD, OVL_ERR_MALFORMED,
               "aggregate plan: HAVING %llu exceeds the threshold cap %u",
               (unsigned long long)p->having, OVL_AGG2_MAX_THRESHOLD);
    OVL_ENSURE(p->receiver <= 1, OVL_ERR_MALFORMED, "aggregate plan: receiver %u (0 or 1)",
               p->receiver);
    OVL_ENSURE(p->ndims <= 2 * OVL_AGG2_PLAN_MAX_DIMS, OVL_ERR_MALFORMED,
               "aggregate plan: %u dimensions", p->ndims);
    for (unsigned i = 0; i < p->ndims; i++) {
        const ovl_agg2_dim *d = &p->dims[i];
        OVL_ENSURE(d->side <= 1 && d->trunc <= OVL_AGG2_TRUNC_MONTH && name_ok(d->name),
                   OVL_ERR_MALFORMED, "aggregate plan: dimension %u: side, truncation or name "
                   "invalid", i);
    }
    OVL_ENSURE(ovl_agg2_plan_dims_of(p, 0) <= OVL_AGG2_PLAN_MAX_DIMS &&
                   ovl_agg2_plan_dims_of(p, 1) <= OVL_AGG2_PLAN_MAX_DIMS,
               OVL_ERR_MALFORMED, "aggregate plan: more than %u dimensions of one party",
               OVL_AGG2_PLAN_MAX_DIMS);
    OVL_ENSURE(p->ncols <= OVL_AGG2_PLAN_MAX_COLS, OVL_ERR_MALFORMED,
               "aggregate plan: %u value columns (at most %u)", p->ncols, OVL_AGG2_PLAN_MAX_COLS);
    for (unsigned i = 0; i < p->ncols; i++) {
        const ovl_agg2_col *c = &p->cols[i];
        OVL_ENSURE(c->side <= 1 && c->decimals <= OVL_AGG2_PLAN_MAX_DECIMALS && name_ok(c->name),
                   OVL_ERR_MALFORMED, "aggregate plan: value column %u: side, decimals or name "
                   "invalid", i);
    }
    OVL_ENSURE(p->noutputs >= 1 && p->noutputs <= OVL_AGG2_PLAN_MAX_OUTPUTS, OVL_ERR_MALFORMED,
               "aggregate plan: %u outputs (1 to %u)", p->noutputs, OVL_AGG2_PLAN_MAX_OUTPUTS);
    for (unsigned i = 0; i < p->noutputs; i++)
        OVL_TRY(output_check(p, &p->outputs[i], i));
    OVL_TRY(ovl_pc_plan_check(&p->pairs));
done:
    return rc;
}

static ovl_err put_name(ovl_buf *b, const char *s)
{
    ovl_err rc = OVL_OK;
    size_t n = strlen(s);
    OVL_TRY(ovl_buf_put_u8(b, (uint8_t)n));
    OVL_TRY(ovl_buf_put_bytes(b, s, n));
done:
    return rc;
}

static ovl_err get_name(ovl_buf *b, char out[static OVL_AGG2_PLAN_MAX_NAME + 1])
{
    ovl_err rc = OVL_OK;
    uint8_t n;
    OVL_TRY(ovl_buf_get_u8(b, &n));
    OVL_ENSURE(n >= 1 && n <= OVL_AGG2_PLAN_MAX_NAME, OVL_ERR_MALFORMED,
               "aggregate plan: a %u-byte name (1 to %u)", n, OVL_AGG2_PLAN_MAX_NAME);
    OVL_TRY(ovl_buf_get_bytes(b, out, n));
    out[n] = '\0';
    OVL_ENSURE(strlen(out) == n, OVL_ERR_MALFORMED, "aggregate plan: a name holds a NUL byte");
done:
    return rc;
}

ovl_err ovl_agg2_plan_write(const ovl_agg2_plan *p, ovl_buf *out)
{
    ovl_err rc = OVL_OK;
    OVL_TRY(ovl_agg2_plan_check(p));
    OVL_TRY(ovl_buf_put_u64(out, p->having));
    OVL_TRY(ovl_buf_put_u8(out, p->receiver));
    OVL_TRY(ovl_buf_put_u8(out, (uint8_t)ovl_agg2_plan_dims_of(p, 0)));
    OVL_TRY(ovl_buf_put_u8(out, (uint8_t)ovl_agg2_plan_dims_of(p, 1)));
    for (unsigned i = 0; i < p->ndims; i++) {
        OVL_TRY(ovl_buf_put_u8(out, p->dims[i].side));
        OVL_TRY(ovl_buf_put_u8(out, p->dims[i].trunc));
        OVL_TRY(put_name(out, p->dims[i].name));
    }
    OVL_TRY(ovl_buf_put_u8(out, p->ncols));
    for (unsigned i = 0; i < p->ncols; i++) {
        OVL_TRY(ovl_buf_put_u8(out, p->cols[i].side));
        OVL_TRY(ovl_buf_put_u8(out, p->cols[i].decimals));
        OVL_TRY(put_name(out, p->cols[i].name));
    }
    OVL_TRY(ovl_buf_put_u8(out, p->noutputs));
    for (unsigned i = 0; i < p->noutputs; i++) {
        const ovl_agg2_output *o = &p->outputs[i];
        OVL_TRY(put_name(out, o->name));
        OVL_TRY(ovl_buf_put_u8(out, o->ntok));
        for (unsigned t = 0; t < o->ntok; t++) {
            const ovl_agg2_token *k = &o->tok[t];
            OVL_TRY(ovl_buf_put_u8(out, k->op));
            if (k->op == OVL_AGG2_OP_COUNT || k->op == OVL_AGG2_OP_SUM ||
                k->op == OVL_AGG2_OP_AVG || k->op == OVL_AGG2_OP_DIM)
                OVL_TRY(ovl_buf_put_u8(out, k->arg));
            if (k->op == OVL_AGG2_OP_INT || k->op == OVL_AGG2_OP_DEC)
                OVL_TRY(ovl_buf_put_u64(out, (uint64_t)k->value));
            if (k->op == OVL_AGG2_OP_DEC)
                OVL_TRY(ovl_buf_put_u8(out, k->decimals));
        }
    }
    OVL_TRY(ovl_pc_plan_write(out, &p->pairs));
done:
    return rc;
}

static ovl_err read_body(ovl_agg2_plan *p, ovl_buf *in)
{
    ovl_err rc = OVL_OK;
    uint8_t dr, dc;
    OVL_TRY(ovl_buf_get_u64(in, &p->having));
    OVL_TRY(ovl_buf_get_u8(in, &p->receiver));
    OVL_TRY(ovl_buf_get_u8(in, &dr));
    OVL_TRY(ovl_buf_get_u8(in, &dc));
    OVL_ENSURE(dr <= OVL_AGG2_PLAN_MAX_DIMS && dc <= OVL_AGG2_PLAN_MAX_DIMS, OVL_ERR_MALFORMED,
               "aggregate plan: %u and %u dimensions (at most %u per party)", dr, dc,
               OVL_AGG2_PLAN_MAX_DIMS);
    p->ndims = (uint8_t)(dr + dc);
    for (unsigned i = 0; i < p->ndims; i++) {
        OVL_TRY(ovl_buf_get_u8(in, &p->dims[i].side));
        OVL_TRY(ovl_buf_get_u8(in, &p->dims[i].trunc));
        OVL_TRY(get_name(in, p->dims[i].name));
    }
    OVL_ENSURE(ovl_agg2_plan_dims_of(p, 0) == dr, OVL_ERR_MALFORMED,
               "aggregate plan: dims_R says %u, the dimensions' sides say otherwise", dr);
    OVL_TRY(ovl_buf_get_u8(in, &p->ncols));
    OVL_ENSURE(p->ncols <= OVL_AGG2_PLAN_MAX_COLS, OVL_ERR_MALFORMED,
               "aggregate plan: %u value columns (at most %u)", p->ncols, OVL_AGG2_PLAN_MAX_COLS);
    for (unsigned i = 0; i < p->ncols; i++) {
        OVL_TRY(ovl_buf_get_u8(in, &p->cols[i].side));
        OVL_TRY(ovl_buf_get_u8(in, &p->cols[i].decimals));
        OVL_TRY(get_name(in, p->cols[i].name));
    }
    OVL_TRY(ovl_buf_get_u8(in, &p->noutputs));
    OVL_ENSURE(p->noutputs <= OVL_AGG2_PLAN_MAX_OUTPUTS, OVL_ERR_MALFORMED,
               "aggregate plan: %u outputs (at most %u)", p->noutputs, OVL_AGG2_PLAN_MAX_OUTPUTS);
    for (unsigned i = 0; i < p->noutputs; i++) {
        ovl_agg2_output *o = &p->outputs[i];
        OVL_TRY(get_name(in, o->name));
        OVL_TRY(ovl_buf_get_u8(in, &o->ntok));
        OVL_ENSURE(o->ntok <= OVL_AGG2_PLAN_MAX_TOKENS, OVL_ERR_MALFORMED,
                   "aggregate plan: output %u has %u tokens (at most %u)", i, o->ntok,
                   OVL_AGG2_PLAN_MAX_TOKENS);
        for (unsigned t = 0; t < o->ntok; t++) {
            ovl_agg2_token *k = &o->tok[t];
            OVL_TRY(ovl_buf_get_u8(in, &k->op));
            if (k->op == OVL_AGG2_OP_COUNT || k->op == OVL_AGG2_OP_SUM ||
                k->op == OVL_AGG2_OP_AVG || k->op == OVL_AGG2_OP_DIM)
                OVL_TRY(ovl_buf_get_u8(in, &k->arg));
            if (k->op == OVL_AGG2_OP_INT || k->op == OVL_AGG2_OP_DEC) {
                uint64_t v;
                OVL_TRY(ovl_buf_get_u64(in, &v));
                k->value = (int64_t)v;
            }
            if (k->op == OVL_AGG2_OP_DEC)
                OVL_TRY(ovl_buf_get_u8(in, &k->decimals));
        }
    }
    OVL_TRY(ovl_pc_plan_read(&p->pairs, in));
    OVL_TRY(ovl_buf_expect_end(in));
    OVL_TRY(ovl_agg2_plan_check(p));
done:
    return rc;
}

ovl_err ovl_agg2_plan_read(ovl_agg2_plan *p, const uint8_t *data, size_t len)
{
    ovl_err rc = OVL_OK;
    ovl_buf in;
    memset(p, 0, sizeof *p);
    OVL_ENSURE(len <= OVL_AGG2_PLAN_MAX, OVL_ERR_MALFORMED,
               "aggregate plan: %zu bytes (at most %u)", len, OVL_AGG2_PLAN_MAX);
    ovl_buf_reader(&in, data, len);
    rc = read_body(p, &in);
done:
    if (rc != OVL_OK)
        memset(p, 0, sizeof *p);
    return rc;
}

void ovl_agg2_plan_free(ovl_agg2_plan *p)
{
    if (p != NULL)
        sodium_memzero(p, sizeof *p);
}

/* ---- shapes ---- */

uint32_t ovl_agg2_plan_cols_of(const ovl_agg2_plan *p, unsigned side)
{
    uint32_t n = 0;
    for (unsigned i = 0; i < p->ncols && i < OVL_AGG2_PLAN_MAX_COLS; i++)
        n += p->cols[i].side == side;
    return n;
}

uint32_t ovl_agg2_plan_dims_of(const ovl_agg2_plan *p, unsigned side)
{
    uint32_t n = 0;
    for (unsigned i = 0; i < p->ndims && i < 2 * OVL_AGG2_PLAN_MAX_DIMS; i++)
        n += p->dims[i].side == side;
    return n;
}

bool ovl_agg2_plan_col_summed(const ovl_agg2_plan *p, uint32_t col)
{
    for (unsigned i = 0; i < p->noutputs && i < OVL_AGG2_PLAN_MAX_OUTPUTS; i++)
        for (unsigned t = 0; t < p->outputs[i].ntok && t < OVL_AGG2_PLAN_MAX_TOKENS; t++) {
            const ovl_agg2_token *k = &p->outputs[i].tok[t];
            if ((k->op == OVL_AGG2_OP_SUM || k->op == OVL_AGG2_OP_AVG) && k->arg == col)
                return true;
        }
    return false;
}

uint32_t ovl_agg2_plan_words(const ovl_agg2_plan *p, unsigned side)
{
    uint32_t k = 0;
    for (unsigned i = 0; i < p->ncols && i < OVL_AGG2_PLAN_MAX_COLS; i++)
        if (p->cols[i].side == side)
            k += 1u + ovl_agg2_plan_col_summed(p, i);
    return k;
}

uint32_t ovl_agg2_plan_star(const ovl_agg2_plan *p)
{
    for (unsigned i = 0; i < p->noutputs && i < OVL_AGG2_PLAN_MAX_OUTPUTS; i++)
        for (unsigned t = 0; t < p->outputs[i].ntok && t < OVL_AGG2_PLAN_MAX_TOKENS; t++)
            if (p->outputs[i].tok[t].op == OVL_AGG2_OP_COUNT_STAR)
                return 1;
    return 0;
}

uint32_t ovl_agg2_plan_record_words(const ovl_agg2_plan *p)
{
    return 7u + ovl_agg2_plan_star(p) + ovl_agg2_plan_k_r(p) + ovl_agg2_plan_k_c(p);
}

uint32_t ovl_agg2_plan_count_word(const ovl_agg2_plan *p, uint32_t col)
{
    if (col >= p->ncols)
        return UINT32_MAX;
    uint32_t k = 0;
    for (uint32_t i = 0; i < col; i++)
        if (p->cols[i].side == p->cols[col].side)
            k += 1u + ovl_agg2_plan_col_summed(p, i);
    return k;
}

uint32_t ovl_agg2_plan_sum_word(const ovl_agg2_plan *p, uint32_t col)
{
    uint32_t k = ovl_agg2_plan_count_word(p, col);
    return k == UINT32_MAX || !ovl_agg2_plan_col_summed(p, col) ? UINT32_MAX : k + 1u;
}
