/* The wire cost of aggregates version 2 by its formula (protocols/aggregate/
 * SPEC.md §11, ovl_agg2_cost_eval), part by part. A run's `--summary json`
 * gives the formula's total (cost_formula_bytes) and its inputs (plan_shape,
 * the arguments below in this order); tests/bench/bench.py passes that shape
 * here for the parts, and checks that the totals agree.
 *
 * usage: agg2_cost n m G_R G_C k_R k_C star w_R w_C released G_H runner_receives
 * Prints one JSON object with every part of the formula, in bytes. */
#include <stdio.h>
#include <stdlib.h>

#include "aggregate/cost.h"

int main(int argc, char **argv)
{
    unsigned long long v[12];
    if (argc != 13) {
        fprintf(stderr, "usage: agg2_cost n m G_R G_C k_R k_C star w_R w_C released G_H "
                        "runner_receives\n");
        return 2;
    }
    for (int i = 0; i < 12; i++) {
        char *end;
        v[i] = strtoull(argv[i + 1], &end, 10);
        if (*argv[i + 1] == '\0' || *end != '\0') {
            fprintf(stderr, "agg2_cost: argument %d is not a number\n", i + 1);
            return 2;
        }
    }
    ovl_agg2_cost_in in = {
        .n = v[0], .m = v[1], .groups_r = (uint32_t)v[2], .groups_c = (uint32_t)v[3],
        .words_r = (uint32_t)v[4], .words_c = (uint32_t)v[5], .star = (uint32_t)v[6],
        .bits_r = (uint32_t)v[7], .bits_c = (uint32_t)v[8], .released = (uint32_t)v[9],
        .helper_groups = (uint32_t)v[10], .runner_receives = (uint32_t)v[11],
    };
    ovl_agg2_cost c;
    if (ovl_agg2_cost_eval(&c, &in) != OVL_OK) {
        fprintf(stderr, "agg2_cost: %s\n", ovl_err_detail());
        return 2;
    }
    printf("{\"bins\": %u, \"sigma\": %u, \"oprf\": %llu, \"store\": %llu, \"cpsi_base\": %llu, "
           "\"payload\": %llu, \"bits\": %llu, \"type_a\": %llu, \"type_b\": %llu, "
           "\"shuffle\": %llu, \"compare\": %llu, \"release\": %llu, \"fixed\": %llu, "
           "\"batches\": %llu, \"total\": %llu}\n",
           c.bins, c.sigma, (unsigned long long)c.oprf, (unsigned long long)c.store,
           (unsigned long long)c.cpsi_base, (unsigned long long)c.payload,
           (unsigned long long)c.bits, (unsigned long long)c.type_a,
           (unsigned long long)c.type_b, (unsigned long long)c.shuffle,
           (unsigned long long)c.compare, (unsigned long long)c.release,
           (unsigned long long)c.fixed, (unsigned long long)c.batches,
           (unsigned long long)c.total);
    return 0;
}
