/* The multi-buffer ristretto255 back ends (src/crypto/r255x8*.c): the
 * emulated lanes against the AVX-512 IFMA instructions, the field against
 * GMP, RFC 9496 Appendix A through both, a differential run against
 * libsodium, and the group interface's batch calls under each arithmetic.
 *
 * Differential counts (OVL_R255X8_DIFF=k multiplies them; default 1):
 * 10^6 decode/validate/encode cases, 10^4 scalar multiplications (shared
 * and per-lane scalars) and 2 * 10^4 one-way maps on the IFMA back end (the
 * emulated one when the CPU lacks IFMA) against libsodium, and a hundredth
 * of the decodes and fiftieth of the rest through the emulation. */
#include <stdlib.h>
#include <string.h>

#include <gmp.h>
#include <jansson.h>
#include <sodium.h>

#include "core/mem.h"
#include "crypto/group.h"
#include "crypto/r255x8.h"
#include "rfc_vectors.h"
#include "test.h"

enum { L = OVL_R255X8_LANES, ELEM = 32, SCALAR = 32 };

/* p = 2^255 - 19 and the group order l, little-endian. */
static const uint8_t p_le[32] = {0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};
static const uint8_t l_le[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
                                 0xa2, 0xde, 0xf9, 0xde, 0x14, 0,    0,    0,    0,    0,    0,
                                 0,    0,    0,    0,    0,    0,    0,    0,    0,    0x10};

static const uint8_t zero[ELEM];
static const ovl_r255x8 *fast; /* IFMA when the machine has it, else the emulation */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void rnd_bytes(uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)rnd();
}

static long diff_scale(void)
{
    const char *s = getenv("OVL_R255X8_DIFF");
    long v = s ? strtol(s, NULL, 10) : 1;
    return v > 0 ? v : 1;
}

/* Words that stress the 52-bit instructions: all ones, top bits only, zero. */
static uint64_t edge_word(void)
{
    static const uint64_t edges[] = {0, 1, ~0ULL, (1ULL << 52) - 1, 1ULL << 52, 1ULL << 63,
                                     0xfff0000000000000ULL, (1ULL << 51) - 1};
    uint64_t r = rnd();
    return (r & 3) == 0 ? edges[(r >> 2) & 7] : rnd();
}

static void lanes_match_instructions(void)
{
    if (!ovl_arith_ifma_supported()) {
        printf("test_r255x8: no AVX-512 IFMA here; emulation checked against GMP only\n");
        return;
    }
    int bad = 0;
    for (int t = 0; t < 20000; t++) {
        uint64_t a[8], b[8], c[8], x[OVL_LANE8_OPS][8], y[OVL_LANE8_OPS][8];
        for (int i = 0; i < 8; i++) {
            a[i] = edge_word();
            b[i] = (rnd() & 7) == 0 ? a[i] : edge_word();
            c[i] = edge_word();
        }
        ovl_r255x8_ifma.lane_ops(x, a, b, c);
        ovl_r255x8_emu.lane_ops(y, a, b, c);
        bad += memcmp(x, y, sizeof x) != 0;
    }
    EXPECT_EQ(bad, 0);
}

static void to_mpz(mpz_t r, const uint8_t *b)
{
    mpz_import(r, 32, -1, 1, 0, 0, b);
}

/* Random field inputs below 2^255 (bit 255 is dropped on load), with the
 * edges: 0, 1, p-1, p, p+1 and 2^255-1. */
static void field_inputs(uint8_t *a)
{
    for (int i = 0; i < L; i++) {
        uint8_t *e = a + 32 * i;
        rnd_bytes(e, 32);
        e[31] &= 0x7f;
        unsigned pick = (unsigned)(rnd() % 10);
        if (pick < 6) {
            memcpy(e, p_le, 32);
            if (pick == 0 || pick == 1)
                e[0] = (uint8_t)(0xec + pick); /* p - 1, p */
            else if (pick == 2)
                e[0] = 0xee; /* p + 1 */
            else if (pick == 3)
                e[0] = 0xff; /* 2^255 - 1 */
            else
                memset(e, 0, 32), e[0] = (uint8_t)(pick - 4); /* 0, 1 */
        }
    }
}

