/* The ristretto255 suite's batch operations: eight elements at a time on the
 * multi-buffer back end when one is selected (src/crypto/arith.c), else one
 * at a time through libsodium. Both give the same bytes and the same
 * refusals (tests/unit/test_r255x8.c checks it). */
#include <string.h>

#include <sodium.h>

#include "core/guard.h"
#include "crypto/r255x8.h"
#include "crypto/suites.h"

enum { LANES = OVL_R255X8_LANES, ELEM = OVL_R255X8_ELEM, SCALAR = OVL_R255X8_SCALAR,
       UNIFORM = OVL_R255X8_HASH };

static ovl_err hash_loop(uint8_t *out, const uint8_t *const *msgs, size_t msg_len, size_t n,
                         const uint8_t *dst, size_t dst_len)
{
    for (size_t i = 0; i < n; i++) {
        ovl_err rc = ovl_suite_ristretto255.hash_to_group(out + i * ELEM, msgs[i], msg_len, dst,
                                                          dst_len);
        if (rc != OVL_OK)
            return rc;
    }
    return OVL_OK;
}

/* Lanes past the end of a short last group repeat its first input; their
 * results are dropped. */
static ovl_err hash_x8(const ovl_r255x8 *x8, uint8_t *out, const uint8_t *const *msgs,
                       size_t msg_len, size_t n, const uint8_t *dst, size_t dst_len)
{
    ovl_err rc = OVL_OK;
    uint8_t uniform[LANES * UNIFORM], res[LANES * ELEM];
    for (size_t base = 0; base < n; base += LANES) {
        size_t count = n - base < LANES ? n - base : LANES;
        for (size_t i = 0; i < LANES; i++)
            OVL_TRY(ovl_xmd_sha512(uniform + i * UNIFORM, UNIFORM, msgs[base + (i < count ? i : 0)],
                                   msg_len, dst, dst_len));
        x8->from_hash(res, uniform);
        for (size_t i = 0; i < count; i++)
            /* Probability 2^-252, but an identity would collide every input onto one value. */
            OVL_ENSURE(!sodium_is_zero(res + i * ELEM, ELEM), OVL_ERR_CRYPTO,
                       "ristretto255: hash to group gave the identity");
        memcpy(out + base * ELEM, res, count * ELEM);
    }
done:
    sodium_memzero(uniform, sizeof uniform);
    sodium_memzero(res, sizeof res);
    return rc;
}

ovl_err ovl_r255_hash_to_group_batch(uint8_t *out, const uint8_t *const *msgs, size_t msg_len,
                                     size_t n, const uint8_t *dst, size_t dst_len)
{
    const ovl_r255x8 *x8 = ovl_arith_x8();
    ovl_err rc = x8 != NULL ? hash_x8(x8, out, msgs, msg_len, n, dst, dst_len)
                            : hash_loop(out, msgs, msg_len, n, dst, dst_len);
    if (rc != OVL_OK)
        sodium_memzero(out, n * ELEM);
    return rc;
}

static ovl_err mult_fail(size_t *bad, size_t i)
{
    *bad = i;
    return ovl_err_set(OVL_ERR_CRYPTO, "ristretto255: element %zu is not a canonical non-identity "
                                       "encoding, or its product is the identity", i);
}

static ovl_err mult_loop(uint8_t *out, size_t *bad, const uint8_t *s, size_t s_stride,
                         const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (ovl_suite_ristretto255.scalar_mult(out + i * ELEM, s + i * s_stride, p + i * ELEM) !=
            OVL_OK)
            return mult_fail(bad, i);
    }
    return OVL_OK;
}

/* A short last group is padded with copies of its first lane (element and
 * scalar); the padding's results are dropped. */
static ovl_err mult_x8(const ovl_r255x8 *x8, uint8_t *out, size_t *bad, const uint8_t *s,
                       size_t s_stride, const uint8_t *p, size_t n)
{
    ovl_err rc = OVL_OK;
    uint8_t pts[LANES * ELEM], res[LANES * ELEM], sc[LANES * SCALAR];
    for (size_t base = 0; base < n; base += LANES) {
        size_t count = n - base < LANES ? n - base : LANES;
        const uint8_t *sp = s + base * s_stride, *pp = p + base * ELEM;
        size_t stride = s_stride;
        if (count < LANES) {
            for (size_t i = 0; i < LANES; i++)
                memcpy(pts + i * ELEM, pp + (i < count ? i : 0) * ELEM, ELEM);
            pp = pts;
            if (s_stride != 0) {
                for (size_t i = 0; i < LANES; i++)
                    memcpy(sc + i * SCALAR, sp + (i < count ? i : 0) * s_stride, SCALAR);
                sp = sc;
                stride = SCALAR;
            }
        }
        unsigned ok = x8->scalar_mult(res, sp, stride, pp);
        for (size_t i = 0; i < count; i++) {
            if (!((ok >> i) & 1))
                OVL_FAIL(mult_fail(bad, base + i));
        }
        memcpy(out + base * ELEM, res, count * ELEM);
    }
done:
    sodium_memzero(res, sizeof res);
    sodium_memzero(sc, sizeof sc);
    return rc;
}

ovl_err ovl_r255_scalar_mult_batch(uint8_t *out, size_t *bad, const uint8_t *s, size_t s_stride,
                                   const uint8_t *p, size_t n)
{
    const ovl_r255x8 *x8 = ovl_arith_x8();
    ovl_err rc = x8 != NULL ? mult_x8(x8, out, bad, s, s_stride, p, n)
                            : mult_loop(out, bad, s, s_stride, p, n);
    if (rc != OVL_OK)
        sodium_memzero(out, n * ELEM);
    return rc;
}
