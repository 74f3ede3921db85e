/* The pairwise condition circuits (mpc/pairs.h, protocols/aggregate/CONDITIONS.md).
 * Offsets are applied by the contributor before sharing, so every condition is
 * one or two comparisons of equal-width words; signed words compare as
 * unsigned after flipping both sign bits (free), which maps two's complement
 * order onto unsigned order. */
#include <stdlib.h>

#include "core/guard.h"
#include "core/mem.h"
#include "mpc/pairs.h"

static bool group_bits(uint32_t groups) { return groups > 1; }

static uint32_t cells(const ovl_pc_shape *s) { return s->groups_r * s->groups_c; }

static uint32_t cond_words(const ovl_pc_cond *c) { return c->op == OVL_PC_BETWEEN ? 2u : 1u; }

uint32_t ovl_pc_runner_row_bits(const ovl_pc_shape *s)
{
    uint32_t n = 1 + (group_bits(s->groups_r) ? s->groups_r : 0);
    for (uint32_t k = 0; k < s->nconds; k++)
        n += s->conds[k].width;
    return n;
}

uint32_t ovl_pc_contrib_row_bits(const ovl_pc_shape *s)
{
    uint32_t n = 1 + (group_bits(s->groups_c) ? s->groups_c : 0);
    for (uint32_t k = 0; k < s->nconds; k++)
        n += cond_words(&s->conds[k]) * s->conds[k].width;
    return n;
}

uint32_t ovl_pc_out_bits(const ovl_pc_shape *s)
{
    return (s->cap_r * s->cap_c + 1) * cells(s);
}

static uint64_t cond_ands(const ovl_pc_cond *c)
{
    switch (c->op) {
    case OVL_PC_EQ:
    case OVL_PC_NE:
        return c->width - 1u;
    case OVL_PC_BETWEEN:
        return 2u * c->width + 1u;
    default:
        return c->width;
    }
}

uint64_t ovl_pc_and_count(const ovl_pc_shape *s)
{
    uint64_t pairs = (uint64_t)s->cap_r * s->cap_c, k = cells(s);
    uint64_t per_pair = s->nconds + 1u;
    for (uint32_t i = 0; i < s->nconds; i++)
        per_pair += cond_ands(&s->conds[i]);
    per_pair += group_bits(s->groups_c) ? s->groups_c : 0;
    per_pair += group_bits(s->groups_r) ? k : 0;
    return pairs * per_pair + k * (pairs - 1);
}

ovl_err ovl_pc_cost_eval(ovl_pc_cost *out, const ovl_pc_shape *s, uint32_t k_r, uint32_t k_c)
{
    ovl_err rc = ovl_pc_shape_check(s);
    if (rc != OVL_OK)
        return rc;
    if (k_r > 64 || k_c > 64)
        return ovl_err_set(OVL_ERR_USAGE, "pair cost: %u and %u value words per row, at most 64",
                           k_r, k_c);
    uint64_t pairs = (uint64_t)s->cap_r * s->cap_c, k = cells(s), o = ovl_pc_out_bits(s);
    uint64_t crow = (uint64_t)s->cap_c * ovl_pc_contrib_row_bits(s);
    /* The evaluator's labels come by COT: its rows and its share of the
     * contributor's rows here, the decoded validity bits in the equality
     * (only they are ANDed with the match there, protocols/cpsi/SPEC.md
     * §6.6). The garbler's inputs are folded into the garbling: no label is
     * sent. */
    uint64_t eval_in = (uint64_t)s->cap_r * ovl_pc_runner_row_bits(s) + crow + s->cap_c;
    uint64_t l1 = 1u + k_r + k_c;
    out->and_gates = ovl_pc_and_count(s) + s->cap_c;
    out->cots = pairs * k * (1u + (k_c > 0)) + k;
    /* Decoding an output bit sends its permute bit and two 8-byte tags
     * (src/mpc/SPEC.md §GC.5); the equality outputs b ∧ valid for every
     * row, after the match bit whose byte circuit PSI counts. Framing:
     * GC_INPUTS, GC_TABLES and GC_DECODE headers of the bin's instance. */
    out->bytes = 32 * out->and_gates + 16 * eval_in + 16 * o + (o + 7) / 8 + 16 * s->cap_c +
                 (1 + s->cap_c + 7) / 8 - 1 + OVL_PC_GC_FRAMING + 16 * out->cots +
                 8 * pairs * k * (l1 + k_c) + 8 * k;
    return OVL_OK;
}