static void field_case(const ovl_r255x8 *x, ovl_fe8_op op, mpz_t pm, int *bad)
{
    uint8_t a[L * 32], b[L * 32], out[L * 32];
    mpz_t ma, mb, want, got;
    mpz_inits(ma, mb, want, got, NULL);
    field_inputs(a);
    field_inputs(b);
    x->fe_op(out, op, a, b);
    for (int i = 0; i < L; i++) {
        to_mpz(ma, a + 32 * i);
        to_mpz(mb, b + 32 * i);
        to_mpz(got, out + 32 * i);
        switch (op) {
        case OVL_FE8_MUL: mpz_mul(want, ma, mb); break;
        case OVL_FE8_SQ: mpz_mul(want, ma, ma); break;
        case OVL_FE8_ADD: mpz_add(want, ma, mb); break;
        case OVL_FE8_SUB: mpz_sub(want, ma, mb); break;
        case OVL_FE8_INVERT: {
            mpz_t e;
            mpz_init(e);
            mpz_sub_ui(e, pm, 2);
            mpz_powm(want, ma, e, pm);
            mpz_clear(e);
            break;
        }
        default: break;
        }
        mpz_mod(want, want, pm);
        *bad += mpz_cmp(want, got) != 0;
    }
    mpz_clears(ma, mb, want, got, NULL);
}

static void field_matches_gmp(void)
{
    mpz_t pm;
    mpz_init(pm);
    to_mpz(pm, p_le);
    const ovl_r255x8 *backs[] = {&ovl_r255x8_emu, fast};
    static const ovl_fe8_op ops[] = {OVL_FE8_MUL, OVL_FE8_SQ, OVL_FE8_ADD, OVL_FE8_SUB,
                                     OVL_FE8_INVERT};
    for (size_t k = 0; k < 2; k++) {
        int bad = 0;
        for (size_t o = 0; o < sizeof ops / sizeof ops[0]; o++) {
            for (int t = 0; t < (ops[o] == OVL_FE8_INVERT ? 20 : 500); t++)
                field_case(backs[k], ops[o], pm, &bad);
        }
        OVL_T_RECORD(bad == 0, "%s: %d field results differ from GMP", backs[k]->name, bad);
    }
    mpz_clear(pm);
}

/* RFC 9496 A.4, one vector per lane (the six repeated to fill eight). */
static void sqrt_ratio_vectors(json_t *root, const ovl_r255x8 *x)
{
    json_t *arr = json_object_get(root, "sqrt_ratio_m1");
    size_t n = json_array_size(arr);
    EXPECT_EQ(n, 6);
    if (n == 0)
        return;
    uint8_t u[L * 32], v[L * 32], want[L * 32], got[L * 32];
    unsigned want_mask = 0;
    for (int i = 0; i < L; i++) {
        json_t *e = json_array_get(arr, (size_t)i % n);
        if (!hex_fixed(e, "u", u + 32 * i, 32) || !hex_fixed(e, "v", v + 32 * i, 32) ||
            !hex_fixed(e, "r", want + 32 * i, 32))
            return;
        want_mask |= (unsigned)json_is_true(json_object_get(e, "was_square")) << i;
    }
    unsigned m = x->fe_op(got, OVL_FE8_SQRT_RATIO, u, v);
    EXPECT_EQ(m, want_mask);
    EXPECT_BYTES_EQ(got, want, sizeof got);
}

