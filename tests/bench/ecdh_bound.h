/* The ECDH-PSI bound the circuit-PSI and aggregate benchmarks compare with
 * (cpsi_bench, agg2_bench): the CPU seconds of one hash-to-group and of one
 * scalar multiplication on this machine, so ECDH PSI on n identifiers per
 * party costs n·(2·t_hash + 4·t_mult) CPU seconds (one core) and half that
 * over two. Measured in CPU time, so other load on the machine does not
 * inflate them. Header-only: each benchmark is one translation unit. */
#ifndef OVL_BENCH_ECDH_BOUND_H
#define OVL_BENCH_ECDH_BOUND_H

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/group.h"

static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static inline double bench_cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static inline void bench_ecdh_calibrate(double *t_hash, double *t_mult)
{
    const ovl_group *g = ovl_group_default();
    uint8_t p[32], s[32] = {7}, q[32], msg[32] = {0};
    enum { K = 3000 };
    double t0 = bench_cpu_now();
    for (int i = 0; i < K; i++) {
        msg[0] = (uint8_t)i;
        msg[1] = (uint8_t)(i >> 8);
        if (g->hash_to_group(p, msg, sizeof msg, (const uint8_t *)"bench", 5) != OVL_OK)
            abort();
    }
    *t_hash = (bench_cpu_now() - t0) / K;
    t0 = bench_cpu_now();
    for (int i = 0; i < K; i++) {
        if (g->scalar_mult(q, s, p) != OVL_OK)
            abort();
        memcpy(p, q, 32);
    }
    *t_mult = (bench_cpu_now() - t0) / K;
}

/* One core's CPU seconds of ECDH PSI on n identifiers per party. */
static inline double bench_ecdh_bound_1core(size_t n, double t_hash, double t_mult)
{
    return (double)n * (2 * t_hash + 4 * t_mult);
}

#endif
