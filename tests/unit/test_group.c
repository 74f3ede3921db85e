/* The suite table and the ristretto255-SHA512 back end, against RFC 9496
 * Appendix A and RFC 9497 Appendix A.1.1 (OPRF mode 0). */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "crypto/group.h"
#include "core/mem.h"
#include "rfc_vectors.h"
#include "test.h"

enum { ELEM = 32, SCALAR = 32 };

/* L, the ristretto255 group order, little-endian: non-zero bytes, zero mod L. */
static const uint8_t order_le[SCALAR] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58,
                                         0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
                                         0,    0,    0,    0,    0,    0,    0,    0,
                                         0,    0,    0,    0,    0,    0,    0,    0x10};

/* Decodes obj[key] hex of any length into a fresh allocation. */
static uint8_t *hex_alloc(json_t *obj, const char *key, size_t *n)
{
    const char *hex = json_string_value(json_object_get(obj, key));
    *n = 0;
    uint8_t *out = hex ? malloc(strlen(hex) / 2 + 1) : NULL;
    int ok = out != NULL && ovl_hex_decode(out, strlen(hex) / 2, hex, strlen(hex)) == OVL_OK;
    OVL_T_RECORD(ok, "field \"%s\" is missing or not hex", key);
    if (!ok) {
        free(out);
        return NULL;
    }
    *n = strlen(hex) / 2;
    return out;
}

static const ovl_group *r255(void)
{
    return ovl_group_by_id(OVL_SUITE_RISTRETTO255_SHA512);
}

static void suite_table(void)
{
    const ovl_group *g = r255();
    EXPECT_TRUE(g != NULL);
    if (g == NULL)
        return;
    EXPECT_TRUE(ovl_group_default() == g);
    EXPECT_TRUE(ovl_group_by_name("ristretto255-SHA512") == g);
    EXPECT_STR_EQ(g->name, "ristretto255-SHA512");
    EXPECT_EQ(g->id, OVL_SUITE_RISTRETTO255_SHA512);
    EXPECT_EQ(g->elem_len, ELEM);
    EXPECT_EQ(g->scalar_len, SCALAR);
    EXPECT_TRUE(g->elem_len <= OVL_GROUP_MAX_ELEM && g->scalar_len <= OVL_GROUP_MAX_SCALAR);
    EXPECT_TRUE(g->hash_to_group && g->scalar_random && g->scalar_from_bytes && g->scalar_mult &&
                g->validate && g->scalar_invert);
    /* Unknown and reserved suites are absent, never a fallback. */
    EXPECT_TRUE(ovl_group_by_id(0) == NULL);
    EXPECT_TRUE(ovl_group_by_id(OVL_SUITE_P256_SHA256) == NULL);
    EXPECT_TRUE(ovl_group_by_id(0x0101) == NULL);
    EXPECT_TRUE(ovl_group_by_name("ristretto255") == NULL);
    EXPECT_TRUE(ovl_group_by_name("RISTRETTO255-SHA512 ") == NULL);
    EXPECT_TRUE(ovl_group_by_name("") == NULL);
    EXPECT_TRUE(ovl_group_by_name(NULL) == NULL);
    EXPECT_OK(ovl_crypto_init());
}

/* RFC 9496 A.1: B[k] = k*B by base multiplication, by our scalar_mult on B[1],
 * and by repeated addition; B[0] (identity) must be rejected. */
