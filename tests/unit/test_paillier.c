#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gmp.h>
#include <sodium.h>

#include "crypto/paillier_internal.h"
#include "core/buf.h"
#include "crypto/paillier.h"
#include "crypto/share.h"
#include "test.h"

/* One 2048-bit key from seed_a serves most tests; keygen is the slow part. */
static ovl_paillier_sk *g_sk;
static const ovl_paillier_pk *g_pk;

static const uint8_t seed_a[OVL_PAILLIER_SEED_BYTES] = {1, 2, 3, 4, 5, 6, 7, 8};
static const uint8_t seed_b[OVL_PAILLIER_SEED_BYTES] = {9, 9, 9};

static double now_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void write_ct(uint8_t *out, const mpz_t ct)
{
    ovl_buf w;
    ovl_buf_writer(&w, out, ovl_paillier_ct_len(g_pk));
    EXPECT_OK(ovl_paillier_ct_write(&w, g_pk, ct));
}

static void keygen_properties(void)
{
    mpz_t p, q, n, t;
    mpz_inits(p, q, n, t, NULL);
    ovl_paillier_sk_factors(p, q, g_sk);
    mpz_mul(n, p, q);
    EXPECT_TRUE(mpz_cmp(n, ovl_paillier_pk_modulus(g_pk)) == 0);
    EXPECT_EQ(mpz_sizeinbase(n, 2), 2048);
    EXPECT_EQ(mpz_sizeinbase(p, 2), 1024);
    EXPECT_EQ(mpz_sizeinbase(q, 2), 1024);
    EXPECT_TRUE(mpz_cmp(p, q) != 0);
    EXPECT_TRUE(mpz_probab_prime_p(p, 30) > 0);
    EXPECT_TRUE(mpz_probab_prime_p(q, 30) > 0);
    /* gcd(pq, (p-1)(q-1)) = 1 */
    mpz_sub_ui(p, p, 1);
    mpz_sub_ui(q, q, 1);
    mpz_mul(t, p, q);
    mpz_gcd(t, t, n);
    EXPECT_TRUE(mpz_cmp_ui(t, 1) == 0);
    EXPECT_EQ(ovl_paillier_pk_bits(g_pk), 2048);
    EXPECT_EQ(ovl_paillier_ct_len(g_pk), 512);

    /* The seeded generator is deterministic per seed and differs across seeds. */
    ovl_paillier_sk *same = NULL, *other = NULL;
    EXPECT_OK(ovl_paillier_keygen_from_seed_for_tests(&same, 2048, seed_a));
    EXPECT_OK(ovl_paillier_keygen_from_seed_for_tests(&other, 2048, seed_b));
    if (same != NULL && other != NULL) {
        EXPECT_TRUE(mpz_cmp(n, ovl_paillier_pk_modulus(ovl_paillier_sk_public(same))) == 0);
        EXPECT_TRUE(mpz_cmp(n, ovl_paillier_pk_modulus(ovl_paillier_sk_public(other))) != 0);
    }
    ovl_paillier_sk_free(same);
    ovl_paillier_sk_free(other);

    ovl_paillier_sk *bad = NULL;
    EXPECT_ERR(OVL_ERR_USAGE, ovl_paillier_keygen(&bad, 1024));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_paillier_keygen(&bad, 4096));
    EXPECT_TRUE(bad == NULL);
    mpz_clears(p, q, n, t, NULL);
}

static void random_keygen_3072(void)
{
    ovl_paillier_sk *sk = NULL;
    double t0 = now_sec();
    EXPECT_OK(ovl_paillier_keygen(&sk, 3072));
    printf("  3072-bit keygen (with table): %.0f ms\n", (now_sec() - t0) * 1e3);
    if (sk == NULL)
        return;
    const ovl_paillier_pk *pk = ovl_paillier_sk_public(sk);
    EXPECT_EQ(mpz_sizeinbase(ovl_paillier_pk_modulus(pk), 2), 3072);
    EXPECT_EQ(ovl_paillier_ct_len(pk), 768);
    mpz_t ct;
    mpz_init(ct);
    int64_t v = 0;
    EXPECT_OK(ovl_paillier_encrypt_i64(ct, pk, -123456789));
    EXPECT_OK(ovl_paillier_decrypt_i64(&v, sk, ct));
    EXPECT_EQ(v, -123456789);
    /* A key's ciphertext is not valid under another key's decryption. */
    mpz_t m;
    mpz_init(m);
    EXPECT_ERR(OVL_ERR_CRYPTO, ovl_paillier_decrypt(m, g_sk, ct));
    mpz_clears(ct, m, NULL);
    ovl_paillier_sk_free(sk);
}

static void roundtrip_i64(void)
{
    static const int64_t vals[] = {0, 1, -1, 42, -42, INT64_MAX, INT64_MIN, 1000000007};
    mpz_t ct, ct2;
    mpz_inits(ct, ct2, NULL);
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        int64_t got = 0;
        EXPECT_OK(ovl_paillier_encrypt_i64(ct, g_pk, vals[i]));
        EXPECT_OK(ovl_paillier_decrypt_i64(&got, g_sk, ct));
        EXPECT_TRUE(got == vals[i]);
    }
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        int64_t got = 0;
        EXPECT_OK(ovl_paillier_sk_encrypt_i64(ct, g_sk, vals[i]));
        EXPECT_OK(ovl_paillier_decrypt_i64(&got, g_sk, ct));
        EXPECT_TRUE(got == vals[i]);
    }
    EXPECT_ERR(OVL_ERR_USAGE, ovl_paillier_sk_encrypt(ct, g_sk, ovl_paillier_pk_modulus(g_pk)));
    /* Probabilistic: two encryptions of one value differ. */
    EXPECT_OK(ovl_paillier_encrypt_i64(ct2, g_pk, 42));
    EXPECT_OK(ovl_paillier_encrypt_i64(ct, g_pk, 42));
    EXPECT_TRUE(mpz_cmp(ct, ct2) != 0);
    /* A changed ciphertext no longer decrypts to the value. */
    int64_t got = 0;
    mpz_add_ui(ct, ct, 2);
    ovl_err e = ovl_paillier_decrypt_i64(&got, g_sk, ct);
    EXPECT_TRUE(e != OVL_OK || got != 42);
    mpz_clears(ct, ct2, NULL);
}

