/* Pair-condition circuit benchmark (protocols/aggregate/CONDITIONS.md §6):
 * the bin circuit of the 30-day attribution window (one 17-bit BETWEEN, no
 * dimensions) garbled and evaluated in one thread through the half-gates
 * engine at caps 1, 2, 4 and 8, reporting per bin the AND gates, the bytes
 * both parties sent and the garbled-circuit part of the SPEC's byte formula
 * (32·ANDs + 16 per input bit + output decoding), and the CPU time of both
 * parties together.
 *
 * usage: pairs_bench [--bins N]   (bins at cap 1; fewer at larger caps)
 * Prints one JSON object per cap. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "../unit/psi_harness.h"
#include "crypto/group.h"
#include "crypto/rng.h"
#include "mpc/gc.h"
#include "mpc/pairs.h"

static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int run_cap(uint32_t cap, uint32_t bins)
{
    ovl_pc_shape s = {.cap_r = cap, .cap_c = cap, .groups_r = 1, .groups_c = 1, .nconds = 1,
                      .conds = {{.op = OVL_PC_BETWEEN, .width = OVL_PC_DATE_BITS}}};
    ovl_circuit c;
    if (ovl_circuit_pairs(&c, &s) != OVL_OK)
        return 1;
    uint32_t gbits = c.in_width[0] + c.in_width[1], ebits = c.in_width[2] + c.in_width[3];
    uint8_t *gin = malloc((size_t)bins * gbits), *ein = malloc((size_t)bins * ebits);
    if (!gin || !ein)
        return 1;
    for (size_t i = 0; i < (size_t)bins * gbits; i++)
        gin[i] = (uint8_t)randombytes_uniform(2);
    for (size_t i = 0; i < (size_t)bins * ebits; i++)
        ein[i] = (uint8_t)randombytes_uniform(2);
    ovl_rng rng[2];
    ovl_rng_init_system(&rng[0]);
    ovl_rng_init_system(&rng[1]);
    ovl_gc_config g = {.role = OVL_GC_GARBLER, .party = 0, .circuit = &c, .garbler_inputs = 2,
                       .instances = bins, .reveal = OVL_GC_REVEAL_EVALUATOR, .input = gin,
                       .rng = &rng[0]};
    ovl_gc_config e = g;
    e.role = OVL_GC_EVALUATOR;
    e.party = 1;
    e.input = ein;
    e.rng = &rng[1];
    ovl_gc *pg = NULL, *pe = NULL;
    hx_side side[2];
    if (ovl_gc_new(&pg, &g) != OVL_OK || ovl_gc_new(&pe, &e) != OVL_OK)
        return 1;
    hx_init(&side[0], &ovl_gc_ops, pg);
    hx_init(&side[1], &ovl_gc_ops, pe);
    double t0 = cpu_now();
    hx_run(&side[0], &side[1], NULL, NULL);
    double t1 = cpu_now();
    if (side[0].rc != OVL_OK || side[1].rc != OVL_OK) {
        fprintf(stderr, "pairs_bench: run failed: %s / %s\n", side[0].detail, side[1].detail);
        return 1;
    }
    double bytes = (double)(side[0].log.wpos + side[1].log.wpos) / bins;
    double formula = 32.0 * c.nand + 16.0 * (gbits + ebits) + (c.out_bits + 7) / 8;
    printf("{\"cap\": %u, \"bins\": %u, \"and_gates_per_bin\": %u, \"bytes_per_bin\": %.1f, "
           "\"formula_gc_bytes_per_bin\": %.0f, \"ratio\": %.3f, \"cpu_us_per_bin\": %.2f}\n",
           cap, bins, c.nand, bytes, formula, bytes / formula, 1e6 * (t1 - t0) / bins);
    ovl_gc_free(pg);
    ovl_gc_free(pe);
    hx_free(&side[0]);
    hx_free(&side[1]);
    free(gin);
    free(ein);
    ovl_circuit_free(&c);
    return 0;
}

int main(int argc, char **argv)
{
    uint32_t bins = 16384;
    if (argc == 3 && strcmp(argv[1], "--bins") == 0)
        bins = (uint32_t)strtoul(argv[2], NULL, 10);
    else if (argc != 1) {
        fprintf(stderr, "usage: pairs_bench [--bins N]\n");
        return 2;
    }
    if (bins < 64 || bins > (1u << 20) || ovl_crypto_init() != OVL_OK) {
        fprintf(stderr, "pairs_bench: --bins must be 64 to 1048576\n");
        return 2;
    }
    for (uint32_t cap = 1; cap <= 8; cap *= 2) {
        uint32_t n = bins / (cap * cap) < 64 ? 64 : bins / (cap * cap);
        if (run_cap(cap, n) != 0)
            return 1;
    }
    return 0;
}