static void generator_multiples(json_t *root)
{
    const ovl_group *g = r255();
    json_t *arr = json_object_get(root, "generator_multiples");
    uint8_t b1[ELEM], acc[ELEM] = {0};
    int checked = 0;
    EXPECT_EQ(json_array_size(arr), 16);
    if (json_array_size(arr) < 2 || !hex_fixed(json_array_get(arr, 1), "encoding", b1, ELEM))
        return;
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        uint8_t want[ELEM], got[ELEM], k[SCALAR] = {0};
        if (!hex_fixed(v, "encoding", want, ELEM))
            continue;
        EXPECT_EQ(json_integer_value(json_object_get(v, "k")), (json_int_t)i);
        k[0] = (uint8_t)i;
        /* libsodium accepts all 16 encodings, identity included. */
        EXPECT_EQ(crypto_core_ristretto255_is_valid_point(want), 1);
        if (i == 0) {
            EXPECT_TRUE(sodium_is_zero(want, ELEM));
            EXPECT_EQ(crypto_scalarmult_ristretto255_base(got, k), -1);
            EXPECT_ERR(OVL_ERR_CRYPTO, g->validate(want));
            EXPECT_ERR(OVL_ERR_CRYPTO, g->scalar_mult(got, k, b1));
            EXPECT_ERR(OVL_ERR_CRYPTO, g->scalar_mult(got, order_le, b1));
            checked++;
            continue;
        }
        EXPECT_OK(g->validate(want));
        memcpy(got, want, ELEM);
        got[31] |= 0x80; /* non-canonical twin that libsodium 1.0.18 accepts */
        EXPECT_ERR(OVL_ERR_CRYPTO, g->validate(got));
        EXPECT_ERR(OVL_ERR_CRYPTO, g->scalar_mult(got, k, got));
        EXPECT_EQ(crypto_scalarmult_ristretto255_base(got, k), 0);
        EXPECT_BYTES_EQ(got, want, ELEM);
        memset(got, 0, sizeof got);
        EXPECT_OK(g->scalar_mult(got, k, b1));
        EXPECT_BYTES_EQ(got, want, ELEM);
        if (i == 1)
            memcpy(acc, b1, ELEM);
        else
            EXPECT_EQ(crypto_core_ristretto255_add(acc, acc, b1), 0);
        int ok = memcmp(acc, want, ELEM) == 0;
        OVL_T_RECORD(ok, "B[%zu] by repeated addition differs", i);
        want[31 - i] ^= 0x01;
        EXPECT_TRUE(memcmp(got, want, ELEM) != 0);
        checked += ok;
    }
    EXPECT_EQ(checked, 16);
}

static int expect_invalid(const ovl_group *g, json_t *v, const uint8_t *b1)
{
    uint8_t p[ELEM], out[ELEM];
    static const uint8_t two[SCALAR] = {2};
    if (!hex_fixed(v, "encoding", p, ELEM))
        return 0;
    int ok = crypto_core_ristretto255_is_valid_point(p) == 0;
    ok &= g->validate(p) == OVL_ERR_CRYPTO;
    ok &= g->scalar_mult(out, two, p) == OVL_ERR_CRYPTO;
    ok &= crypto_core_ristretto255_add(out, p, b1) == -1;
    const char *cat = json_string_value(json_object_get(v, "category"));
    OVL_T_RECORD(ok, "invalid encoding (%s) was accepted", cat ? cat : "?");
    return ok;
}

/* RFC 9496 A.2: 29 encodings Decode must reject, plus libsodium's extra one. */
static void invalid_encodings(json_t *root)
{
    const ovl_group *g = r255();
    uint8_t b1[ELEM];
    json_t *mult = json_array_get(json_object_get(root, "generator_multiples"), 1);
    if (!hex_fixed(mult, "encoding", b1, ELEM))
        return;
    const char *keys[] = {"invalid_encodings", "invalid_encodings_extra"};
    const size_t want[] = {29, 1};
    for (size_t k = 0; k < 2; k++) {
        json_t *arr = json_object_get(root, keys[k]);
        size_t rejected = 0, i;
        json_t *v;
        json_array_foreach(arr, i, v)
            rejected += (size_t)expect_invalid(g, v, b1);
        EXPECT_EQ(json_array_size(arr), want[k]);
        EXPECT_EQ(rejected, want[k]);
    }
    /* The negative of the negative: the valid generator passes the same checks. */
    uint8_t out[ELEM];
    static const uint8_t two[SCALAR] = {2};
    EXPECT_OK(g->validate(b1));
    EXPECT_OK(g->scalar_mult(out, two, b1));
}

/* RFC 9496 A.3: the 64-byte one-way map hash_to_group is built on. */
static void element_derivation(json_t *root)
{
    const ovl_group *g = r255();
    json_t *arr = json_object_get(root, "element_derivation");
    int checked = 0;
    size_t i;
    json_t *v;
    EXPECT_EQ(json_array_size(arr), 11);
    json_array_foreach(arr, i, v)
    {
        uint8_t in[64], want[ELEM], got[ELEM];
        if (!hex_fixed(v, "input", in, sizeof in) || !hex_fixed(v, "output", want, ELEM))
            continue;
        EXPECT_EQ(crypto_core_ristretto255_from_hash(got, in), 0);
        int ok = memcmp(got, want, ELEM) == 0;
        OVL_T_RECORD(ok, "element derivation %zu differs", i);
        EXPECT_OK(g->validate(got));
        in[0] ^= 0x01;
        EXPECT_EQ(crypto_core_ristretto255_from_hash(got, in), 0);
        EXPECT_TRUE(memcmp(got, want, ELEM) != 0);
        checked += ok;
    }
    EXPECT_EQ(checked, 11);
}