static void roundtrip_bounds(void)
{
    mpz_t half, v, m, ct, out, out_ref;
    mpz_inits(half, v, m, ct, out, out_ref, NULL);
    mpz_srcptr n = ovl_paillier_pk_modulus(g_pk);
    mpz_sub_ui(half, n, 1);
    mpz_fdiv_q_2exp(half, half, 1);
    /* +max, -max: the largest encodable magnitudes survive. */
    for (int sign = 1; sign >= -1; sign -= 2) {
        if (sign > 0)
            mpz_set(v, half);
        else
            mpz_neg(v, half);
        EXPECT_OK(ovl_paillier_encode(m, g_pk, v));
        EXPECT_OK(ovl_paillier_encrypt(ct, g_pk, m));
        EXPECT_OK(ovl_paillier_decrypt(out, g_sk, ct));
        EXPECT_OK(ovl_paillier_decrypt_reference_for_tests(out_ref, g_sk, ct));
        EXPECT_TRUE(mpz_cmp(out, out_ref) == 0);
        EXPECT_OK(ovl_paillier_decode(out, g_pk, out));
        EXPECT_TRUE(mpz_cmp(out, v) == 0);
    }
    /* One past the bound is refused by the encoder. */
    mpz_add_ui(v, half, 1);
    EXPECT_ERR(OVL_ERR_LIMIT, ovl_paillier_encode(m, g_pk, v));
    mpz_neg(v, v);
    EXPECT_ERR(OVL_ERR_LIMIT, ovl_paillier_encode(m, g_pk, v));
    /* Plaintexts must be residues. */
    EXPECT_ERR(OVL_ERR_USAGE, ovl_paillier_encrypt(ct, g_pk, n));
    mpz_set_si(v, -1);
    EXPECT_ERR(OVL_ERR_USAGE, ovl_paillier_encrypt(ct, g_pk, v));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_paillier_decode(out, g_pk, n));
    /* n-1 is the residue of -1; random residues agree with the textbook path. */
    mpz_sub_ui(m, n, 1);
    EXPECT_OK(ovl_paillier_encrypt(ct, g_pk, m));
    int64_t got = 0;
    EXPECT_OK(ovl_paillier_decrypt_i64(&got, g_sk, ct));
    EXPECT_EQ(got, -1);
    for (int i = 0; i < 3; i++) {
        EXPECT_OK(ovl_share_random(m, n));
        EXPECT_OK(ovl_paillier_encrypt(ct, g_pk, m));
        EXPECT_OK(ovl_paillier_decrypt(out, g_sk, ct));
        EXPECT_OK(ovl_paillier_decrypt_reference_for_tests(out_ref, g_sk, ct));
        EXPECT_TRUE(mpz_cmp(out, m) == 0 && mpz_cmp(out_ref, m) == 0);
    }
    /* A random large residue does not fit int64. */
    EXPECT_ERR(OVL_ERR_LIMIT, ovl_paillier_decrypt_i64(&got, g_sk, ct));
    mpz_clears(half, v, m, ct, out, out_ref, NULL);
}

static void fixed_base_matches_powm(void)
{
    uint8_t r[OVL_PAILLIER_R_BITS_2048 / 8] = {0};
    mpz_t zero, hs, hr, re, ct, m;
    mpz_inits(zero, hs, hr, re, ct, m, NULL);
    mpz_srcptr n = ovl_paillier_pk_modulus(g_pk);
    mpz_t n2;
    mpz_init(n2);
    mpz_mul(n2, n, n);
    r[sizeof r - 1] = 1;
    EXPECT_OK(ovl_paillier_encrypt_with_exponent_for_tests(hs, g_pk, zero, r, sizeof r));
    for (int i = 0; i < 3; i++) {
        randombytes_buf(r, sizeof r);
        if (i == 0)
            memset(r, 0xff, sizeof r); /* every digit at its maximum */
        mpz_import(re, sizeof r, 1, 1, 1, 0, r);
        mpz_powm(hr, hs, re, n2);
        EXPECT_OK(ovl_paillier_encrypt_with_exponent_for_tests(ct, g_pk, zero, r, sizeof r));
        EXPECT_TRUE(mpz_cmp(ct, hr) == 0);
        mpz_set_ui(m, 77);
        EXPECT_OK(ovl_paillier_encrypt_with_exponent_for_tests(ct, g_pk, m, r, sizeof r));
        mpz_mul(m, m, n);
        mpz_add_ui(m, m, 1);
        mpz_mul(hr, hr, m);
        mpz_mod(hr, hr, n2);
        EXPECT_TRUE(mpz_cmp(ct, hr) == 0);
        /* The key owner's CRT path gives the identical ciphertext. */
        mpz_set_ui(m, 77);
        EXPECT_OK(ovl_paillier_sk_encrypt_with_exponent(hr, g_sk, m, r, sizeof r));
        EXPECT_TRUE(mpz_cmp(ct, hr) == 0);
    }
    /* h_s is in the public key bytes after the bit count and n. */
    ovl_buf w;
    EXPECT_OK(ovl_buf_alloc(&w, 64, OVL_PAILLIER_PK_MAX_BYTES));
    EXPECT_OK(ovl_paillier_pk_write(&w, g_pk));
    mpz_import(hr, 512, 1, 1, 1, 0, w.data + 2 + 256);
    EXPECT_TRUE(mpz_cmp(hr, hs) == 0);
    ovl_buf_free(&w);
    EXPECT_ERR(OVL_ERR_USAGE,
               ovl_paillier_encrypt_with_exponent_for_tests(ct, g_pk, zero, r, sizeof r - 1));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_paillier_sk_encrypt_with_exponent(ct, g_sk, zero, r, sizeof r + 1));
    mpz_clears(zero, hs, hr, re, ct, m, n2, NULL);
}

