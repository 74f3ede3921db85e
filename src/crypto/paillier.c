/* Paillier with g = n + 1, CRT decryption (Paillier 1999 §7) and DJN short
 * exponent encryption over a fixed-base table (see paillier.h). */
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/guard.h"
#include "crypto/gmp_wipe.h"
#include "crypto/paillier_internal.h"
#include "core/mem.h"
#include "crypto/paillier.h"
#include "crypto/share.h"

/* Fixed-base window: row i of a table holds hs^(d * 2^(W*i)) for every W-bit
 * digit d, zero included, so encryption is one multiplication per digit
 * whatever r is, and each row is read whole (mpn_sec_tabselect). Wider windows
 * mean fewer multiplications but 2^W-entry scans. On the 2-core Zen 5 bench
 * machine W = 5 encrypted about 8 % faster than W = 4 or 6 (key owner, one
 * and two threads): its 90 rows of 32 entries make 0.74 MB per factor table
 * mod p^2 or q^2, which stays in a 1 MB L2, and 1.5 MB mod n^2 at 2048 bits. */
#ifndef OVL_PAILLIER_WINDOW_BITS
#define OVL_PAILLIER_WINDOW_BITS 5u
#endif
_Static_assert(OVL_PAILLIER_WINDOW_BITS >= 1 && OVL_PAILLIER_WINDOW_BITS <= 10,
               "window digits are read from at most three exponent bytes");
#define ROW_ENTRIES ((mp_size_t)1 << OVL_PAILLIER_WINDOW_BITS)
#define R_MAX_BYTES (OVL_PAILLIER_R_BITS_3072 / 8u)
_Static_assert(GMP_NAIL_BITS == 0, "limb arithmetic assumes full limbs");
/* Limbs of n^2 (and of p^2 * q^2 products) at the largest modulus. */
#define N2_MAX_LIMBS ((mp_size_t)(2u * OVL_PAILLIER_BITS_MAX / GMP_NUMB_BITS))

/* Miller–Rabin rounds for p and q (GMP runs Baillie–PSW plus reps - 24 rounds). */
#define PRIME_MR_REPS 40
/* Fresh random starts before giving up, and +2 steps per start (a prime gap
 * this long has probability far below 2^-100). */
#define PRIME_MAX_STARTS 16
#define PRIME_SEARCH_STEPS(bits) (10u * (bits))
/* Candidate (p, q) pairs before giving up; a pair fails only with tiny probability. */
#define KEYGEN_MAX_PAIRS 16
/* p and q must differ above this many low bits (Fermat factoring needs them close). */
#define PQ_MIN_DISTANCE_BITS(half) ((half) - 100u)
/* Public-key import rejects moduli with a prime factor below this. */
#define PK_TRIAL_DIVISION_BOUND 10000u
#define BATCH_MAX_THREADS 64u

_Static_assert(LONG_MAX >= INT64_MAX && LONG_MIN <= INT64_MIN, "mpz_set_si must take int64_t");

/* Montgomery arithmetic modulo an odd m of n limbs, R = 2^(GMP_NUMB_BITS n),
 * with a fixed-base table of one base in Montgomery form. Every operation runs
 * the same instructions and touches the same addresses whatever the operand
 * values (mpn_sec_mul, mpn_addmul_1, mpn_cnd_*, mpn_sec_tabselect), so both
 * the exponent and, for the key owner's tables mod p^2 and q^2, the modulus
 * may be secret. */
typedef struct {
    mp_size_t n;
    mp_limb_t minv;            /* -m^-1 mod 2^GMP_NUMB_BITS */
    mp_limb_t m[N2_MAX_LIMBS];
    mp_limb_t r2[N2_MAX_LIMBS]; /* R^2 mod m */
    mp_limb_t *table;          /* windows rows of ROW_ENTRIES entries of n limbs */
    size_t table_limbs;
} mont;

struct ovl_paillier_pk {
    unsigned bits;
    size_t n_len;    /* bytes of n */
    unsigned r_bits; /* DJN exponent length */
    size_t windows;  /* ceil(r_bits / W) */
    mpz_t n, n2, hs;
    mpz_t half;      /* (n - 1) / 2: largest encodable magnitude */
    mont mn2;        /* mod n^2; row i entry d = hs^(d * 2^(W*i)) R mod n^2 */
};

struct ovl_paillier_sk {
    ovl_paillier_pk pk;
    mpz_t p, q, p2, q2, pm1, qm1;
    mpz_t hp, hq;    /* Paillier §7: L_p(g^(p-1) mod p^2)^-1 mod p, likewise for q */
    mpz_t qinv;      /* q^-1 mod p, for recombination */
    mpz_t q2inv;     /* q^-2 mod p^2, for CRT encryption */
    mpz_t lambda, mu;
    mont mp2;        /* the fixed-base table of hs mod p^2 ... */
    mont mq2;        /* ... and mod q^2: CRT encryption by the key owner */
    mp_limb_t q2inv_mont[N2_MAX_LIMBS]; /* q^-2 R mod p^2 */
};

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