/* A.1 by per-lane scalars (k = 0..15 over two calls), A.2 rejected, A.3. */
static void rfc_vectors_on(json_t *root, const ovl_r255x8 *x)
{
    json_t *mult = json_object_get(root, "generator_multiples");
    uint8_t b1[ELEM], pts[L * ELEM], sc[L * SCALAR], want[L * ELEM], got[L * ELEM];
    if (json_array_size(mult) != 16 || !hex_fixed(json_array_get(mult, 1), "encoding", b1, ELEM))
        return;
    for (int half = 0; half < 2; half++) {
        memset(sc, 0, sizeof sc);
        for (int i = 0; i < L; i++) {
            memcpy(pts + ELEM * i, b1, ELEM);
            sc[SCALAR * i] = (uint8_t)(half * L + i);
            if (!hex_fixed(json_array_get(mult, (size_t)(half * L + i)), "encoding",
                           want + ELEM * i, ELEM))
                return;
        }
        unsigned m = x->scalar_mult(got, sc, SCALAR, pts);
        EXPECT_EQ(m, half == 0 ? 0xfeu : 0xffu); /* 0 * B is the identity: refused */
        EXPECT_BYTES_EQ(got, want, sizeof got);
        EXPECT_EQ(x->validate(want), half == 0 ? 0xfeu : 0xffu);
        memset(got, 0xaa, sizeof got);
        EXPECT_EQ(x->reencode(got, want), half == 0 ? 0xfeu : 0xffu);
        EXPECT_BYTES_EQ(got, want, sizeof got);
        want[ELEM * 3 + 31] |= 0x80; /* the twin libsodium 1.0.18 accepts */
        EXPECT_EQ(x->validate(want) & 0x08u, 0u);
    }
    const char *keys[] = {"invalid_encodings", "invalid_encodings_extra"};
    for (size_t k = 0; k < 2; k++) {
        json_t *arr = json_object_get(root, keys[k]);
        for (size_t i = 0; i < json_array_size(arr); i++) {
            for (int l = 0; l < L; l++)
                memcpy(pts + ELEM * l, b1, ELEM);
            if (!hex_fixed(json_array_get(arr, i), "encoding", pts + ELEM * (i % L), ELEM))
                return;
            unsigned lane = 1u << (i % L);
            OVL_T_RECORD(x->validate(pts) == (0xffu & ~lane), "%s: invalid encoding %zu accepted",
                         x->name, i);
            static const uint8_t two[SCALAR] = {2};
            EXPECT_EQ(x->scalar_mult(got, two, 0, pts), 0xffu & ~lane);
        }
    }
    json_t *der = json_object_get(root, "element_derivation");
    size_t n = json_array_size(der);
    EXPECT_EQ(n, 11);
    for (size_t base = 0; base < n; base += L) {
        uint8_t in[L * 64];
        for (int i = 0; i < L; i++) {
            json_t *e = json_array_get(der, (base + (size_t)i) % n);
            if (!hex_fixed(e, "input", in + 64 * i, 64) || !hex_fixed(e, "output", want + ELEM * i, ELEM))
                return;
        }
        x->from_hash(got, in);
        EXPECT_BYTES_EQ(got, want, sizeof got);
    }
    sqrt_ratio_vectors(root, x);
}

static void rfc_vectors(void)
{
    json_t *root = load_vectors("ristretto255_encodings.json");
    if (root == NULL)
        return;
    rfc_vectors_on(root, &ovl_r255x8_emu);
    if (fast != &ovl_r255x8_emu)
        rfc_vectors_on(root, fast);
    json_decref(root);
}

/* An encoding to try: random, valid, valid with bit 255, s + p (non-canonical),
 * -s (odd), the identity, or near p. */
static void encoding_case(uint8_t *e, const uint8_t *valid)
{
    unsigned kind = (unsigned)(rnd() % 8);
    rnd_bytes(e, 32);
    switch (kind) {
    case 0: break;
    case 1: e[31] &= 0x7f; break;
    case 2: memcpy(e, valid, 32); break;
    case 3: memcpy(e, valid, 32), e[31] |= 0x80; break;
    case 4: memcpy(e, p_le, 32), e[0] = (uint8_t)(0xed + rnd() % 19); break; /* p .. p+18 */
    case 5: memcpy(e, valid, 32), e[0] |= 1; break;
    case 6: memset(e, 0, 32); break;
    default: memcpy(e, p_le, 32), e[0] = (uint8_t)(0xe0 + rnd() % 16); break;
    }
}

