/* overlap: the multi-buffer ristretto255 algorithm, written once over the
 * lane operations of lane8.h and included by r255x8_ifma.c (AVX-512 IFMA)
 * and r255x8_emu.c (portable emulation). The includer defines R8_TABLE, the
 * name of the ovl_r255x8 it exports.
 *
 * Field elements: five limbs of 51 bits per lane. Every operation returns
 * limbs below 2^52 (the carry of fe_carry), which is what vpmadd52 needs:
 * it reads only the low 52 bits of each factor. Products are summed as the
 * low and high 52-bit halves of each limb product; the high half sits one
 * bit above the next limb, hence the doubling in fe_reduce. Everything is
 * constant time: no branch or address depends on a lane's value, choices
 * are mask blends, and field equality goes through a full reduction.
 *
 * Formulas: RFC 9496 §4 (decode, encode, MAP, SQRT_RATIO_M1) and the
 * extended twisted Edwards formulas with a = -1 (Hisil-Wong-Carter-Dawson
 * 2008), the ones libsodium's ge25519 uses. */
#ifndef R8_TABLE
#error "define R8_TABLE before including r255x8_impl.h"
#endif

#include <string.h>

#include <sodium.h>

#include "crypto/lane8.h"
#include "crypto/r255x8.h"

#define M51 ((1ULL << 51) - 1)

/* The small fixed loops over limbs must unroll for the limbs to live in
 * registers. */
#define R8_UNROLL _Pragma("GCC unroll 16")

typedef struct {
    l8 v[5];
} fe;

/* A point in extended coordinates (X:Y:Z:T), or completed ((X:Z),(Y:T)). */
typedef struct {
    fe X, Y, Z, T;
} ge;

/* Projective (X:Y:Z), enough for a doubling. */
typedef struct {
    fe X, Y, Z;
} ge2;

/* A point prepared for addition: Y+X, Y-X, Z, 2d*T. */
typedef struct {
    fe ypx, ymx, z, t2d;
} gec;

/* Constants in 51-bit limbs, little-endian. */
static const uint64_t K_D[5] = {0x34dca135978a3ULL, 0x1a8283b156ebdULL, 0x5e7a26001c029ULL,
                                0x739c663a03cbbULL, 0x52036cee2b6ffULL};
static const uint64_t K_D2[5] = {0x69b9426b2f159ULL, 0x35050762add7aULL, 0x3cf44c0038052ULL,
                                 0x6738cc7407977ULL, 0x2406d9dc56dffULL};
static const uint64_t K_SQRT_M1[5] = {0x61b274a0ea0b0ULL, 0xd5a5fc8f189dULL, 0x7ef5e9cbd0c60ULL,
                                      0x78595a6804c9eULL, 0x2b8324804fc1dULL};
static const uint64_t K_SQRT_AD_MINUS_ONE[5] = {0x7f6a0497b2e1bULL, 0x1836f0a97afd2ULL,
                                                0x7d747f6be7638ULL, 0x456079e7e6498ULL,
                                                0x376931bf2b834ULL};
static const uint64_t K_INVSQRT_A_MINUS_D[5] = {0xfdaa805d40eaULL, 0x2eb482e57d339ULL,
                                                0x7610274bc58ULL, 0x6510b613dc8ffULL,
                                                0x786c8905cfaffULL};
static const uint64_t K_ONE_MINUS_D_SQ[5] = {0x409c1945fc176ULL, 0x719abc6a1fc4fULL,
                                             0x1c37f90b20684ULL, 0x6bccca55eedfULL,
                                             0x29072a8b2b3eULL};
static const uint64_t K_D_MINUS_ONE_SQ[5] = {0x55aaa44ed4d20ULL, 0x59603c3332635ULL,
                                             0x26d3baf4a7928ULL, 0x120a66e6997a9ULL,
                                             0x5968b37af66c2ULL};
/* 4p, added before a subtraction so that no limb goes negative. */
static const uint64_t K_4P[5] = {0x1fffffffffffb4ULL, 0x1ffffffffffffcULL, 0x1ffffffffffffcULL,
                                 0x1ffffffffffffcULL, 0x1ffffffffffffcULL};

/* ---- field ---- */