static void export_fixed(uint8_t *p, size_t len, const mpz_t v)
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
        export_fixed(p, len, v);
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

/* Wiped as well: the tables mod p^2 and q^2 would reveal the factors. */
static void mont_free(mont *c)
{
    if (c->table != NULL) {
        sodium_memzero(c->table, c->table_limbs * sizeof *c->table);
        free(c->table);
    }
    sodium_memzero(c, sizeof *c);
}

static void pk_clear(ovl_paillier_pk *pk)
{
    mont_free(&pk->mn2);
    mpz_clears(pk->n, pk->n2, pk->hs, pk->half, NULL);
}

/* rp = t R^-1 mod m for t < m R given as 2n limbs (destroyed): Montgomery
 * reduction, one mpn_addmul_1 per limb, then a conditional subtraction. */
static void mont_redc(mp_limb_t *rp, mp_limb_t *tp, const mont *c)
{
    mp_size_t n = c->n;
    mp_limb_t alt[N2_MAX_LIMBS];
    for (mp_size_t i = 0; i < n; i++)
        tp[i] = mpn_addmul_1(tp + i, c->m, n, tp[i] * c->minv);
    /* Each step's carry belongs n limbs higher; the result is below 2m. */
    mp_limb_t cy = mpn_add_n(rp, tp + n, tp, n);
    mp_limb_t borrow = mpn_sub_n(alt, rp, c->m, n);
    mpn_cnd_swap(cy | (borrow ^ 1u), rp, alt, n);
    sodium_memzero(alt, sizeof alt);
}

/* rp = a b R^-1 mod m for a, b < m (rp may alias either). */
static void mont_mul(mp_limb_t *rp, const mp_limb_t *ap, const mp_limb_t *bp, const mont *c)
{
    mp_limb_t t[2 * N2_MAX_LIMBS], scratch[2 * N2_MAX_LIMBS];
    mpn_sec_mul(t, ap, c->n, bp, c->n, scratch);
    mont_redc(rp, t, c);
    sodium_memzero(t, sizeof t);
}

/* rp = x mod m for x < m R given as 2n limbs: x R^-1, then times R^2 R^-1. */
static void mont_reduce_wide(mp_limb_t *rp, const mp_limb_t *x, const mont *c)
{
    mp_limb_t t[2 * N2_MAX_LIMBS];
    memcpy(t, x, 2u * (size_t)c->n * sizeof *t);
    mont_redc(rp, t, c);
    mont_mul(rp, rp, c->r2, c);
    sodium_memzero(t, sizeof t);
}

/* Digit i (W bits) of a little-endian exponent: the bytes read depend on i
 * only, never on their values. */
static mp_size_t exp_digit(const uint8_t *le, size_t len, size_t i)
{
    size_t bit = i * OVL_PAILLIER_WINDOW_BITS, byte = bit / 8u;
    uint32_t v = 0;
    for (size_t k = 0; k < 3 && byte + k < len; k++)
        v |= (uint32_t)le[byte + k] << (8u * k);
    return (mp_size_t)((v >> (bit % 8u)) & (uint32_t)(ROW_ENTRIES - 1));
}

/* acc = base^r R mod m from the table, r given as r_len little-endian bytes:
 * every window costs one full-row scan and one multiplication. */
static void mont_pow_table(mp_limb_t *acc, const mont *c, size_t windows, const uint8_t *r_le,
                           size_t r_len)
{
    mp_limb_t sel[N2_MAX_LIMBS];
    size_t row = (size_t)ROW_ENTRIES * (size_t)c->n;
    mpn_sec_tabselect(acc, c->table, c->n, ROW_ENTRIES, exp_digit(r_le, r_len, 0));
    for (size_t i = 1; i < windows; i++) {
        mpn_sec_tabselect(sel, c->table + i * row, c->n, ROW_ENTRIES, exp_digit(r_le, r_len, i));
        mont_mul(acc, acc, sel, c);
    }
    sodium_memzero(sel, sizeof sel);
}

/* out = v mod m as exactly n limbs (v >= 0); GMP division, key set-up only. */
static void mpz_to_limbs_mod(mp_limb_t *out, const mpz_t v, const mont *c, mpz_t tmp)
{
    mpz_t m;
    mpz_roinit_n(m, c->m, c->n);
    mpz_mod(tmp, v, m);
    (void)ovl_gmp_get_limbs(out, (size_t)c->n, tmp);
}

/* Montgomery constants for mod (odd, at most N2_MAX_LIMBS limbs) and the
 * table of base: row i entry d = base^(d 2^(W i)) R mod m. Key set-up runs on
 * GMP's variable-time mpz functions (it happens once, before any encryption). */
