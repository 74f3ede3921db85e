/* aggregate v2 threshold comparison (protocols/aggregate/threshold.h, SPEC.md
 * §8.2): the circuit computes [a + b mod 2^32 >= T] for shares of D around and
 * far from T, within 63 AND gates, with T bound into its digest; through the
 * garbled-circuit engines (garbler = helper, evaluator = receiver, both
 * learn) every shuffled record's bit is right at both parties. */
#include <sodium.h>

#include "aggregate/threshold.h"
#include "mpc/gc.h"
#include "psi_harness.h"
#include "test.h"

static int eval(const ovl_circuit *c, uint64_t d)
{
    uint64_t a, b;
    randombytes_buf(&a, sizeof a);
    b = d - a;
    uint8_t in[2 * OVL_AGG2_D_BITS], out[1];
    ovl_agg2_threshold_bits(in, a);
    ovl_agg2_threshold_bits(in + OVL_AGG2_D_BITS, b);
    if (ovl_circuit_eval(c, out, in) != OVL_OK)
        return -1;
    return out[0];
}

static void compares_in_the_clear(void)
{
    static const uint64_t ts[] = {2, 3, 10, 100, 1000, 65536, 1u << 23};
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) {
        ovl_circuit c;
        uint64_t t = ts[i];
        EXPECT_OK(ovl_agg2_threshold_circuit(&c, t));
        EXPECT_TRUE(c.nand <= 63);
        EXPECT_EQ(c.in_bits, 64);
        EXPECT_EQ(c.out_bits, 1);
        int ok = 1;
        for (uint64_t d = t - 2; d <= t + 2; d++)
            for (int r = 0; r < 8; r++)
                ok &= eval(&c, d) == (d >= t);
        for (int r = 0; r < 64; r++) {
            uint64_t d = randombytes_uniform(1u << 23);
            ok &= eval(&c, d) == (d >= t);
        }
        ok &= eval(&c, 0) == 0;
        EXPECT_TRUE(ok);
        ovl_circuit_free(&c);
    }
    ovl_circuit c1, c2;
    uint8_t d1[32], d2[32];
    EXPECT_OK(ovl_agg2_threshold_circuit(&c1, 100));
    EXPECT_OK(ovl_agg2_threshold_circuit(&c2, 101));
    ovl_circuit_digest(d1, &c1);
    ovl_circuit_digest(d2, &c2);
    EXPECT_TRUE(memcmp(d1, d2, 32) != 0); /* the digest binds T */
    ovl_circuit_free(&c1);
    ovl_circuit_free(&c2);
    ovl_circuit c;
    EXPECT_ERR(OVL_ERR_USAGE, ovl_agg2_threshold_circuit(&c, 1));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_agg2_threshold_circuit(&c, (1u << 23) + 1));
}

static void compares_in_garbled_circuits(void)
{
    enum { N = 12, T = 10 };
    static const uint64_t d[N] = {0, 1, 9, 10, 11, 500, 9, 10, 2, 3000, 7, 10};
    uint8_t in_g[N * OVL_AGG2_D_BITS], in_e[N * OVL_AGG2_D_BITS];
    for (int i = 0; i < N; i++) {
        uint64_t a;
        randombytes_buf(&a, sizeof a);
        ovl_agg2_threshold_bits(in_g + i * OVL_AGG2_D_BITS, a);
        ovl_agg2_threshold_bits(in_e + i * OVL_AGG2_D_BITS, d[i] - a);
    }
    ovl_circuit c;
    EXPECT_OK(ovl_agg2_threshold_circuit(&c, T));
    ovl_rng rng[2];
    ovl_rng_init_system(&rng[0]);
    ovl_rng_init_system(&rng[1]);
    ovl_gc_config gcfg = {.role = OVL_GC_GARBLER, .party = 0, .circuit = &c,
                          .garbler_inputs = 1, .instances = N, .reveal = OVL_GC_REVEAL_BOTH,
                          .input = in_g, .rng = &rng[0]};
    ovl_gc_config ecfg = gcfg;
    ecfg.role = OVL_GC_EVALUATOR, ecfg.party = 1, ecfg.input = in_e, ecfg.rng = &rng[1];
    ovl_gc *g = NULL, *e = NULL;
    EXPECT_OK(ovl_gc_new(&g, &gcfg));
    EXPECT_OK(ovl_gc_new(&e, &ecfg));
    if (g && e) {
        hx_side side[2];
        hx_init(&side[0], &ovl_gc_ops, g);
        hx_init(&side[1], &ovl_gc_ops, e);
        hx_run(&side[0], &side[1], NULL, NULL);
        EXPECT_TRUE(side[0].rc == OVL_OK && side[1].rc == OVL_OK);
        int ok = 1, passing = 0;
        for (uint32_t i = 0; i < N && side[0].rc == OVL_OK && side[1].rc == OVL_OK; i++) {
            const uint8_t *og = ovl_gc_output(g, i), *oe = ovl_gc_output(e, i);
            ok &= og && oe && og[0] == (d[i] >= T) && oe[0] == og[0];
            passing += og && og[0];
        }
        EXPECT_TRUE(ok);
        EXPECT_EQ(passing, 6);
        hx_free(&side[0]);
        hx_free(&side[1]);
    }
    ovl_gc_free(g);
    ovl_gc_free(e);
    ovl_circuit_free(&c);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    RUN(compares_in_the_clear);
    RUN(compares_in_garbled_circuits);
    return ovl_t_summary("test_agg_threshold");
}