L8_FN fe fe_const(const uint64_t k[5])
{
    fe r;
    R8_UNROLL
    for (int i = 0; i < 5; i++)
        r.v[i] = l8_set1(k[i]);
    return r;
}

L8_FN fe fe_small(uint64_t x)
{
    fe r;
    r.v[0] = l8_set1(x);
    R8_UNROLL
    for (int i = 1; i < 5; i++)
        r.v[i] = l8_set1(0);
    return r;
}

/* Limbs below 2^64 in, below 2^52 out (carries of one round in parallel:
 * each carry is below 2^13, so 19 times the top one fits one madd52lo). */
L8_FN fe fe_carry(fe t)
{
    l8 m = l8_set1(M51), c[5];
    fe r;
    R8_UNROLL
    for (int i = 0; i < 5; i++)
        c[i] = l8_shr(t.v[i], 51);
    r.v[0] = l8_madd52lo(l8_and(t.v[0], m), c[4], l8_set1(19));
    R8_UNROLL
    for (int i = 1; i < 5; i++)
        r.v[i] = l8_add(l8_and(t.v[i], m), c[i - 1]);
    return r;
}

L8_FN fe fe_add(fe a, fe b)
{
    fe r;
    R8_UNROLL
    for (int i = 0; i < 5; i++)
        r.v[i] = l8_add(a.v[i], b.v[i]);
    return fe_carry(r);
}

L8_FN fe fe_sub(fe a, fe b)
{
    fe r;
    R8_UNROLL
    for (int i = 0; i < 5; i++)
        r.v[i] = l8_sub(l8_add(a.v[i], l8_set1(K_4P[i])), b.v[i]);
    return fe_carry(r);
}

L8_FN fe fe_neg(fe a)
{
    return fe_sub(fe_small(0), a);
}

/* Sums the low halves at their limb and the doubled high halves one limb up,
 * folds limbs 5..9 back with 2^255 = 19, and carries. Each of lo/hi holds at
 * most five 52-bit terms, so every sum stays below 2^61. Written out in
 * full (as are mul and sq): the accumulators then stay in registers. */
#define FE_REDUCE(r)                                                                           \
    do {                                                                                       \
        l8 n19_ = l8_set1(19);                                                                 \
        (r).v[0] = l8_add(lo0, l8_mullo(l8_add(lo5, l8_shl(hi4, 1)), n19_));                  \
        (r).v[1] = l8_add(l8_add(lo1, l8_shl(hi0, 1)),                                         \
                          l8_mullo(l8_add(lo6, l8_shl(hi5, 1)), n19_));                        \
        (r).v[2] = l8_add(l8_add(lo2, l8_shl(hi1, 1)),                                         \
                          l8_mullo(l8_add(lo7, l8_shl(hi6, 1)), n19_));                        \
        (r).v[3] = l8_add(l8_add(lo3, l8_shl(hi2, 1)),                                         \
                          l8_mullo(l8_add(lo8, l8_shl(hi7, 1)), n19_));                        \
        (r).v[4] = l8_add(l8_add(lo4, l8_shl(hi3, 1)), l8_mullo(l8_shl(hi8, 1), n19_));       \
        (r) = fe_carry(r);                                                                     \
    } while (0)

#define FE_MAC(k, x, y)                                                                        \
    do {                                                                                       \
        lo##k = l8_madd52lo(lo##k, (x), (y));                                                  \
        hi##k = l8_madd52hi(hi##k, (x), (y));                                                  \
    } while (0)

#define FE_ACC_DECL                                                                            \
    l8 z_ = l8_set1(0);                                                                        \
    l8 lo0 = z_, lo1 = z_, lo2 = z_, lo3 = z_, lo4 = z_, lo5 = z_, lo6 = z_, lo7 = z_,         \
       lo8 = z_;                                                                               \
    l8 hi0 = z_, hi1 = z_, hi2 = z_, hi3 = z_, hi4 = z_, hi5 = z_, hi6 = z_, hi7 = z_, hi8 = z_

