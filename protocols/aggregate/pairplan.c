/* The conditions-across-parties part of the aggregate plan
 * (aggregate/pairplan.h, CONDITIONS.md §7). */
#include <string.h>

#include "aggregate/pairplan.h"
#include "aggregate/pairrows.h"
#include "core/guard.h"

static ovl_err bad(const char *what, unsigned i)
{
    return ovl_err_set(OVL_ERR_MALFORMED, "aggregate plan: condition %u: %s", i, what);
}

static bool name_ok(const char *s, bool may_be_empty)
{
    size_t n = strlen(s);
    if (n > OVL_PC_PLAN_MAX_NAME || (n == 0 && !may_be_empty))
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20)
            return false;
    return true;
}

static ovl_err cond_check(const ovl_pc_plan_cond *c, unsigned i)
{
    if (c->op >= OVL_PC_OPS)
        return bad("unknown operator", i);
    if (c->type == OVL_PC_TYPE_DATE) {
        if (c->width != OVL_PC_DATE_BITS || c->decimals != 0)
            return bad("a date compares 17-bit day numbers", i);
    } else if (c->type == OVL_PC_TYPE_INT || c->type == OVL_PC_TYPE_DECIMAL) {
        if (c->width < 2 || c->width > 64 || c->lo != 0 || c->hi != 0)
            return bad("a number compares 2- to 64-bit words without intervals", i);
        if (c->type == OVL_PC_TYPE_INT ? c->decimals != 0 : c->decimals > OVL_PC_PLAN_MAX_DECIMALS)
            return bad("decimals out of range", i);
    } else {
        return bad("unknown type", i);
    }
    if (c->lo > OVL_PC_MAX_OFFSET || c->lo < -OVL_PC_MAX_OFFSET || c->hi > OVL_PC_MAX_OFFSET ||
        c->hi < -OVL_PC_MAX_OFFSET || (c->op != OVL_PC_BETWEEN && c->hi != 0))
        return bad("interval out of range", i);
    if (!name_ok(c->r_col, false) || !name_ok(c->c_col, false))
        return bad("column name empty, too long or with control bytes", i);
    return OVL_OK;
}

