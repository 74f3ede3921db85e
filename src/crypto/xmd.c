/* RFC 9380 §5.3.1 expand_message_xmd over libsodium's SHA-512 and SHA-256.
 *
 * Neither libsodium 1.0.18 nor OpenSSL 3.0 provides it, and every
 * hash-to-group of ours (ristretto255 today, P-256 later) starts here. */
#include <string.h>

#include <sodium.h>

#include "core/guard.h"
#include "crypto/group.h"

enum {
    XMD_MAX_HASH = crypto_hash_sha512_BYTES,
    XMD_MAX_DST = 255,    /* §5.3.3: longer tags are hashed down */
    XMD_MAX_OUT = 65535,  /* §5.3.1: len_in_bytes fits I2OSP(., 2) */
    XMD_MAX_BLOCKS = 255, /* §5.3.1: ell fits I2OSP(., 1) */
};

/* §5.3.3: a DST longer than 255 bytes becomes H("H2C-OVERSIZE-DST-" || DST). */
static const char oversize_prefix[] = "H2C-OVERSIZE-DST-";

/* One incremental hash: SHA-512 (b_in_bytes 64, s_in_bytes 128) or SHA-256
 * (b_in_bytes 32, s_in_bytes 64). */
typedef struct {
    size_t hlen;  /* b_in_bytes */
    size_t block; /* s_in_bytes, the input block size of H */
    union {
        crypto_hash_sha512_state s512;
        crypto_hash_sha256_state s256;
    } st;
} xmd_hash;

static void xmd_init(xmd_hash *h)
{
    if (h->hlen == crypto_hash_sha512_BYTES)
        crypto_hash_sha512_init(&h->st.s512);
    else
        crypto_hash_sha256_init(&h->st.s256);
}

static void xmd_update(xmd_hash *h, const uint8_t *p, size_t n)
{
    static const uint8_t none[1] = {0};
    if (n == 0)
        p = none; /* libsodium is declared nonnull even for empty input */
    if (h->hlen == crypto_hash_sha512_BYTES)
        crypto_hash_sha512_update(&h->st.s512, p, n);
    else
        crypto_hash_sha256_update(&h->st.s256, p, n);
}

static void xmd_final(xmd_hash *h, uint8_t *out)
{
    if (h->hlen == crypto_hash_sha512_BYTES)
        crypto_hash_sha512_final(&h->st.s512, out);
    else
        crypto_hash_sha256_final(&h->st.s256, out);
}

/* Feeds n zero bytes (Z_pad). */
static void xmd_update_zeros(xmd_hash *h, size_t n)
{
    static const uint8_t zeros[128] = {0};
    while (n > 0) {
        size_t k = n < sizeof zeros ? n : sizeof zeros;
        xmd_update(h, zeros, k);
        n -= k;
    }
}

/* DST_prime = DST || I2OSP(len(DST), 1), with the §5.3.3 shortening applied.
 * Writes at most XMD_MAX_DST + 1 bytes into out and returns its length. */
static size_t xmd_dst_prime(xmd_hash *h, uint8_t *out, const uint8_t *dst, size_t dst_len)
{
    if (dst_len > XMD_MAX_DST) {
        xmd_init(h);
        xmd_update(h, (const uint8_t *)oversize_prefix, sizeof oversize_prefix - 1);
        xmd_update(h, dst, dst_len);
        xmd_final(h, out);
        dst_len = h->hlen;
    } else {
        memcpy(out, dst, dst_len);
    }
    out[dst_len] = (uint8_t)dst_len;
    return dst_len + 1;
}

static ovl_err xmd_check_args(const xmd_hash *h, size_t out_len, const uint8_t *msg,
                              size_t msg_len, const uint8_t *dst, size_t dst_len)
{
    ovl_err rc = OVL_OK;
    size_t max_out = XMD_MAX_BLOCKS * h->hlen;
    if (max_out > XMD_MAX_OUT)
        max_out = XMD_MAX_OUT;
    OVL_ENSURE(out_len > 0 && out_len <= max_out, OVL_ERR_USAGE,
               "expand_message_xmd: output length %zu outside 1..%zu", out_len, max_out);
    /* RFC 9380 §3.1: tags MUST have nonzero length. */
    OVL_ENSURE(dst != NULL && dst_len > 0, OVL_ERR_USAGE, "expand_message_xmd: empty DST");
    OVL_ENSURE(msg != NULL || msg_len == 0, OVL_ERR_USAGE,
               "expand_message_xmd: NULL message with length %zu", msg_len);
done:
    return rc;
}

/* §5.3.1 steps 3-12. */
static ovl_err xmd_expand(xmd_hash *h, uint8_t *out, size_t out_len, const uint8_t *msg,
                          size_t msg_len, const uint8_t *dst, size_t dst_len)
{
    ovl_err rc = OVL_OK;
    uint8_t dst_prime[XMD_MAX_DST + 1];
    uint8_t b0[XMD_MAX_HASH];
    uint8_t bi[XMD_MAX_HASH];

    OVL_TRY(xmd_check_args(h, out_len, msg, msg_len, dst, dst_len));
    size_t dp_len = xmd_dst_prime(h, dst_prime, dst, dst_len);
    size_t ell = (out_len + h->hlen - 1) / h->hlen;
    const uint8_t lib_str[3] = {(uint8_t)(out_len >> 8), (uint8_t)out_len, 0};

    /* b_0 = H(Z_pad || msg || I2OSP(len_in_bytes, 2) || I2OSP(0, 1) || DST_prime) */
    xmd_init(h);
    xmd_update_zeros(h, h->block);
    xmd_update(h, msg, msg_len);
    xmd_update(h, lib_str, sizeof lib_str);
    xmd_update(h, dst_prime, dp_len);
    xmd_final(h, b0);

    /* b_1 = H(b_0 || 1 || DST_prime); b_i = H((b_0 xor b_(i-1)) || i || DST_prime) */
    memset(bi, 0, sizeof bi);
    for (size_t i = 1; i <= ell; i++) {
        uint8_t ctr = (uint8_t)i;
        for (size_t j = 0; j < h->hlen; j++)
            bi[j] ^= b0[j];
        xmd_init(h);
        xmd_update(h, bi, h->hlen);
        xmd_update(h, &ctr, 1);
        xmd_update(h, dst_prime, dp_len);
        xmd_final(h, bi);
        size_t off = (i - 1) * h->hlen;
        size_t take = out_len - off < h->hlen ? out_len - off : h->hlen;
        memcpy(out + off, bi, take);
    }
done:
    /* The message may be a join value: nothing derived from it may linger. */
    sodium_memzero(b0, sizeof b0);
    sodium_memzero(bi, sizeof bi);
    sodium_memzero(&h->st, sizeof h->st);
    return rc;
}

ovl_err ovl_xmd_sha512(uint8_t *out, size_t out_len, const uint8_t *msg, size_t msg_len,
                       const uint8_t *dst, size_t dst_len)
{
    xmd_hash h = {.hlen = crypto_hash_sha512_BYTES, .block = 128};
    return xmd_expand(&h, out, out_len, msg, msg_len, dst, dst_len);
}

ovl_err ovl_xmd_sha256(uint8_t *out, size_t out_len, const uint8_t *msg, size_t msg_len,
                       const uint8_t *dst, size_t dst_len)
{
    xmd_hash h = {.hlen = crypto_hash_sha256_BYTES, .block = 64};
    return xmd_expand(&h, out, out_len, msg, msg_len, dst, dst_len);
}