L8_FN fe fe_mul(fe a, fe b)
{
    FE_ACC_DECL;
    l8 a0 = a.v[0], a1 = a.v[1], a2 = a.v[2], a3 = a.v[3], a4 = a.v[4];
    l8 b0 = b.v[0], b1 = b.v[1], b2 = b.v[2], b3 = b.v[3], b4 = b.v[4];
    FE_MAC(0, a0, b0);
    FE_MAC(1, a0, b1); FE_MAC(1, a1, b0);
    FE_MAC(2, a0, b2); FE_MAC(2, a1, b1); FE_MAC(2, a2, b0);
    FE_MAC(3, a0, b3); FE_MAC(3, a1, b2); FE_MAC(3, a2, b1); FE_MAC(3, a3, b0);
    FE_MAC(4, a0, b4); FE_MAC(4, a1, b3); FE_MAC(4, a2, b2); FE_MAC(4, a3, b1); FE_MAC(4, a4, b0);
    FE_MAC(5, a1, b4); FE_MAC(5, a2, b3); FE_MAC(5, a3, b2); FE_MAC(5, a4, b1);
    FE_MAC(6, a2, b4); FE_MAC(6, a3, b3); FE_MAC(6, a4, b2);
    FE_MAC(7, a3, b4); FE_MAC(7, a4, b3);
    FE_MAC(8, a4, b4);
    fe r;
    FE_REDUCE(r);
    return r;
}

/* The cross products once, doubled, then the squares: 15 limb products. */
L8_FN fe fe_sq(fe a)
{
    FE_ACC_DECL;
    l8 a0 = a.v[0], a1 = a.v[1], a2 = a.v[2], a3 = a.v[3], a4 = a.v[4];
    FE_MAC(1, a0, a1);
    FE_MAC(2, a0, a2);
    FE_MAC(3, a0, a3); FE_MAC(3, a1, a2);
    FE_MAC(4, a0, a4); FE_MAC(4, a1, a3);
    FE_MAC(5, a1, a4); FE_MAC(5, a2, a3);
    FE_MAC(6, a2, a4);
    FE_MAC(7, a3, a4);
#define FE_DBL(k) lo##k = l8_add(lo##k, lo##k), hi##k = l8_add(hi##k, hi##k)
    FE_DBL(1); FE_DBL(2); FE_DBL(3); FE_DBL(4); FE_DBL(5); FE_DBL(6); FE_DBL(7);
#undef FE_DBL
    FE_MAC(0, a0, a0); FE_MAC(2, a1, a1); FE_MAC(4, a2, a2); FE_MAC(6, a3, a3); FE_MAC(8, a4, a4);
    fe r;
    FE_REDUCE(r);
    return r;
}

L8_BIG fe fe_sqn(fe a, int n)
{
    for (int i = 0; i < n; i++)
        a = fe_sq(a);
    return a;
}

/* The unique representative below p, limbs below 2^51. q = floor((h+19)/2^255)
 * is 1 exactly when h >= p (h < 2p since limbs are below 2^52 with a small top). */
L8_BIG fe fe_freeze(fe a)
{
    l8 m = l8_set1(M51), q = l8_shr(l8_add(a.v[0], l8_set1(19)), 51);
    R8_UNROLL
    for (int i = 1; i < 5; i++)
        q = l8_shr(l8_add(a.v[i], q), 51);
    a.v[0] = l8_madd52lo(a.v[0], q, l8_set1(19));
    R8_UNROLL
    for (int i = 0; i < 4; i++) {
        a.v[i + 1] = l8_add(a.v[i + 1], l8_shr(a.v[i], 51));
        a.v[i] = l8_and(a.v[i], m);
    }
    a.v[4] = l8_and(a.v[4], m);
    return a;
}

L8_FN l8m fe_iszero(fe a)
{
    fe f = fe_freeze(a);
    l8 o = f.v[0];
    R8_UNROLL
    for (int i = 1; i < 5; i++)
        o = l8_or(o, f.v[i]);
    return l8_eq(o, l8_set1(0));
}

L8_FN l8m fe_eq(fe a, fe b)
{
    return fe_iszero(fe_sub(a, b));
}

/* RFC 9496 §4.1 IS_NEGATIVE: the low bit of the canonical value. */
L8_FN l8m fe_isneg(fe a)
{
    return l8_test(fe_freeze(a).v[0], l8_set1(1));
}

/* Lanes with the mask bit take b. */
L8_FN fe fe_sel(l8m m, fe a, fe b)
{
    R8_UNROLL
    for (int i = 0; i < 5; i++)
        a.v[i] = l8_blend(m, a.v[i], b.v[i]);
    return a;
}