static void differential(const ovl_r255x8 *x, long groups, long mults, long maps)
{
    const ovl_group *g = ovl_group_default();
    uint8_t pool[64][ELEM], pts[L * ELEM], got[L * ELEM], want[ELEM], sc[L * SCALAR];
    long bad_valid = 0, bad_enc = 0, bad_mult = 0, bad_map = 0, accepted = 0;
    for (int i = 0; i < 64; i++)
        crypto_core_ristretto255_random(pool[i]);
    for (long t = 0; t < groups; t++) {
        for (int i = 0; i < L; i++)
            encoding_case(pts + ELEM * i, pool[rnd() % 64]);
        unsigned m = x->reencode(got, pts);
        for (int i = 0; i < L; i++) {
            int ok = g->validate(pts + ELEM * i) == OVL_OK;
            accepted += ok;
            bad_valid += ok != (int)((m >> i) & 1);
            /* A canonical encoding re-encodes to itself; refused lanes are zero. */
            bad_enc += memcmp(got + ELEM * i, ok ? pts + ELEM * i : zero, ELEM) != 0;
        }
        if ((t & 15) == 0)
            bad_valid += x->validate(pts) != m;
    }
    for (long t = 0; t < mults; t++) {
        for (int i = 0; i < L; i++) {
            if (rnd() % 4 == 0)
                encoding_case(pts + ELEM * i, pool[rnd() % 64]);
            else
                memcpy(pts + ELEM * i, pool[rnd() % 64], ELEM);
            uint8_t *s = sc + SCALAR * i;
            unsigned kind = (unsigned)(rnd() % 8);
            rnd_bytes(s, SCALAR);
            if (kind == 0)
                memset(s, 0, SCALAR); /* 0 */
            else if (kind == 1)
                memset(s, 0, SCALAR), s[0] = 1; /* 1 */
            else if (kind == 2)
                memcpy(s, l_le, SCALAR), s[0] -= 1; /* l - 1 */
            else if (kind == 3)
                memcpy(s, l_le, SCALAR); /* l: the identity */
            else if (kind == 4)
                memset(s, 0xff, SCALAR); /* bit 255 and all */
            else if (kind < 7)
                crypto_core_ristretto255_scalar_reduce(s, (uint8_t[64]){(uint8_t)rnd(), 7, 1});
        }
        int shared = rnd() % 2 == 0;
        unsigned m = x->scalar_mult(got, sc, shared ? 0 : SCALAR, pts);
        for (int i = 0; i < L; i++) {
            const uint8_t *s = sc + (shared ? 0 : SCALAR * i);
            int ok = g->scalar_mult(want, s, pts + ELEM * i) == OVL_OK;
            if (!ok)
                memset(want, 0, ELEM);
            bad_mult += ok != (int)((m >> i) & 1) || memcmp(want, got + ELEM * i, ELEM) != 0;
        }
    }
    for (long t = 0; t < maps; t++) {
        uint8_t h[L * 64];
        rnd_bytes(h, sizeof h);
        if (t % 7 == 0)
            memset(h + 64 * (t % L), 0xff, 64); /* both halves above p */
        x->from_hash(got, h);
        for (int i = 0; i < L; i++) {
            crypto_core_ristretto255_from_hash(want, h + 64 * i);
            bad_map += memcmp(want, got + ELEM * i, ELEM) != 0;
        }
    }
    OVL_T_RECORD(bad_valid + bad_enc + bad_mult + bad_map == 0,
                 "%s vs libsodium: %ld validate, %ld encode, %ld mult, %ld map differences",
                 x->name, bad_valid, bad_enc, bad_mult, bad_map);
    /* The mix must exercise both answers. */
    EXPECT_TRUE(accepted > groups && accepted < groups * L - groups);
    printf("test_r255x8: %s: %ld decodes (%ld valid), %ld mults, %ld maps vs libsodium\n", x->name,
           groups * L, accepted, mults * L, maps * L);
}

static void differential_libsodium(void)
{
    long k = diff_scale();
    differential(fast, 125000 * k, 1250 * k, 2500 * k);
    if (fast != &ovl_r255x8_emu)
        differential(&ovl_r255x8_emu, 1250 * k, 25 * k, 125 * k);
}

/* The group's batch calls agree with its single calls under each arithmetic,
 * at every length around a multiple of eight, and name the first bad element. */
