/* aggregate v2 records, labels and release (protocols/aggregate/release.h,
 * SPEC.md §4.3, §7.4, §8.3): records carry each party's indices and the
 * helper's key; labels open only with their key, group and transcript;
 * RELEASE carries exactly the passing records (a withheld or extra one is a
 * protocol error, a truncated one malformed); opened records below T, out of
 * range or repeated are set aside without an error. */
#include <sodium.h>

#include "aggregate/release.h"
#include "test.h"

static const ovl_agg2_layout L = {2, 3, 2, 2, 3, 3, 1, 0}; /* P = 6, W = 12, K = 6 */

static void builds_records(void)
{
    EXPECT_EQ(ovl_agg2_record_width(&L), 12);
    uint64_t cells[6 * 6], rec_r[6 * 12], rec_c[6 * 12];
    for (size_t i = 0; i < sizeof cells / 8; i++)
        cells[i] = i;
    uint8_t keys[3][OVL_AGG2_KEY_LEN];
    randombytes_buf(keys, sizeof keys);
    EXPECT_OK(ovl_agg2_records_build(rec_r, &L, cells, true, NULL));    /* runner receives */
    EXPECT_OK(ovl_agg2_records_build(rec_c, &L, cells, false, keys));   /* contributor helps */
    int ok = 1;
    for (uint32_t g = 0; g < 2; g++)
        for (uint32_t c = 0; c < 3; c++) {
            const uint64_t *a = rec_r + (g * 3 + c) * 12, *b = rec_c + (g * 3 + c) * 12;
            uint64_t sum[12];
            for (int w = 0; w < 12; w++)
                sum[w] = a[w] + b[w];
            ok &= sum[0] == 2 * cells[(g * 3 + c) * 6] && sum[6] == g && sum[7] == c;
            uint8_t key[OVL_AGG2_KEY_LEN];
            ovl_agg2_record_key(key, sum, &L);
            ok &= memcmp(key, keys[c], sizeof key) == 0;
        }
    EXPECT_TRUE(ok);
    ovl_agg2_layout bad = L;
    bad.bits_r = 0;
    EXPECT_ERR(OVL_ERR_USAGE, ovl_agg2_records_build(rec_r, &bad, cells, true, NULL));
}

static void seals_and_opens_labels(void)
{
    ovl_rng rng;
    ovl_rng_init_system(&rng);
    uint8_t th[32], th2[32], ct[OVL_AGG2_LABEL_CT], key[OVL_AGG2_KEY_LEN], out[OVL_AGG2_LABEL_MAX];
    randombytes_buf(th, sizeof th);
    memcpy(th2, th, 32);
    th2[0] ^= 1;
    const uint8_t label[] = "\x00\x05shoes\x00\x0a" "2026-07-06";
    size_t len = 0;
    EXPECT_OK(ovl_agg2_label_seal(ct, key, label, sizeof label - 1, 3, th, &rng));
    EXPECT_TRUE(ovl_agg2_label_open(out, &len, ct, key, 3, th));
    EXPECT_EQ(len, sizeof label - 1);
    EXPECT_BYTES_EQ(out, label, sizeof label - 1);
    EXPECT_TRUE(!ovl_agg2_label_open(out, &len, ct, key, 4, th));  /* another group */
    EXPECT_TRUE(!ovl_agg2_label_open(out, &len, ct, key, 3, th2)); /* another run */
    key[0] ^= 1;
    EXPECT_TRUE(!ovl_agg2_label_open(out, &len, ct, key, 3, th));  /* a shifted key share */
    EXPECT_EQ(len, 0);
    uint8_t big[OVL_AGG2_LABEL_MAX + 1] = {0};
    EXPECT_OK(ovl_agg2_label_seal(ct, key, big, OVL_AGG2_LABEL_MAX, 0, th, &rng));
    EXPECT_ERR(OVL_ERR_INPUT, ovl_agg2_label_seal(ct, key, big, sizeof big, 0, th, &rng));
}