L8_FN fe fe_cneg(fe a, l8m m)
{
    return fe_sel(m, a, fe_neg(a));
}

L8_FN fe fe_abs(fe a)
{
    return fe_cneg(a, fe_isneg(a));
}

/* z^(2^250 - 1) and z^11, the common prefix of inversion and pow22523. */
L8_BIG fe fe_pow250(fe z, fe *z11)
{
    fe z2 = fe_sq(z);
    fe z9 = fe_mul(fe_sqn(z2, 2), z);
    *z11 = fe_mul(z9, z2);
    fe z5 = fe_mul(fe_sq(*z11), z9);            /* 2^5 - 1 */
    fe z10 = fe_mul(fe_sqn(z5, 5), z5);         /* 2^10 - 1 */
    fe z20 = fe_mul(fe_sqn(z10, 10), z10);      /* 2^20 - 1 */
    fe z40 = fe_mul(fe_sqn(z20, 20), z20);      /* 2^40 - 1 */
    fe z50 = fe_mul(fe_sqn(z40, 10), z10);      /* 2^50 - 1 */
    fe z100 = fe_mul(fe_sqn(z50, 50), z50);     /* 2^100 - 1 */
    fe z200 = fe_mul(fe_sqn(z100, 100), z100);  /* 2^200 - 1 */
    return fe_mul(fe_sqn(z200, 50), z50);       /* 2^250 - 1 */
}

/* z^(p-2) = z^(2^255 - 21); 0 for 0. */
L8_BIG fe fe_invert(fe z)
{
    fe z11, z250 = fe_pow250(z, &z11);
    return fe_mul(fe_sqn(z250, 5), z11);
}

/* z^((p-5)/8) = z^(2^252 - 3). */
L8_BIG fe fe_pow22523(fe z)
{
    fe z11, z250 = fe_pow250(z, &z11);
    return fe_mul(fe_sqn(z250, 2), z);
}

/* RFC 9496 §4.2 SQRT_RATIO_M1: *r = the non-negative sqrt of u/v (or of
 * SQRT_M1*u/v); the mask says which lanes had a square. */
L8_BIG l8m fe_sqrt_ratio_m1(fe *r_out, fe u, fe v)
{
    fe v3 = fe_mul(fe_sq(v), v);
    fe v7 = fe_mul(fe_sq(v3), v);
    fe r = fe_mul(fe_mul(u, v3), fe_pow22523(fe_mul(u, v7)));
    fe check = fe_mul(v, fe_sq(r));
    fe u_neg = fe_neg(u);
    fe sqrt_m1 = fe_const(K_SQRT_M1);
    l8m correct = fe_eq(check, u);
    l8m flipped = fe_eq(check, u_neg);
    l8m flipped_i = fe_eq(check, fe_mul(u_neg, sqrt_m1));
    r = fe_sel(flipped | flipped_i, r, fe_mul(r, sqrt_m1));
    *r_out = fe_abs(r);
    return correct | flipped;
}

/* ---- bytes (lane by lane; public layout only) ---- */

static uint64_t load64(const uint8_t *b)
{
    uint64_t w = 0;
    for (int i = 7; i >= 0; i--)
        w = (w << 8) | b[i];
    return w;
}

static void store64(uint8_t *b, uint64_t w)
{
    R8_UNROLL
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(w >> (8 * i));
}

/* 255 bits of each lane's 32 bytes (bit 255 dropped, as fe25519_frombytes
 * does); values up to 2^255 - 1 are fine as limbs. */
L8_FN fe fe_load(const uint8_t *b, size_t stride)
{
    uint64_t l[5][8];
    R8_UNROLL
    for (int i = 0; i < 8; i++) {
        const uint8_t *s = b + (size_t)i * stride;
        uint64_t w0 = load64(s), w1 = load64(s + 8), w2 = load64(s + 16), w3 = load64(s + 24);
        l[0][i] = w0 & M51;
        l[1][i] = ((w0 >> 51) | (w1 << 13)) & M51;
        l[2][i] = ((w1 >> 38) | (w2 << 26)) & M51;
        l[3][i] = ((w2 >> 25) | (w3 << 39)) & M51;
        l[4][i] = (w3 >> 12) & M51;
    }
    fe r;
    R8_UNROLL
    for (int k = 0; k < 5; k++)
        r.v[k] = l8_load(l[k]);
    return r;
}

