/* The Waksman permutation network (src/mpc/permnet.h): switch counts equal
 * Σ⌈log2 i⌉, every permutation routes (all of them for small n, random ones
 * up to a few thousand, the identity and the reversal), applying the routed
 * switches moves record i to dest[i], and non-permutations are refused. */
#include <sodium.h>
#include <stdlib.h>

#include "mpc/permnet.h"
#include "test.h"

static size_t sum_ceil_log2(uint32_t n)
{
    size_t s = 0;
    for (uint32_t i = 2; i <= n; i++) {
        uint32_t lg = 0;
        while ((1u << lg) < i)
            lg++;
        s += lg;
    }
    return s;
}

/* 1 when routing dest and applying the network sends record i to dest[i]. */
static int routes(const ovl_permnet *net, const uint32_t *dest)
{
    enum { W = 2 };
    uint32_t n = net->n;
    uint8_t *bits = calloc(net->switches + 1, 1);
    uint64_t *in = calloc((size_t)n * W, 8), *out = calloc((size_t)n * W, 8),
             *scratch = calloc((size_t)n * W, 8);
    int ok = bits && in && out && scratch;
    if (ok && ovl_permnet_route(bits, net, dest) != OVL_OK)
        ok = 0;
    for (uint32_t i = 0; ok && i < n; i++) {
        in[i * W] = i;
        in[i * W + 1] = ~(uint64_t)i;
    }
    if (ok)
        ovl_permnet_apply(out, scratch, in, W, net, bits);
    for (uint32_t i = 0; ok && i < n; i++)
        ok = out[dest[i] * W] == i && out[dest[i] * W + 1] == ~(uint64_t)i;
    free(bits), free(in), free(out), free(scratch);
    return ok;
}

static void shuffle(uint32_t *p, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        p[i] = i;
    for (uint32_t i = n; i > 1; i--) {
        uint32_t j = randombytes_uniform(i);
        uint32_t t = p[i - 1];
        p[i - 1] = p[j];
        p[j] = t;
    }
}

static void counts_switches(void)
{
    static const uint32_t ns[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 31, 32, 33, 1000, 1024, 65536};
    for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
        ovl_permnet net;
        EXPECT_OK(ovl_permnet_new(&net, ns[i]));
        EXPECT_EQ(net.switches, sum_ceil_log2(ns[i]));
        ovl_permnet_free(&net);
    }
    ovl_permnet net;
    EXPECT_ERR(OVL_ERR_USAGE, ovl_permnet_new(&net, 0));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_permnet_new(&net, OVL_PERMNET_MAX_N + 1));
}

/* Every permutation of n <= 6 elements (Heap's algorithm). */
static void routes_every_small_permutation(void)
{
    for (uint32_t n = 1; n <= 6; n++) {
        ovl_permnet net;
        EXPECT_OK(ovl_permnet_new(&net, n));
        uint32_t p[6], c[6] = {0};
        for (uint32_t i = 0; i < n; i++)
            p[i] = i;
        int all = routes(&net, p), count = 1;
        for (uint32_t i = 1; i < n;) {
            if (c[i] < i) {
                uint32_t j = i % 2 ? c[i] : 0, t = p[j];
                p[j] = p[i];
                p[i] = t;
                all &= routes(&net, p);
                count++;
                c[i]++;
                i = 1;
            } else {
                c[i++] = 0;
            }
        }
        EXPECT_TRUE(all);
        EXPECT_EQ(count, n == 1 ? 1 : n == 2 ? 2 : n == 3 ? 6 : n == 4 ? 24 : n == 5 ? 120 : 720);
        ovl_permnet_free(&net);
    }
}

static void routes_random_permutations(void)
{
    static uint32_t p[3001];
    static const uint32_t ns[] = {7, 8, 9, 15, 16, 17, 100, 127, 128, 129, 1000, 3001};
    for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
        ovl_permnet net;
        EXPECT_OK(ovl_permnet_new(&net, ns[i]));
        int all = 1;
        for (int round = 0; round < 8; round++) {
            shuffle(p, ns[i]);
            all &= routes(&net, p);
        }
        for (uint32_t j = 0; j < ns[i]; j++)
            p[j] = ns[i] - 1 - j;
        all &= routes(&net, p);
        for (uint32_t j = 0; j < ns[i]; j++)
            p[j] = j;
        all &= routes(&net, p);
        EXPECT_TRUE(all);
        ovl_permnet_free(&net);
    }
}

static void refuses_non_permutations(void)
{
    ovl_permnet net;
    EXPECT_OK(ovl_permnet_new(&net, 5));
    uint8_t bits[16];
    uint32_t dup[5] = {0, 1, 2, 2, 4}, big[5] = {0, 1, 2, 3, 5};
    EXPECT_ERR(OVL_ERR_USAGE, ovl_permnet_route(bits, &net, dup));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_permnet_route(bits, &net, big));
    ovl_permnet_free(&net);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    RUN(counts_switches);
    RUN(routes_every_small_permutation);
    RUN(routes_random_permutations);
    RUN(refuses_non_permutations);
    return ovl_t_summary("test_permnet");
}