ovl_err ovl_pc_shape_check(const ovl_pc_shape *s)
{
    if (s->cap_r < 1 || s->cap_r > OVL_PC_MAX_CAP || s->cap_c < 1 || s->cap_c > OVL_PC_MAX_CAP)
        return ovl_err_set(OVL_ERR_LIMIT, "pair conditions: row caps %u and %u must be 1 to %u",
                           s->cap_r, s->cap_c, OVL_PC_MAX_CAP);
    if (s->groups_r < 1 || s->groups_r > OVL_PC_MAX_GROUPS || s->groups_c < 1 ||
        s->groups_c > OVL_PC_MAX_GROUPS)
        return ovl_err_set(OVL_ERR_LIMIT, "pair conditions: %u and %u groups, each must be 1 to %u",
                           s->groups_r, s->groups_c, OVL_PC_MAX_GROUPS);
    if (s->nconds > OVL_PC_MAX_CONDS)
        return ovl_err_set(OVL_ERR_LIMIT, "pair conditions: %u conditions, at most %u", s->nconds,
                           OVL_PC_MAX_CONDS);
    for (uint32_t k = 0; k < s->nconds; k++) {
        const ovl_pc_cond *c = &s->conds[k];
        if (c->op >= OVL_PC_OPS || c->width < 1 || c->width > OVL_PC_MAX_BITS)
            return ovl_err_set(OVL_ERR_USAGE, "pair condition %u: operator %u or width %u invalid",
                               k, c->op, c->width);
    }
    return OVL_OK;
}

/* Copies n wires, flipping the top one when the words are signed. */
static void ordered(ovl_cb *cb, uint32_t *o, const uint32_t *w, uint32_t n, bool is_signed)
{
    for (uint32_t i = 0; i < n; i++)
        o[i] = w[i];
    if (is_signed && n > 0)
        o[n - 1] = ovl_cb_inv(cb, w[n - 1]);
}

uint32_t ovl_cb_cmp(ovl_cb *cb, ovl_pc_op op, const uint32_t *a, const uint32_t *b, uint32_t n,
                    bool is_signed)
{
    uint32_t x[OVL_PC_MAX_BITS], y[OVL_PC_MAX_BITS];
    if (n < 1 || n > OVL_PC_MAX_BITS) {
        if (cb->rc == OVL_OK)
            cb->rc = ovl_err_set(OVL_ERR_USAGE, "comparison of %u-bit words", n);
        return 0;
    }
    switch (op) {
    case OVL_PC_EQ:
        return ovl_cb_eq(cb, a, b, n);
    case OVL_PC_NE:
        return ovl_cb_inv(cb, ovl_cb_eq(cb, a, b, n));
    default:
        break;
    }
    ordered(cb, x, a, n, is_signed);
    ordered(cb, y, b, n, is_signed);
    switch (op) {
    case OVL_PC_GE:
        return ovl_cb_ge(cb, x, y, n);
    case OVL_PC_LT:
        return ovl_cb_inv(cb, ovl_cb_ge(cb, x, y, n));
    case OVL_PC_LE:
        return ovl_cb_ge(cb, y, x, n);
    case OVL_PC_GT:
        return ovl_cb_inv(cb, ovl_cb_ge(cb, y, x, n));
    default:
        if (cb->rc == OVL_OK)
            cb->rc = ovl_err_set(OVL_ERR_USAGE, "comparison operator %u", (unsigned)op);
        return 0;
    }
}

uint32_t ovl_cb_pc_cond(ovl_cb *cb, const ovl_pc_cond *cond, const uint32_t *a,
                        const uint32_t *b, const uint32_t *hi)
{
    if (cond->op != OVL_PC_BETWEEN)
        return ovl_cb_cmp(cb, (ovl_pc_op)cond->op, a, b, cond->width, cond->is_signed);
    uint32_t lo_ok = ovl_cb_cmp(cb, OVL_PC_GE, a, b, cond->width, cond->is_signed);
    uint32_t hi_ok = ovl_cb_cmp(cb, OVL_PC_LE, a, hi, cond->width, cond->is_signed);
    return ovl_cb_and(cb, lo_ok, hi_ok);
}

static uint32_t or2(ovl_cb *cb, uint32_t a, uint32_t b)
{
    return ovl_cb_inv(cb, ovl_cb_and(cb, ovl_cb_inv(cb, a), ovl_cb_inv(cb, b)));
}

/* Wire numbers of one row: validity, one-hot group (absent with one group),
 * then each condition's word(s). */
typedef struct {
    uint32_t valid;
    uint32_t *group;
    uint32_t *words; /* condition k's first word at words + woff[k] */
} row_wires;

static void fill_words(uint32_t *woff, const ovl_pc_shape *s, bool contrib)
{
    uint32_t off = 0;
    for (uint32_t k = 0; k < s->nconds; k++) {
        woff[k] = off;
        off += (contrib ? cond_words(&s->conds[k]) : 1u) * s->conds[k].width;
    }
}