static void ristretto255_encodings(void)
{
    json_t *root = load_vectors("ristretto255_encodings.json");
    if (root == NULL)
        return;
    generator_multiples(root);
    invalid_encodings(root);
    element_derivation(root);
    json_decref(root);
}

typedef struct {
    uint8_t *input, *dst;
    size_t input_len, dst_len;
    uint8_t blind[SCALAR], sk[SCALAR];
    uint8_t uniform[64], input_elem[ELEM], blinded[ELEM], evaluated[ELEM], unblinded[ELEM];
    uint8_t output[crypto_hash_sha512_BYTES];
} oprf_vector;

/* Finalize: Hash(I2OSP(len(input), 2) || input || I2OSP(Ne, 2) || N || "Finalize"). */
static void oprf_finalize(uint8_t *out, const uint8_t *input, size_t input_len, const uint8_t *n)
{
    crypto_hash_sha512_state st;
    const uint8_t in_len[2] = {(uint8_t)(input_len >> 8), (uint8_t)input_len};
    const uint8_t ne[2] = {0, ELEM};
    crypto_hash_sha512_init(&st);
    crypto_hash_sha512_update(&st, in_len, 2);
    if (input_len > 0)
        crypto_hash_sha512_update(&st, input, input_len);
    crypto_hash_sha512_update(&st, ne, 2);
    crypto_hash_sha512_update(&st, n, ELEM);
    crypto_hash_sha512_update(&st, (const uint8_t *)"Finalize", 8);
    crypto_hash_sha512_final(&st, out);
}

/* Runs the OPRF flow with our suite; returns 1 when every stage matched. */
static int oprf_check(const ovl_group *g, const oprf_vector *t)
{
    uint8_t uniform[64], h[ELEM], blinded[ELEM], evaluated[ELEM], unblinded[ELEM];
    uint8_t inv[SCALAR], n[ELEM], out[crypto_hash_sha512_BYTES];
    int ok = 1;
    EXPECT_OK(ovl_xmd_sha512(uniform, sizeof uniform, t->input, t->input_len, t->dst, t->dst_len));
    ok &= memcmp(uniform, t->uniform, sizeof uniform) == 0;
    EXPECT_OK(g->hash_to_group(h, t->input, t->input_len, t->dst, t->dst_len));
    EXPECT_BYTES_EQ(h, t->input_elem, ELEM);
    ok &= memcmp(h, t->input_elem, ELEM) == 0;
    EXPECT_OK(g->scalar_mult(blinded, t->blind, h));
    EXPECT_BYTES_EQ(blinded, t->blinded, ELEM);
    ok &= memcmp(blinded, t->blinded, ELEM) == 0;
    EXPECT_OK(g->scalar_mult(evaluated, t->sk, blinded));
    EXPECT_BYTES_EQ(evaluated, t->evaluated, ELEM);
    ok &= memcmp(evaluated, t->evaluated, ELEM) == 0;
    EXPECT_OK(g->scalar_mult(unblinded, t->sk, h));
    EXPECT_BYTES_EQ(unblinded, t->unblinded, ELEM);
    ok &= memcmp(unblinded, t->unblinded, ELEM) == 0;
    EXPECT_OK(g->scalar_invert(inv, t->blind));
    EXPECT_OK(g->scalar_mult(n, inv, t->evaluated));
    EXPECT_BYTES_EQ(n, t->unblinded, ELEM);
    ok &= memcmp(n, t->unblinded, ELEM) == 0;
    oprf_finalize(out, t->input, t->input_len, n);
    EXPECT_BYTES_EQ(out, t->output, sizeof out);
    ok &= memcmp(out, t->output, sizeof out) == 0;
    return ok;
}

/* Negative: a one-bit change of the input, the blind or the expected output
 * must each show up as a mismatch. */
