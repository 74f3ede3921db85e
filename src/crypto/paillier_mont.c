/* Paillier: Montgomery arithmetic modulo n^2, p^2 and q^2 and the
 * fixed-base tables of hs, in constant time (see paillier_impl.h). */
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

/* Wiped as well: the tables mod p^2 and q^2 would reveal the factors. */
void paillier_mont_free(mont *c)
{
    if (c->table != NULL) {
        sodium_memzero(c->table, c->table_limbs * sizeof *c->table);
        free(c->table);
    }
    sodium_memzero(c, sizeof *c);
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
void paillier_mont_mul(mp_limb_t *rp, const mp_limb_t *ap, const mp_limb_t *bp, const mont *c)
{
    mp_limb_t t[2 * N2_MAX_LIMBS], scratch[2 * N2_MAX_LIMBS];
    mpn_sec_mul(t, ap, c->n, bp, c->n, scratch);
    mont_redc(rp, t, c);
    sodium_memzero(t, sizeof t);
}

/* rp = x mod m for x < m R given as 2n limbs: x R^-1, then times R^2 R^-1. */
void paillier_mont_reduce_wide(mp_limb_t *rp, const mp_limb_t *x, const mont *c)
{
    mp_limb_t t[2 * N2_MAX_LIMBS];
    memcpy(t, x, 2u * (size_t)c->n * sizeof *t);
    mont_redc(rp, t, c);
    paillier_mont_mul(rp, rp, c->r2, c);
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
void paillier_mont_pow_table(mp_limb_t *acc, const mont *c, size_t windows, const uint8_t *r_le,
                           size_t r_len)
{
    mp_limb_t sel[N2_MAX_LIMBS];
    size_t row = (size_t)ROW_ENTRIES * (size_t)c->n;
    mpn_sec_tabselect(acc, c->table, c->n, ROW_ENTRIES, exp_digit(r_le, r_len, 0));
    for (size_t i = 1; i < windows; i++) {
        mpn_sec_tabselect(sel, c->table + i * row, c->n, ROW_ENTRIES, exp_digit(r_le, r_len, i));
        paillier_mont_mul(acc, acc, sel, c);
    }
    sodium_memzero(sel, sizeof sel);
}

/* out = v mod m as exactly n limbs (v >= 0); GMP division, key set-up only. */
void paillier_mpz_to_limbs_mod(mp_limb_t *out, const mpz_t v, const mont *c, mpz_t tmp)
{
    mpz_t m;
    mpz_roinit_n(m, c->m, c->n);
    mpz_mod(tmp, v, m);
    (void)ovl_gmp_get_limbs(out, (size_t)c->n, tmp);
}

/* Montgomery constants for mod (odd, at most N2_MAX_LIMBS limbs) and the
 * table of base: row i entry d = base^(d 2^(W i)) R mod m. Key set-up runs on
 * GMP's variable-time mpz functions (it happens once, before any encryption). */
ovl_err paillier_mont_init(mont *c, const mpz_t mod, size_t windows, const mpz_t base)
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
    paillier_mpz_to_limbs_mod(c->r2, t, c, t);
    OVL_ENSURE(ovl_mul_ok(windows * (size_t)ROW_ENTRIES, (size_t)c->n, &c->table_limbs),
               OVL_ERR_LIMIT, "paillier: fixed-base table size overflows");
    OVL_TRY(ovl_calloc((void **)&c->table, c->table_limbs, sizeof *c->table));
    row = (size_t)ROW_ENTRIES * (size_t)c->n;
    mpz_mul_2exp(t, base, GMP_NUMB_BITS * (size_t)c->n);
    paillier_mpz_to_limbs_mod(b, t, c, t);
    for (size_t w = 0; w < windows; w++) {
        mp_limb_t *e = c->table + w * row;
        /* Entry 0 is R mod m, the Montgomery form of 1: R^2 R^-1. */
        memset(e, 0, (size_t)c->n * sizeof *e);
        e[0] = 1;
        paillier_mont_mul(e, e, c->r2, c);
        for (mp_size_t d = 1; d < ROW_ENTRIES; d++)
            paillier_mont_mul(e + d * c->n, e + (d - 1) * c->n, b, c);
        paillier_mont_mul(b, e + (ROW_ENTRIES - 1) * c->n, b, c);
    }
done:
    sodium_memzero(b, sizeof b);
    mpz_clear(t);
    return rc;
}

