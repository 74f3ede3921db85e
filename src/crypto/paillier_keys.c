/* Paillier keys: initialisation, key generation (safe primes apart, DJN
 * hs), accessors, and reading and writing public keys and ciphertexts with
 * their checks (see paillier.h). */
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/guard.h"
#include "core/mem.h"
#include "crypto/gmp_wipe.h"
#include "crypto/paillier.h"
#include "crypto/paillier_impl.h"
#include "crypto/paillier_internal.h"
#include "crypto/share.h"

/* ---- initialisation and randomness ---- */

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;
static int sodium_status;

static void sodium_init_once(void)
{
    sodium_status = sodium_init();
}

ovl_err ovl_paillier_init(void)
{
    ovl_gmp_wipe_install();
    (void)pthread_once(&sodium_once, sodium_init_once);
    if (sodium_status < 0)
        return ovl_err_set(OVL_ERR_CRYPTO, "libsodium failed to initialise");
    return OVL_OK;
}

/* Key generation reads its entropy through this: libsodium's CSPRNG, or a
 * ChaCha20 stream keyed by a test seed. */
typedef struct {
    bool seeded;
    uint8_t key[crypto_stream_chacha20_ietf_KEYBYTES];
    uint64_t counter;
} keygen_rng;

static void rng_fill(keygen_rng *rng, uint8_t *out, size_t len)
{
    if (!rng->seeded) {
        randombytes_buf(out, len);
        return;
    }
    uint8_t nonce[crypto_stream_chacha20_ietf_NONCEBYTES] = {0};
    for (size_t i = 0; i < 8; i++)
        nonce[i] = (uint8_t)(rng->counter >> (8 * i));
    rng->counter++;
    crypto_stream_chacha20_ietf(out, len, nonce, rng->key);
}

/* ---- fixed-length big-endian integers ---- */

void paillier_export_fixed(uint8_t *p, size_t len, const mpz_t v)
{
    size_t used = (mpz_sizeinbase(v, 2) + 7) / 8;
    memset(p, 0, len);
    if (mpz_sgn(v) != 0)
        mpz_export(p + (len - used), NULL, 1, 1, 1, 0, v);
}

static ovl_err put_fixed(ovl_buf *out, size_t len, const mpz_t v)
{
    uint8_t *p;
    if (mpz_sgn(v) < 0 || mpz_sizeinbase(v, 256) > len)
        return ovl_err_set(OVL_ERR_INTERNAL, "integer does not fit its %zu-byte field", len);
    ovl_err rc = ovl_buf_reserve(out, len, &p);
    if (rc == OVL_OK)
        paillier_export_fixed(p, len, v);
    return rc;
}

/* ---- public key structure and the fixed-base table ---- */

static bool bits_supported(unsigned bits)
{
    return bits == 2048u || bits == 3072u;
}

static void pk_init(ovl_paillier_pk *pk, unsigned bits)
{
    pk->bits = bits;
    pk->n_len = bits / 8u;
    pk->r_bits = bits == 2048u ? OVL_PAILLIER_R_BITS_2048 : OVL_PAILLIER_R_BITS_3072;
    pk->windows = (pk->r_bits + OVL_PAILLIER_WINDOW_BITS - 1) / OVL_PAILLIER_WINDOW_BITS;
    mpz_inits(pk->n, pk->n2, pk->hs, pk->half, NULL);
    pk->mn2.table = NULL;
}

static void pk_clear(ovl_paillier_pk *pk)
{
    paillier_mont_free(&pk->mn2);
    mpz_clears(pk->n, pk->n2, pk->hs, pk->half, NULL);
}


/* n2, half and the table from n and hs. */
static ovl_err pk_finish(ovl_paillier_pk *pk)
{
    mpz_mul(pk->n2, pk->n, pk->n);
    mpz_sub_ui(pk->half, pk->n, 1);
    mpz_fdiv_q_2exp(pk->half, pk->half, 1);
    return paillier_mont_init(&pk->mn2, pk->n2, pk->windows, pk->hs);
}

bool paillier_is_residue(const mpz_t v, const mpz_t mod)
{
    return mpz_sgn(v) >= 0 && mpz_cmp(v, mod) < 0;
}

/* ---- key generation ---- */

