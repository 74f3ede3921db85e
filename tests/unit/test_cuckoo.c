/* Tests for the circuit-PSI cuckoo table (protocols/cpsi/cuckoo.h). */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cpsi/cuckoo.h"
#include "test.h"

static ovl_rng seeded(const char *label)
{
    static const uint8_t seed[32] = {31};
    ovl_rng r;
    ovl_rng_init_seeded(&r, seed, label);
    return r;
}

static void test_parameters(void)
{
    EXPECT_EQ(ovl_cuckoo_bins(1 << 20), 1331692u); /* ⌈1.27 · 2^20⌉ */
    EXPECT_EQ(ovl_cuckoo_bins(1000), 1270u);
    EXPECT_EQ(ovl_cuckoo_bins(200), 300u);
    EXPECT_EQ(ovl_cuckoo_bins(10), 60u);
    EXPECT_EQ(ovl_cuckoo_bins(1), 3u);
    EXPECT_EQ(ovl_cuckoo_bins(0), 3u);
}

static void check_table(const ovl_cuckoo *c, size_t n)
{
    size_t used = 0;
    for (uint32_t b = 0; b < c->bins; b++)
        if (c->slot[b] != OVL_CUCKOO_EMPTY) {
            uint32_t i = c->slot[b];
            used++;
            EXPECT_TRUE(i < n && c->cand[3 * (size_t)i + c->func[i]] == b);
        }
    EXPECT_EQ(used, n);
    EXPECT_EQ((size_t)c->placed[0] + c->placed[1] + c->placed[2], n);
}

static void test_build(void)
{
    static const size_t sizes[] = {0, 1, 2, 3, 7, 100, 4000};
    ovl_rng r = seeded("cuckoo build");
    for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++) {
        size_t n = sizes[si];
        ovl_block *ids = calloc(n + 1, sizeof *ids);
        ovl_rng_bytes(&r, ids, n * sizeof *ids);
        ovl_cuckoo c;
        EXPECT_OK(ovl_cuckoo_build(&c, ids, n, &r));
        EXPECT_EQ(c.bins, ovl_cuckoo_bins(n));
        check_table(&c, n);
        /* the candidates are a function of the seed and digest alone */
        uint32_t cand[3];
        if (n > 0) {
            EXPECT_OK(ovl_cuckoo_candidates(cand, c.seed, c.bins, ids + n - 1, 1));
            EXPECT_BYTES_EQ(cand, c.cand + 3 * (n - 1), sizeof cand);
        }
        ovl_cuckoo_free(&c);
        free(ids);
    }
}

/* PSZ18's expansion keeps a seed's failure at <= 2^-40: at small sizes no
 * failure may show in thousands of seeds; the same test on a table of n bins
 * (well under the threshold) fails often, so it can catch a wrong ε. */
static unsigned failures(ovl_rng *r, size_t n, uint32_t bins, unsigned trials)
{
    unsigned fails = 0;
    ovl_block ids[300];
    for (unsigned t = 0; t < trials; t++) {
        ovl_cuckoo c = {0};
        ovl_rng_bytes(r, ids, n * sizeof *ids);
        ovl_rng_bytes(r, c.seed, sizeof c.seed);
        fails += !ovl_cuckoo_try(&c, ids, n, bins, r);
        ovl_cuckoo_free(&c);
    }
    return fails;
}

static void test_failure_rate_small_n(void)
{
    static const size_t sizes[] = {2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 100, 128, 200, 256, 300};
    ovl_rng r = seeded("cuckoo failure rate");
    for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++) {
        size_t n = sizes[si];
        unsigned f = failures(&r, n, ovl_cuckoo_bins(n), n < 64 ? 3000 : 600);
        OVL_T_RECORD(f == 0, "n=%zu: %u insertions failed at B=%u", n, f, ovl_cuckoo_bins(n));
    }
    unsigned under = failures(&r, 64, 64, 300);
    OVL_T_RECORD(under > 30, "B = n = 64: only %u of 300 insertions failed", under);
}

static void test_limits(void)
{
    ovl_rng r = seeded("cuckoo limits");
    ovl_block ids[8];
    ovl_cuckoo c;
    EXPECT_ERR(OVL_ERR_LIMIT, ovl_cuckoo_build(&c, ids, OVL_CUCKOO_MAX_ITEMS + 1u, &r));
    /* four identical digests cannot fit their three candidate bins */
    memset(ids, 7, sizeof ids);
    EXPECT_ERR(OVL_ERR_CRYPTO, ovl_cuckoo_build(&c, ids, 8, &r));
    EXPECT_TRUE(c.slot == NULL);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    RUN(test_parameters);
    RUN(test_build);
    RUN(test_failure_rate_small_n);
    RUN(test_limits);
    return ovl_t_summary("test_cuckoo");
}