static void releases_exactly_the_passing_records(void)
{
    enum { K = 6, W = 12 };
    uint64_t helper[K * W], own[K * W], x[K * W], opened[K * W];
    randombytes_buf(helper, sizeof helper);
    randombytes_buf(x, sizeof x);
    for (int i = 0; i < K * W; i++)
        own[i] = x[i] - helper[i];
    const uint8_t pass[K] = {0, 1, 1, 0, 0, 1};
    ovl_buf m = {0};
    EXPECT_OK(ovl_buf_alloc(&m, 64, 1 << 16));
    EXPECT_OK(ovl_agg2_release_write(&m, helper, W, pass, K));
    EXPECT_EQ(ovl_buf_len(&m), 4 + 3 * W * 8);
    size_t r = 0;
    EXPECT_OK(ovl_agg2_release_read(&m, own, W, pass, K, opened, &r));
    EXPECT_EQ(r, 3);
    EXPECT_BYTES_EQ(opened, x + 1 * W, W * 8);
    EXPECT_BYTES_EQ(opened + W, x + 2 * W, W * 8);
    EXPECT_BYTES_EQ(opened + 2 * W, x + 5 * W, W * 8);

    /* The helper withholds a passing record, adds one, or truncates. */
    const uint8_t fewer[K] = {0, 1, 0, 0, 0, 1}, more[K] = {1, 1, 1, 0, 0, 1};
    ovl_buf_clear(&m);
    EXPECT_OK(ovl_agg2_release_write(&m, helper, W, fewer, K));
    EXPECT_ERR(OVL_ERR_PROTOCOL, ovl_agg2_release_read(&m, own, W, pass, K, opened, &r));
    EXPECT_EQ(r, 0);
    ovl_buf_clear(&m);
    EXPECT_OK(ovl_agg2_release_write(&m, helper, W, more, K));
    EXPECT_ERR(OVL_ERR_PROTOCOL, ovl_agg2_release_read(&m, own, W, pass, K, opened, &r));
    ovl_buf_clear(&m);
    EXPECT_OK(ovl_agg2_release_write(&m, helper, W, pass, K));
    m.wpos -= 8;
    EXPECT_ERR(OVL_ERR_MALFORMED, ovl_agg2_release_read(&m, own, W, pass, K, opened, &r));
    ovl_buf_clear(&m);
    EXPECT_OK(ovl_buf_put_u16(&m, 0));
    EXPECT_ERR(OVL_ERR_MALFORMED, ovl_agg2_release_read(&m, own, W, pass, K, opened, &r));
    /* Nothing passes: an empty RELEASE. */
    const uint8_t none[K] = {0};
    ovl_buf_clear(&m);
    EXPECT_OK(ovl_agg2_release_write(&m, helper, W, none, K));
    EXPECT_OK(ovl_agg2_release_read(&m, own, W, none, K, opened, &r));
    EXPECT_EQ(r, 0);
    ovl_buf_free(&m);
}

static void sets_inconsistent_records_aside(void)
{
    enum { W = 12, P = 6, T = 10 };
    uint64_t rec[5 * W] = {0};
    uint64_t set[5][3] = {{10, 0, 0}, {9, 1, 2}, {50, 2, 0}, {12, 1, 1}, {11, 1, 1}};
    for (int i = 0; i < 5; i++) {
        rec[i * W] = set[i][0];
        rec[i * W + P] = set[i][1];
        rec[i * W + P + 1] = set[i][2];
    }
    uint8_t ok[5];
    /* 1: D below T; 2: g out of range; 3 and 4: the same cell twice. */
    EXPECT_EQ(ovl_agg2_release_classify(ok, rec, 5, &L, T), 4);
    EXPECT_TRUE(ok[0] && !ok[1] && !ok[2] && !ok[3] && !ok[4]);
    rec[4 * W + P + 1] = 2;
    EXPECT_EQ(ovl_agg2_release_classify(ok, rec, 5, &L, T), 2);
    EXPECT_TRUE(ok[3] && ok[4]);
    rec[0] = (uint64_t)0 - 1; /* a negative count (a shifted share) */
    EXPECT_EQ(ovl_agg2_release_classify(ok, rec, 5, &L, T), 3);
    EXPECT_TRUE(!ok[0]);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    RUN(builds_records);
    RUN(seals_and_opens_labels);
    RUN(releases_exactly_the_passing_records);
    RUN(sets_inconsistent_records_aside);
    return ovl_t_summary("test_agg_release");
}