ovl_err ovl_pc_plan_check(const ovl_pc_plan *p)
{
    if (p->nconds > OVL_PC_MAX_CONDS)
        return ovl_err_set(OVL_ERR_MALFORMED, "aggregate plan: %u conditions across parties, at "
                           "most %u", p->nconds, OVL_PC_MAX_CONDS);
    for (unsigned i = 0; i < p->nconds; i++) {
        ovl_err rc = cond_check(&p->conds[i], i);
        if (rc != OVL_OK)
            return rc;
    }
    if (p->nconds == 0)
        return OVL_OK;
    if (p->cap_rows < 1 || p->cap_rows > OVL_PC_MAX_CAP || !name_ok(p->r_order, true) ||
        !name_ok(p->c_order, true))
        return ovl_err_set(OVL_ERR_MALFORMED, "aggregate plan: row cap %u (1 to %u) or its "
                           "ordering columns invalid", p->cap_rows, OVL_PC_MAX_CAP);
    return OVL_OK;
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

static ovl_err get_name(ovl_buf *b, char out[static OVL_PC_PLAN_MAX_NAME + 1])
{
    ovl_err rc = OVL_OK;
    uint8_t n;
    OVL_TRY(ovl_buf_get_u8(b, &n));
    OVL_ENSURE(n <= OVL_PC_PLAN_MAX_NAME, OVL_ERR_MALFORMED,
               "aggregate plan: a %u-byte column name (at most %u)", n, OVL_PC_PLAN_MAX_NAME);
    OVL_TRY(ovl_buf_get_bytes(b, out, n));
    out[n] = '\0';
    OVL_ENSURE(strlen(out) == n, OVL_ERR_MALFORMED, "aggregate plan: a column name holds a NUL");
done:
    return rc;
}

ovl_err ovl_pc_plan_write(ovl_buf *b, const ovl_pc_plan *p)
{
    ovl_err rc = OVL_OK;
    OVL_TRY(ovl_pc_plan_check(p));
    OVL_TRY(ovl_buf_put_u8(b, p->nconds));
    for (unsigned i = 0; i < p->nconds; i++) {
        const ovl_pc_plan_cond *c = &p->conds[i];
        OVL_TRY(ovl_buf_put_u8(b, c->op));
        OVL_TRY(ovl_buf_put_u8(b, c->type));
        OVL_TRY(ovl_buf_put_u8(b, c->width));
        OVL_TRY(ovl_buf_put_u8(b, c->decimals));
        OVL_TRY(ovl_buf_put_u32(b, (uint32_t)c->lo));
        OVL_TRY(ovl_buf_put_u32(b, (uint32_t)c->hi));
        OVL_TRY(put_name(b, c->r_col));
        OVL_TRY(put_name(b, c->c_col));
    }
    if (p->nconds == 0)
        goto done;
    OVL_TRY(ovl_buf_put_u8(b, p->cap_rows));
    OVL_TRY(put_name(b, p->r_order));
    OVL_TRY(put_name(b, p->c_order));
done:
    return rc;
}

ovl_err ovl_pc_plan_read(ovl_pc_plan *p, ovl_buf *b)
{
    ovl_err rc = OVL_OK;
    memset(p, 0, sizeof *p);
    OVL_TRY(ovl_buf_get_u8(b, &p->nconds));
    OVL_ENSURE(p->nconds <= OVL_PC_MAX_CONDS, OVL_ERR_MALFORMED, "aggregate plan: %u conditions "
               "across parties, at most %u", p->nconds, OVL_PC_MAX_CONDS);
    for (unsigned i = 0; i < p->nconds; i++) {
        ovl_pc_plan_cond *c = &p->conds[i];
        uint32_t lo, hi;
        OVL_TRY(ovl_buf_get_u8(b, &c->op));
        OVL_TRY(ovl_buf_get_u8(b, &c->type));
        OVL_TRY(ovl_buf_get_u8(b, &c->width));
        OVL_TRY(ovl_buf_get_u8(b, &c->decimals));
        OVL_TRY(ovl_buf_get_u32(b, &lo));
        OVL_TRY(ovl_buf_get_u32(b, &hi));
        c->lo = (int32_t)lo;
        c->hi = (int32_t)hi;
        OVL_TRY(get_name(b, c->r_col));
        OVL_TRY(get_name(b, c->c_col));
    }
    if (p->nconds > 0) {
        OVL_TRY(ovl_buf_get_u8(b, &p->cap_rows));
        OVL_TRY(get_name(b, p->r_order));
        OVL_TRY(get_name(b, p->c_order));
    }
    OVL_TRY(ovl_pc_plan_check(p));
done:
    if (rc != OVL_OK)
        memset(p, 0, sizeof *p);
    return rc;
}

static uint8_t mirror_op(uint8_t op)
{
    switch (op) {
    case OVL_PC_LT: return OVL_PC_GT;
    case OVL_PC_LE: return OVL_PC_GE;
    case OVL_PC_GT: return OVL_PC_LT;
    case OVL_PC_GE: return OVL_PC_LE;
    default: return op;
    }
}

void ovl_pc_cond_mirror(ovl_pc_plan_cond *c)
{
    char tmp[OVL_PC_PLAN_MAX_NAME + 1];
    memcpy(tmp, c->r_col, sizeof tmp);
    memcpy(c->r_col, c->c_col, sizeof tmp);
    memcpy(c->c_col, tmp, sizeof tmp);
    if (c->op == OVL_PC_BETWEEN) {
        int32_t lo = c->lo;
        c->lo = -c->hi;
        c->hi = -lo;
    } else {
        c->op = mirror_op(c->op);
        c->lo = -c->lo;
    }
}

bool ovl_pc_cond_holds(const ovl_pc_plan_cond *cond, int64_t r, int64_t c)
{
    int64_t lo = c + cond->lo, hi = c + cond->hi;
    switch (cond->op) {
    case OVL_PC_EQ: return r == lo;
    case OVL_PC_NE: return r != lo;
    case OVL_PC_LT: return r < lo;
    case OVL_PC_LE: return r <= lo;
    case OVL_PC_GT: return r > lo;
    case OVL_PC_GE: return r >= lo;
    default: return lo <= r && r <= hi;
    }
}

ovl_err ovl_pc_plan_shape(ovl_pc_shape *s, const ovl_pc_plan *p, uint32_t groups_r,
                          uint32_t groups_c)
{
    ovl_err rc = ovl_pc_plan_check(p);
    if (rc != OVL_OK)
        return rc;
    if (p->nconds == 0)
        return ovl_err_set(OVL_ERR_USAGE, "aggregate plan: no condition across parties");
    memset(s, 0, sizeof *s);
    s->cap_r = s->cap_c = p->cap_rows;
    s->groups_r = groups_r;
    s->groups_c = groups_c;
    s->nconds = p->nconds;
    for (unsigned i = 0; i < p->nconds; i++)
        s->conds[i] = (ovl_pc_cond){.op = p->conds[i].op, .width = p->conds[i].width,
                                    .is_signed = p->conds[i].type != OVL_PC_TYPE_DATE};
    return ovl_pc_shape_check(s);
}
