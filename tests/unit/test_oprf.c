/* Tests for the circuit-PSI DH-OPRF (protocols/cpsi/oprf.h) against RFC 9497
 * Appendix A.1.1 (../shared/vectors-rfc/oprf_ristretto255-SHA512.json). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "core/mem.h"
#include "cpsi/oprf.h"
#include "test.h"

static bool hex(json_t *o, const char *key, uint8_t *out, size_t n)
{
    const char *h = json_string_value(json_object_get(o, key));
    return h != NULL && strlen(h) == 2 * n && ovl_hex_decode(out, n, h, 2 * n) == OVL_OK;
}

static void test_rfc9497_vectors(void)
{
    const char *shared = getenv("OVL_SHARED");
    char path[4096];
    snprintf(path, sizeof path, "%s/vectors-rfc/oprf_ristretto255-SHA512.json",
             shared ? shared : "../shared");
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    OVL_T_RECORD(root != NULL, "cannot load %s", path);
    if (root == NULL)
        return;
    uint8_t sk[32];
    EXPECT_TRUE(hex(root, "skSm", sk, 32));
    json_t *vecs = json_object_get(root, "vectors"), *v;
    size_t i, checked = 0;
    json_array_foreach(vecs, i, v)
    {
        const char *in = json_string_value(json_object_get(v, "input"));
        uint8_t x[64], r[32], blinded[32], eval[32], out[64];
        uint8_t got_b[32], got_e[32], got[64], direct[64];
        size_t xl = in ? strlen(in) / 2 : 0;
        if (!(in && xl <= sizeof x && ovl_hex_decode(x, xl, in, 2 * xl) == OVL_OK &&
              hex(v, "blind", r, 32) && hex(v, "blindedElement", blinded, 32) &&
              hex(v, "evaluationElement", eval, 32) && hex(v, "output", out, 64)))
            continue;
        EXPECT_OK(ovl_oprf_blind(got_b, r, x, xl));
        EXPECT_BYTES_EQ(got_b, blinded, 32);
        EXPECT_OK(ovl_oprf_evaluate(got_e, sk, got_b));
        EXPECT_BYTES_EQ(got_e, eval, 32);
        EXPECT_OK(ovl_oprf_finalize(got, r, x, xl, got_e));
        EXPECT_BYTES_EQ(got, out, 64);
        EXPECT_OK(ovl_oprf_direct(direct, sk, x, xl));
        EXPECT_BYTES_EQ(direct, out, 64);
        checked++;
    }
    EXPECT_EQ(checked, 2u);
    json_decref(root);
}

/* Three keys give three unrelated functions of the same input; a client
 * that blinds with another scalar than it unblinds with gets garbage. */
static void test_keys_and_blinds(void)
{
    static const uint8_t seed[32] = {9};
    ovl_rng r;
    ovl_rng_init_seeded(&r, seed, "oprf keys");
    uint8_t k[3][32], f[3][64], blind[32], other[32], b[32], e[32], out[64];
    const uint8_t x[] = "alice@example.com";
    for (int j = 0; j < 3; j++) {
        EXPECT_OK(ovl_oprf_scalar(k[j], &r));
        EXPECT_OK(ovl_oprf_direct(f[j], k[j], x, sizeof x - 1));
    }
    EXPECT_TRUE(memcmp(f[0], f[1], 64) != 0 && memcmp(f[1], f[2], 64) != 0);
    uint8_t all[3][64];
    EXPECT_OK(ovl_oprf_direct_keys(all, (const uint8_t(*)[32])k, 3, x, sizeof x - 1));
    EXPECT_BYTES_EQ(all, f, sizeof all);
    EXPECT_OK(ovl_oprf_scalar(blind, &r));
    EXPECT_OK(ovl_oprf_scalar(other, &r));
    EXPECT_OK(ovl_oprf_blind(b, blind, x, sizeof x - 1));
    EXPECT_OK(ovl_oprf_evaluate(e, k[1], b));
    EXPECT_OK(ovl_oprf_finalize(out, blind, x, sizeof x - 1, e));
    EXPECT_BYTES_EQ(out, f[1], 64);
    EXPECT_OK(ovl_oprf_finalize(out, other, x, sizeof x - 1, e));
    EXPECT_TRUE(memcmp(out, f[1], 64) != 0);
}