/* The constant-time fixed-base exponentiation (every digit multiplied, rows
 * scanned whole) against mpz_powm, for exponents whose digits are all zero,
 * all at their maximum, mixed, a single set bit, and random; the key owner's
 * CRT path must give the identical ciphertext. */
static void constant_time_pow_matches_powm(void)
{
    uint8_t r[OVL_PAILLIER_R_BITS_2048 / 8];
    mpz_t zero, hs, want, got, re, n2, m, gm;
    mpz_inits(zero, hs, want, got, re, n2, m, gm, NULL);
    mpz_srcptr n = ovl_paillier_pk_modulus(g_pk);
    mpz_mul(n2, n, n);
    ovl_buf w;
    EXPECT_OK(ovl_buf_alloc(&w, 64, OVL_PAILLIER_PK_MAX_BYTES));
    EXPECT_OK(ovl_paillier_pk_write(&w, g_pk));
    mpz_import(hs, 512, 1, 1, 1, 0, w.data + 2 + 256);
    ovl_buf_free(&w);
    mpz_sub_ui(m, n, 1); /* the largest plaintext */
    mpz_mul(gm, m, n);
    mpz_add_ui(gm, gm, 1);
    for (int i = 0; i < 24; i++) {
        if (i == 0)
            memset(r, 0, sizeof r); /* every digit zero: hs^0 = 1 */
        else if (i == 1)
            memset(r, 0xff, sizeof r);
        else if (i == 2 || i == 3)
            for (size_t j = 0; j < sizeof r; j++) /* zero and non-zero digits interleaved */
                r[j] = (uint8_t)(((j / 3) % 2 == (size_t)(i - 2)) ? 0xff : 0x00);
        else if (i < 8) {
            memset(r, 0, sizeof r); /* one bit: the top, bottom and middle digits */
            size_t bit = i == 4 ? 0 : i == 5 ? sizeof r * 8 - 1 : (size_t)(i * 37);
            r[sizeof r - 1 - bit / 8] = (uint8_t)(1u << (bit % 8));
        } else
            randombytes_buf(r, sizeof r);
        mpz_import(re, sizeof r, 1, 1, 1, 0, r);
        mpz_powm(want, hs, re, n2);
        EXPECT_OK(ovl_paillier_encrypt_with_exponent_for_tests(got, g_pk, zero, r, sizeof r));
        EXPECT_TRUE(mpz_cmp(got, want) == 0);
        mpz_mul(want, want, gm);
        mpz_mod(want, want, n2);
        EXPECT_OK(ovl_paillier_encrypt_with_exponent_for_tests(got, g_pk, m, r, sizeof r));
        EXPECT_TRUE(mpz_cmp(got, want) == 0);
        EXPECT_OK(ovl_paillier_sk_encrypt_with_exponent(got, g_sk, m, r, sizeof r));
        EXPECT_TRUE(mpz_cmp(got, want) == 0);
    }
    /* A different exponent gives a different result (the check can fail). */
    r[0] ^= 1;
    EXPECT_OK(ovl_paillier_encrypt_with_exponent_for_tests(got, g_pk, m, r, sizeof r));
    EXPECT_TRUE(mpz_cmp(got, want) != 0);
    mpz_clears(zero, hs, want, got, re, n2, m, gm, NULL);
}

