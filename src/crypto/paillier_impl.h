/* overlap: what the Paillier files share (paillier_{keys,mont,encrypt,ops,
 * pack}.c): parameters, the Montgomery context, the key structures, and the
 * helpers one file uses from another. Not for use outside src/crypto/. */
#ifndef OVL_CRYPTO_PAILLIER_IMPL_H
#define OVL_CRYPTO_PAILLIER_IMPL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gmp.h>

#include "core/error.h"
#include "crypto/paillier.h"


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

/* Keys (paillier_keys.c). */
void paillier_export_fixed(uint8_t *p, size_t len, const mpz_t v);
bool paillier_is_residue(const mpz_t v, const mpz_t mod);
bool paillier_l_func(mpz_t out, const mpz_t x, const mpz_t d);

/* Montgomery arithmetic and fixed-base tables (paillier_mont.c). */
void paillier_mont_free(mont *c);
void paillier_mont_mul(mp_limb_t *rp, const mp_limb_t *ap, const mp_limb_t *bp, const mont *c);
void paillier_mont_reduce_wide(mp_limb_t *rp, const mp_limb_t *x, const mont *c);
void paillier_mont_pow_table(mp_limb_t *acc, const mont *c, size_t windows, const uint8_t *r_le,
                           size_t r_len);
void paillier_mpz_to_limbs_mod(mp_limb_t *out, const mpz_t v, const mont *c, mpz_t tmp);
ovl_err paillier_mont_init(mont *c, const mpz_t mod, size_t windows, const mpz_t base);

/* Encryption (paillier_encrypt.c). */
void paillier_pk_mul_random_hs(mpz_t out, const ovl_paillier_pk *pk, const mpz_t ca);
void paillier_g_pow(mpz_t out, const ovl_paillier_pk *pk, const mpz_t m);

#endif
