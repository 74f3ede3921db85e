#include <limits.h>
#include <string.h>

#include <sodium.h>

#include "core/guard.h"
#include "crypto/gmp_wipe.h"
#include "crypto/share.h"

_Static_assert(LONG_MAX >= INT64_MAX && LONG_MIN <= INT64_MIN, "mpz_get_si must cover int64_t");

/* Rejection sampling fails with probability below 2^-128 after this many draws
 * (each draw succeeds with probability > 1/2). */
#define SHARE_MAX_DRAWS 128
#define SHARE_MAX_BYTES 1024
#define SHARE_MAX_LIMBS ((SHARE_MAX_BYTES * 8) / GMP_NUMB_BITS)
/* Inputs to split wider than this are first reduced with mpz_tdiv_r. */
#define SPLIT_MAX_LIMBS (2 * SHARE_MAX_LIMBS)
_Static_assert(GMP_NAIL_BITS == 0, "limb arithmetic assumes full limbs");

/* Constant time: the arithmetic on share values (random draws, split, combine,
 * the magnitude of a signed lift) runs on fixed-width limb arrays as wide as
 * the modulus with mpn_add_n / mpn_sub_n / mpn_cnd_* / mpn_sec_div_r, whose
 * instructions and addresses do not depend on the values. Branches look only
 * at the public modulus, at an input's sign and limb count (exposed by the mpz
 * representation to every GMP call anyway), and at the validity bit of an
 * input (share_check_residue), which the caller learns from the result. */

static bool modulus_ok(const mpz_t modulus)
{
    return mpz_cmp_ui(modulus, 3) >= 0 && mpz_odd_p(modulus) &&
           mpz_sizeinbase(modulus, 256) <= SHARE_MAX_BYTES;
}

static bool is_residue(const mpz_t r, const mpz_t modulus)
{
    return mpz_sgn(r) >= 0 && mpz_cmp(r, modulus) < 0;
}

/* out[0..n) = r if r is a residue (0 <= r < m), else OVL_ERR_USAGE. The
 * comparison is a limb subtraction; the one branch, on its borrow, decides
 * the error return. Out of line so tests/ct/ct.supp can name it. */
__attribute__((noinline)) static ovl_err share_check_residue(mp_limb_t *out, const mpz_t r,
                                                             const mp_limb_t *m, mp_size_t n)
{
    mp_limb_t tmp[SHARE_MAX_LIMBS];
    if (!ovl_gmp_get_limbs(out, (size_t)n, r))
        return OVL_ERR_USAGE;
    mp_limb_t below = mpn_sub_n(tmp, out, m, n);
    sodium_memzero(tmp, sizeof tmp);
    return below ? OVL_OK : OVL_ERR_USAGE;
}

/* r = x - y mod m for x, y in [0, m) (r may alias either). */
static void sub_mod(mp_limb_t *r, const mp_limb_t *x, const mp_limb_t *y, const mp_limb_t *m,
                    mp_size_t n)
{
    mp_limb_t borrow = mpn_sub_n(r, x, y, n);
    mpn_cnd_add_n(borrow, r, r, m, n);
}

/* r = x + y mod m for x, y in [0, m) (r may alias either). */
static void add_mod(mp_limb_t *r, const mp_limb_t *x, const mp_limb_t *y, const mp_limb_t *m,
                    mp_size_t n)
{
    mp_limb_t alt[SHARE_MAX_LIMBS];
    mp_limb_t cy = mpn_add_n(r, x, y, n);
    mp_limb_t borrow = mpn_sub_n(alt, r, m, n);
    /* x + y >= m exactly when the sum carried out or r - m did not borrow. */
    mpn_cnd_swap(cy | (borrow ^ 1u), r, alt, n);
    sodium_memzero(alt, sizeof alt);
}

/* Big-endian bytes (len <= n limbs' worth) to n little-endian limbs. */
static void bytes_to_limbs(mp_limb_t *out, mp_size_t n, const uint8_t *p, size_t len)
{
    memset(out, 0, (size_t)n * sizeof *out);
    for (size_t i = 0; i < len; i++) {
        size_t bit = 8u * (len - 1 - i);
        out[bit / GMP_NUMB_BITS] |= (mp_limb_t)p[i] << (bit % GMP_NUMB_BITS);
    }
}

ovl_err ovl_share_random(mpz_t out, const mpz_t modulus)
{
    ovl_err rc = OVL_OK;
    uint8_t buf[SHARE_MAX_BYTES];
    mp_limb_t x[SHARE_MAX_LIMBS], tmp[SHARE_MAX_LIMBS];
    size_t bits = 0, len = 0;
    mp_size_t n = 0;
    ovl_gmp_wipe_install();
    OVL_ENSURE(modulus_ok(modulus), OVL_ERR_USAGE, "share modulus must be odd, >= 3, <= 8192 bits");
    bits = mpz_sizeinbase(modulus, 2);
    len = (bits + 7) / 8;
    n = (mp_size_t)mpz_size(modulus);
    for (int i = 0; i < SHARE_MAX_DRAWS; i++) {
        randombytes_buf(buf, len);
        /* Clear the bits above the modulus length so a draw succeeds w.p. > 1/2. */
        if (bits % 8 != 0)
            buf[0] &= (uint8_t)((1u << (bits % 8)) - 1);
        bytes_to_limbs(x, n, buf, len);
        /* Branching on acceptance reveals only that rejected draws were too
         * large; the accepted value is independent of them. */
        if (mpn_sub_n(tmp, x, mpz_limbs_read(modulus), n)) {
            ovl_gmp_set_limbs(out, x, (size_t)n);
            goto done;
        }
    }
    OVL_ENSURE(false, OVL_ERR_CRYPTO, "random share: %d draws rejected (randomness broken)",
               SHARE_MAX_DRAWS);
done:
    sodium_memzero(buf, sizeof buf);
    sodium_memzero(x, sizeof x);
    sodium_memzero(tmp, sizeof tmp);
    return rc;
}

