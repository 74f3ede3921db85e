/* GF(2^128) for the KOS check (src/mpc/SPEC.md §4.3). */
#include <stdint.h>

#include <wmmintrin.h>

#include "mpc/gf128.h"

/* 64×64 → 128 carry-less product with masks, not branches, on operand bits. */
static void clmul64(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo)
{
    uint64_t h = 0, l = 0;
    for (unsigned i = 0; i < 64; i++) {
        uint64_t m = 0 - ((b >> i) & 1u);
        l ^= (a << i) & m;
        h ^= i == 0 ? 0 : ((a >> (64 - i)) & m);
    }
    *hi = h;
    *lo = l;
}

ovl_gf256 ovl_gf128_clmul_ref(ovl_block a, ovl_block b)
{
    uint64_t a0 = ovl_block_lo(a), a1 = ovl_block_hi(a), b0 = ovl_block_lo(b),
             b1 = ovl_block_hi(b);
    uint64_t p0h, p0l, p1h, p1l, m0h, m0l, m1h, m1l;
    clmul64(a0, b0, &p0h, &p0l);
    clmul64(a1, b1, &p1h, &p1l);
    clmul64(a0, b1, &m0h, &m0l);
    clmul64(a1, b0, &m1h, &m1l);
    uint64_t mh = m0h ^ m1h, ml = m0l ^ m1l;
    ovl_gf256 r;
    r.lo = ovl_block_make(p0h ^ ml, p0l);
    r.hi = ovl_block_make(p1h, p1l ^ mh);
    return r;
}

__attribute__((target("pclmul,sse2"))) static void mul_acc_clmul(ovl_gf256 *acc,
                                                                 const ovl_block *a,
                                                                 const ovl_block *b, size_t n)
{
    __m128i lo = acc->lo, hi = acc->hi, mid = _mm_setzero_si128();
    for (size_t j = 0; j < n; j++) {
        lo = _mm_xor_si128(lo, _mm_clmulepi64_si128(a[j], b[j], 0x00));
        hi = _mm_xor_si128(hi, _mm_clmulepi64_si128(a[j], b[j], 0x11));
        mid = _mm_xor_si128(mid, _mm_clmulepi64_si128(a[j], b[j], 0x01));
        mid = _mm_xor_si128(mid, _mm_clmulepi64_si128(a[j], b[j], 0x10));
    }
    acc->lo = _mm_xor_si128(lo, _mm_slli_si128(mid, 8));
    acc->hi = _mm_xor_si128(hi, _mm_srli_si128(mid, 8));
}

void ovl_gf128_mul_acc(ovl_gf256 *acc, const ovl_block *a, const ovl_block *b, size_t n)
{
    if (__builtin_cpu_supports("pclmul")) {
        mul_acc_clmul(acc, a, b, n);
        return;
    }
    for (size_t j = 0; j < n; j++) {
        ovl_gf256 p = ovl_gf128_clmul_ref(a[j], b[j]);
        acc->lo = ovl_block_xor(acc->lo, p.lo);
        acc->hi = ovl_block_xor(acc->hi, p.hi);
    }
}

/* x^128 = x^7 + x^2 + x + 1: each high coefficient folds into four lower ones.
 * Folding from the top keeps bits that land above 127 for the later steps. */
ovl_block ovl_gf128_reduce(ovl_gf256 v)
{
    uint64_t w[4] = {ovl_block_lo(v.lo), ovl_block_hi(v.lo), ovl_block_lo(v.hi),
                     ovl_block_hi(v.hi)};
    for (unsigned k = 255; k >= 128; k--) {
        uint64_t m = 0 - ((w[k >> 6] >> (k & 63)) & 1u);
        unsigned base = k - 128;
        static const unsigned taps[4] = {0, 1, 2, 7};
        w[k >> 6] &= ~(m & (UINT64_C(1) << (k & 63)));
        for (unsigned t = 0; t < 4; t++) {
            unsigned pos = base + taps[t];
            w[pos >> 6] ^= m & (UINT64_C(1) << (pos & 63));
        }
    }
    return ovl_block_make(w[1], w[0]);
}

ovl_block ovl_gf128_mul(ovl_block a, ovl_block b)
{
    ovl_gf256 acc = {ovl_block_zero(), ovl_block_zero()};
    ovl_gf128_mul_acc(&acc, &a, &b, 1);
    return ovl_gf128_reduce(acc);
}