/* The limb-level share arithmetic against mpz reference results at the edges. */
static void share_arithmetic_edges(void)
{
    mpz_t mod, v, a, b, out, ref;
    mpz_inits(mod, v, a, b, out, ref, NULL);
    const char *mods[] = {"11", "340282366920938463463374607431768211507", NULL};
    for (int k = 0; k < 3; k++) {
        if (mods[k] != NULL)
            mpz_set_str(mod, mods[k], 10);
        else
            mpz_set(mod, ovl_paillier_pk_modulus(g_pk));
        for (int i = 0; i < 12; i++) {
            switch (i) {
            case 0: mpz_set_ui(v, 0); break;
            case 1: mpz_set_si(v, -1); break;
            case 2: mpz_sub_ui(v, mod, 1); break;
            case 3: mpz_neg(v, mod); mpz_add_ui(v, v, 1); break;
            case 4: mpz_set(v, mod); break;
            case 5: mpz_neg(v, mod); break;
            case 6: mpz_mul_ui(v, mod, 3); mpz_add_ui(v, v, 2); break;
            case 7: mpz_ui_pow_ui(v, 2, 70); mpz_neg(v, v); break;
            /* Wider than the constant-time path: reduced first. */
            case 8: mpz_mul_2exp(v, mod, 20000); mpz_add_ui(v, v, 5); break;
            case 9: mpz_mul_2exp(v, mod, 20000); mpz_neg(v, v); mpz_sub_ui(v, v, 5); break;
            default: mpz_set_si(v, (long)(i * 1000003) - 11000000); break;
            }
            EXPECT_OK(ovl_share_split(a, b, v, mod));
            EXPECT_TRUE(mpz_sgn(b) >= 0 && mpz_cmp(b, mod) < 0);
            EXPECT_OK(ovl_share_combine(out, a, b, mod));
            mpz_mod(ref, v, mod);
            EXPECT_TRUE(mpz_cmp(out, ref) == 0);
            /* The signed lift: residues above (m-1)/2 are negative. */
            EXPECT_OK(ovl_share_combine_signed(out, a, b, mod));
            mpz_fdiv_q_2exp(a, mod, 1);
            if (mpz_cmp(ref, a) > 0)
                mpz_sub(ref, ref, mod);
            EXPECT_TRUE(mpz_cmp(out, ref) == 0);
        }
        /* combine at the wrap-around: (m-1) + (m-1) = m - 2, (m-1) + 1 = 0. */
        mpz_sub_ui(a, mod, 1);
        EXPECT_OK(ovl_share_combine(out, a, a, mod));
        mpz_sub_ui(ref, mod, 2);
        EXPECT_TRUE(mpz_cmp(out, ref) == 0);
        mpz_set_ui(b, 1);
        EXPECT_OK(ovl_share_combine(out, a, b, mod));
        EXPECT_TRUE(mpz_sgn(out) == 0);
        /* lift of (m-1)/2 stays, (m+1)/2 becomes -(m-1)/2. */
        mpz_fdiv_q_2exp(a, mod, 1);
        EXPECT_OK(ovl_share_lift_signed(out, a, mod));
        EXPECT_TRUE(mpz_cmp(out, a) == 0);
        mpz_add_ui(b, a, 1);
        EXPECT_OK(ovl_share_lift_signed(out, b, mod));
        mpz_neg(ref, a);
        EXPECT_TRUE(mpz_cmp(out, ref) == 0);
        /* Non-residues are refused: m itself, negatives, wider values. */
        mpz_set_si(b, -1);
        EXPECT_ERR(OVL_ERR_USAGE, ovl_share_combine(out, a, mod, mod));
        EXPECT_ERR(OVL_ERR_USAGE, ovl_share_combine(out, b, a, mod));
        EXPECT_ERR(OVL_ERR_USAGE, ovl_share_lift_signed(out, mod, mod));
        mpz_mul_2exp(b, mod, 64);
        EXPECT_ERR(OVL_ERR_USAGE, ovl_share_combine(out, a, b, mod));
    }
    mpz_clears(mod, v, a, b, out, ref, NULL);
}

static void homomorphic_ops(void)
{
    mpz_t ca, cb, c, k, m;
    mpz_inits(ca, cb, c, k, m, NULL);
    mpz_srcptr n = ovl_paillier_pk_modulus(g_pk);
    int64_t got = 0;
    EXPECT_OK(ovl_paillier_encrypt_i64(ca, g_pk, 1000));
    EXPECT_OK(ovl_paillier_encrypt_i64(cb, g_pk, -1750));
    EXPECT_OK(ovl_paillier_add(c, g_pk, ca, cb));
    EXPECT_OK(ovl_paillier_decrypt_i64(&got, g_sk, c));
    EXPECT_EQ(got, -750);

    ovl_paillier_encode_i64(m, g_pk, -5);
    EXPECT_OK(ovl_paillier_add_plain(c, g_pk, c, m));
    EXPECT_OK(ovl_paillier_decrypt_i64(&got, g_sk, c));
    EXPECT_EQ(got, -755);

    ovl_paillier_encode_i64(k, g_pk, -3);
    EXPECT_OK(ovl_paillier_mul_plain(c, g_pk, ca, k));
    EXPECT_OK(ovl_paillier_decrypt_i64(&got, g_sk, c));
    EXPECT_EQ(got, -3000);
    mpz_set_ui(k, 0);
    EXPECT_OK(ovl_paillier_mul_plain(c, g_pk, ca, k));
    EXPECT_OK(ovl_paillier_decrypt_i64(&got, g_sk, c));
    EXPECT_EQ(got, 0);

    EXPECT_OK(ovl_paillier_rerandomize(c, g_pk, ca));
    EXPECT_TRUE(mpz_cmp(c, ca) != 0);
    EXPECT_OK(ovl_paillier_decrypt_i64(&got, g_sk, c));
    EXPECT_EQ(got, 1000);

    /* Out-of-range operands are caller bugs. */
    EXPECT_ERR(OVL_ERR_USAGE, ovl_paillier_mul_plain(c, g_pk, ca, n));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_paillier_add_plain(c, g_pk, ca, n));
    mpz_set_ui(c, 0);
    EXPECT_ERR(OVL_ERR_USAGE, ovl_paillier_add(c, g_pk, c, ca));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_paillier_rerandomize(c, g_pk, c));
    mpz_clears(ca, cb, c, k, m, NULL);
}

