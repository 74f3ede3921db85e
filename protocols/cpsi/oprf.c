/* overlap: RFC 9497-shaped DH-OPRF on ristretto255 (oprf.h, SPEC.md §4). */
#include "cpsi/oprf.h"

#include <string.h>

#include <sodium.h>

#include "core/guard.h"

static const uint8_t h2g_dst[] = "HashToGroup-OPRFV1-\x00-ristretto255-SHA512";

static const ovl_group *suite(void) { return ovl_group_by_id(OVL_SUITE_RISTRETTO255_SHA512); }

ovl_err ovl_oprf_scalar(uint8_t out[static OVL_OPRF_SCALAR], ovl_rng *rng)
{
    uint8_t wide[64];
    ovl_rng_bytes(rng, wide, sizeof wide);
    ovl_err rc = suite()->scalar_from_bytes(out, wide);
    sodium_memzero(wide, sizeof wide);
    return rc;
}

static ovl_err hash_input(uint8_t p[static OVL_OPRF_ELEM], const uint8_t *x, size_t x_len)
{
    if (x_len > OVL_OPRF_MAX_INPUT)
        return ovl_err_set(OVL_ERR_LIMIT, "oprf: input of %zu bytes exceeds %u", x_len,
                           OVL_OPRF_MAX_INPUT);
    return suite()->hash_to_group(p, x, x_len, h2g_dst, sizeof h2g_dst - 1);
}

ovl_err ovl_oprf_blind(uint8_t blinded[static OVL_OPRF_ELEM], const uint8_t r[static 32],
                       const uint8_t *x, size_t x_len)
{
    ovl_err rc = OVL_OK;
    uint8_t p[OVL_OPRF_ELEM];
    OVL_TRY(hash_input(p, x, x_len));
    OVL_TRY(suite()->scalar_mult(blinded, r, p));
done:
    sodium_memzero(p, sizeof p);
    return rc;
}

ovl_err ovl_oprf_evaluate(uint8_t evaluated[static OVL_OPRF_ELEM], const uint8_t k[static 32],
                          const uint8_t blinded[static OVL_OPRF_ELEM])
{
    if (suite()->validate(blinded) != OVL_OK)
        return ovl_err_set(OVL_ERR_CRYPTO, "oprf: blinded element is not a valid group element");
    return suite()->scalar_mult(evaluated, k, blinded);
}

/* RFC 9497 §3.3.1 Finalize: the hash binds the input and the unblinded element. */
static void finalize_hash(uint8_t out[static OVL_OPRF_OUT], const uint8_t *x, size_t x_len,
                          const uint8_t n[static OVL_OPRF_ELEM])
{
    crypto_hash_sha512_state st;
    uint8_t len[2] = {(uint8_t)(x_len >> 8), (uint8_t)x_len};
    uint8_t elen[2] = {0, OVL_OPRF_ELEM};
    crypto_hash_sha512_init(&st);
    crypto_hash_sha512_update(&st, len, 2);
    crypto_hash_sha512_update(&st, x, x_len);
    crypto_hash_sha512_update(&st, elen, 2);
    crypto_hash_sha512_update(&st, n, OVL_OPRF_ELEM);
    crypto_hash_sha512_update(&st, (const uint8_t *)"Finalize", 8);
    crypto_hash_sha512_final(&st, out);
    sodium_memzero(&st, sizeof st);
}

ovl_err ovl_oprf_finalize(uint8_t out[static OVL_OPRF_OUT], const uint8_t r[static 32],
                          const uint8_t *x, size_t x_len,
                          const uint8_t evaluated[static OVL_OPRF_ELEM])
{
    ovl_err rc = OVL_OK;
    uint8_t inv[OVL_OPRF_SCALAR], n[OVL_OPRF_ELEM];
    OVL_ENSURE(x_len <= OVL_OPRF_MAX_INPUT, OVL_ERR_LIMIT, "oprf: input of %zu bytes exceeds %u",
               x_len, OVL_OPRF_MAX_INPUT);
    OVL_ENSURE(suite()->validate(evaluated) == OVL_OK, OVL_ERR_CRYPTO,
               "oprf: evaluated element is not a valid group element");
    OVL_TRY(suite()->scalar_invert(inv, r));
    OVL_TRY(suite()->scalar_mult(n, inv, evaluated));
    finalize_hash(out, x, x_len, n);
done:
    sodium_memzero(inv, sizeof inv);
    sodium_memzero(n, sizeof n);
    return rc;
}

ovl_err ovl_oprf_direct(uint8_t out[static OVL_OPRF_OUT], const uint8_t k[static 32],
                        const uint8_t *x, size_t x_len)
{
    ovl_err rc = OVL_OK;
    uint8_t p[OVL_OPRF_ELEM], n[OVL_OPRF_ELEM];
    OVL_TRY(hash_input(p, x, x_len));
    OVL_TRY(suite()->scalar_mult(n, k, p));
    finalize_hash(out, x, x_len, n);
done:
    sodium_memzero(p, sizeof p);
    sodium_memzero(n, sizeof n);
    return rc;
}

ovl_err ovl_oprf_direct_keys(uint8_t (*out)[OVL_OPRF_OUT], const uint8_t (*k)[OVL_OPRF_SCALAR],
                             size_t nkeys, const uint8_t *x, size_t x_len)
{
    ovl_err rc = OVL_OK;
    uint8_t p[OVL_OPRF_ELEM], n[OVL_OPRF_ELEM];
    OVL_TRY(hash_input(p, x, x_len));
    for (size_t j = 0; j < nkeys; j++) {
        OVL_TRY(suite()->scalar_mult(n, k[j], p));
        finalize_hash(out[j], x, x_len, n);
    }
done:
    sodium_memzero(p, sizeof p);
    sodium_memzero(n, sizeof n);
    return rc;
}