/* Canonical bytes of each lane; lanes whose mask bit is clear get zeros. */
L8_FN void fe_store(uint8_t out[static 8 * 32], fe a, l8m keep)
{
    uint64_t l[5][8];
    fe f = fe_freeze(a);
    R8_UNROLL
    for (int k = 0; k < 5; k++)
        l8_store(l[k], l8_blend(keep, l8_set1(0), f.v[k]));
    R8_UNROLL
    for (int i = 0; i < 8; i++) {
        uint8_t *o = out + (size_t)i * 32;
        store64(o, l[0][i] | (l[1][i] << 51));
        store64(o + 8, (l[1][i] >> 13) | (l[2][i] << 38));
        store64(o + 16, (l[2][i] >> 26) | (l[3][i] << 25));
        store64(o + 24, (l[3][i] >> 39) | (l[4][i] << 12));
    }
}

/* 1 iff s is a canonical (below p, non-negative), non-zero encoding with
 * bit 255 clear: the byte-level half of RFC 9496 §4.3.1 plus our refusals. */
static unsigned bytes_ok(const uint8_t s[32])
{
    unsigned hi = (s[31] & 0x7fU) ^ 0x7fU, any = 0;
    for (int i = 1; i < 31; i++)
        hi |= s[i] ^ 0xffU;
    for (int i = 0; i < 32; i++)
        any |= s[i];
    unsigned top_max = ((hi - 1) >> 8) & 1;           /* bytes 1..31 all at their maximum */
    unsigned ge_p = top_max & (((0xecU - s[0]) >> 8) & 1); /* and byte 0 >= 0xed */
    unsigned zero = ((any - 1) >> 8) & 1;
    return 1 ^ (ge_p | (s[0] & 1) | (s[31] >> 7) | zero);
}

static l8m lanes_bytes_ok(const uint8_t p[static 8 * 32])
{
    unsigned m = 0;
    R8_UNROLL
    for (int i = 0; i < 8; i++)
        m |= bytes_ok(p + 32 * i) << i;
    return (l8m)m;
}

/* ---- points ---- */

L8_FN ge ge_identity(void)
{
    ge r = {fe_small(0), fe_small(1), fe_small(1), fe_small(0)};
    return r;
}

/* Doubling (dbl-2008-hwcd, a = -1) into completed coordinates. */
L8_BIG ge ge_dbl(ge2 p)
{
    ge r;
    fe a = fe_sq(p.X), b = fe_sq(p.Y), c = fe_sq(p.Z);
    c = fe_add(c, c);
    fe e = fe_sq(fe_add(p.X, p.Y));
    r.Y = fe_add(b, a);
    r.Z = fe_sub(b, a);
    r.X = fe_sub(e, r.Y);
    r.T = fe_sub(c, r.Z);
    return r;
}

/* Extended plus prepared, into completed coordinates. */
L8_BIG ge ge_add(ge p, gec q)
{
    ge r;
    fe a = fe_mul(fe_add(p.Y, p.X), q.ypx);
    fe b = fe_mul(fe_sub(p.Y, p.X), q.ymx);
    fe c = fe_mul(q.t2d, p.T);
    fe d = fe_mul(p.Z, q.z);
    d = fe_add(d, d);
    r.X = fe_sub(a, b);
    r.Y = fe_add(a, b);
    r.Z = fe_add(d, c);
    r.T = fe_sub(d, c);
    return r;
}

L8_BIG ge2 ge_to2(ge c)
{
    ge2 r = {fe_mul(c.X, c.T), fe_mul(c.Y, c.Z), fe_mul(c.Z, c.T)};
    return r;
}

L8_BIG ge ge_to3(ge c)
{
    ge r = {fe_mul(c.X, c.T), fe_mul(c.Y, c.Z), fe_mul(c.Z, c.T), fe_mul(c.X, c.Y)};
    return r;
}

L8_BIG gec ge_prep(ge p)
{
    gec r = {fe_add(p.Y, p.X), fe_sub(p.Y, p.X), p.Z, fe_mul(p.T, fe_const(K_D2))};
    return r;
}

