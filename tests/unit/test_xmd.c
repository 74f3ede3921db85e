/* expand_message_xmd against every RFC 9380 Appendix K vector, plus the
 * length and oversize-DST rules of §5.3.1 and §5.3.3. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "crypto/group.h"
#include "core/mem.h"
#include "rfc_vectors.h"
#include "test.h"

typedef ovl_err (*xmd_fn)(uint8_t *, size_t, const uint8_t *, size_t, const uint8_t *, size_t);

/* Decodes a hex string field into a fresh allocation; *n gets its length. */
static uint8_t *hex_field(json_t *obj, const char *key, size_t *n)
{
    const char *hex = json_string_value(json_object_get(obj, key));
    *n = 0;
    OVL_T_RECORD(hex != NULL, "vector has no string field \"%s\"", key);
    if (hex == NULL)
        return NULL;
    size_t len = strlen(hex) / 2;
    uint8_t *out = malloc(len + 1);
    if (out == NULL || ovl_hex_decode(out, len, hex, strlen(hex)) != OVL_OK) {
        OVL_T_RECORD(0, "field \"%s\" is not hex", key);
        free(out);
        return NULL;
    }
    *n = len;
    return out;
}

static size_t hash_len(xmd_fn fn)
{
    return fn == ovl_xmd_sha512 ? crypto_hash_sha512_BYTES : crypto_hash_sha256_BYTES;
}

/* H(a || b || c) in one go; empty parts may be NULL. */
static void hash_once(xmd_fn fn, uint8_t *out, const uint8_t *a, size_t alen, const uint8_t *b,
                      size_t blen, const uint8_t *c, size_t clen)
{
    const uint8_t *part[3] = {a, b, c};
    size_t plen[3] = {alen, blen, clen};
    crypto_hash_sha512_state s512;
    crypto_hash_sha256_state s256;
    crypto_hash_sha512_init(&s512);
    crypto_hash_sha256_init(&s256);
    for (size_t i = 0; i < 3; i++) {
        if (plen[i] == 0)
            continue;
        if (fn == ovl_xmd_sha512)
            crypto_hash_sha512_update(&s512, part[i], plen[i]);
        else
            crypto_hash_sha256_update(&s256, part[i], plen[i]);
    }
    if (fn == ovl_xmd_sha512)
        crypto_hash_sha512_final(&s512, out);
    else
        crypto_hash_sha256_final(&s256, out);
}

/* The vector's own msg_prime/DST_prime must give b_1 = the first block of
 * uniform_bytes; together with our output matching, this pins our DST_prime
 * (including the §5.3.3 shortened form of the long-DST vectors). */
static void check_primes(xmd_fn fn, json_t *v, const uint8_t *got, size_t got_len,
                         size_t dst_len)
{
    size_t mp_len, dp_len;
    uint8_t *mp = hex_field(v, "msg_prime", &mp_len);
    uint8_t *dp = hex_field(v, "DST_prime", &dp_len);
    size_t h = hash_len(fn);
    if (mp != NULL && dp != NULL) {
        uint8_t b0[64], b1[64];
        static const uint8_t one = 1;
        size_t want_dp = dst_len > 255 ? h + 1 : dst_len + 1;
        EXPECT_EQ(dp_len, want_dp);
        EXPECT_EQ(dp[dp_len - 1], dp_len - 1);
        hash_once(fn, b0, mp, mp_len, NULL, 0, NULL, 0);
        hash_once(fn, b1, b0, h, &one, 1, dp, dp_len);
        EXPECT_BYTES_EQ(got, b1, got_len < h ? got_len : h);
    }
    free(mp);
    free(dp);
}

/* Runs one vector file; returns how many vectors matched. */
static int run_file(const char *file, xmd_fn fn, int want_count, int want_long)
{
    int matched = 0, long_dst = 0;
    json_t *root = load_vectors(file);
    if (root == NULL)
        return 0;
    json_t *vecs = json_object_get(root, "vectors");
    EXPECT_EQ(json_array_size(vecs), (size_t)want_count);
    EXPECT_EQ(json_integer_value(json_object_get(root, "count")), want_count);
    size_t i;
    json_t *v;
    json_array_foreach(vecs, i, v)
    {
        const char *dst = json_string_value(json_object_get(v, "DST"));
        const char *msg = json_string_value(json_object_get(v, "msg"));
        json_int_t len = json_integer_value(json_object_get(v, "len_in_bytes"));
        size_t want_len;
        uint8_t *want = hex_field(v, "uniform_bytes", &want_len);
        OVL_T_RECORD(dst && msg && want && len > 0 && (size_t)len == want_len,
                     "%s vector %zu is incomplete", file, i);
        if (!(dst && msg && want && len > 0 && (size_t)len == want_len)) {
            free(want);
            continue;
        }
        uint8_t *got = malloc(want_len);
        EXPECT_TRUE(got != NULL);
        if (got == NULL) {
            free(want);
            continue;
        }
        EXPECT_OK(fn(got, want_len, (const uint8_t *)msg, strlen(msg), (const uint8_t *)dst,
                     strlen(dst)));
        int ok = memcmp(got, want, want_len) == 0;
        OVL_T_RECORD(ok, "%s vector %zu (msg \"%.20s\", len %zu) differs", file, i, msg, want_len);
        matched += ok;
        long_dst += strlen(dst) > 255;
        check_primes(fn, v, got, want_len, strlen(dst));
        /* Negative: a single flipped bit of the expected output must not match. */
        want[want_len / 2] ^= 0x01;
        EXPECT_TRUE(memcmp(got, want, want_len) != 0);
        free(got);
        free(want);
    }
    EXPECT_EQ(long_dst, want_long);
    json_decref(root);
    return matched;
}