static void masks_and_shares(void)
{
    mpz_t ct, masked, masked2, runner, runner2, contrib, v, a, b, out;
    mpz_inits(ct, masked, masked2, runner, runner2, contrib, v, a, b, out, NULL);
    mpz_srcptr n = ovl_paillier_pk_modulus(g_pk);
    int64_t got = 0;

    EXPECT_OK(ovl_paillier_encrypt_i64(ct, g_pk, -98765));
    EXPECT_OK(ovl_paillier_mask(masked, runner, g_pk, ct));
    EXPECT_OK(ovl_paillier_mask(masked2, runner2, g_pk, ct));
    EXPECT_TRUE(mpz_cmp(runner, runner2) != 0);
    EXPECT_OK(ovl_paillier_decrypt(contrib, g_sk, masked));
    /* The contributor's share alone is not the value. */
    ovl_err e = ovl_paillier_decode_i64(&got, g_pk, contrib);
    EXPECT_TRUE(e != OVL_OK || got != -98765);
    EXPECT_OK(ovl_share_combine_i64(&got, contrib, runner, n));
    EXPECT_EQ(got, -98765);

    /* Plain split and recombination, signed and unsigned. */
    mpz_set_si(v, -7);
    EXPECT_OK(ovl_share_split(a, b, v, n));
    EXPECT_OK(ovl_share_combine_signed(out, a, b, n));
    EXPECT_TRUE(mpz_cmp_si(out, -7) == 0);
    EXPECT_OK(ovl_share_combine(out, a, b, n));
    mpz_add_ui(v, out, 7);
    EXPECT_TRUE(mpz_cmp(v, n) == 0);
    /* Combinations too large for int64 are refused, non-residues are misuse. */
    mpz_set_ui(v, 1);
    mpz_mul_2exp(v, v, 70);
    EXPECT_OK(ovl_share_split(a, b, v, n));
    EXPECT_ERR(OVL_ERR_LIMIT, ovl_share_combine_i64(&got, a, b, n));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_share_combine(out, a, n, n));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_share_random(out, v)); /* even modulus */

    /* Uniform masks stay below the modulus, also a small one. */
    mpz_set_ui(v, 11);
    int seen[11] = {0};
    for (int i = 0; i < 400; i++) {
        EXPECT_OK(ovl_share_random(out, v));
        if (mpz_cmp_ui(out, 11) < 0)
            seen[mpz_get_ui(out)]++;
        else
            EXPECT_TRUE(mpz_cmp_ui(out, 11) < 0);
    }
    for (int i = 0; i < 11; i++)
        EXPECT_TRUE(seen[i] > 5);

    /* Share wire form: fixed length, value below the modulus. */
    ovl_buf w, r;
    EXPECT_OK(ovl_buf_alloc(&w, 16, 1024));
    EXPECT_OK(ovl_share_write(&w, runner, n));
    EXPECT_EQ(ovl_buf_len(&w), ovl_share_len(n));
    ovl_buf_reader(&r, w.data, w.wpos);
    EXPECT_OK(ovl_share_read(out, &r, n));
    EXPECT_TRUE(mpz_cmp(out, runner) == 0);
    ovl_buf_reader(&r, w.data, w.wpos - 1);
    EXPECT_ERR(OVL_ERR_MALFORMED, ovl_share_read(out, &r, n));
    memset(w.data, 0xff, w.wpos);
    ovl_buf_reader(&r, w.data, w.wpos);
    EXPECT_ERR(OVL_ERR_MALFORMED, ovl_share_read(out, &r, n));
    ovl_buf_free(&w);
    mpz_clears(ct, masked, masked2, runner, runner2, contrib, v, a, b, out, NULL);
}

static void bound_check(void)
{
    mpz_t half, big, m, c1, c2, out;
    mpz_inits(half, big, m, c1, c2, out, NULL);
    mpz_srcptr n = ovl_paillier_pk_modulus(g_pk);
    mpz_sub_ui(half, n, 1);
    mpz_fdiv_q_2exp(half, half, 1);
    EXPECT_OK(ovl_paillier_sum_check_u64(g_pk, UINT64_MAX, UINT64_MAX));
    EXPECT_OK(ovl_paillier_sum_check(g_pk, 1, half));
    EXPECT_ERR(OVL_ERR_LIMIT, ovl_paillier_sum_check(g_pk, 2, half));
    mpz_fdiv_q_ui(big, half, 1000);
    EXPECT_OK(ovl_paillier_sum_check(g_pk, 1000, big));
    EXPECT_ERR(OVL_ERR_LIMIT, ovl_paillier_sum_check(g_pk, 1001, big));
    mpz_set_si(big, -1);
    EXPECT_ERR(OVL_ERR_USAGE, ovl_paillier_sum_check(g_pk, 1, big));
    /* What the refusal prevents: half + half wraps to a negative number. */
    EXPECT_OK(ovl_paillier_encode(m, g_pk, half));
    EXPECT_OK(ovl_paillier_encrypt(c1, g_pk, m));
    EXPECT_OK(ovl_paillier_encrypt(c2, g_pk, m));
    EXPECT_OK(ovl_paillier_add(c1, g_pk, c1, c2));
    EXPECT_OK(ovl_paillier_decrypt(out, g_sk, c1));
    EXPECT_OK(ovl_paillier_decode(out, g_pk, out));
    EXPECT_TRUE(mpz_sgn(out) < 0);
    mpz_clears(half, big, m, c1, c2, out, NULL);
}

