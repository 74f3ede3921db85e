/* overlap: RFC 9497-shaped DH-OPRF on ristretto255 (oprf.h, SPEC.md §4). */
#include "cpsi/oprf.h"

#include <string.h>

#include <sodium.h>

#include "core/guard.h"
#include "core/mem.h"

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

/* ---- batches: what the engine's jobs call (eight lanes at a time where the
 * suite runs AVX-512 IFMA; the same results as the single calls) ---- */

/* Runs of equal-length inputs share one batch call. */
static ovl_err hash_inputs(uint8_t *out, const uint8_t *const *x, const size_t *x_len, size_t n)
{
    ovl_err rc = OVL_OK;
    for (size_t i = 0, j; i < n; i = j) {
        OVL_ENSURE(x_len[i] <= OVL_OPRF_MAX_INPUT, OVL_ERR_LIMIT,
                   "oprf: input of %zu bytes exceeds %u", x_len[i], OVL_OPRF_MAX_INPUT);
        for (j = i + 1; j < n && x_len[j] == x_len[i]; j++)
            ;
        OVL_TRY(suite()->hash_to_group_batch(out + i * OVL_OPRF_ELEM, x + i, x_len[i], j - i,
                                             h2g_dst, sizeof h2g_dst - 1));
    }
done:
    return rc;
}

ovl_err ovl_oprf_blind_batch(uint8_t *blinded, const uint8_t *r, const uint8_t *const *x,
                             const size_t *x_len, size_t n)
{
    ovl_err rc = OVL_OK;
    size_t bad;
    uint8_t *h = NULL;
    OVL_TRY(ovl_calloc((void **)&h, n ? n : 1, OVL_OPRF_ELEM));
    OVL_TRY(hash_inputs(h, x, x_len, n));
    OVL_TRY(suite()->scalar_mult_batch(blinded, &bad, r, OVL_OPRF_SCALAR, h, n));
done:
    ovl_free_secret(h, (n ? n : 1) * OVL_OPRF_ELEM);
    return rc;
}

ovl_err ovl_oprf_evaluate_batch(uint8_t *evaluated, size_t *bad, const uint8_t k[static 32],
                                const uint8_t *blinded, size_t n)
{
    *bad = 0;
    return suite()->scalar_mult_batch(evaluated, bad, k, 0, blinded, n);
}

/* inv_i = r_i^-1 for n non-zero scalars with one inversion (Montgomery's
 * trick: an inversion costs about 300 multiplications mod the group order). */
static ovl_err invert_all(uint8_t *inv, const uint8_t *r, size_t n)
{
    ovl_err rc = OVL_OK;
    uint8_t acc[OVL_OPRF_SCALAR], t[OVL_OPRF_SCALAR];
    if (n == 0)
        return OVL_OK;
    /* inv_i holds the prefix product r_0 ⋯ r_i for now */
    memcpy(inv, r, OVL_OPRF_SCALAR);
    for (size_t i = 1; i < n; i++)
        crypto_core_ristretto255_scalar_mul(inv + i * OVL_OPRF_SCALAR,
                                            inv + (i - 1) * OVL_OPRF_SCALAR,
                                            r + i * OVL_OPRF_SCALAR);
    OVL_TRY(suite()->scalar_invert(acc, inv + (n - 1) * OVL_OPRF_SCALAR));
    for (size_t i = n - 1; i > 0; i--) {
        crypto_core_ristretto255_scalar_mul(t, acc, inv + (i - 1) * OVL_OPRF_SCALAR);
        crypto_core_ristretto255_scalar_mul(acc, acc, r + i * OVL_OPRF_SCALAR);
        memcpy(inv + i * OVL_OPRF_SCALAR, t, OVL_OPRF_SCALAR);
    }
    memcpy(inv, acc, OVL_OPRF_SCALAR);
done:
    sodium_memzero(acc, sizeof acc);
    sodium_memzero(t, sizeof t);
    return rc;
}

ovl_err ovl_oprf_finalize_batch(uint8_t (*out)[OVL_OPRF_OUT], size_t *bad, const uint8_t *r,
                                const uint8_t *const *x, const size_t *x_len,
                                const uint8_t *evaluated, size_t n)
{
    ovl_err rc = OVL_OK;
    uint8_t *inv = NULL, *u = NULL;
    *bad = 0;
    OVL_TRY(ovl_calloc((void **)&inv, n ? n : 1, OVL_OPRF_SCALAR));
    OVL_TRY(ovl_calloc((void **)&u, n ? n : 1, OVL_OPRF_ELEM));
    for (size_t i = 0; i < n; i++)
        OVL_ENSURE(x_len[i] <= OVL_OPRF_MAX_INPUT, OVL_ERR_LIMIT,
                   "oprf: input of %zu bytes exceeds %u", x_len[i], OVL_OPRF_MAX_INPUT);
    OVL_TRY(invert_all(inv, r, n));
    /* scalar_mult_batch validates every evaluated element */
    OVL_TRY(suite()->scalar_mult_batch(u, bad, inv, OVL_OPRF_SCALAR, evaluated, n));
    for (size_t i = 0; i < n; i++)
        finalize_hash(out[i], x[i], x_len[i], u + i * OVL_OPRF_ELEM);
done:
    ovl_free_secret(inv, (n ? n : 1) * OVL_OPRF_SCALAR);
    ovl_free_secret(u, (n ? n : 1) * OVL_OPRF_ELEM);
    return rc;
}

ovl_err ovl_oprf_direct_keys_batch(uint8_t (*out)[OVL_OPRF_OUT],
                                   const uint8_t (*k)[OVL_OPRF_SCALAR], size_t nkeys,
                                   const uint8_t *const *x, const size_t *x_len, size_t n)
{
    ovl_err rc = OVL_OK;
    size_t bad;
    uint8_t *h = NULL, *u = NULL;
    OVL_TRY(ovl_calloc((void **)&h, n ? n : 1, OVL_OPRF_ELEM));
    OVL_TRY(ovl_calloc((void **)&u, n ? n : 1, OVL_OPRF_ELEM));
    OVL_TRY(hash_inputs(h, x, x_len, n));
    for (size_t j = 0; j < nkeys; j++) {
        OVL_TRY(suite()->scalar_mult_batch(u, &bad, k[j], 0, h, n));
        for (size_t i = 0; i < n; i++)
            finalize_hash(out[i * nkeys + j], x[i], x_len[i], u + i * OVL_OPRF_ELEM);
    }
done:
    ovl_free_secret(h, (n ? n : 1) * OVL_OPRF_ELEM);
    ovl_free_secret(u, (n ? n : 1) * OVL_OPRF_ELEM);
    return rc;
}