static void oprf_negative(const ovl_group *g, oprf_vector *t)
{
    uint8_t h[ELEM], blinded[ELEM], out[crypto_hash_sha512_BYTES];
    oprf_finalize(out, t->input, t->input_len, t->unblinded);
    EXPECT_BYTES_EQ(out, t->output, sizeof out);
    t->output[5] ^= 0x20;
    EXPECT_TRUE(memcmp(out, t->output, sizeof out) != 0);
    t->output[5] ^= 0x20;
    if (t->input_len > 0) {
        t->input[0] ^= 0x01;
        EXPECT_OK(g->hash_to_group(h, t->input, t->input_len, t->dst, t->dst_len));
        EXPECT_TRUE(memcmp(h, t->input_elem, ELEM) != 0);
        t->input[0] ^= 0x01;
    }
    t->dst[t->dst_len - 1] ^= 0x01;
    EXPECT_OK(g->hash_to_group(h, t->input, t->input_len, t->dst, t->dst_len));
    EXPECT_TRUE(memcmp(h, t->input_elem, ELEM) != 0);
    t->dst[t->dst_len - 1] ^= 0x01;
    t->blind[0] ^= 0x01;
    EXPECT_OK(g->scalar_mult(blinded, t->blind, t->input_elem));
    EXPECT_TRUE(memcmp(blinded, t->blinded, ELEM) != 0);
    t->blind[0] ^= 0x01;
}

static int oprf_load(json_t *v, oprf_vector *t)
{
    json_t *d = json_object_get(v, "derived_not_in_rfc");
    int ok = 1;
    t->input = hex_alloc(v, "input", &t->input_len);
    ok &= t->input != NULL;
    ok &= hex_fixed(v, "blind", t->blind, SCALAR);
    ok &= hex_fixed(v, "blindedElement", t->blinded, ELEM);
    ok &= hex_fixed(v, "evaluationElement", t->evaluated, ELEM);
    ok &= hex_fixed(v, "output", t->output, sizeof t->output);
    ok &= hex_fixed(d, "hashToGroup_uniform_bytes", t->uniform, sizeof t->uniform);
    ok &= hex_fixed(d, "inputElement", t->input_elem, ELEM);
    ok &= hex_fixed(d, "unblindedElement", t->unblinded, ELEM);
    return ok;
}

/* RFC 9497 §3.2.1 DeriveKeyPair with counter 0, HashToScalar on 64 bytes LE. */
static void oprf_derive_key(const ovl_group *g, json_t *root, const uint8_t *sk)
{
    uint8_t seed[32], info[64], input[32 + 2 + 64 + 1], uniform[64], got[SCALAR];
    size_t dst_len;
    uint8_t *dst = hex_alloc(root, "DST_DeriveKeyPair", &dst_len);
    const char *info_hex = json_string_value(json_object_get(root, "keyInfo"));
    size_t info_len = info_hex ? strlen(info_hex) / 2 : 0;
    if (dst == NULL || info_len == 0 || info_len > sizeof info ||
        !hex_fixed(root, "seed", seed, sizeof seed) || !hex_fixed(root, "keyInfo", info, info_len)) {
        OVL_T_RECORD(0, "DeriveKeyPair inputs missing");
        free(dst);
        return;
    }
    memcpy(input, seed, 32);
    input[32] = (uint8_t)(info_len >> 8);
    input[33] = (uint8_t)info_len;
    memcpy(input + 34, info, info_len);
    input[34 + info_len] = 0; /* counter */
    EXPECT_OK(ovl_xmd_sha512(uniform, sizeof uniform, input, 35 + info_len, dst, dst_len));
    EXPECT_OK(g->scalar_from_bytes(got, uniform));
    EXPECT_BYTES_EQ(got, sk, SCALAR);
    input[34 + info_len] = 1;
    EXPECT_OK(ovl_xmd_sha512(uniform, sizeof uniform, input, 35 + info_len, dst, dst_len));
    EXPECT_OK(g->scalar_from_bytes(got, uniform));
    EXPECT_TRUE(memcmp(got, sk, SCALAR) != 0);
    free(dst);
}

