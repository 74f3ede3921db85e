#include <limits.h>
#include <string.h>

#include <sodium.h>

#include "core/guard.h"
#include "crypto/gmp_wipe.h"
#include "overlap/share.h"

_Static_assert(LONG_MAX >= INT64_MAX && LONG_MIN <= INT64_MIN, "mpz_get_si must cover int64_t");

/* Rejection sampling fails with probability below 2^-128 after this many draws
 * (each draw succeeds with probability > 1/2). */
#define SHARE_MAX_DRAWS 128
#define SHARE_MAX_BYTES 1024

static bool modulus_ok(const mpz_t modulus)
{
    return mpz_cmp_ui(modulus, 3) >= 0 && mpz_odd_p(modulus) &&
           mpz_sizeinbase(modulus, 256) <= SHARE_MAX_BYTES;
}

static bool is_residue(const mpz_t r, const mpz_t modulus)
{
    return mpz_sgn(r) >= 0 && mpz_cmp(r, modulus) < 0;
}

ovl_err ovl_share_random(mpz_t out, const mpz_t modulus)
{
    ovl_err rc = OVL_OK;
    uint8_t buf[SHARE_MAX_BYTES];
    size_t bits = 0, len = 0;
    ovl_gmp_wipe_install();
    OVL_ENSURE(modulus_ok(modulus), OVL_ERR_USAGE, "share modulus must be odd, >= 3, <= 8192 bits");
    bits = mpz_sizeinbase(modulus, 2);
    len = (bits + 7) / 8;
    for (int i = 0; i < SHARE_MAX_DRAWS; i++) {
        randombytes_buf(buf, len);
        /* Clear the bits above the modulus length so a draw succeeds w.p. > 1/2. */
        if (bits % 8 != 0)
            buf[0] &= (uint8_t)((1u << (bits % 8)) - 1);
        mpz_import(out, len, 1, 1, 1, 0, buf);
        if (mpz_cmp(out, modulus) < 0)
            goto done;
    }
    OVL_ENSURE(false, OVL_ERR_CRYPTO, "random share: %d draws rejected (randomness broken)",
               SHARE_MAX_DRAWS);
done:
    sodium_memzero(buf, sizeof buf);
    return rc;
}

ovl_err ovl_share_split(mpz_t a, mpz_t b, const mpz_t v, const mpz_t modulus)
{
    ovl_err rc = ovl_share_random(a, modulus);
    if (rc != OVL_OK)
        return rc;
    mpz_sub(b, v, a);
    mpz_mod(b, b, modulus);
    return OVL_OK;
}

ovl_err ovl_share_combine(mpz_t out, const mpz_t a, const mpz_t b, const mpz_t modulus)
{
    if (!modulus_ok(modulus) || !is_residue(a, modulus) || !is_residue(b, modulus))
        return ovl_err_set(OVL_ERR_USAGE, "share combine: shares must be residues of an odd modulus");
    mpz_add(out, a, b);
    if (mpz_cmp(out, modulus) >= 0)
        mpz_sub(out, out, modulus);
    return OVL_OK;
}

ovl_err ovl_share_lift_signed(mpz_t out, const mpz_t r, const mpz_t modulus)
{
    if (!modulus_ok(modulus) || !is_residue(r, modulus))
        return ovl_err_set(OVL_ERR_USAGE, "signed lift: value is not a residue of an odd modulus");
    /* For odd m, residues up to (m-1)/2 are non-negative, the rest negative. */
    mpz_t half;
    mpz_init(half);
    mpz_fdiv_q_2exp(half, modulus, 1);
    bool negative = mpz_cmp(r, half) > 0;
    mpz_clear(half);
    if (negative)
        mpz_sub(out, r, modulus);
    else if (out != r)
        mpz_set(out, r);
    return OVL_OK;
}

ovl_err ovl_share_combine_signed(mpz_t out, const mpz_t a, const mpz_t b, const mpz_t modulus)
{
    ovl_err rc = ovl_share_combine(out, a, b, modulus);
    if (rc != OVL_OK)
        return rc;
    return ovl_share_lift_signed(out, out, modulus);
}

ovl_err ovl_share_to_i64(int64_t *out, const mpz_t v)
{
    if (!mpz_fits_slong_p(v))
        return ovl_err_set(OVL_ERR_LIMIT, "value does not fit a signed 64-bit integer");
    *out = (int64_t)mpz_get_si(v);
    return OVL_OK;
}

ovl_err ovl_share_combine_i64(int64_t *out, const mpz_t a, const mpz_t b, const mpz_t modulus)
{
    ovl_err rc = OVL_OK;
    mpz_t v;
    mpz_init(v);
    OVL_TRY(ovl_share_combine_signed(v, a, b, modulus));
    OVL_TRY(ovl_share_to_i64(out, v));
done:
    mpz_clear(v);
    return rc;
}

size_t ovl_share_len(const mpz_t modulus)
{
    return mpz_sizeinbase(modulus, 256);
}

ovl_err ovl_share_write(ovl_buf *out, const mpz_t s, const mpz_t modulus)
{
    if (!modulus_ok(modulus) || !is_residue(s, modulus))
        return ovl_err_set(OVL_ERR_USAGE, "share write: value is not a residue of an odd modulus");
    size_t len = ovl_share_len(modulus);
    size_t used = (mpz_sizeinbase(s, 2) + 7) / 8;
    uint8_t *p;
    ovl_err rc = ovl_buf_reserve(out, len, &p);
    if (rc != OVL_OK)
        return rc;
    memset(p, 0, len);
    if (mpz_sgn(s) != 0)
        mpz_export(p + (len - used), NULL, 1, 1, 1, 0, s);
    return OVL_OK;
}

ovl_err ovl_share_read(mpz_t s, ovl_buf *in, const mpz_t modulus)
{
    if (!modulus_ok(modulus))
        return ovl_err_set(OVL_ERR_USAGE, "share read: modulus must be odd, >= 3, <= 8192 bits");
    size_t len = ovl_share_len(modulus);
    const uint8_t *p;
    ovl_err rc = ovl_buf_get_ptr(in, len, &p);
    if (rc != OVL_OK)
        return ovl_err_wrap(rc, "share: ");
    mpz_import(s, len, 1, 1, 1, 0, p);
    if (mpz_cmp(s, modulus) >= 0)
        return ovl_err_set(OVL_ERR_MALFORMED, "share: value is not below the modulus");
    return OVL_OK;
}