static void rfc9380_k1_k2_sha256(void)
{
    /* K.1: 10 vectors, K.2: 10 with the 256-byte DST. */
    int matched = run_file("expand_message_xmd_SHA-256.json", ovl_xmd_sha256, 20, 10);
    EXPECT_EQ(matched, 20);
}

static void rfc9380_k3_sha512(void)
{
    int matched = run_file("expand_message_xmd_SHA-512.json", ovl_xmd_sha512, 10, 0);
    EXPECT_EQ(matched, 10);
}

static void rejects_bad_lengths(void)
{
    static const uint8_t dst[] = "QUUX-V01-CS02-with-expander-SHA512-256";
    static const uint8_t msg[] = "abc";
    uint8_t *big = malloc(255 * 64 + 1);
    EXPECT_TRUE(big != NULL);
    if (big == NULL)
        return;
    EXPECT_ERR(OVL_ERR_USAGE, ovl_xmd_sha512(big, 0, msg, 3, dst, sizeof dst - 1));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_xmd_sha256(big, 0, msg, 3, dst, sizeof dst - 1));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_xmd_sha512(big, 255 * 64 + 1, msg, 3, dst, sizeof dst - 1));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_xmd_sha256(big, 255 * 32 + 1, msg, 3, dst, sizeof dst - 1));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_xmd_sha512(big, 65536, msg, 3, dst, sizeof dst - 1));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_xmd_sha512(big, SIZE_MAX, msg, 3, dst, sizeof dst - 1));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_xmd_sha512(big, 32, msg, 3, dst, 0));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_xmd_sha512(big, 32, NULL, 3, dst, sizeof dst - 1));
    EXPECT_TRUE(strstr(ovl_err_detail(), "expand_message_xmd") != NULL);
    /* The largest lengths are allowed, and a NULL empty message is the empty message. */
    EXPECT_OK(ovl_xmd_sha512(big, 255 * 64, msg, 3, dst, sizeof dst - 1));
    EXPECT_OK(ovl_xmd_sha256(big, 255 * 32, msg, 3, dst, sizeof dst - 1));
    EXPECT_OK(ovl_xmd_sha512(big, 1, NULL, 0, dst, sizeof dst - 1));
    free(big);
}

/* Prefix property: the output of a longer request starts differently (len is
 * hashed into b_0), so truncating a longer output is not the same function. */
static void length_is_bound(void)
{
    static const uint8_t dst[] = "overlap-test";
    uint8_t a[64], b[64];
    EXPECT_OK(ovl_xmd_sha512(a, 32, (const uint8_t *)"x", 1, dst, sizeof dst - 1));
    EXPECT_OK(ovl_xmd_sha512(b, 64, (const uint8_t *)"x", 1, dst, sizeof dst - 1));
    EXPECT_TRUE(memcmp(a, b, 32) != 0);
    EXPECT_OK(ovl_xmd_sha512(b, 32, (const uint8_t *)"y", 1, dst, sizeof dst - 1));
    EXPECT_TRUE(memcmp(a, b, 32) != 0);
    EXPECT_OK(ovl_xmd_sha512(b, 32, (const uint8_t *)"x", 1, dst, sizeof dst - 2));
    EXPECT_TRUE(memcmp(a, b, 32) != 0);
}

/* §5.3.3 for both hashes: a 256-byte DST behaves exactly as its hash
 * H("H2C-OVERSIZE-DST-" || DST); a 255-byte DST is used as is. */
static void oversize_dst(xmd_fn fn)
{
    uint8_t dst[256], short_dst[64], a[96], b[96];
    static const uint8_t prefix[] = "H2C-OVERSIZE-DST-";
    memset(dst, 'D', sizeof dst);
    size_t h = hash_len(fn);
    hash_once(fn, short_dst, prefix, sizeof prefix - 1, dst, sizeof dst, NULL, 0);
    EXPECT_OK(fn(a, sizeof a, (const uint8_t *)"m", 1, dst, sizeof dst));
    EXPECT_OK(fn(b, sizeof b, (const uint8_t *)"m", 1, short_dst, h));
    EXPECT_BYTES_EQ(a, b, sizeof a);
    EXPECT_OK(fn(a, sizeof a, (const uint8_t *)"m", 1, dst, 255));
    hash_once(fn, short_dst, prefix, sizeof prefix - 1, dst, 255, NULL, 0);
    EXPECT_OK(fn(b, sizeof b, (const uint8_t *)"m", 1, short_dst, h));
    EXPECT_TRUE(memcmp(a, b, sizeof a) != 0);
}

static void oversize_dst_both(void)
{
    oversize_dst(ovl_xmd_sha512);
    oversize_dst(ovl_xmd_sha256);
}

int main(void)
{
    if (ovl_crypto_init() != OVL_OK) {
        fprintf(stderr, "crypto init failed: %s\n", ovl_err_detail());
        return 1;
    }
    RUN(rfc9380_k1_k2_sha256);
    RUN(rfc9380_k3_sha512);
    RUN(rejects_bad_lengths);
    RUN(length_is_bound);
    RUN(oversize_dst_both);
    return ovl_t_summary("test_xmd");
}
