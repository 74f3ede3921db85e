/* The ristretto255-SHA512 suite on libsodium 1.0.18.
 *
 * Elements are RFC 9496 encodings (32 bytes); scalars are 32-byte
 * little-endian integers mod L. hash_to_group is RFC 9380 Appendix B
 * hash_to_ristretto255, which is also RFC 9497's HashToGroup. */
#include <string.h>

#include <sodium.h>

#include "core/guard.h"
#include "crypto/suites.h"

enum {
    R255_ELEM = crypto_core_ristretto255_BYTES,
    R255_SCALAR = crypto_core_ristretto255_SCALARBYTES,
    R255_UNIFORM = crypto_core_ristretto255_HASHBYTES, /* RFC 9380 App. B: 64 bytes */
};

/* RFC 9496 §4.3.1 Decode with the identity refused, in constant time.
 * libsodium 1.0.18 falls short of it twice: is_valid_point accepts the
 * all-zero identity (RFC 9497 DeserializeElement must not: a zero element
 * erases the blinding key), and it ignores bit 255, so B and B with the top
 * bit set both decode to B (libsodium fixed this after 1.0.18). Both are
 * checked here. */
static int r255_point_ok(const uint8_t *p)
{
    int nonzero = !sodium_is_zero(p, R255_ELEM);
    int top_clear = 1 ^ (p[R255_ELEM - 1] >> 7);
    int valid = crypto_core_ristretto255_is_valid_point(p);
    return nonzero & top_clear & valid;
}

static ovl_err r255_validate(const uint8_t *p)
{
    if (!r255_point_ok(p))
        return ovl_err_set(OVL_ERR_CRYPTO,
                           "ristretto255: element is not a canonical non-identity encoding");
    return OVL_OK;
}

static ovl_err r255_hash_to_group(uint8_t *out, const uint8_t *msg, size_t msg_len,
                                  const uint8_t *dst, size_t dst_len)
{
    ovl_err rc = OVL_OK;
    uint8_t uniform[R255_UNIFORM];

    OVL_TRY(ovl_xmd_sha512(uniform, sizeof uniform, msg, msg_len, dst, dst_len));
    OVL_ENSURE(crypto_core_ristretto255_from_hash(out, uniform) == 0, OVL_ERR_CRYPTO,
               "ristretto255: one-way map failed");
    /* Probability 2^-252, but an identity would collide every input onto one value. */
    OVL_ENSURE(!sodium_is_zero(out, R255_ELEM), OVL_ERR_CRYPTO,
               "ristretto255: hash to group gave the identity");
done:
    sodium_memzero(uniform, sizeof uniform);
    if (rc != OVL_OK)
        sodium_memzero(out, R255_ELEM);
    return rc;
}

static ovl_err r255_scalar_random(uint8_t *out)
{
    crypto_core_ristretto255_scalar_random(out);
    if (sodium_is_zero(out, R255_SCALAR))
        return ovl_err_set(OVL_ERR_CRYPTO, "ristretto255: random scalar was zero");
    return OVL_OK;
}

static ovl_err r255_scalar_from_bytes(uint8_t *out, const uint8_t in[64])
{
    crypto_core_ristretto255_scalar_reduce(out, in);
    if (sodium_is_zero(out, R255_SCALAR))
        return ovl_err_set(OVL_ERR_CRYPTO, "ristretto255: derived scalar is zero");
    return OVL_OK;
}

static ovl_err r255_scalar_mult(uint8_t *out, const uint8_t *s, const uint8_t *p)
{
    ovl_err rc = OVL_OK;

    OVL_ENSURE(r255_point_ok(p), OVL_ERR_CRYPTO,
               "ristretto255: element is not a canonical non-identity encoding");
    /* libsodium returns -1 when s*P is the identity (s = 0 mod L). */
    OVL_ENSURE(crypto_scalarmult_ristretto255(out, s, p) == 0, OVL_ERR_CRYPTO,
               "ristretto255: scalar multiplication gave the identity");
done:
    if (rc != OVL_OK)
        sodium_memzero(out, R255_ELEM);
    return rc;
}

static ovl_err r255_scalar_invert(uint8_t *out, const uint8_t *s)
{
    ovl_err rc = OVL_OK;

    OVL_ENSURE(crypto_core_ristretto255_scalar_invert(out, s) == 0, OVL_ERR_CRYPTO,
               "ristretto255: cannot invert the zero scalar");
    /* An unreduced s that is a multiple of L is non-zero bytes but zero mod L. */
    OVL_ENSURE(!sodium_is_zero(out, R255_SCALAR), OVL_ERR_CRYPTO,
               "ristretto255: cannot invert a scalar that is zero mod L");
done:
    if (rc != OVL_OK)
        sodium_memzero(out, R255_SCALAR);
    return rc;
}

const ovl_group ovl_suite_ristretto255 = {
    .id = OVL_SUITE_RISTRETTO255_SHA512,
    .name = "ristretto255-SHA512",
    .elem_len = R255_ELEM,
    .scalar_len = R255_SCALAR,
    .hash_to_group = r255_hash_to_group,
    .scalar_random = r255_scalar_random,
    .scalar_from_bytes = r255_scalar_from_bytes,
    .scalar_mult = r255_scalar_mult,
    .validate = r255_validate,
    .scalar_invert = r255_scalar_invert,
    .hash_to_group_batch = ovl_r255_hash_to_group_batch,
    .scalar_mult_batch = ovl_r255_scalar_mult_batch,
};