static void batch_interface(void)
{
    const ovl_group *g = ovl_group_default();
    static const uint8_t dst[] = "OVERLAP-TEST-R255X8";
    enum { N = 19 };
    uint8_t ids[N][32], hs[N * ELEM], one[ELEM], out[N * ELEM], k[SCALAR], ks[N * SCALAR];
    const uint8_t *msgs[N];
    for (int i = 0; i < N; i++) {
        rnd_bytes(ids[i], 32);
        msgs[i] = ids[i];
    }
    EXPECT_OK(g->scalar_random(k));
    for (int i = 0; i < N; i++)
        EXPECT_OK(g->scalar_random(ks + SCALAR * i));
    const ovl_arith modes[] = {OVL_ARITH_PORTABLE, OVL_ARITH_IFMA};
    for (size_t mi = 0; mi < 2; mi++) {
        if (ovl_arith_select(modes[mi]) != 0) {
            EXPECT_TRUE(!ovl_arith_ifma_supported());
            continue;
        }
        EXPECT_STR_EQ(ovl_arith_name(), mi == 0 ? "portable" : "ifma");
        static const size_t lens[] = {0, 1, 7, 8, 9, 16, 17, N};
        for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
            size_t n = lens[li], bad = 99;
            EXPECT_OK(g->hash_to_group_batch(hs, msgs, 32, n, dst, sizeof dst - 1));
            EXPECT_OK(g->scalar_mult_batch(out, &bad, k, 0, hs, n));
            for (size_t i = 0; i < n; i++) {
                EXPECT_OK(g->hash_to_group(one, ids[i], 32, dst, sizeof dst - 1));
                EXPECT_BYTES_EQ(hs + ELEM * i, one, ELEM);
                EXPECT_OK(g->scalar_mult(one, k, hs + ELEM * i));
                EXPECT_BYTES_EQ(out + ELEM * i, one, ELEM);
            }
            EXPECT_OK(g->scalar_mult_batch(out, &bad, ks, SCALAR, hs, n));
            for (size_t i = 0; i < n; i++) {
                EXPECT_OK(g->scalar_mult(one, ks + SCALAR * i, hs + ELEM * i));
                EXPECT_BYTES_EQ(out + ELEM * i, one, ELEM);
            }
        }
        /* Element 13 is the identity, element 15 non-canonical: 13 is named. */
        size_t bad = 0;
        EXPECT_OK(g->hash_to_group_batch(hs, msgs, 32, N, dst, sizeof dst - 1));
        memset(hs + ELEM * 13, 0, ELEM);
        hs[ELEM * 15 + 31] |= 0x80;
        EXPECT_ERR(OVL_ERR_CRYPTO, g->scalar_mult_batch(out, &bad, k, 0, hs, N));
        EXPECT_EQ(bad, 13);
        EXPECT_TRUE(sodium_is_zero(out, sizeof out));
        /* A zero scalar for element 2 of a per-element batch: the identity. */
        EXPECT_OK(g->hash_to_group_batch(hs, msgs, 32, N, dst, sizeof dst - 1));
        memset(ks + SCALAR * 2, 0, SCALAR);
        EXPECT_ERR(OVL_ERR_CRYPTO, g->scalar_mult_batch(out, &bad, ks, SCALAR, hs, N));
        EXPECT_EQ(bad, 2);
        EXPECT_OK(g->scalar_random(ks + SCALAR * 2));
    }
    EXPECT_EQ(ovl_arith_select(OVL_ARITH_AUTO), 0);
}

static void arith_names(void)
{
    EXPECT_EQ(ovl_arith_parse("auto"), OVL_ARITH_AUTO);
    EXPECT_EQ(ovl_arith_parse("portable"), OVL_ARITH_PORTABLE);
    EXPECT_EQ(ovl_arith_parse("ifma"), OVL_ARITH_IFMA);
    EXPECT_EQ(ovl_arith_parse("IFMA"), -1);
    EXPECT_EQ(ovl_arith_parse(""), -1);
    EXPECT_EQ(ovl_arith_parse(NULL), -1);
    EXPECT_EQ(ovl_arith_select(OVL_ARITH_PORTABLE), 0);
    EXPECT_TRUE(ovl_arith_x8() == NULL);
    EXPECT_EQ(ovl_arith_select(OVL_ARITH_AUTO), 0);
    EXPECT_TRUE((ovl_arith_x8() != NULL) == (ovl_arith_ifma_supported() != 0));
}

int main(void)
{
    if (ovl_crypto_init() != OVL_OK)
        return 1;
    fast = ovl_arith_ifma_supported() ? &ovl_r255x8_ifma : &ovl_r255x8_emu;
    RUN(arith_names);
    RUN(lanes_match_instructions);
    RUN(field_matches_gmp);
    RUN(rfc_vectors);
    RUN(batch_interface);
    RUN(differential_libsodium);
    return ovl_t_summary("test_r255x8");
}
