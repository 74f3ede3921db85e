/* Circuit gadgets over n-bit words (mpc/circuit.h). The carry of a + b + c
 * is c ^ ((a ^ c) & (b ^ c)): one AND per bit, the rest free under free-XOR. */
#include "core/guard.h"
#include "mpc/circuit.h"

static uint32_t carry(ovl_cb *cb, uint32_t a, uint32_t b, uint32_t c)
{
    return ovl_cb_xor(cb, c, ovl_cb_and(cb, ovl_cb_xor(cb, a, c), ovl_cb_xor(cb, b, c)));
}

/* s = a + b' + cin, b' being b or its complement; no carry after the top bit. */
static void add_with(ovl_cb *cb, uint32_t *s, const uint32_t *a, const uint32_t *b, uint32_t n,
                     bool invert_b)
{
    if (n == 0)
        return;
    uint32_t c = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t bi = invert_b ? ovl_cb_inv(cb, b[i]) : b[i];
        uint32_t si;
        if (i == 0 && !invert_b)
            si = ovl_cb_xor(cb, a[i], bi);
        else if (i == 0) /* carry-in 1: a + ~b + 1 */
            si = ovl_cb_inv(cb, ovl_cb_xor(cb, a[i], bi));
        else
            si = ovl_cb_xor(cb, ovl_cb_xor(cb, a[i], bi), c);
        if (i + 1 < n) {
            if (i == 0 && !invert_b)
                c = ovl_cb_and(cb, a[i], bi);
            else if (i == 0) /* majority(a, ~b, 1) = a | ~b = !(!a & b) */
                c = ovl_cb_inv(cb, ovl_cb_and(cb, ovl_cb_inv(cb, a[i]), b[i]));
            else
                c = carry(cb, a[i], bi, c);
        }
        s[i] = si;
    }
}

void ovl_cb_add(ovl_cb *cb, uint32_t *s, const uint32_t *a, const uint32_t *b, uint32_t n)
{
    add_with(cb, s, a, b, n, false);
}

void ovl_cb_sub(ovl_cb *cb, uint32_t *d, const uint32_t *a, const uint32_t *b, uint32_t n)
{
    add_with(cb, d, a, b, n, true);
}

/* AND of all bits as a balanced tree (depth log n, n-1 ANDs). */
static uint32_t and_all(ovl_cb *cb, uint32_t *w, uint32_t n)
{
    while (n > 1) {
        uint32_t m = 0;
        for (uint32_t i = 0; i + 1 < n; i += 2)
            w[m++] = ovl_cb_and(cb, w[i], w[i + 1]);
        if (n & 1)
            w[m++] = w[n - 1];
        n = m;
    }
    return w[0];
}

uint32_t ovl_cb_eq(ovl_cb *cb, const uint32_t *a, const uint32_t *b, uint32_t n)
{
    uint32_t tmp[64];
    uint32_t acc = ovl_cb_const(cb, true);
    /* Chunks of 64 bits keep the scratch on the stack for any n. */
    for (uint32_t off = 0; off < n; off += 64) {
        uint32_t m = n - off < 64 ? n - off : 64;
        for (uint32_t i = 0; i < m; i++)
            tmp[i] = ovl_cb_inv(cb, ovl_cb_xor(cb, a[off + i], b[off + i]));
        uint32_t part = and_all(cb, tmp, m);
        acc = off == 0 ? part : ovl_cb_and(cb, acc, part);
    }
    return acc;
}

uint32_t ovl_cb_ge(ovl_cb *cb, const uint32_t *a, const uint32_t *b, uint32_t n)
{
    /* a >= b iff a + ~b + 1 carries out of the top bit. */
    uint32_t c = ovl_cb_const(cb, true);
    for (uint32_t i = 0; i < n; i++)
        c = carry(cb, a[i], ovl_cb_inv(cb, b[i]), c);
    return c;
}

uint32_t ovl_cb_ge_const(ovl_cb *cb, const uint32_t *a, uint64_t k, uint32_t n)
{
    /* The same carry chain with ~k public: a constant 1 bit of ~k makes the
     * carry a | c, a 0 bit makes it a & c. A carry still constant is folded. */
    int known = 1; /* carry-in 1, known */
    uint32_t c = 0;
    for (uint32_t i = 0; i < n; i++) {
        bool nk = !(i < 64 && ((k >> i) & 1));
        if (known >= 0) {
            if (nk && known == 1)
                continue; /* 1 | a = 1 */
            if (!nk && known == 0)
                continue; /* 0 & a = 0 */
            c = a[i];     /* 0 | a = a, 1 & a = a */
            known = -1;
            continue;
        }
        if (nk) /* a | c = !(!a & !c) */
            c = ovl_cb_inv(cb, ovl_cb_and(cb, ovl_cb_inv(cb, a[i]), ovl_cb_inv(cb, c)));
        else
            c = ovl_cb_and(cb, a[i], c);
    }
    if (known >= 0)
        return ovl_cb_const(cb, known == 1);
    return c;
}

void ovl_cb_mux(ovl_cb *cb, uint32_t *o, uint32_t s, const uint32_t *a, const uint32_t *b,
                uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        o[i] = ovl_cb_xor(cb, b[i], ovl_cb_and(cb, s, ovl_cb_xor(cb, a[i], b[i])));
}

static ovl_err conversion(ovl_circuit *out, uint32_t n, bool to_bool)
{
    uint32_t t[64] = {0}, u[64] = {0};
    ovl_cb cb;
    if (n == 0 || n > 64)
        return ovl_err_set(OVL_ERR_USAGE, "share conversion: width %u is not 1 to 64", n);
    ovl_cb_init(&cb, 0);
    uint32_t g = ovl_cb_input(&cb, n);
    uint32_t r = ovl_cb_input(&cb, n);
    uint32_t e = ovl_cb_input(&cb, n);
    uint32_t gw[64] = {0}, rw[64] = {0}, ew[64] = {0};
    for (uint32_t i = 0; i < n; i++) {
        gw[i] = g + i;
        rw[i] = r + i;
        ew[i] = e + i;
    }
    if (to_bool) {
        ovl_cb_add(&cb, t, gw, ew, n);
        for (uint32_t i = 0; i < n; i++)
            u[i] = ovl_cb_xor(&cb, t[i], rw[i]);
    } else {
        for (uint32_t i = 0; i < n; i++)
            t[i] = ovl_cb_xor(&cb, gw[i], ew[i]);
        ovl_cb_sub(&cb, u, t, rw, n);
    }
    ovl_cb_output(&cb, u, n);
    return ovl_cb_finish(&cb, out);
}

ovl_err ovl_circuit_a2b(ovl_circuit *out, uint32_t n) { return conversion(out, n, true); }
ovl_err ovl_circuit_b2a(ovl_circuit *out, uint32_t n) { return conversion(out, n, false); }