static bool prime_search(mpz_t p, unsigned bits)
{
    for (unsigned step = 0; step < PRIME_SEARCH_STEPS(bits); step++) {
        if (mpz_probab_prime_p(p, PRIME_MR_REPS) > 0)
            return true;
        mpz_add_ui(p, p, 2);
        if (mpz_sizeinbase(p, 2) != bits)
            return false;
    }
    return false;
}

/* A random prime of exactly `bits` bits with its top two bits set, so that
 * the product of two has exactly 2*bits bits. */
static ovl_err prime_gen(mpz_t p, unsigned bits, keygen_rng *rng)
{
    uint8_t buf[OVL_PAILLIER_BITS_MAX / 16u];
    size_t len = bits / 8u;
    bool found = false;
    for (int start = 0; start < PRIME_MAX_STARTS && !found; start++) {
        rng_fill(rng, buf, len);
        mpz_import(p, len, 1, 1, 1, 0, buf);
        mpz_setbit(p, bits - 1);
        mpz_setbit(p, bits - 2);
        mpz_setbit(p, 0);
        found = prime_search(p, bits);
    }
    sodium_memzero(buf, sizeof buf);
    if (!found)
        return ovl_err_set(OVL_ERR_CRYPTO, "paillier keygen: no %u-bit prime found", bits);
    return OVL_OK;
}

/* p != q, far apart, n of exactly `bits` bits and gcd(n, (p-1)(q-1)) = 1. */
static bool primes_acceptable(const ovl_paillier_sk *sk, unsigned bits)
{
    mpz_t t, phi;
    mpz_inits(t, phi, NULL);
    mpz_sub(t, sk->p, sk->q);
    bool ok = mpz_sgn(t) != 0 && mpz_sizeinbase(t, 2) > PQ_MIN_DISTANCE_BITS(bits / 2u);
    mpz_mul(t, sk->p, sk->q);
    ok = ok && mpz_sizeinbase(t, 2) == bits;
    /* (p-1)(q-1) = pq - p - q + 1 */
    mpz_sub(phi, t, sk->p);
    mpz_sub(phi, phi, sk->q);
    mpz_add_ui(phi, phi, 1);
    mpz_gcd(phi, t, phi);
    ok = ok && mpz_cmp_ui(phi, 1) == 0;
    mpz_clears(t, phi, NULL);
    return ok;
}

static ovl_err choose_primes(ovl_paillier_sk *sk, unsigned bits, keygen_rng *rng)
{
    ovl_err rc = OVL_OK;
    for (int pair = 0; pair < KEYGEN_MAX_PAIRS; pair++) {
        OVL_TRY(prime_gen(sk->p, bits / 2u, rng));
        OVL_TRY(prime_gen(sk->q, bits / 2u, rng));
        if (primes_acceptable(sk, bits))
            goto done;
    }
    OVL_ENSURE(false, OVL_ERR_CRYPTO, "paillier keygen: no acceptable prime pair");
done:
    return rc;
}

/* L_d(x) = (x - 1) / d; false when d does not divide x - 1 (x not in the
 * subgroup of elements that are 1 mod d, i.e. a bad ciphertext). */
bool paillier_l_func(mpz_t out, const mpz_t x, const mpz_t d)
{
    mpz_sub_ui(out, x, 1);
    if (!mpz_divisible_p(out, d))
        return false;
    mpz_divexact(out, out, d);
    return true;
}

/* h = L_r(g^(r-1) mod r^2)^-1 mod r for a prime factor r (Paillier §7). */
static bool crt_constant(mpz_t h, const ovl_paillier_pk *pk, const mpz_t r, const mpz_t r2,
                         const mpz_t rm1)
{
    mpz_t g;
    mpz_init(g);
    mpz_add_ui(g, pk->n, 1);
    mpz_powm_sec(g, g, rm1, r2);
    bool ok = paillier_l_func(g, g, r) && mpz_invert(h, g, r) != 0;
    mpz_clear(g);
    return ok;
}