L8_FN gec gec_sel(l8m m, gec a, gec b)
{
    gec r = {fe_sel(m, a.ypx, b.ypx), fe_sel(m, a.ymx, b.ymx), fe_sel(m, a.z, b.z),
             fe_sel(m, a.t2d, b.t2d)};
    return r;
}

/* -Q: swap Y+X and Y-X, negate 2dT. */
L8_FN gec gec_cneg(gec a, l8m m)
{
    gec r = {fe_sel(m, a.ypx, a.ymx), fe_sel(m, a.ymx, a.ypx), a.z, fe_cneg(a.t2d, m)};
    return r;
}

/* RFC 9496 §4.3.1 Decode, the field half: lanes that fail are flagged. */
L8_BIG l8m ge_decode(ge *out, fe s)
{
    fe one = fe_small(1);
    fe ss = fe_sq(s);
    fe u1 = fe_sub(one, ss), u2 = fe_add(one, ss);
    fe u2sq = fe_sq(u2);
    fe v = fe_sub(fe_neg(fe_mul(fe_const(K_D), fe_sq(u1))), u2sq);
    fe inv;
    l8m square = fe_sqrt_ratio_m1(&inv, one, fe_mul(v, u2sq));
    fe den_x = fe_mul(inv, u2);
    fe den_y = fe_mul(fe_mul(inv, den_x), v);
    out->X = fe_abs(fe_mul(fe_add(s, s), den_x));
    out->Y = fe_mul(u1, den_y);
    out->Z = one;
    out->T = fe_mul(out->X, out->Y);
    return square & (l8m)~fe_isneg(out->T) & (l8m)~fe_iszero(out->Y);
}

/* RFC 9496 §4.3.2 Encode: returns s (stored by the caller). */
L8_BIG fe ge_encode(ge p)
{
    fe u1 = fe_mul(fe_add(p.Z, p.Y), fe_sub(p.Z, p.Y));
    fe u2 = fe_mul(p.X, p.Y);
    fe inv;
    (void)fe_sqrt_ratio_m1(&inv, fe_small(1), fe_mul(u1, fe_sq(u2)));
    fe den1 = fe_mul(inv, u1), den2 = fe_mul(inv, u2);
    fe z_inv = fe_mul(fe_mul(den1, den2), p.T);
    fe sqrt_m1 = fe_const(K_SQRT_M1);
    fe ix0 = fe_mul(p.X, sqrt_m1), iy0 = fe_mul(p.Y, sqrt_m1);
    fe ench = fe_mul(den1, fe_const(K_INVSQRT_A_MINUS_D));
    l8m rotate = fe_isneg(fe_mul(p.T, z_inv));
    fe x = fe_sel(rotate, p.X, iy0);
    fe y = fe_sel(rotate, p.Y, ix0);
    fe den_inv = fe_sel(rotate, den2, ench);
    y = fe_cneg(y, fe_isneg(fe_mul(x, z_inv)));
    return fe_abs(fe_mul(den_inv, fe_sub(p.Z, y)));
}

/* RFC 9496 §4.3.4 MAP(t), in extended coordinates. */
L8_BIG ge ge_map(fe t)
{
    fe one = fe_small(1), d = fe_const(K_D);
    fe r = fe_mul(fe_const(K_SQRT_M1), fe_sq(t));
    fe u = fe_mul(fe_add(r, one), fe_const(K_ONE_MINUS_D_SQ));
    fe minus_one = fe_neg(one);
    fe v = fe_mul(fe_sub(minus_one, fe_mul(r, d)), fe_add(r, d));
    fe s;
    l8m square = fe_sqrt_ratio_m1(&s, u, v);
    fe s_prime = fe_neg(fe_abs(fe_mul(s, t)));
    s = fe_sel(square, s_prime, s);
    fe c = fe_sel(square, r, minus_one);
    fe n = fe_sub(fe_mul(fe_mul(c, fe_sub(r, one)), fe_const(K_D_MINUS_ONE_SQ)), v);
    fe w0 = fe_mul(fe_add(s, s), v);
    fe w1 = fe_mul(n, fe_const(K_SQRT_AD_MINUS_ONE));
    fe ss = fe_sq(s);
    fe w2 = fe_sub(one, ss), w3 = fe_add(one, ss);
    ge p = {fe_mul(w0, w3), fe_mul(w2, w1), fe_mul(w1, w3), fe_mul(w0, w2)};
    return p;
}

