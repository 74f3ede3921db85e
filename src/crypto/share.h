/* overlap: additive secret shares modulo a public modulus (the Paillier n).
 *
 * A value v is held as two shares a, b with a + b = v (mod modulus); either
 * share alone is uniform and says nothing about v. Shares are mpz_t residues in
 * [0, modulus); on the wire each is exactly ceil(bits(modulus)/8) bytes,
 * big-endian. The modulus must be odd and at least 3.
 *
 * Side channels: random, split and combine work on fixed-width limb arrays
 * with GMP's mpn_add_n / mpn_sub_n / mpn_cnd_* / mpn_sec_div_r, so the share
 * values steer no branch and no address (`make ct`). Public by design: the
 * modulus, the sign and limb count of an mpz argument or result (the mpz
 * representation exposes them to every GMP call), whether an input is a
 * residue (the error return), and the sign of a lifted value. split reduces
 * an input wider than twice the 8192-bit cap with mpz division first. The
 * signed lift and the int64 conversions are for results being released and
 * branch on them; write exports a share that is about to be sent. */
#ifndef OVERLAP_SHARE_H
#define OVERLAP_SHARE_H

#include <stddef.h>
#include <stdint.h>

#include <gmp.h>

#include "core/buf.h"
#include "core/error.h"

/* Uniform in [0, modulus) by rejection sampling over libsodium randomness. */
ovl_err ovl_share_random(mpz_t out, const mpz_t modulus) OVL_MUST_USE;
/* a uniform, b = v - a (mod modulus); v is any integer (negative allowed). */
ovl_err ovl_share_split(mpz_t a, mpz_t b, const mpz_t v, const mpz_t modulus) OVL_MUST_USE;
/* out = a + b mod modulus, in [0, modulus). Inputs must be residues. */
ovl_err ovl_share_combine(mpz_t out, const mpz_t a, const mpz_t b, const mpz_t modulus)
    OVL_MUST_USE;
/* The combination lifted into (-modulus/2, modulus/2). */
ovl_err ovl_share_combine_signed(mpz_t out, const mpz_t a, const mpz_t b, const mpz_t modulus)
    OVL_MUST_USE;
/* The same as an int64_t; OVL_ERR_LIMIT when it does not fit. */
ovl_err ovl_share_combine_i64(int64_t *out, const mpz_t a, const mpz_t b, const mpz_t modulus)
    OVL_MUST_USE;
/* Residue r in [0, modulus) to its signed representative in (-modulus/2,
 * modulus/2); OVL_ERR_USAGE when r is not a residue. out may alias r. */
ovl_err ovl_share_lift_signed(mpz_t out, const mpz_t r, const mpz_t modulus) OVL_MUST_USE;
/* A signed mpz to int64_t; OVL_ERR_LIMIT when it does not fit. */
ovl_err ovl_share_to_i64(int64_t *out, const mpz_t v) OVL_MUST_USE;

/* Bytes of one serialised share. */
size_t ovl_share_len(const mpz_t modulus);
ovl_err ovl_share_write(ovl_buf *out, const mpz_t s, const mpz_t modulus) OVL_MUST_USE;
/* Reads exactly ovl_share_len bytes (OVL_ERR_MALFORMED if short) and requires
 * the value to be below modulus (OVL_ERR_MALFORMED otherwise). */
ovl_err ovl_share_read(mpz_t s, ovl_buf *in, const mpz_t modulus) OVL_MUST_USE;

#endif