static ovl_err sk_derive(ovl_paillier_sk *sk)
{
    ovl_err rc = OVL_OK;
    mpz_t g;
    mpz_init(g);
    mpz_mul(sk->pk.n, sk->p, sk->q);
    mpz_mul(sk->pk.n2, sk->pk.n, sk->pk.n);
    mpz_mul(sk->p2, sk->p, sk->p);
    mpz_mul(sk->q2, sk->q, sk->q);
    mpz_sub_ui(sk->pm1, sk->p, 1);
    mpz_sub_ui(sk->qm1, sk->q, 1);
    mpz_lcm(sk->lambda, sk->pm1, sk->qm1);
    /* mu = L(g^lambda mod n^2)^-1 mod n, the textbook decryption constant. */
    mpz_add_ui(g, sk->pk.n, 1);
    mpz_powm_sec(g, g, sk->lambda, sk->pk.n2);
    OVL_ENSURE(paillier_l_func(g, g, sk->pk.n) && mpz_invert(sk->mu, g, sk->pk.n) != 0, OVL_ERR_CRYPTO,
               "paillier keygen: mu is not invertible");
    OVL_ENSURE(crt_constant(sk->hp, &sk->pk, sk->p, sk->p2, sk->pm1) &&
                   crt_constant(sk->hq, &sk->pk, sk->q, sk->q2, sk->qm1) &&
                   mpz_invert(sk->qinv, sk->q, sk->p) != 0 &&
                   mpz_invert(sk->q2inv, sk->q2, sk->p2) != 0,
               OVL_ERR_CRYPTO, "paillier keygen: CRT constants are not invertible");
done:
    mpz_clear(g);
    return rc;
}

/* DJN: h = -x^2 mod n for a random unit x, hs = h^n mod n^2. */
static ovl_err choose_hs(ovl_paillier_pk *pk, keygen_rng *rng)
{
    ovl_err rc = OVL_OK;
    uint8_t buf[OVL_PAILLIER_N_MAX_BYTES];
    mpz_t x, g;
    mpz_inits(x, g, NULL);
    for (int i = 0; i < KEYGEN_MAX_PAIRS; i++) {
        rng_fill(rng, buf, pk->n_len);
        mpz_import(x, pk->n_len, 1, 1, 1, 0, buf);
        mpz_mod(x, x, pk->n);
        mpz_gcd(g, x, pk->n);
        if (mpz_sgn(x) == 0 || mpz_cmp_ui(g, 1) != 0)
            continue;
        mpz_mul(x, x, x);
        mpz_mod(x, x, pk->n);
        mpz_sub(x, pk->n, x);
        mpz_powm(pk->hs, x, pk->n, pk->n2);
        if (mpz_cmp_ui(pk->hs, 1) != 0)
            goto done;
    }
    OVL_ENSURE(false, OVL_ERR_CRYPTO, "paillier keygen: no usable h found");
done:
    sodium_memzero(buf, sizeof buf);
    mpz_clears(x, g, NULL);
    return rc;
}

static ovl_paillier_sk *sk_new(unsigned bits)
{
    ovl_paillier_sk *sk = sodium_malloc(sizeof *sk);
    if (sk == NULL)
        return NULL;
    memset(sk, 0, sizeof *sk);
    pk_init(&sk->pk, bits);
    mpz_inits(sk->p, sk->q, sk->p2, sk->q2, sk->pm1, sk->qm1, sk->hp, sk->hq, sk->qinv,
              sk->q2inv, sk->lambda, sk->mu, NULL);
    sk->mp2.table = sk->mq2.table = NULL;
    return sk;
}

void ovl_paillier_sk_free(ovl_paillier_sk *sk)
{
    if (sk == NULL)
        return;
    paillier_mont_free(&sk->mp2);
    paillier_mont_free(&sk->mq2);
    pk_clear(&sk->pk);
    /* The wiping allocator zeroes every limb as it is released. */
    mpz_clears(sk->p, sk->q, sk->p2, sk->q2, sk->pm1, sk->qm1, sk->hp, sk->hq, sk->qinv,
               sk->q2inv, sk->lambda, sk->mu, NULL);
    sodium_free(sk);
}

/* The key owner's CRT tables mod p^2 and q^2, and q^-2 R mod p^2. The CRT
 * recombination works on limb arrays of n^2 = 2 x (p^2 limbs), which holds
 * because p and q have their top two bits set. */
static ovl_err sk_tables(ovl_paillier_sk *sk)
{
    ovl_err rc = OVL_OK;
    mpz_t t;
    mpz_init(t);
    OVL_TRY(paillier_mont_init(&sk->mp2, sk->p2, sk->pk.windows, sk->pk.hs));
    OVL_TRY(paillier_mont_init(&sk->mq2, sk->q2, sk->pk.windows, sk->pk.hs));
    OVL_ENSURE(sk->mp2.n == sk->mq2.n && 2 * sk->mp2.n == sk->pk.mn2.n, OVL_ERR_INTERNAL,
               "paillier keygen: p^2, q^2 and n^2 limb counts do not match");
    mpz_mul_2exp(t, sk->q2inv, GMP_NUMB_BITS * (size_t)sk->mp2.n);
    paillier_mpz_to_limbs_mod(sk->q2inv_mont, t, &sk->mp2, t);
done:
    mpz_clear(t);
    return rc;
}