static void oprf_ristretto255_mode0(void)
{
    const ovl_group *g = r255();
    json_t *root = load_vectors("oprf_ristretto255-SHA512.json");
    if (root == NULL)
        return;
    uint8_t sk[SCALAR];
    size_t dst_len;
    uint8_t *dst = hex_alloc(root, "DST_HashToGroup", &dst_len);
    json_t *vecs = json_object_get(root, "vectors");
    int matched = 0;
    EXPECT_STR_EQ(json_string_value(json_object_get(root, "suite")), "ristretto255-SHA512");
    EXPECT_EQ(json_integer_value(json_object_get(root, "mode")), 0);
    EXPECT_EQ(json_array_size(vecs), 2);
    if (dst != NULL && hex_fixed(root, "skSm", sk, SCALAR)) {
        oprf_derive_key(g, root, sk);
        size_t i;
        json_t *v;
        json_array_foreach(vecs, i, v)
        {
            oprf_vector t = {.dst = dst, .dst_len = dst_len};
            memcpy(t.sk, sk, SCALAR);
            if (oprf_load(v, &t)) {
                int ok = oprf_check(g, &t);
                OVL_T_RECORD(ok, "OPRF vector %zu differs", i);
                matched += ok;
                oprf_negative(g, &t);
            }
            free(t.input);
        }
    }
    EXPECT_EQ(matched, 2);
    free(dst);
    json_decref(root);
}

static void hash_point(uint8_t *p, const char *msg)
{
    static const uint8_t dst[] = "overlap-test-group";
    EXPECT_OK(r255()->hash_to_group(p, (const uint8_t *)msg, strlen(msg), dst, sizeof dst - 1));
}

/* a*(b*P) == b*(a*P) == (ab)*P; and s^-1 undoes s. */
static void scalar_algebra(void)
{
    const ovl_group *g = r255();
    uint8_t p[ELEM], ap[ELEM], bp[ELEM], abp[ELEM], bap[ELEM], q[ELEM];
    uint8_t a[SCALAR], b[SCALAR], ab[SCALAR], inv[SCALAR], back[SCALAR];
    hash_point(p, "commute");
    EXPECT_OK(g->scalar_random(a));
    EXPECT_OK(g->scalar_random(b));
    EXPECT_TRUE(memcmp(a, b, SCALAR) != 0);
    EXPECT_OK(g->scalar_mult(ap, a, p));
    EXPECT_OK(g->scalar_mult(bp, b, p));
    EXPECT_OK(g->scalar_mult(abp, a, bp));
    EXPECT_OK(g->scalar_mult(bap, b, ap));
    EXPECT_BYTES_EQ(abp, bap, ELEM);
    EXPECT_TRUE(memcmp(ap, bp, ELEM) != 0);
    crypto_core_ristretto255_scalar_mul(ab, a, b);
    EXPECT_OK(g->scalar_mult(q, ab, p));
    EXPECT_BYTES_EQ(q, abp, ELEM);
    EXPECT_OK(g->validate(abp));

    EXPECT_OK(g->scalar_invert(inv, a));
    EXPECT_OK(g->scalar_mult(q, inv, ap));
    EXPECT_BYTES_EQ(q, p, ELEM);
    EXPECT_OK(g->scalar_invert(back, inv));
    EXPECT_BYTES_EQ(back, a, SCALAR);
    /* b^-1 does not undo a. */
    EXPECT_OK(g->scalar_invert(inv, b));
    EXPECT_OK(g->scalar_mult(q, inv, ap));
    EXPECT_TRUE(memcmp(q, p, ELEM) != 0);
}

static void scalar_edges(void)
{
    const ovl_group *g = r255();
    uint8_t zero[SCALAR] = {0}, out[SCALAR], wide[64] = {0};
    EXPECT_ERR(OVL_ERR_CRYPTO, g->scalar_invert(out, zero));
    EXPECT_ERR(OVL_ERR_CRYPTO, g->scalar_invert(out, order_le));
    EXPECT_ERR(OVL_ERR_CRYPTO, g->scalar_from_bytes(out, wide));
    memcpy(wide, order_le, SCALAR); /* L as a 64-byte integer reduces to zero */
    EXPECT_ERR(OVL_ERR_CRYPTO, g->scalar_from_bytes(out, wide));
    wide[0] ^= 0x01; /* L with bit 0 cleared is L - 1 (0xed is odd) */
    EXPECT_OK(g->scalar_from_bytes(out, wide));
    EXPECT_BYTES_EQ(out, wide, SCALAR);
    /* 2^256 mod L is reduced, not truncated. */
    memset(wide, 0, sizeof wide);
    wide[32] = 1;
    EXPECT_OK(g->scalar_from_bytes(out, wide));
    EXPECT_TRUE(!sodium_is_zero(out, SCALAR));
    for (int i = 0; i < 8; i++) {
        EXPECT_OK(g->scalar_random(out));
        EXPECT_TRUE(!sodium_is_zero(out, SCALAR));
        EXPECT_TRUE(out[31] < 0x20); /* reduced below L < 2^253 */
    }
}