static ovl_err mont_init(mont *c, const mpz_t mod, size_t windows, const mpz_t base)
{
    ovl_err rc = OVL_OK;
    size_t row;
    mp_limb_t b[N2_MAX_LIMBS], inv;
    mpz_t t;
    mpz_init(t);
    c->table = NULL;
    c->n = (mp_size_t)mpz_size(mod);
    OVL_ENSURE(mpz_odd_p(mod) && c->n >= 1 && c->n <= N2_MAX_LIMBS &&
                   mpn_sec_mul_itch(c->n, c->n) <= 2 * N2_MAX_LIMBS,
               OVL_ERR_INTERNAL, "paillier: modulus unsuitable for Montgomery arithmetic");
    (void)ovl_gmp_get_limbs(c->m, (size_t)c->n, mod);
    /* Newton's iteration doubles the correct low bits: 3, 6, ..., 96 >= 64. */
    inv = c->m[0];
    for (int i = 0; i < 5; i++)
        inv *= 2u - c->m[0] * inv;
    c->minv = (mp_limb_t)0 - inv;
    mpz_set_ui(t, 1);
    mpz_mul_2exp(t, t, 2u * GMP_NUMB_BITS * (size_t)c->n);
    mpz_to_limbs_mod(c->r2, t, c, t);
    OVL_ENSURE(ovl_mul_ok(windows * (size_t)ROW_ENTRIES, (size_t)c->n, &c->table_limbs),
               OVL_ERR_LIMIT, "paillier: fixed-base table size overflows");
    OVL_TRY(ovl_calloc((void **)&c->table, c->table_limbs, sizeof *c->table));
    row = (size_t)ROW_ENTRIES * (size_t)c->n;
    mpz_mul_2exp(t, base, GMP_NUMB_BITS * (size_t)c->n);
    mpz_to_limbs_mod(b, t, c, t);
    for (size_t w = 0; w < windows; w++) {
        mp_limb_t *e = c->table + w * row;
        /* Entry 0 is R mod m, the Montgomery form of 1: R^2 R^-1. */
        memset(e, 0, (size_t)c->n * sizeof *e);
        e[0] = 1;
        mont_mul(e, e, c->r2, c);
        for (mp_size_t d = 1; d < ROW_ENTRIES; d++)
            mont_mul(e + d * c->n, e + (d - 1) * c->n, b, c);
        mont_mul(b, e + (ROW_ENTRIES - 1) * c->n, b, c);
    }
done:
    sodium_memzero(b, sizeof b);
    mpz_clear(t);
    return rc;
}

/* n2, half and the table from n and hs. */
static ovl_err pk_finish(ovl_paillier_pk *pk)
{
    mpz_mul(pk->n2, pk->n, pk->n);
    mpz_sub_ui(pk->half, pk->n, 1);
    mpz_fdiv_q_2exp(pk->half, pk->half, 1);
    return mont_init(&pk->mn2, pk->n2, pk->windows, pk->hs);
}

/* out = x hs^r mod n^2 for x < n^2 (both n^2-wide limb arrays, out may alias
 * x), r given as r_bits/8 little-endian bytes: constant time in r and x. */
static void pk_mul_hs_pow(mp_limb_t *out, const ovl_paillier_pk *pk, const mp_limb_t *x,
                          const uint8_t *r_le)
{
    mp_limb_t acc[N2_MAX_LIMBS];
    mont_pow_table(acc, &pk->mn2, pk->windows, r_le, pk->r_bits / 8u);
    /* (hs^r R) x R^-1 = hs^r x: the Montgomery factor cancels. */
    mont_mul(out, acc, x, &pk->mn2);
    sodium_memzero(acc, sizeof acc);
}

/* out = ca * hs^r for fresh random r (out may alias ca; ca < n^2). */
static void pk_mul_random_hs(mpz_t out, const ovl_paillier_pk *pk, const mpz_t ca)
{
    uint8_t r[R_MAX_BYTES];
    mp_limb_t x[N2_MAX_LIMBS];
    size_t limbs = (size_t)pk->mn2.n;
    (void)ovl_gmp_get_limbs(x, limbs, ca);
    randombytes_buf(r, pk->r_bits / 8u);
    pk_mul_hs_pow(x, pk, x, r);
    ovl_gmp_set_limbs(out, x, limbs);
    sodium_memzero(r, sizeof r);
    sodium_memzero(x, sizeof x);
}

static bool is_residue(const mpz_t v, const mpz_t mod)
{
    return mpz_sgn(v) >= 0 && mpz_cmp(v, mod) < 0;
}