static ovl_err keygen(ovl_paillier_sk **out, unsigned bits, keygen_rng *rng)
{
    ovl_err rc = OVL_OK;
    ovl_paillier_sk *sk = NULL;
    *out = NULL;
    OVL_ENSURE(bits_supported(bits), OVL_ERR_USAGE,
               "paillier keygen: modulus must be 2048 or 3072 bits, not %u", bits);
    OVL_TRY(ovl_paillier_init());
    sk = sk_new(bits);
    OVL_ENSURE(sk != NULL, OVL_ERR_NOMEM, "paillier keygen: out of secure memory");
    OVL_TRY(choose_primes(sk, bits, rng));
    OVL_TRY(sk_derive(sk));
    OVL_TRY(choose_hs(&sk->pk, rng));
    OVL_TRY(pk_finish(&sk->pk));
    OVL_TRY(sk_tables(sk));
    *out = sk;
    sk = NULL;
done:
    ovl_paillier_sk_free(sk);
    return rc;
}

ovl_err ovl_paillier_keygen(ovl_paillier_sk **sk, unsigned modulus_bits)
{
    keygen_rng rng = {.seeded = false};
    return keygen(sk, modulus_bits, &rng);
}

ovl_err ovl_paillier_keygen_from_seed_for_tests(ovl_paillier_sk **sk, unsigned modulus_bits,
                                                const uint8_t seed[static OVL_PAILLIER_SEED_BYTES])
{
    keygen_rng rng = {.seeded = true, .counter = 0};
    memcpy(rng.key, seed, sizeof rng.key);
    ovl_err rc = keygen(sk, modulus_bits, &rng);
    sodium_memzero(&rng, sizeof rng);
    return rc;
}

const ovl_paillier_pk *ovl_paillier_sk_public(const ovl_paillier_sk *sk)
{
    return &sk->pk;
}

void ovl_paillier_sk_factors(mpz_t p, mpz_t q, const ovl_paillier_sk *sk)
{
    mpz_set(p, sk->p);
    mpz_set(q, sk->q);
}

void ovl_paillier_pk_free(ovl_paillier_pk *pk)
{
    if (pk == NULL)
        return;
    pk_clear(pk);
    free(pk);
}

unsigned ovl_paillier_pk_bits(const ovl_paillier_pk *pk)
{
    return pk->bits;
}

mpz_srcptr ovl_paillier_pk_modulus(const ovl_paillier_pk *pk)
{
    return pk->n;
}

size_t ovl_paillier_ct_len(const ovl_paillier_pk *pk)
{
    return 2u * pk->n_len;
}

/* ---- serialisation ---- */

ovl_err ovl_paillier_pk_write(ovl_buf *out, const ovl_paillier_pk *pk)
{
    ovl_err rc = OVL_OK;
    OVL_TRY(ovl_buf_put_u16(out, (uint16_t)pk->bits));
    OVL_TRY(put_fixed(out, pk->n_len, pk->n));
    OVL_TRY(put_fixed(out, 2u * pk->n_len, pk->hs));
done:
    return rc;
}

static bool has_small_factor(const mpz_t n)
{
    for (unsigned long d = 3; d < PK_TRIAL_DIVISION_BOUND; d += 2)
        if (mpz_divisible_ui_p(n, d))
            return true;
    return false;
}

static ovl_err pk_check_n(const ovl_paillier_pk *pk)
{
    if (mpz_sizeinbase(pk->n, 2) != pk->bits)
        return ovl_err_set(OVL_ERR_CRYPTO, "paillier public key: n is not exactly %u bits",
                           pk->bits);
    if (mpz_even_p(pk->n) || has_small_factor(pk->n))
        return ovl_err_set(OVL_ERR_CRYPTO, "paillier public key: n has a small prime factor");
    if (mpz_perfect_square_p(pk->n) || mpz_probab_prime_p(pk->n, 1) > 0)
        return ovl_err_set(OVL_ERR_CRYPTO, "paillier public key: n is a square or a prime");
    return OVL_OK;
}