/* scalar_mult refuses inputs it must not touch, and says so without secrets. */
static void scalar_mult_rejects(void)
{
    const ovl_group *g = r255();
    uint8_t p[ELEM], out[ELEM], s[SCALAR], bad[ELEM];
    char s_hex[2 * SCALAR + 1];
    hash_point(p, "reject");
    EXPECT_OK(g->scalar_random(s));
    ovl_hex_encode(s_hex, s, SCALAR);

    memset(bad, 0, sizeof bad); /* identity */
    EXPECT_ERR(OVL_ERR_CRYPTO, g->scalar_mult(out, s, bad));
    EXPECT_TRUE(sodium_is_zero(out, ELEM));
    EXPECT_TRUE(strstr(ovl_err_detail(), "ristretto255") != NULL);
    EXPECT_TRUE(strstr(ovl_err_detail(), s_hex) == NULL);
    memset(bad, 0xff, sizeof bad); /* non-canonical field element */
    EXPECT_ERR(OVL_ERR_CRYPTO, g->scalar_mult(out, s, bad));
    memcpy(bad, p, ELEM);
    bad[0] ^= 0x01; /* odd s: negative, so not a valid encoding */
    EXPECT_ERR(OVL_ERR_CRYPTO, g->validate(bad));
    EXPECT_ERR(OVL_ERR_CRYPTO, g->scalar_mult(out, s, bad));
    /* Bit 255 set: libsodium 1.0.18 ignores it and decodes the point
     * without it; RFC 9496 calls the encoding non-canonical. */
    memcpy(bad, p, ELEM);
    bad[31] |= 0x80;
    EXPECT_EQ(crypto_core_ristretto255_is_valid_point(p), 1);
    EXPECT_ERR(OVL_ERR_CRYPTO, g->validate(bad));
    EXPECT_ERR(OVL_ERR_CRYPTO, g->scalar_mult(out, s, bad));
    /* A zero scalar (mod L) would send everything to the identity. */
    memset(s, 0, sizeof s);
    EXPECT_ERR(OVL_ERR_CRYPTO, g->scalar_mult(out, s, p));
    EXPECT_ERR(OVL_ERR_CRYPTO, g->scalar_mult(out, order_le, p));
    /* The same call with a good point and scalar succeeds. */
    s[0] = 3;
    EXPECT_OK(g->scalar_mult(out, s, p));
    EXPECT_OK(g->validate(out));
}

static void hash_to_group_properties(void)
{
    const ovl_group *g = r255();
    uint8_t a[ELEM], b[ELEM];
    static const uint8_t dst[] = "overlap-test-group";
    hash_point(a, "alice@example.com");
    hash_point(b, "alice@example.com");
    EXPECT_BYTES_EQ(a, b, ELEM);
    EXPECT_OK(g->validate(a));
    hash_point(b, "alice@example.org");
    EXPECT_TRUE(memcmp(a, b, ELEM) != 0);
    EXPECT_OK(g->hash_to_group(b, NULL, 0, dst, sizeof dst - 1));
    EXPECT_OK(g->validate(b));
    EXPECT_ERR(OVL_ERR_USAGE, g->hash_to_group(b, (const uint8_t *)"x", 1, dst, 0));
}

int main(void)
{
    if (ovl_crypto_init() != OVL_OK) {
        fprintf(stderr, "crypto init failed: %s\n", ovl_err_detail());
        return 1;
    }
    RUN(suite_table);
    if (r255() == NULL)
        return ovl_t_summary("test_group");
    RUN(ristretto255_encodings);
    RUN(oprf_ristretto255_mode0);
    RUN(scalar_algebra);
    RUN(scalar_edges);
    RUN(scalar_mult_rejects);
    RUN(hash_to_group_properties);
    return ovl_t_summary("test_group");
}