/* ---- scalar multiplication ---- */

/* Signed radix-16 digits of each lane's scalar (bit 255 cleared, as
 * libsodium does): 64 digits in [-8, 8], kept as |digit| per lane and a
 * sign mask per window. Straight-line arithmetic: the digits are secret. */
static void scalar_digits(uint64_t mag[64][8], l8m neg[64], const uint8_t *s, size_t stride)
{
    unsigned negbits[64] = {0};
    for (int lane = 0; lane < 8; lane++) {
        const uint8_t *k = s + (size_t)lane * stride;
        int e[64], carry = 0;
        for (int i = 0; i < 32; i++) {
            int b = i == 31 ? (k[i] & 0x7f) : k[i];
            e[2 * i] = b & 15;
            e[2 * i + 1] = b >> 4;
        }
        for (int i = 0; i < 63; i++) {
            e[i] += carry;
            carry = (e[i] + 8) >> 4;
            e[i] -= carry * 16;
        }
        e[63] += carry;
        for (int i = 0; i < 64; i++) {
            unsigned sign = (unsigned)e[i] >> 31;
            unsigned m = 0 - sign;
            mag[i][lane] = (uint64_t)(((unsigned)e[i] ^ m) + sign);
            negbits[i] |= sign << lane;
        }
        sodium_memzero(e, sizeof e);
    }
    for (int i = 0; i < 64; i++)
        neg[i] = (l8m)negbits[i];
    sodium_memzero(negbits, sizeof negbits);
}

/* tab[j] = j * P for j = 0..8, prepared for addition. */
L8_BIG void ge_table(gec tab[9], ge p)
{
    ge id = ge_identity(), pj;
    tab[0] = ge_prep(id);
    tab[1] = ge_prep(p);
    ge2 p2 = {p.X, p.Y, p.Z};
    pj = ge_to3(ge_dbl(p2));
    tab[2] = ge_prep(pj);
    R8_UNROLL
    for (int j = 3; j < 9; j++) {
        pj = ge_to3(ge_add(pj, tab[1]));
        tab[j] = ge_prep(pj);
    }
}

L8_FN fe fe_pick(const fe *const col[9], const l8m m[9])
{
    fe r;
    R8_UNROLL
    for (int l = 0; l < 5; l++) {
        l8 acc = col[0]->v[l];
        R8_UNROLL
        for (int j = 1; j < 9; j++)
            acc = l8_blend(m[j], acc, col[j]->v[l]);
        r.v[l] = acc;
    }
    return r;
}

/* Every entry is read; the lanes whose |digit| matches keep it. Limb by
 * limb, so that no whole entry is copied. */
L8_BIG gec ge_pick(const gec tab[9], const uint64_t mag[8], l8m neg)
{
    l8 want = l8_load(mag);
    l8m m[9] = {0};
    R8_UNROLL
    for (int j = 1; j < 9; j++)
        m[j] = l8_eq(want, l8_set1((uint64_t)j));
    const fe *c0[9], *c1[9], *c2[9], *c3[9];
    R8_UNROLL
    for (int j = 0; j < 9; j++) {
        c0[j] = &tab[j].ypx;
        c1[j] = &tab[j].ymx;
        c2[j] = &tab[j].z;
        c3[j] = &tab[j].t2d;
    }
    gec r = {fe_pick(c0, m), fe_pick(c1, m), fe_pick(c2, m), fe_pick(c3, m)};
    return gec_cneg(r, neg);
}

L8_BIG ge ge_scalarmult(ge p, const uint64_t mag[64][8], const l8m neg[64])
{
    gec tab[9];
    ge_table(tab, p);
    ge q = ge_to3(ge_add(ge_identity(), ge_pick(tab, mag[63], neg[63])));
    for (int i = 62; i >= 0; i--) {
        ge2 q2 = {q.X, q.Y, q.Z};
        q2 = ge_to2(ge_dbl(q2));
        q2 = ge_to2(ge_dbl(q2));
        q2 = ge_to2(ge_dbl(q2));
        q = ge_to3(ge_dbl(q2));
        q = ge_to3(ge_add(q, ge_pick(tab, mag[i], neg[i])));
    }
    sodium_memzero(tab, sizeof tab);
    return q;
}