static ovl_err pk_check_hs(const ovl_paillier_pk *pk)
{
    ovl_err rc = OVL_OK;
    mpz_t t;
    mpz_init(t);
    mpz_sub_ui(t, pk->n2, 1);
    /* 1 and -1 have order <= 2: encryption with them would hide nothing. */
    OVL_ENSURE(mpz_cmp_ui(pk->hs, 1) > 0 && mpz_cmp(pk->hs, t) < 0, OVL_ERR_CRYPTO,
               "paillier public key: h_s out of range");
    mpz_gcd(t, pk->hs, pk->n);
    OVL_ENSURE(mpz_cmp_ui(t, 1) == 0, OVL_ERR_CRYPTO, "paillier public key: h_s not invertible");
done:
    mpz_clear(t);
    return rc;
}

ovl_err ovl_paillier_pk_read(ovl_paillier_pk **out, ovl_buf *in)
{
    ovl_err rc = OVL_OK;
    ovl_paillier_pk *pk = NULL;
    const uint8_t *np, *hp;
    uint16_t bits;
    *out = NULL;
    OVL_TRY(ovl_paillier_init());
    OVL_TRY(ovl_buf_get_u16(in, &bits));
    OVL_ENSURE(bits_supported(bits), OVL_ERR_CRYPTO,
               "paillier public key: unsupported modulus size %u bits", (unsigned)bits);
    OVL_TRY(ovl_buf_get_ptr(in, bits / 8u, &np));
    OVL_TRY(ovl_buf_get_ptr(in, 2u * (bits / 8u), &hp));
    OVL_TRY(ovl_calloc((void **)&pk, 1, sizeof *pk));
    pk_init(pk, bits);
    mpz_import(pk->n, pk->n_len, 1, 1, 1, 0, np);
    OVL_TRY(pk_check_n(pk));
    mpz_mul(pk->n2, pk->n, pk->n);
    mpz_import(pk->hs, 2u * pk->n_len, 1, 1, 1, 0, hp);
    OVL_TRY(pk_check_hs(pk));
    OVL_TRY(pk_finish(pk));
    *out = pk;
    pk = NULL;
done:
    if (rc == OVL_ERR_MALFORMED)
        rc = ovl_err_wrap(rc, "paillier public key: ");
    ovl_paillier_pk_free(pk);
    return rc;
}

ovl_err ovl_paillier_ct_write(ovl_buf *out, const ovl_paillier_pk *pk, const mpz_t ct)
{
    if (!paillier_is_residue(ct, pk->n2))
        return ovl_err_set(OVL_ERR_USAGE, "paillier ciphertext write: value not below n^2");
    return put_fixed(out, ovl_paillier_ct_len(pk), ct);
}

static ovl_err ct_check(const ovl_paillier_pk *pk, const mpz_t ct)
{
    if (mpz_sgn(ct) <= 0 || mpz_cmp(ct, pk->n2) >= 0)
        return ovl_err_set(OVL_ERR_CRYPTO, "paillier ciphertext out of range (0, n^2)");
    mpz_t g;
    mpz_init(g);
    /* gcd(c, n) = gcd(c mod n, n): a 2|n|-bit gcd becomes an |n|-bit one. */
    mpz_mod(g, ct, pk->n);
    mpz_gcd(g, g, pk->n);
    bool unit = mpz_cmp_ui(g, 1) == 0;
    mpz_clear(g);
    if (!unit)
        return ovl_err_set(OVL_ERR_CRYPTO, "paillier ciphertext is not invertible mod n");
    return OVL_OK;
}

ovl_err ovl_paillier_ct_from_bytes(mpz_t ct, const ovl_paillier_pk *pk, const uint8_t *p,
                                   size_t len)
{
    if (len != ovl_paillier_ct_len(pk))
        return ovl_err_set(OVL_ERR_MALFORMED, "paillier ciphertext is %zu bytes, expected %zu", len,
                           ovl_paillier_ct_len(pk));
    mpz_import(ct, len, 1, 1, 1, 0, p);
    return ct_check(pk, ct);
}

ovl_err ovl_paillier_ct_read(mpz_t ct, ovl_buf *in, const ovl_paillier_pk *pk)
{
    const uint8_t *p;
    size_t len = ovl_paillier_ct_len(pk);
    ovl_err rc = ovl_buf_get_ptr(in, len, &p);
    if (rc != OVL_OK)
        return ovl_err_wrap(rc, "paillier ciphertext: ");
    return ovl_paillier_ct_from_bytes(ct, pk, p, len);
}