/* g^m = (1 + n)^m = 1 + m*n mod n^2, for m in [0, n). */
static void g_pow(mpz_t out, const ovl_paillier_pk *pk, const mpz_t m)
{
    mpz_mul(out, m, pk->n);
    mpz_add_ui(out, out, 1);
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
static bool l_func(mpz_t out, const mpz_t x, const mpz_t d)
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
    bool ok = l_func(g, g, r) && mpz_invert(h, g, r) != 0;
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
    OVL_ENSURE(l_func(g, g, sk->pk.n) && mpz_invert(sk->mu, g, sk->pk.n) != 0, OVL_ERR_CRYPTO,
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
    mont_free(&sk->mp2);
    mont_free(&sk->mq2);
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
    OVL_TRY(mont_init(&sk->mp2, sk->p2, sk->pk.windows, sk->pk.hs));
    OVL_TRY(mont_init(&sk->mq2, sk->q2, sk->pk.windows, sk->pk.hs));
    OVL_ENSURE(sk->mp2.n == sk->mq2.n && 2 * sk->mp2.n == sk->pk.mn2.n, OVL_ERR_INTERNAL,
               "paillier keygen: p^2, q^2 and n^2 limb counts do not match");
    mpz_mul_2exp(t, sk->q2inv, GMP_NUMB_BITS * (size_t)sk->mp2.n);
    mpz_to_limbs_mod(sk->q2inv_mont, t, &sk->mp2, t);
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
    if (!is_residue(ct, pk->n2))
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

/* ---- encryption ---- */

/* ct = (1 + m n) * hs^r mod n^2, r given little-endian; ct may alias m.
 * Constant time in r; g^m is formed with mpz arithmetic (see paillier.h). */
static void encrypt_with_r(mpz_t ct, const ovl_paillier_pk *pk, const mpz_t m, const uint8_t *r_le)
{
    mp_limb_t x[N2_MAX_LIMBS];
    size_t limbs = (size_t)pk->mn2.n;
    mpz_t gm;
    mpz_init(gm);
    g_pow(gm, pk, m);
    (void)ovl_gmp_get_limbs(x, limbs, gm);
    pk_mul_hs_pow(x, pk, x, r_le);
    ovl_gmp_set_limbs(ct, x, limbs);
    sodium_memzero(x, sizeof x);
    mpz_clear(gm);
}

ovl_err ovl_paillier_encrypt(mpz_t ct, const ovl_paillier_pk *pk, const mpz_t m)
{
    if (!is_residue(m, pk->n))
        return ovl_err_set(OVL_ERR_USAGE, "paillier encrypt: plaintext is not in [0, n)");
    uint8_t r[R_MAX_BYTES];
    randombytes_buf(r, pk->r_bits / 8u);
    encrypt_with_r(ct, pk, m, r);
    sodium_memzero(r, sizeof r);
    return OVL_OK;
}

ovl_err ovl_paillier_encrypt_i64(mpz_t ct, const ovl_paillier_pk *pk, int64_t v)
{
    mpz_t m;
    mpz_init(m);
    ovl_paillier_encode_i64(m, pk, v);
    ovl_err rc = ovl_paillier_encrypt(ct, pk, m);
    mpz_clear(m);
    return rc;
}

ovl_err ovl_paillier_encrypt_with_exponent_for_tests(mpz_t ct, const ovl_paillier_pk *pk,
                                                     const mpz_t m, const uint8_t *r, size_t r_len)
{
    uint8_t le[R_MAX_BYTES];
    if (r_len != pk->r_bits / 8u)
        return ovl_err_set(OVL_ERR_USAGE, "paillier exponent must be %u bytes", pk->r_bits / 8u);
    if (!is_residue(m, pk->n))
        return ovl_err_set(OVL_ERR_USAGE, "paillier encrypt: plaintext is not in [0, n)");
    for (size_t i = 0; i < r_len; i++)
        le[i] = r[r_len - 1 - i];
    encrypt_with_r(ct, pk, m, le);
    sodium_memzero(le, sizeof le);
    return OVL_OK;
}

/* One CRT half: out = gm hs^r mod m (m = p^2 or q^2) for gm < n^2 given as
 * 2 x (m limbs) limbs. */
static void sk_half(mp_limb_t *out, const mont *c, const mp_limb_t *gm_wide, size_t windows,
                    const uint8_t *r_le, size_t r_len)
{
    mp_limb_t g[N2_MAX_LIMBS];
    /* gm < p^2 q^2 < m R, so the Montgomery reduction applies. */
    mont_reduce_wide(g, gm_wide, c);
    mont_pow_table(out, c, windows, r_le, r_len);
    mont_mul(out, out, g, c);
    sodium_memzero(g, sizeof g);
}

/* The key owner's E(m) with the same r: both factors are computed mod p^2 and
 * q^2 from the CRT tables and recombined (half-size moduli, ~1.6x faster),
 * all in constant-time limb arithmetic since p and q are secret too. */
static void sk_encrypt_with_r(mpz_t ct, const ovl_paillier_sk *sk, const mpz_t m,
                              const uint8_t *r_le)
{
    size_t r_len = sk->pk.r_bits / 8u, h = (size_t)sk->mp2.n;
    mp_limb_t gm[N2_MAX_LIMBS], cp[N2_MAX_LIMBS], cq[N2_MAX_LIMBS], wide[N2_MAX_LIMBS];
    mp_limb_t scratch[2 * N2_MAX_LIMBS];
    mpz_t g;
    mpz_init(g);
    g_pow(g, &sk->pk, m);
    (void)ovl_gmp_get_limbs(gm, 2u * h, g);
    sk_half(cp, &sk->mp2, gm, sk->pk.windows, r_le, r_len);
    sk_half(cq, &sk->mq2, gm, sk->pk.windows, r_le, r_len);
    /* ct = cq + q^2 * ((cp - cq) * q^-2 mod p^2); cq < q^2 < p^2 R. */
    memcpy(wide, cq, h * sizeof *wide);
    memset(wide + h, 0, h * sizeof *wide);
    mont_reduce_wide(gm, wide, &sk->mp2);
    mpn_cnd_add_n(mpn_sub_n(cp, cp, gm, (mp_size_t)h), cp, cp, sk->mp2.m, (mp_size_t)h);
    mont_mul(cp, cp, sk->q2inv_mont, &sk->mp2);
    mpn_sec_mul(wide, cp, (mp_size_t)h, sk->mq2.m, (mp_size_t)h, scratch);
    memset(cq + h, 0, h * sizeof *cq);
    /* No carry: the sum is the CRT value, below n^2. */
    (void)mpn_add_n(wide, wide, cq, (mp_size_t)(2u * h));
    ovl_gmp_set_limbs(ct, wide, 2u * h);
    sodium_memzero(gm, sizeof gm);
    sodium_memzero(cp, sizeof cp);
    sodium_memzero(cq, sizeof cq);
    sodium_memzero(wide, sizeof wide);
    mpz_clear(g);
}

ovl_err ovl_paillier_sk_encrypt(mpz_t ct, const ovl_paillier_sk *sk, const mpz_t m)
{
    if (!is_residue(m, sk->pk.n))
        return ovl_err_set(OVL_ERR_USAGE, "paillier encrypt: plaintext is not in [0, n)");
    uint8_t r[R_MAX_BYTES];
    randombytes_buf(r, sk->pk.r_bits / 8u);
    sk_encrypt_with_r(ct, sk, m, r);
    sodium_memzero(r, sizeof r);
    return OVL_OK;
}

ovl_err ovl_paillier_sk_encrypt_i64(mpz_t ct, const ovl_paillier_sk *sk, int64_t v)
{
    mpz_t m;
    mpz_init(m);
    ovl_paillier_encode_i64(m, &sk->pk, v);
    ovl_err rc = ovl_paillier_sk_encrypt(ct, sk, m);
    mpz_clear(m);
    return rc;
}

ovl_err ovl_paillier_sk_encrypt_with_exponent(mpz_t ct, const ovl_paillier_sk *sk, const mpz_t m,
                                              const uint8_t *r, size_t r_len)
{
    uint8_t le[R_MAX_BYTES];
    if (r_len != sk->pk.r_bits / 8u || !is_residue(m, sk->pk.n))
        return ovl_err_set(OVL_ERR_USAGE, "paillier encrypt: bad exponent length or plaintext");
    for (size_t i = 0; i < r_len; i++)
        le[i] = r[r_len - 1 - i];
    sk_encrypt_with_r(ct, sk, m, le);
    sodium_memzero(le, sizeof le);
    return OVL_OK;
}

typedef struct {
    const ovl_paillier_pk *pk;
    const ovl_paillier_sk *sk; /* set: encrypt by CRT as the key owner */
    const int64_t *values;
    uint8_t *out;
    size_t count;
    ovl_err rc;
} batch_job;

static void *batch_run(void *arg)
{
    batch_job *job = arg;
    size_t len = ovl_paillier_ct_len(job->pk);
    mpz_t ct;
    mpz_init(ct);
    job->rc = OVL_OK;
    for (size_t i = 0; i < job->count && job->rc == OVL_OK; i++) {
        job->rc = job->sk != NULL ? ovl_paillier_sk_encrypt_i64(ct, job->sk, job->values[i])
                                  : ovl_paillier_encrypt_i64(ct, job->pk, job->values[i]);
        export_fixed(job->out + i * len, len, ct);
    }
    mpz_clear(ct);
    return NULL;
}

static ovl_err batch_encrypt(uint8_t *out, size_t out_len, const ovl_paillier_pk *pk,
                             const ovl_paillier_sk *sk, const int64_t *values, size_t count,
                             unsigned threads)
{
    ovl_err rc = OVL_OK;
    size_t len = ovl_paillier_ct_len(pk), want, nthreads, started = 0;
    batch_job jobs[BATCH_MAX_THREADS];
    pthread_t tids[BATCH_MAX_THREADS];
    OVL_ENSURE(ovl_mul_ok(count, len, &want) && want == out_len, OVL_ERR_USAGE,
               "paillier batch: output is %zu bytes, %zu ciphertexts need %zu x %zu", out_len,
               count, count, len);
    nthreads = threads < 1 ? 1 : threads > BATCH_MAX_THREADS ? BATCH_MAX_THREADS : threads;
    if (nthreads > count)
        nthreads = count ? count : 1;
    for (size_t t = 0, first = 0; t < nthreads; t++) {
        size_t n = count / nthreads + (t < count % nthreads ? 1 : 0);
        jobs[t] = (batch_job){pk, sk, values + first, out + first * len, n, OVL_OK};
        first += n;
    }
    for (; started + 1 < nthreads; started++)
        if (pthread_create(&tids[started], NULL, batch_run, &jobs[started + 1]) != 0)
            break;
    /* Whatever could not be handed to a thread runs here. */
    batch_run(&jobs[0]);
    for (size_t t = started + 1; t < nthreads; t++)
        batch_run(&jobs[t]);
    for (size_t t = 0; t < started; t++)
        (void)pthread_join(tids[t], NULL);
    for (size_t t = 0; t < nthreads; t++)
        OVL_ENSURE(jobs[t].rc == OVL_OK, jobs[t].rc, "paillier batch: encrypting part %zu failed", t);
done:
    return rc;
}

ovl_err ovl_paillier_encrypt_i64_batch(uint8_t *out, size_t out_len, const ovl_paillier_pk *pk,
                                       const int64_t *values, size_t count, unsigned threads)
{
    return batch_encrypt(out, out_len, pk, NULL, values, count, threads);
}

ovl_err ovl_paillier_sk_encrypt_i64_batch(uint8_t *out, size_t out_len, const ovl_paillier_sk *sk,
                                          const int64_t *values, size_t count, unsigned threads)
{
    return batch_encrypt(out, out_len, &sk->pk, sk, values, count, threads);
}

/* ---- decryption ---- */

/* m_r = L_r(c^(r-1) mod r^2) * h_r mod r for a prime factor r (Paillier §7). */
static bool crt_half(mpz_t out, const mpz_t ct, const mpz_t r, const mpz_t r2, const mpz_t rm1,
                     const mpz_t h)
{
    mpz_t t;
    mpz_init(t);
    mpz_tdiv_r(t, ct, r2);
    mpz_powm_sec(t, t, rm1, r2);
    bool ok = l_func(out, t, r);
    mpz_mul(t, out, h);
    mpz_mod(out, t, r);
    mpz_clear(t);
    return ok;
}

ovl_err ovl_paillier_decrypt(mpz_t m, const ovl_paillier_sk *sk, const mpz_t ct)
{
    ovl_err rc = OVL_OK;
    mpz_t mp, mq;
    mpz_inits(mp, mq, NULL);
    OVL_ENSURE(mpz_sgn(ct) > 0 && mpz_cmp(ct, sk->pk.n2) < 0, OVL_ERR_CRYPTO,
               "paillier decrypt: ciphertext out of range (0, n^2)");
    OVL_ENSURE(crt_half(mp, ct, sk->p, sk->p2, sk->pm1, sk->hp) &&
                   crt_half(mq, ct, sk->q, sk->q2, sk->qm1, sk->hq),
               OVL_ERR_CRYPTO, "paillier decrypt: ciphertext is not invertible");
    /* m = m_q + q * ((m_p - m_q) q^-1 mod p). */
    mpz_sub(mp, mp, mq);
    mpz_mul(mp, mp, sk->qinv);
    mpz_mod(mp, mp, sk->p);
    mpz_mul(mp, mp, sk->q);
    mpz_add(m, mp, mq);
done:
    mpz_clears(mp, mq, NULL);
    return rc;
}

ovl_err ovl_paillier_decrypt_reference_for_tests(mpz_t m, const ovl_paillier_sk *sk,
                                                 const mpz_t ct)
{
    ovl_err rc = OVL_OK;
    mpz_t t;
    mpz_init(t);
    OVL_ENSURE(mpz_sgn(ct) > 0 && mpz_cmp(ct, sk->pk.n2) < 0, OVL_ERR_CRYPTO,
               "paillier decrypt: ciphertext out of range (0, n^2)");
    mpz_powm_sec(t, ct, sk->lambda, sk->pk.n2);
    OVL_ENSURE(l_func(t, t, sk->pk.n), OVL_ERR_CRYPTO,
               "paillier decrypt: ciphertext is not invertible");
    mpz_mul(t, t, sk->mu);
    mpz_mod(m, t, sk->pk.n);
done:
    mpz_clear(t);
    return rc;
}

ovl_err ovl_paillier_decrypt_i64(int64_t *v, const ovl_paillier_sk *sk, const mpz_t ct)
{
    ovl_err rc = OVL_OK;
    mpz_t m;
    mpz_init(m);
    OVL_TRY(ovl_paillier_decrypt(m, sk, ct));
    OVL_TRY(ovl_paillier_decode_i64(v, &sk->pk, m));
done:
    mpz_clear(m);
    return rc;
}

/* ---- homomorphic operations ---- */

static bool ct_in_range(const ovl_paillier_pk *pk, const mpz_t ct)
{
    return mpz_sgn(ct) > 0 && mpz_cmp(ct, pk->n2) < 0;
}

ovl_err ovl_paillier_add(mpz_t out, const ovl_paillier_pk *pk, const mpz_t ca, const mpz_t cb)
{
    if (!ct_in_range(pk, ca) || !ct_in_range(pk, cb))
        return ovl_err_set(OVL_ERR_USAGE, "paillier add: ciphertext out of range");
    mpz_mul(out, ca, cb);
    mpz_tdiv_r(out, out, pk->n2);
    return OVL_OK;
}

ovl_err ovl_paillier_add_plain(mpz_t out, const ovl_paillier_pk *pk, const mpz_t ca, const mpz_t m)
{
    if (!ct_in_range(pk, ca) || !is_residue(m, pk->n))
        return ovl_err_set(OVL_ERR_USAGE, "paillier add_plain: operand out of range");
    mpz_t gm;
    mpz_init(gm);
    g_pow(gm, pk, m);
    mpz_mul(out, ca, gm);
    mpz_tdiv_r(out, out, pk->n2);
    mpz_clear(gm);
    return OVL_OK;
}

ovl_err ovl_paillier_mul_plain(mpz_t out, const ovl_paillier_pk *pk, const mpz_t ca, const mpz_t k)
{
    if (!ct_in_range(pk, ca) || !is_residue(k, pk->n))
        return ovl_err_set(OVL_ERR_USAGE, "paillier mul_plain: operand out of range");
    /* mpz_powm_sec needs a positive exponent; c^0 = 1 is the trivial E(0). */
    if (mpz_sgn(k) == 0)
        mpz_set_ui(out, 1);
    else
        mpz_powm_sec(out, ca, k, pk->n2);
    return OVL_OK;
}

ovl_err ovl_paillier_rerandomize(mpz_t out, const ovl_paillier_pk *pk, const mpz_t ca)
{
    if (!ct_in_range(pk, ca))
        return ovl_err_set(OVL_ERR_USAGE, "paillier rerandomize: ciphertext out of range");
    pk_mul_random_hs(out, pk, ca);
    return OVL_OK;
}

ovl_err ovl_paillier_mask(mpz_t out, mpz_t my_share, const ovl_paillier_pk *pk, const mpz_t ca)
{
    ovl_err rc = OVL_OK;
    mpz_t t;
    mpz_init(t);
    OVL_ENSURE(ct_in_range(pk, ca), OVL_ERR_USAGE, "paillier mask: ciphertext out of range");
    OVL_TRY(ovl_share_random(t, pk->n));
    OVL_TRY(ovl_paillier_add_plain(out, pk, ca, t));
    pk_mul_random_hs(out, pk, out);
    mpz_sub(my_share, pk->n, t);
    if (mpz_cmp(my_share, pk->n) == 0)
        mpz_set_ui(my_share, 0);
done:
    mpz_clear(t);
    return rc;
}

/* ---- plaintext encoding and bounds ---- */

ovl_err ovl_paillier_encode(mpz_t m, const ovl_paillier_pk *pk, const mpz_t v)
{
    if (mpz_cmpabs(v, pk->half) > 0)
        return ovl_err_set(OVL_ERR_LIMIT, "value exceeds the plaintext range (n-1)/2");
    mpz_mod(m, v, pk->n);
    return OVL_OK;
}

void ovl_paillier_encode_i64(mpz_t m, const ovl_paillier_pk *pk, int64_t v)
{
    /* |v| < 2^63 is far below (n-1)/2 for any supported n. */
    mpz_set_si(m, (long)v);
    mpz_mod(m, m, pk->n);
}

ovl_err ovl_paillier_decode(mpz_t v, const ovl_paillier_pk *pk, const mpz_t m)
{
    return ovl_share_lift_signed(v, m, pk->n);
}

ovl_err ovl_paillier_decode_i64(int64_t *v, const ovl_paillier_pk *pk, const mpz_t m)
{
    ovl_err rc = OVL_OK;
    mpz_t t;
    mpz_init(t);
    OVL_TRY(ovl_share_lift_signed(t, m, pk->n));
    OVL_TRY(ovl_share_to_i64(v, t));
done:
    mpz_clear(t);
    return rc;
}

ovl_err ovl_paillier_sum_check(const ovl_paillier_pk *pk, uint64_t terms, const mpz_t max_abs)
{
    ovl_err rc = OVL_OK;
    mpz_t t;
    mpz_init(t);
    OVL_ENSURE(mpz_sgn(max_abs) >= 0, OVL_ERR_USAGE, "sum check: negative bound");
    mpz_set_ui(t, 0);
    mpz_import(t, 1, 1, sizeof terms, 0, 0, &terms);
    mpz_mul(t, t, max_abs);
    OVL_ENSURE(mpz_cmp(t, pk->half) <= 0, OVL_ERR_LIMIT,
               "a sum of %llu values may exceed the %u-bit plaintext range and wrap",
               (unsigned long long)terms, pk->bits);
done:
    mpz_clear(t);
    return rc;
}

ovl_err ovl_paillier_sum_check_u64(const ovl_paillier_pk *pk, uint64_t terms, uint64_t max_abs)
{
    mpz_t b;
    mpz_init(b);
    mpz_import(b, 1, 1, sizeof max_abs, 0, 0, &max_abs);
    ovl_err rc = ovl_paillier_sum_check(pk, terms, b);
    mpz_clear(b);
    return rc;
}

/* ---- packing ---- */

#define PACK_MAX_VALUE_BITS 63u

ovl_err ovl_paillier_packing_check(const ovl_paillier_packing *l, unsigned modulus_bits)
{
    ovl_err rc = OVL_OK;
    mpz_t t, cap;
    mpz_inits(t, cap, NULL);
    OVL_ENSURE(l->slots >= 1 && l->max_terms >= 1 && l->value_bits >= 1 &&
                   l->value_bits <= PACK_MAX_VALUE_BITS && l->slot_bits >= l->value_bits,
               OVL_ERR_LIMIT, "packing: need slots, terms >= 1 and 1 <= value bits (%u) <= 63, <= "
               "slot bits (%u)", l->value_bits, l->slot_bits);
    OVL_ENSURE(l->slot_bits < modulus_bits && l->slots < modulus_bits &&
                   (unsigned long)l->slots * l->slot_bits < modulus_bits,
               OVL_ERR_LIMIT, "packing: %u slots of %u bits do not fit a %u-bit modulus", l->slots,
               l->slot_bits, modulus_bits);
    /* The largest slot content is max_terms * (2^value_bits - 1). */
    mpz_setbit(t, l->value_bits);
    mpz_sub_ui(t, t, 1);
    mpz_import(cap, 1, 1, sizeof l->max_terms, 0, 0, &l->max_terms);
    mpz_mul(t, t, cap);
    OVL_ENSURE(mpz_sizeinbase(t, 2) <= l->slot_bits, OVL_ERR_LIMIT,
               "packing: %llu terms of %u-bit values overflow a %u-bit slot",
               (unsigned long long)l->max_terms, l->value_bits, l->slot_bits);
done:
    mpz_clears(t, cap, NULL);
    return rc;
}

ovl_err ovl_paillier_pack(mpz_t m, const ovl_paillier_packing *l, unsigned modulus_bits,
                          const int64_t *values, size_t count)
{
    ovl_err rc = OVL_OK;
    int64_t lim = (int64_t)(UINT64_C(1) << (l->value_bits - 1));
    mpz_t slot;
    mpz_init(slot);
    OVL_TRY(ovl_paillier_packing_check(l, modulus_bits));
    OVL_ENSURE(count <= l->slots, OVL_ERR_USAGE, "packing: %zu values for %u slots", count,
               l->slots);
    mpz_set_ui(m, 0);
    for (size_t i = l->slots; i-- > 0;) {
        int64_t v = i < count ? values[i] : 0;
        OVL_ENSURE(v >= -lim && v < lim, OVL_ERR_LIMIT,
                   "packing: value in slot %zu does not fit %u signed bits", i, l->value_bits);
        /* Stored value v + 2^(value_bits-1) is in [0, 2^value_bits). */
        mpz_set_si(slot, (long)v);
        mpz_add_ui(slot, slot, (unsigned long)lim);
        mpz_mul_2exp(m, m, l->slot_bits);
        mpz_add(m, m, slot);
    }
done:
    mpz_clear(slot);
    return rc;
}

ovl_err ovl_paillier_unpack(int64_t *sums, size_t count, const ovl_paillier_packing *l,
                            unsigned modulus_bits, const mpz_t m, uint64_t terms)
{
    ovl_err rc = OVL_OK;
    mpz_t slot, cap, offset;
    mpz_inits(slot, cap, offset, NULL);
    OVL_TRY(ovl_paillier_packing_check(l, modulus_bits));
    OVL_ENSURE(count <= l->slots && terms >= 1 && terms <= l->max_terms, OVL_ERR_USAGE,
               "unpacking: %zu values of %u slots, %llu of at most %llu terms", count, l->slots,
               (unsigned long long)terms, (unsigned long long)l->max_terms);
    OVL_ENSURE(mpz_sgn(m) >= 0 && mpz_sizeinbase(m, 2) <= (size_t)l->slots * l->slot_bits,
               OVL_ERR_LIMIT, "unpacking: packed value exceeds %u slots", l->slots);
    /* terms values contribute at most terms * (2^value_bits - 1) and carry an
     * offset of terms * 2^(value_bits-1). */
    mpz_import(offset, 1, 1, sizeof terms, 0, 0, &terms);
    mpz_mul_2exp(cap, offset, l->value_bits);
    mpz_sub(cap, cap, offset);
    mpz_mul_2exp(offset, offset, l->value_bits - 1);
    for (size_t i = 0; i < count; i++) {
        mpz_tdiv_q_2exp(slot, m, i * l->slot_bits);
        mpz_tdiv_r_2exp(slot, slot, l->slot_bits);
        OVL_ENSURE(mpz_cmp(slot, cap) <= 0, OVL_ERR_LIMIT,
                   "unpacking: slot %zu overflowed (more than %llu terms added?)", i,
                   (unsigned long long)terms);
        mpz_sub(slot, slot, offset);
        OVL_TRY(ovl_share_to_i64(&sums[i], slot));
    }
done:
    mpz_clears(slot, cap, offset, NULL);
    return rc;
}