static void pack_unpack(void)
{
    const ovl_paillier_packing l = {.slot_bits = 80, .slots = 25, .value_bits = 40,
                                    .max_terms = UINT64_C(1) << 20};
    const int64_t lim = INT64_C(1) << 39;
    int64_t a[25], b[25], c[25], sums[25];
    for (int i = 0; i < 25; i++) {
        a[i] = (i % 2 ? -1 : 1) * (int64_t)i * 1000003;
        b[i] = i == 0 ? lim - 1 : i == 1 ? -lim : -(int64_t)i;
        c[i] = i == 0 ? lim - 1 : i == 1 ? -lim : 5;
    }
    mpz_t m, ca, cb, cc, sum;
    mpz_inits(m, ca, cb, cc, sum, NULL);
    EXPECT_OK(ovl_paillier_packing_check(&l, 2048));
    EXPECT_OK(ovl_paillier_pack(m, &l, 2048, a, 25));
    EXPECT_OK(ovl_paillier_encrypt(ca, g_pk, m));
    EXPECT_OK(ovl_paillier_pack(m, &l, 2048, b, 25));
    EXPECT_OK(ovl_paillier_encrypt(cb, g_pk, m));
    EXPECT_OK(ovl_paillier_pack(m, &l, 2048, c, 3)); /* missing slots hold 0 */
    EXPECT_OK(ovl_paillier_encrypt(cc, g_pk, m));
    EXPECT_OK(ovl_paillier_add(sum, g_pk, ca, cb));
    EXPECT_OK(ovl_paillier_add(sum, g_pk, sum, cc));
    EXPECT_OK(ovl_paillier_decrypt(m, g_sk, sum));
    EXPECT_OK(ovl_paillier_unpack(sums, 25, &l, 2048, m, 3));
    int ok = 1;
    for (int i = 0; i < 25; i++)
        ok &= sums[i] == a[i] + b[i] + (i < 3 ? c[i] : 0);
    EXPECT_TRUE(ok);
    /* Claiming fewer terms than were added is caught as a slot overflow. */
    EXPECT_ERR(OVL_ERR_LIMIT, ovl_paillier_unpack(sums, 25, &l, 2048, m, 1));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_paillier_unpack(sums, 25, &l, 2048, m, l.max_terms + 1));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_paillier_unpack(sums, 25, &l, 2048, m, 0));
    mpz_mul_2exp(m, m, 80 * 25);
    EXPECT_ERR(OVL_ERR_LIMIT, ovl_paillier_unpack(sums, 25, &l, 2048, m, 3));

    /* Values outside value_bits are refused. */
    a[3] = lim;
    EXPECT_ERR(OVL_ERR_LIMIT, ovl_paillier_pack(m, &l, 2048, a, 25));
    a[3] = -lim - 1;
    EXPECT_ERR(OVL_ERR_LIMIT, ovl_paillier_pack(m, &l, 2048, a, 25));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_paillier_pack(m, &l, 2048, a, 26));

    /* Layouts without headroom or room in n are refused. */
    ovl_paillier_packing bad = l;
    bad.max_terms = (UINT64_C(1) << 40) + 2; /* 40 + 41 bits > 80 */
    EXPECT_ERR(OVL_ERR_LIMIT, ovl_paillier_packing_check(&bad, 2048));
    bad.max_terms = UINT64_C(1) << 40; /* (2^40 - 1) * 2^40 < 2^80 */
    EXPECT_OK(ovl_paillier_packing_check(&bad, 2048));
    bad = l;
    bad.slots = 26; /* 26 * 80 = 2080 >= 2048 */
    EXPECT_ERR(OVL_ERR_LIMIT, ovl_paillier_packing_check(&bad, 2048));
    EXPECT_OK(ovl_paillier_packing_check(&bad, 3072));
    bad = l;
    bad.value_bits = 64;
    EXPECT_ERR(OVL_ERR_LIMIT, ovl_paillier_packing_check(&bad, 2048));
    bad = l;
    bad.slots = 0;
    EXPECT_ERR(OVL_ERR_LIMIT, ovl_paillier_packing_check(&bad, 2048));
    mpz_clears(m, ca, cb, cc, sum, NULL);
}

static void ciphertext_wire(void)
{
    size_t len = ovl_paillier_ct_len(g_pk);
    uint8_t bytes[OVL_PAILLIER_CT_MAX_BYTES + 1];
    mpz_t ct, back, p, q, n2;
    mpz_inits(ct, back, p, q, n2, NULL);
    mpz_srcptr n = ovl_paillier_pk_modulus(g_pk);
    mpz_mul(n2, n, n);
    int64_t got = 0;
    EXPECT_OK(ovl_paillier_encrypt_i64(ct, g_pk, 31337));
    write_ct(bytes, ct);
    ovl_buf r;
    ovl_buf_reader(&r, bytes, len);
    EXPECT_OK(ovl_paillier_ct_read(back, &r, g_pk));
    EXPECT_OK(ovl_buf_expect_end(&r));
    EXPECT_OK(ovl_paillier_decrypt_i64(&got, g_sk, back));
    EXPECT_EQ(got, 31337);
    /* Short reads, wrong lengths. */
    ovl_buf_reader(&r, bytes, len - 1);
    EXPECT_ERR(OVL_ERR_MALFORMED, ovl_paillier_ct_read(back, &r, g_pk));
    EXPECT_ERR(OVL_ERR_MALFORMED, ovl_paillier_ct_from_bytes(back, g_pk, bytes, len - 1));
    EXPECT_ERR(OVL_ERR_MALFORMED, ovl_paillier_ct_from_bytes(back, g_pk, bytes, len + 1));
    /* 0, n^2, above n^2, multiples of p and q, multiple of n. */
    memset(bytes, 0, len);
    EXPECT_ERR(OVL_ERR_CRYPTO, ovl_paillier_ct_from_bytes(back, g_pk, bytes, len));
    memset(bytes, 0xff, len);
    EXPECT_ERR(OVL_ERR_CRYPTO, ovl_paillier_ct_from_bytes(back, g_pk, bytes, len));
    ovl_paillier_sk_factors(p, q, g_sk);
    mpz_t vals[4];
    mpz_init_set(vals[0], n2);
    mpz_init(vals[1]);
    mpz_mul_ui(vals[1], p, 12345);
    mpz_init_set(vals[2], q);
    mpz_init(vals[3]);
    mpz_mul_ui(vals[3], n, 7);
    for (int i = 0; i < 4; i++) {
        memset(bytes, 0, len);
        mpz_export(bytes + len - mpz_sizeinbase(vals[i], 256), NULL, 1, 1, 1, 0, vals[i]);
        EXPECT_ERR(OVL_ERR_CRYPTO, ovl_paillier_ct_from_bytes(back, g_pk, bytes, len));
        EXPECT_TRUE(strlen(ovl_err_detail()) > 0 && strchr(ovl_err_detail(), '\n') == NULL);
        mpz_clear(vals[i]);
    }
    /* The decryptor refuses them too. */
    EXPECT_ERR(OVL_ERR_CRYPTO, ovl_paillier_decrypt(back, g_sk, p));
    EXPECT_ERR(OVL_ERR_CRYPTO, ovl_paillier_decrypt(back, g_sk, n2));
    EXPECT_ERR(OVL_ERR_CRYPTO, ovl_paillier_decrypt_reference_for_tests(back, g_sk, p));
    /* Writing refuses values that are not ciphertexts. */
    ovl_buf w;
    ovl_buf_writer(&w, bytes, len);
    EXPECT_ERR(OVL_ERR_USAGE, ovl_paillier_ct_write(&w, g_pk, n2));
    mpz_clears(ct, back, p, q, n2, NULL);
}