/* ---- entry points ---- */

static L8_API unsigned r8_validate(const uint8_t p[static 8 * 32])
{
    ge g;
    l8m ok = lanes_bytes_ok(p) & ge_decode(&g, fe_load(p, 32));
    return ok;
}

static L8_API unsigned r8_reencode(uint8_t out[static 8 * 32], const uint8_t p[static 8 * 32])
{
    ge g;
    l8m ok = lanes_bytes_ok(p) & ge_decode(&g, fe_load(p, 32));
    fe_store(out, ge_encode(g), ok);
    return ok;
}

static L8_API unsigned r8_scalar_mult(uint8_t out[static 8 * 32], const uint8_t *s,
                                      size_t s_stride, const uint8_t p[static 8 * 32])
{
    uint64_t mag[64][8];
    l8m neg[64];
    ge g;
    l8m ok = lanes_bytes_ok(p) & ge_decode(&g, fe_load(p, 32));
    scalar_digits(mag, neg, s, s_stride);
    fe enc = ge_encode(ge_scalarmult(g, (const uint64_t(*)[8])mag, neg));
    ok &= (l8m)~fe_iszero(enc);
    fe_store(out, enc, ok);
    sodium_memzero(mag, sizeof mag);
    sodium_memzero(neg, sizeof neg);
    return ok;
}

static L8_API void r8_from_hash(uint8_t out[static 8 * 32], const uint8_t h[static 8 * 64])
{
    ge p0 = ge_map(fe_load(h, 64));
    ge p1 = ge_map(fe_load(h + 32, 64));
    fe_store(out, ge_encode(ge_to3(ge_add(p0, ge_prep(p1)))), 0xff);
}

static L8_API unsigned r8_fe_op(uint8_t out[static 8 * 32], ovl_fe8_op op,
                                const uint8_t a[static 8 * 32], const uint8_t b[static 8 * 32])
{
    fe x = fe_load(a, 32), y = fe_load(b, 32), r = x;
    l8m m = 0xff;
    switch (op) {
    case OVL_FE8_MUL: r = fe_mul(x, y); break;
    case OVL_FE8_SQ: r = fe_sq(x); break;
    case OVL_FE8_ADD: r = fe_add(x, y); break;
    case OVL_FE8_SUB: r = fe_sub(x, y); break;
    case OVL_FE8_INVERT: r = fe_invert(x); break;
    case OVL_FE8_SQRT_RATIO: m = fe_sqrt_ratio_m1(&r, x, y); break;
    }
    fe_store(out, r, 0xff);
    return m;
}

static L8_API void r8_lane_ops(uint64_t out[static OVL_LANE8_OPS][8], const uint64_t a[static 8],
                               const uint64_t b[static 8], const uint64_t c[static 8])
{
    l8 x = l8_load(a), y = l8_load(b), z = l8_load(c);
    l8m m = (l8m)a[0];
    l8 r[OVL_LANE8_OPS - 2] = {l8_add(x, y), l8_sub(x, y), l8_and(x, y), l8_or(x, y),
                               l8_xor(x, y), l8_mullo(x, y), l8_shr(x, 13), l8_shl(x, 13),
                               l8_madd52lo(x, y, z), l8_madd52hi(x, y, z), l8_blend(m, x, y)};
    for (int i = 0; i < OVL_LANE8_OPS - 2; i++)
        l8_store(out[i], r[i]);
    memset(out[OVL_LANE8_OPS - 2], 0, 2 * sizeof out[0]);
    out[OVL_LANE8_OPS - 2][0] = l8_eq(x, y);
    out[OVL_LANE8_OPS - 1][0] = l8_test(x, y);
}

const ovl_r255x8 R8_TABLE = {
    .lane_ops = r8_lane_ops,
    .validate = r8_validate,
    .reencode = r8_reencode,
    .scalar_mult = r8_scalar_mult,
    .from_hash = r8_from_hash,
    .fe_op = r8_fe_op,
#ifdef OVL_LANE8_EMU
    .name = "emulated",
#else
    .name = "ifma",
#endif
};
