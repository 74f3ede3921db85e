/* overlap: eight 64-bit lanes, the operations the multi-buffer ristretto255
 * code (r255x8_impl.h) is written in.
 *
 * Two back ends give the same results: AVX-512 IFMA (one instruction per
 * operation), and, with OVL_LANE8_EMU defined, portable C emulating each
 * instruction lane by lane with the same control flow and no data-dependent
 * branch or address. The emulation lets valgrind, which cannot execute
 * AVX-512, run the very algorithm the IFMA build runs (tests/ct/ct_check.c),
 * and it checks the instructions (tests/unit/test_r255x8.c).
 *
 * Masks (l8m) hold one bit per lane, as an AVX-512 opmask does. */
#ifndef OVERLAP_LANE8_H
#define OVERLAP_LANE8_H

#include <stdint.h>

#define OVL_LANE8_M52 ((1ULL << 52) - 1)

#ifndef OVL_LANE8_EMU

#include <immintrin.h>

#define OVL_LANE8_TARGET "avx512f,avx512ifma,avx512vl,avx512dq"
#define L8_FN static inline __attribute__((target(OVL_LANE8_TARGET), always_inline))
#define L8_API __attribute__((target(OVL_LANE8_TARGET)))
/* Point-level and chain functions: called, not inlined, so that each entry
 * point stays small (instruction cache, compile time under sanitizers). */
#define L8_BIG static __attribute__((target(OVL_LANE8_TARGET), noinline))

typedef __m512i l8;
typedef __mmask8 l8m;

L8_FN l8 l8_set1(uint64_t x) { return _mm512_set1_epi64((long long)x); }
L8_FN l8 l8_load(const uint64_t v[static 8]) { return _mm512_loadu_si512((const void *)v); }
L8_FN void l8_store(uint64_t v[static 8], l8 a) { _mm512_storeu_si512((void *)v, a); }
L8_FN l8 l8_add(l8 a, l8 b) { return _mm512_add_epi64(a, b); }
L8_FN l8 l8_sub(l8 a, l8 b) { return _mm512_sub_epi64(a, b); }
L8_FN l8 l8_and(l8 a, l8 b) { return _mm512_and_si512(a, b); }
L8_FN l8 l8_or(l8 a, l8 b) { return _mm512_or_si512(a, b); }
L8_FN l8 l8_xor(l8 a, l8 b) { return _mm512_xor_si512(a, b); }
L8_FN l8 l8_mullo(l8 a, l8 b) { return _mm512_mullo_epi64(a, b); }
#define l8_shr(a, n) _mm512_srli_epi64((a), (n))
#define l8_shl(a, n) _mm512_slli_epi64((a), (n))
/* acc + low 52 bits / high 52 bits of the 104-bit product of the low 52 bits. */
L8_FN l8 l8_madd52lo(l8 acc, l8 b, l8 c) { return _mm512_madd52lo_epu64(acc, b, c); }
L8_FN l8 l8_madd52hi(l8 acc, l8 b, l8 c) { return _mm512_madd52hi_epu64(acc, b, c); }
/* Lanes where the mask bit is set take b, the others a. */
L8_FN l8 l8_blend(l8m m, l8 a, l8 b) { return _mm512_mask_blend_epi64(m, a, b); }
L8_FN l8m l8_eq(l8 a, l8 b) { return _mm512_cmpeq_epu64_mask(a, b); }
/* Lanes where a & b is non-zero. */
L8_FN l8m l8_test(l8 a, l8 b) { return _mm512_test_epi64_mask(a, b); }

#else /* OVL_LANE8_EMU */

#define L8_FN static inline
#define L8_API
#define L8_BIG static __attribute__((noinline))

typedef struct {
    uint64_t v[8];
} l8;
typedef uint8_t l8m;

#define L8_MAP(expr)                                                                           \
    l8 r;                                                                                      \
    for (int i = 0; i < 8; i++)                                                                \
        r.v[i] = (expr);                                                                       \
    return r

L8_FN l8 l8_set1(uint64_t x) { L8_MAP(x); }
L8_FN l8 l8_load(const uint64_t v[static 8]) { L8_MAP(v[i]); }
L8_FN void l8_store(uint64_t v[static 8], l8 a)
{
    for (int i = 0; i < 8; i++)
        v[i] = a.v[i];
}
L8_FN l8 l8_add(l8 a, l8 b) { L8_MAP(a.v[i] + b.v[i]); }
L8_FN l8 l8_sub(l8 a, l8 b) { L8_MAP(a.v[i] - b.v[i]); }
L8_FN l8 l8_and(l8 a, l8 b) { L8_MAP(a.v[i] & b.v[i]); }
L8_FN l8 l8_or(l8 a, l8 b) { L8_MAP(a.v[i] | b.v[i]); }
L8_FN l8 l8_xor(l8 a, l8 b) { L8_MAP(a.v[i] ^ b.v[i]); }
L8_FN l8 l8_mullo(l8 a, l8 b) { L8_MAP(a.v[i] * b.v[i]); }
L8_FN l8 l8_shr(l8 a, int n) { L8_MAP(a.v[i] >> n); }
L8_FN l8 l8_shl(l8 a, int n) { L8_MAP(a.v[i] << n); }
L8_FN uint64_t l8_emu_mulhi52(uint64_t b, uint64_t c)
{
    return (uint64_t)(((unsigned __int128)(b & OVL_LANE8_M52) * (c & OVL_LANE8_M52)) >> 52);
}
L8_FN l8 l8_madd52lo(l8 acc, l8 b, l8 c)
{
    L8_MAP(acc.v[i] + (((b.v[i] & OVL_LANE8_M52) * (c.v[i] & OVL_LANE8_M52)) & OVL_LANE8_M52));
}
L8_FN l8 l8_madd52hi(l8 acc, l8 b, l8 c) { L8_MAP(acc.v[i] + l8_emu_mulhi52(b.v[i], c.v[i])); }
L8_FN l8 l8_blend(l8m m, l8 a, l8 b)
{
    /* The mask bit becomes an all-ones or all-zero word: no branch on it. */
    L8_MAP(a.v[i] ^ ((a.v[i] ^ b.v[i]) & (0 - (uint64_t)((m >> i) & 1))));
}
L8_FN l8m l8_nonzero_bits(l8 a)
{
    unsigned m = 0;
    for (int i = 0; i < 8; i++)
        m |= (unsigned)(((a.v[i] | (0 - a.v[i])) >> 63) << i);
    return (l8m)m;
}
L8_FN l8m l8_eq(l8 a, l8 b) { return (l8m)~l8_nonzero_bits(l8_xor(a, b)); }
L8_FN l8m l8_test(l8 a, l8 b) { return l8_nonzero_bits(l8_and(a, b)); }

#undef L8_MAP

#endif /* OVL_LANE8_EMU */

#endif