/* Serialises g_pk, lets `edit` corrupt it, and expects `want` from the reader. */
static void pk_expect(ovl_err want, void (*edit)(uint8_t *, size_t *, mpz_t, mpz_t))
{
    ovl_buf w;
    EXPECT_OK(ovl_buf_alloc(&w, 64, OVL_PAILLIER_PK_MAX_BYTES));
    EXPECT_OK(ovl_paillier_pk_write(&w, g_pk));
    EXPECT_EQ(ovl_buf_len(&w), 2 + 256 + 512);
    size_t len = w.wpos;
    mpz_t p, q;
    mpz_inits(p, q, NULL);
    ovl_paillier_sk_factors(p, q, g_sk);
    if (edit != NULL)
        edit(w.data, &len, p, q);
    ovl_buf r;
    ovl_buf_reader(&r, w.data, len);
    ovl_paillier_pk *pk = NULL;
    ovl_err e = ovl_paillier_pk_read(&pk, &r);
    OVL_T_RECORD(e == want, "pk_read returned %s (%s), expected %s", ovl_err_name(e),
                 ovl_err_detail(), ovl_err_name(want));
    EXPECT_TRUE((pk != NULL) == (want == OVL_OK));
    if (pk != NULL) {
        mpz_t ct;
        mpz_init(ct);
        int64_t got = 0;
        EXPECT_OK(ovl_paillier_encrypt_i64(ct, pk, -5150));
        EXPECT_OK(ovl_paillier_decrypt_i64(&got, g_sk, ct));
        EXPECT_EQ(got, -5150);
        mpz_clear(ct);
    }
    ovl_paillier_pk_free(pk);
    mpz_clears(p, q, NULL);
    ovl_buf_free(&w);
}

static void put_n(uint8_t *b, const mpz_t v)
{
    memset(b + 2, 0, 256);
    mpz_export(b + 2 + 256 - mpz_sizeinbase(v, 256), NULL, 1, 1, 1, 0, v);
}

static void put_hs(uint8_t *b, const mpz_t v)
{
    memset(b + 258, 0, 512);
    if (mpz_sgn(v) != 0)
        mpz_export(b + 258 + 512 - mpz_sizeinbase(v, 256), NULL, 1, 1, 1, 0, v);
}

static void e_truncate(uint8_t *b, size_t *len, mpz_t p, mpz_t q)
{
    (void)b, (void)p, (void)q;
    *len -= 1;
}
static void e_bits_1024(uint8_t *b, size_t *len, mpz_t p, mpz_t q)
{
    (void)len, (void)p, (void)q;
    b[0] = 0x04;
    b[1] = 0x00;
}
static void e_n_even(uint8_t *b, size_t *len, mpz_t p, mpz_t q)
{
    (void)len, (void)p, (void)q;
    b[2 + 255] ^= 1;
}
static void e_n_short(uint8_t *b, size_t *len, mpz_t p, mpz_t q)
{
    (void)len, (void)p, (void)q;
    b[2] = 0x7f;
}
static void e_n_small_factor(uint8_t *b, size_t *len, mpz_t p, mpz_t q)
{
    (void)len;
    mpz_mul(p, p, q);
    mpz_fdiv_q_ui(p, p, 9973);
    mpz_mul_ui(p, p, 9973);
    if (mpz_even_p(p))
        mpz_sub_ui(p, p, 9973);
    put_n(b, p);
}
static void e_n_square(uint8_t *b, size_t *len, mpz_t p, mpz_t q)
{
    (void)len, (void)q;
    mpz_mul(p, p, p);
    put_n(b, p);
}
static void e_n_prime(uint8_t *b, size_t *len, mpz_t p, mpz_t q)
{
    (void)len;
    mpz_mul(p, p, q);
    mpz_nextprime(p, p);
    put_n(b, p);
}
static void e_hs_zero(uint8_t *b, size_t *len, mpz_t p, mpz_t q)
{
    (void)len, (void)q;
    mpz_set_ui(p, 0);
    put_hs(b, p);
}
static void e_hs_one(uint8_t *b, size_t *len, mpz_t p, mpz_t q)
{
    (void)len, (void)q;
    mpz_set_ui(p, 1);
    put_hs(b, p);
}
static void e_hs_minus_one(uint8_t *b, size_t *len, mpz_t p, mpz_t q)
{
    (void)len;
    mpz_mul(p, p, q);
    mpz_mul(p, p, p);
    mpz_sub_ui(p, p, 1);
    put_hs(b, p);
}
static void e_hs_too_big(uint8_t *b, size_t *len, mpz_t p, mpz_t q)
{
    (void)len, (void)p, (void)q;
    memset(b + 258, 0xff, 512);
}
static void e_hs_multiple_of_q(uint8_t *b, size_t *len, mpz_t p, mpz_t q)
{
    (void)len;
    mpz_mul(p, p, p);
    mpz_mul(p, p, q);
    put_hs(b, p);
}