/* The pass bit of pair (i, j): both valid and every condition. */
static uint32_t pair_pass(ovl_cb *cb, const ovl_pc_shape *s, const row_wires *r,
                          const row_wires *c, const uint32_t *roff, const uint32_t *coff)
{
    uint32_t p = ovl_cb_and(cb, r->valid, c->valid);
    for (uint32_t k = 0; k < s->nconds; k++) {
        const ovl_pc_cond *cd = &s->conds[k];
        const uint32_t *lo = c->words + coff[k];
        uint32_t bit = ovl_cb_pc_cond(cb, cd, r->words + roff[k], lo, lo + cd->width);
        p = ovl_cb_and(cb, p, bit);
    }
    return p;
}

static ovl_err rows_alloc(uint32_t **wires, size_t n)
{
    return ovl_calloc((void **)wires, n ? n : 1, sizeof **wires);
}

static void route(ovl_cb *cb, const ovl_pc_shape *s, uint32_t *z, uint32_t *phi, uint32_t p,
                  const row_wires *r, const row_wires *c, bool first)
{
    uint32_t gr = s->groups_r, gc = s->groups_c;
    for (uint32_t cc = 0; cc < gc; cc++) {
        uint32_t t = group_bits(gc) ? ovl_cb_and(cb, p, c->group[cc]) : p;
        for (uint32_t g = 0; g < gr; g++) {
            uint32_t v = group_bits(gr) ? ovl_cb_and(cb, t, r->group[g]) : t;
            uint32_t cell = g * gc + cc;
            z[cell] = v;
            phi[cell] = first ? v : or2(cb, phi[cell], v);
        }
    }
}

static ovl_err build(ovl_cb *cb, const ovl_pc_shape *s, uint32_t *out, uint32_t *rw,
                     uint32_t *cw)
{
    uint32_t rb = ovl_pc_runner_row_bits(s), cbits = ovl_pc_contrib_row_bits(s);
    uint32_t roff[OVL_PC_MAX_CONDS] = {0}, coff[OVL_PC_MAX_CONDS] = {0};
    uint32_t k = cells(s), pairs = s->cap_r * s->cap_c;
    uint32_t in_x = ovl_cb_input(cb, s->cap_c * cbits);
    uint32_t in_m = ovl_cb_input(cb, ovl_pc_out_bits(s));
    uint32_t in_r = ovl_cb_input(cb, s->cap_r * rb);
    uint32_t in_y = ovl_cb_input(cb, s->cap_c * cbits);
    fill_words(roff, s, false);
    fill_words(coff, s, true);
    for (uint32_t i = 0; i < s->cap_r * rb; i++)
        rw[i] = in_r + i;
    /* The contributor's rows are the XOR of its two shares (free). */
    for (uint32_t i = 0; i < s->cap_c * cbits; i++)
        cw[i] = ovl_cb_xor(cb, in_x + i, in_y + i);
    uint32_t *phi = out + pairs * k;
    for (uint32_t i = 0; i < s->cap_r; i++) {
        uint32_t *rbase = rw + i * rb;
        uint32_t rg = group_bits(s->groups_r) ? s->groups_r : 0;
        row_wires r = {.valid = rbase[0], .group = rbase + 1, .words = rbase + 1 + rg};
        for (uint32_t j = 0; j < s->cap_c; j++) {
            uint32_t *cbase = cw + j * cbits;
            uint32_t cg = group_bits(s->groups_c) ? s->groups_c : 0;
            row_wires c = {.valid = cbase[0], .group = cbase + 1, .words = cbase + 1 + cg};
            uint32_t p = pair_pass(cb, s, &r, &c, roff, coff);
            route(cb, s, out + (i * s->cap_c + j) * k, phi, p, &r, &c, i == 0 && j == 0);
        }
    }
    for (uint32_t i = 0; i < ovl_pc_out_bits(s); i++)
        out[i] = ovl_cb_xor(cb, out[i], in_m + i);
    ovl_cb_output(cb, out, ovl_pc_out_bits(s));
    return cb->rc;
}

ovl_err ovl_circuit_pairs(ovl_circuit *out, const ovl_pc_shape *s)
{
    ovl_err rc = OVL_OK;
    ovl_cb cb;
    uint32_t *o = NULL, *rw = NULL, *cw = NULL;
    ovl_cb_init(&cb, 0);
    OVL_TRY(ovl_pc_shape_check(s));
    OVL_TRY(rows_alloc(&o, ovl_pc_out_bits(s)));
    OVL_TRY(rows_alloc(&rw, (size_t)s->cap_r * ovl_pc_runner_row_bits(s)));
    OVL_TRY(rows_alloc(&cw, (size_t)s->cap_c * ovl_pc_contrib_row_bits(s)));
    OVL_TRY(build(&cb, s, o, rw, cw));
    /* The builder levelizes on finish: the pair circuits' ANDs of one depth
     * garble as one batch. */
    OVL_TRY(ovl_cb_finish(&cb, out));
done:
    ovl_cb_free(&cb);
    free(o);
    free(rw);
    free(cw);
    return rc;
}