/* out[0..n) = v mod m for any integer v, in constant time for |v| of at most
 * SPLIT_MAX_LIMBS limbs (wider inputs are first reduced by mpz_tdiv_r). */
static void reduce_signed(mp_limb_t *out, const mpz_t v, const mpz_t modulus)
{
    mp_limb_t wide[SPLIT_MAX_LIMBS], neg[SHARE_MAX_LIMBS];
    mp_limb_t scratch[4 * SPLIT_MAX_LIMBS]; /* mpn_sec_div_r_itch(256, 128) is 514 in GMP 6.2 */
    const mp_limb_t *m = mpz_limbs_read(modulus);
    mp_size_t n = (mp_size_t)mpz_size(modulus);
    mp_limb_t negative = (mp_limb_t)(mpz_sgn(v) < 0);
    mpz_t a;
    mpz_init(a);
    mpz_abs(a, v);
    if (mpz_size(a) > SPLIT_MAX_LIMBS)
        mpz_tdiv_r(a, a, modulus);
    mp_size_t wn = (mp_size_t)mpz_size(a) > n ? (mp_size_t)mpz_size(a) : n;
    (void)ovl_gmp_get_limbs(wide, (size_t)wn, a);
    mpn_sec_div_r(wide, wn, m, n, scratch);
    memset(neg, 0, sizeof neg);
    sub_mod(neg, neg, wide, m, n);
    mpn_cnd_swap(negative, wide, neg, n);
    memcpy(out, wide, (size_t)n * sizeof *out);
    sodium_memzero(wide, sizeof wide);
    sodium_memzero(neg, sizeof neg);
    sodium_memzero(scratch, sizeof scratch);
    mpz_clear(a);
}

ovl_err ovl_share_split(mpz_t a, mpz_t b, const mpz_t v, const mpz_t modulus)
{
    mp_limb_t va[SHARE_MAX_LIMBS], ra[SHARE_MAX_LIMBS];
    ovl_err rc = ovl_share_random(a, modulus);
    if (rc != OVL_OK)
        return rc;
    mp_size_t n = (mp_size_t)mpz_size(modulus);
    reduce_signed(va, v, modulus);
    (void)ovl_gmp_get_limbs(ra, (size_t)n, a);
    sub_mod(va, va, ra, mpz_limbs_read(modulus), n);
    ovl_gmp_set_limbs(b, va, (size_t)n);
    sodium_memzero(va, sizeof va);
    sodium_memzero(ra, sizeof ra);
    return OVL_OK;
}

ovl_err ovl_share_combine(mpz_t out, const mpz_t a, const mpz_t b, const mpz_t modulus)
{
    ovl_err rc = OVL_OK;
    mp_limb_t x[SHARE_MAX_LIMBS], y[SHARE_MAX_LIMBS];
    mp_size_t n = 0;
    OVL_ENSURE(modulus_ok(modulus), OVL_ERR_USAGE,
               "share combine: shares must be residues of an odd modulus");
    n = (mp_size_t)mpz_size(modulus);
    OVL_ENSURE(share_check_residue(x, a, mpz_limbs_read(modulus), n) == OVL_OK &&
                   share_check_residue(y, b, mpz_limbs_read(modulus), n) == OVL_OK,
               OVL_ERR_USAGE, "share combine: shares must be residues of an odd modulus");
    add_mod(x, x, y, mpz_limbs_read(modulus), n);
    ovl_gmp_set_limbs(out, x, (size_t)n);
done:
    sodium_memzero(x, sizeof x);
    sodium_memzero(y, sizeof y);
    return rc;
}

ovl_err ovl_share_lift_signed(mpz_t out, const mpz_t r, const mpz_t modulus)
{
    ovl_err rc = OVL_OK;
    mp_limb_t x[SHARE_MAX_LIMBS], neg[SHARE_MAX_LIMBS], half[SHARE_MAX_LIMBS];
    mp_size_t n = 0;
    OVL_ENSURE(modulus_ok(modulus), OVL_ERR_USAGE,
               "signed lift: value is not a residue of an odd modulus");
    n = (mp_size_t)mpz_size(modulus);
    OVL_ENSURE(share_check_residue(x, r, mpz_limbs_read(modulus), n) == OVL_OK, OVL_ERR_USAGE,
               "signed lift: value is not a residue of an odd modulus");
    /* For odd m, residues up to (m-1)/2 are non-negative, the rest negative:
     * the magnitude is picked in constant time; the sign of the released
     * value is then set by one branch (the result is public, see share.h). */
    mpn_rshift(half, mpz_limbs_read(modulus), n, 1);
    mp_limb_t negative = mpn_sub_n(neg, half, x, n);
    memset(neg, 0, sizeof neg);
    sub_mod(neg, neg, x, mpz_limbs_read(modulus), n);
    mpn_cnd_swap(negative, x, neg, n);
    ovl_gmp_set_limbs(out, x, (size_t)n);
    if (negative)
        mpz_neg(out, out);
done:
    sodium_memzero(x, sizeof x);
    sodium_memzero(neg, sizeof neg);
    return rc;
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

/* A share is written to be sent: it is public from here on. */
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