static void public_key_wire(void)
{
    pk_expect(OVL_OK, NULL);
    pk_expect(OVL_ERR_MALFORMED, e_truncate);
    pk_expect(OVL_ERR_CRYPTO, e_bits_1024);
    pk_expect(OVL_ERR_CRYPTO, e_n_even);
    pk_expect(OVL_ERR_CRYPTO, e_n_short);
    pk_expect(OVL_ERR_CRYPTO, e_n_small_factor);
    pk_expect(OVL_ERR_CRYPTO, e_n_square);
    pk_expect(OVL_ERR_CRYPTO, e_n_prime);
    pk_expect(OVL_ERR_CRYPTO, e_hs_zero);
    pk_expect(OVL_ERR_CRYPTO, e_hs_one);
    pk_expect(OVL_ERR_CRYPTO, e_hs_minus_one);
    pk_expect(OVL_ERR_CRYPTO, e_hs_too_big);
    pk_expect(OVL_ERR_CRYPTO, e_hs_multiple_of_q);
}

static void batch_encrypt(void)
{
    enum { COUNT = 37 };
    int64_t vals[COUNT];
    size_t len = ovl_paillier_ct_len(g_pk);
    uint8_t *out = malloc(COUNT * len);
    EXPECT_TRUE(out != NULL);
    if (out == NULL)
        return;
    for (int i = 0; i < COUNT; i++)
        vals[i] = (int64_t)i * 7919 - 100000;
    EXPECT_OK(ovl_paillier_encrypt_i64_batch(out, COUNT * len, g_pk, vals, COUNT, 4));
    mpz_t ct;
    mpz_init(ct);
    int ok = 1;
    for (int i = 0; i < COUNT; i++) {
        int64_t got = 0;
        ok &= ovl_paillier_ct_from_bytes(ct, g_pk, out + i * len, len) == OVL_OK;
        ok &= ovl_paillier_decrypt_i64(&got, g_sk, ct) == OVL_OK && got == vals[i];
    }
    EXPECT_TRUE(ok);
    memset(out, 0, COUNT * len);
    EXPECT_OK(ovl_paillier_sk_encrypt_i64_batch(out, COUNT * len, g_sk, vals, COUNT, 3));
    ok = 1;
    for (int i = 0; i < COUNT; i++) {
        int64_t got = 0;
        ok &= ovl_paillier_ct_from_bytes(ct, g_pk, out + i * len, len) == OVL_OK;
        ok &= ovl_paillier_decrypt_i64(&got, g_sk, ct) == OVL_OK && got == vals[i];
    }
    EXPECT_TRUE(ok);
    EXPECT_ERR(OVL_ERR_USAGE, ovl_paillier_sk_encrypt_i64_batch(out, 1, g_sk, vals, COUNT, 3));
    EXPECT_OK(ovl_paillier_encrypt_i64_batch(out, len, g_pk, vals, 1, 0));
    EXPECT_OK(ovl_paillier_encrypt_i64_batch(out, 0, g_pk, vals, 0, 8));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_paillier_encrypt_i64_batch(out, COUNT * len - 1, g_pk, vals,
                                                            COUNT, 2));
    mpz_clear(ct);
    free(out);
}

static void timing(void)
{
    enum { ENC = 200, DEC = 50 };
    mpz_t ct, m;
    mpz_inits(ct, m, NULL);
    double t0 = now_sec();
    for (int i = 0; i < ENC; i++)
        EXPECT_OK(ovl_paillier_encrypt_i64(ct, g_pk, i));
    double t1 = now_sec();
    for (int i = 0; i < DEC; i++)
        EXPECT_OK(ovl_paillier_decrypt(m, g_sk, ct));
    double t2 = now_sec();
    for (int i = 0; i < ENC; i++)
        EXPECT_OK(ovl_paillier_sk_encrypt_i64(ct, g_sk, i));
    double t3 = now_sec();
    printf("  2048-bit: encrypt %.0f us/op (key owner, CRT: %.0f us/op), decrypt (CRT) %.0f us/op\n",
           (t1 - t0) / ENC * 1e6, (t3 - t2) / ENC * 1e6, (t2 - t1) / DEC * 1e6);
    mpz_clears(ct, m, NULL);
}

int main(void)
{
    if (ovl_paillier_init() != OVL_OK) {
        fprintf(stderr, "ovl_paillier_init failed\n");
        return 1;
    }
    double t0 = now_sec();
    if (ovl_paillier_keygen_from_seed_for_tests(&g_sk, 2048, seed_a) != OVL_OK) {
        fprintf(stderr, "keygen failed: %s\n", ovl_err_detail());
        return 1;
    }
    printf("  2048-bit keygen (with table): %.0f ms\n", (now_sec() - t0) * 1e3);
    g_pk = ovl_paillier_sk_public(g_sk);
    RUN(keygen_properties);
    RUN(roundtrip_i64);
    RUN(roundtrip_bounds);
    RUN(fixed_base_matches_powm);
    RUN(constant_time_pow_matches_powm);
    RUN(share_arithmetic_edges);
    RUN(homomorphic_ops);
    RUN(masks_and_shares);
    RUN(bound_check);
    RUN(pack_unpack);
    RUN(ciphertext_wire);
    RUN(public_key_wire);
    RUN(batch_encrypt);
    RUN(random_keygen_3072);
    RUN(timing);
    ovl_paillier_sk_free(g_sk);
    return ovl_t_summary("test_paillier");
}