static void test_invalid_elements(void)
{
    uint8_t k[32] = {5}, zero[32] = {0}, bad[32], out[64], e[32];
    memset(bad, 0xff, sizeof bad); /* not canonical */
    EXPECT_ERR(OVL_ERR_CRYPTO, ovl_oprf_evaluate(e, k, zero));
    EXPECT_ERR(OVL_ERR_CRYPTO, ovl_oprf_evaluate(e, k, bad));
    EXPECT_ERR(OVL_ERR_CRYPTO, ovl_oprf_finalize(out, k, (const uint8_t *)"x", 1, zero));
    EXPECT_ERR(OVL_ERR_CRYPTO, ovl_oprf_finalize(out, k, (const uint8_t *)"x", 1, bad));
    static uint8_t big[OVL_OPRF_MAX_INPUT + 1];
    EXPECT_ERR(OVL_ERR_LIMIT, ovl_oprf_direct(out, k, big, sizeof big));
}

/* The batch calls the engine's jobs use give the single calls' values, over
 * inputs of mixed lengths (runs of equal length share a batch call) and more
 * than eight lanes; an invalid element is reported by its index. */
static void test_batches(void)
{
    enum { N = 19 };
    static const uint8_t seed[32] = {11};
    ovl_rng rng;
    ovl_rng_init_seeded(&rng, seed, "oprf batches");
    char names[N][24];
    const uint8_t *x[N];
    size_t len[N];
    uint8_t k[3][32], r[N][32], b[N][32], e[N][32], f[N][64], d[N * 3][64], one[64], all[3][64];
    for (int i = 0; i < N; i++) {
        len[i] = (size_t)snprintf(names[i], sizeof names[i], i < 10 ? "id-%d" : "ident-%03d", i);
        x[i] = (const uint8_t *)names[i];
        EXPECT_OK(ovl_oprf_scalar(r[i], &rng));
    }
    for (int j = 0; j < 3; j++)
        EXPECT_OK(ovl_oprf_scalar(k[j], &rng));
    size_t bad = 99;
    EXPECT_OK(ovl_oprf_blind_batch(b[0], r[0], x, len, N));
    EXPECT_OK(ovl_oprf_evaluate_batch(e[0], &bad, k[1], b[0], N));
    EXPECT_OK(ovl_oprf_finalize_batch(f, &bad, r[0], x, len, e[0], N));
    EXPECT_OK(ovl_oprf_direct_keys_batch(d, (const uint8_t(*)[32])k, 3, x, len, N));
    unsigned diff = 0;
    for (int i = 0; i < N; i++) {
        uint8_t bi[32], ei[32];
        EXPECT_OK(ovl_oprf_blind(bi, r[i], x[i], len[i]));
        EXPECT_OK(ovl_oprf_evaluate(ei, k[1], bi));
        EXPECT_OK(ovl_oprf_finalize(one, r[i], x[i], len[i], ei));
        EXPECT_OK(ovl_oprf_direct_keys(all, (const uint8_t(*)[32])k, 3, x[i], len[i]));
        diff += memcmp(bi, b[i], 32) != 0 || memcmp(ei, e[i], 32) != 0;
        diff += memcmp(one, f[i], 64) != 0 || memcmp(all, d[3 * i], sizeof all) != 0;
        diff += memcmp(f[i], d[3 * i + 1], 64) != 0; /* F_{k_2}(x) both ways */
    }
    EXPECT_EQ(diff, 0u);
    memset(e[13], 0xff, 32);
    EXPECT_ERR(OVL_ERR_CRYPTO, ovl_oprf_finalize_batch(f, &bad, r[0], x, len, e[0], N));
    EXPECT_EQ(bad, 13u);
    memset(b[4], 0, 32);
    EXPECT_ERR(OVL_ERR_CRYPTO, ovl_oprf_evaluate_batch(e[0], &bad, k[0], b[0], N));
    EXPECT_EQ(bad, 4u);
    ovl_rng_wipe(&rng);
}

int main(void)
{
    if (ovl_crypto_init() != OVL_OK)
        return 1;
    RUN(test_rfc9497_vectors);
    RUN(test_keys_and_blinds);
    RUN(test_invalid_elements);
    RUN(test_batches);
    return ovl_t_summary("test_oprf");
}
