/* Paillier: homomorphic operations on ciphertexts, plaintext encoding and
 * sum bounds. */
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
    if (!ct_in_range(pk, ca) || !paillier_is_residue(m, pk->n))
        return ovl_err_set(OVL_ERR_USAGE, "paillier add_plain: operand out of range");
    mpz_t gm;
    mpz_init(gm);
    paillier_g_pow(gm, pk, m);
    mpz_mul(out, ca, gm);
    mpz_tdiv_r(out, out, pk->n2);
    mpz_clear(gm);
    return OVL_OK;
}

ovl_err ovl_paillier_mul_plain(mpz_t out, const ovl_paillier_pk *pk, const mpz_t ca, const mpz_t k)
{
    if (!ct_in_range(pk, ca) || !paillier_is_residue(k, pk->n))
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
    paillier_pk_mul_random_hs(out, pk, ca);
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
    paillier_pk_mul_random_hs(out, pk, out);
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

