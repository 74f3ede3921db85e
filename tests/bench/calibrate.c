/* Calibration for `make bench`: the single-core cost of the exact group
 * operations the PSI engine performs per element, measured on this machine in
 * the same run as the two-party benchmark (tests/bench/bench.py).
 *
 * usage: calibrate [--seconds S] [--threads T]
 * Prints one JSON object: microseconds of CPU time per hash-to-group (with the PSI DST),
 * per scalar multiplication (the engine's scalar_mult, which decodes and
 * validates its input point), per point validation, and per result tag
 * (SHA-512 of one element). With --threads T > 1 it also measures how many
 * scalar multiplications per second T threads achieve together, which shows
 * how close to T times the single-core rate the machine really scales. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "crypto/group.h"
#include "crypto/r255x8.h"
#include "psi/psi.h"

enum { POOL = 1024, ROUNDS = 5, BATCH = 64 };

typedef struct {
    const ovl_group *g;
    const uint8_t *dst;
    size_t dst_len;
    uint8_t scalar[OVL_GROUP_MAX_SCALAR];
    uint8_t ids[POOL][32];
    uint8_t points[POOL][OVL_GROUP_MAX_ELEM];
    const uint8_t *id_ptrs[POOL];
    uint8_t *packed; /* the points back to back, as the engine holds them */
    double seconds;
} bench_ctx;

typedef enum {
    OP_H2G,
    OP_MULT,
    OP_VALIDATE,
    OP_TAG,
    OP_H2G_BATCH,
    OP_MULT_BATCH
} bench_op;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The cost of an operation is the CPU time of the thread doing it: on an
 * idle core that equals wall time, and on a machine shared with other jobs
 * it leaves out the time the scheduler gave them. */
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs `iters` operations; returns the number that failed (must be 0). */
static size_t run_ops(const bench_ctx *c, bench_op op, size_t iters)
{
    uint8_t out[BATCH * OVL_GROUP_MAX_ELEM];
    size_t bad = 0, first;
    for (size_t i = 0; i < iters; i++) {
        size_t k = i % POOL;
        ovl_err rc = OVL_OK;
        switch (op) {
        case OP_H2G:
            rc = c->g->hash_to_group(out, c->ids[k], 32, c->dst, c->dst_len);
            break;
        case OP_MULT:
            rc = c->g->scalar_mult(out, c->scalar, c->points[k]);
            break;
        case OP_VALIDATE:
            rc = c->g->validate(c->points[k]);
            break;
        case OP_TAG:
            crypto_hash_sha512(out, c->points[k], c->g->elem_len);
            break;
        /* What the PSI engine calls: BATCH elements per operation. */
        case OP_H2G_BATCH:
            rc = c->g->hash_to_group_batch(out, c->id_ptrs + (k / BATCH) * BATCH, 32, BATCH,
                                           c->dst, c->dst_len);
            break;
        case OP_MULT_BATCH:
            rc = c->g->scalar_mult_batch(out, &first, c->scalar, 0,
                                         c->packed + (k / BATCH) * BATCH * c->g->elem_len,
                                         BATCH);
            break;
        default:
            rc = OVL_ERR_INTERNAL;
            break;
        }
        bad += rc != OVL_OK;
    }
    return bad;
}

/* Microseconds per operation: the median of ROUNDS timed rounds, each sized
 * from a short trial so a round lasts about seconds / ROUNDS. */
static double time_op(const bench_ctx *c, bench_op op, size_t *bad)
{
    double t0 = cpu_s();
    size_t trial = 64;
    *bad += run_ops(c, op, trial);
    double per = (cpu_s() - t0) / (double)trial;
    size_t iters = (size_t)(c->seconds / ROUNDS / (per > 1e-9 ? per : 1e-9));
    if (iters < 16)
        iters = 16;
    double us[ROUNDS];
    for (int r = 0; r < ROUNDS; r++) {
        t0 = cpu_s();
        *bad += run_ops(c, op, iters);
        us[r] = (cpu_s() - t0) * 1e6 / (double)iters;
    }
    for (int i = 1; i < ROUNDS; i++)
        for (int j = i; j > 0 && us[j - 1] > us[j]; j--) {
            double t = us[j];
            us[j] = us[j - 1];
            us[j - 1] = t;
        }
    return us[ROUNDS / 2];
}

typedef struct {
    const bench_ctx *c;
    size_t iters, bad;
} thread_arg;

static void *thread_main(void *p)
{
    thread_arg *a = p;
    a->bad = run_ops(a->c, OP_MULT, a->iters);
    return NULL;
}

/* Aggregate scalar multiplications per second with `threads` threads. */
static double parallel_rate(const bench_ctx *c, size_t threads, double mult_us, size_t *bad)
{
    pthread_t tid[64];
    thread_arg args[64];
    size_t iters = (size_t)(c->seconds * 1e6 / mult_us / 2);
    double t0 = now_s();
    size_t started = 0;
    for (size_t i = 0; i < threads; i++) {
        args[i] = (thread_arg){.c = c, .iters = iters};
        if (pthread_create(&tid[i], NULL, thread_main, &args[i]) != 0)
            break;
        started++;
    }
    for (size_t i = 0; i < started; i++) {
        pthread_join(tid[i], NULL);
        *bad += args[i].bad;
    }
    double el = now_s() - t0;
    return (double)(started * iters) / el;
}

static int setup(bench_ctx *c)
{
    uint8_t wide[64];
    c->g = ovl_group_default();
    if (ovl_psi_dst(c->g, &c->dst, &c->dst_len) != OVL_OK)
        return -1;
    randombytes_buf(wide, sizeof wide);
    if (c->g->scalar_from_bytes(c->scalar, wide) != OVL_OK)
        return -1;
    for (size_t i = 0; i < POOL; i++) {
        randombytes_buf(c->ids[i], sizeof c->ids[i]);
        if (c->g->hash_to_group(c->points[i], c->ids[i], 32, c->dst, c->dst_len) != OVL_OK)
            return -1;
        c->id_ptrs[i] = c->ids[i];
    }
    c->packed = malloc(POOL * c->g->elem_len);
    if (c->packed == NULL)
        return -1;
    for (size_t i = 0; i < POOL; i++)
        memcpy(c->packed + i * c->g->elem_len, c->points[i], c->g->elem_len);
    return 0;
}

int main(int argc, char **argv)
{
    static bench_ctx c;
    size_t threads = 1, bad = 0;
    c.seconds = 2.0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            c.seconds = atof(argv[++i]);
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            threads = (size_t)strtoul(argv[++i], NULL, 10);
        else {
            fprintf(stderr, "usage: calibrate [--seconds S] [--threads T]\n");
            return 2;
        }
    }
    if (c.seconds <= 0 || threads < 1 || threads > 64) {
        fprintf(stderr, "calibrate: --seconds must be > 0 and --threads 1..64\n");
        return 2;
    }
    if (ovl_crypto_init() != OVL_OK || setup(&c) != 0) {
        fprintf(stderr, "calibrate: cannot set up the group: %s\n", ovl_err_detail());
        return 1;
    }
    double h2g = time_op(&c, OP_H2G, &bad);
    double mult = time_op(&c, OP_MULT, &bad);
    double validate = time_op(&c, OP_VALIDATE, &bad);
    double tag = time_op(&c, OP_TAG, &bad);
    /* The batch calls on the arithmetic chosen (OVL_ARITH / auto), per element;
     * the single calls above are always libsodium's. */
    double h2g_batch = time_op(&c, OP_H2G_BATCH, &bad) / BATCH;
    double mult_batch = time_op(&c, OP_MULT_BATCH, &bad) / BATCH;
    double element = h2g + 2 * mult, element_batch = h2g_batch + 2 * mult_batch;
    double rate = threads > 1 ? parallel_rate(&c, threads, mult, &bad) : 1e6 / mult;
    if (bad != 0) {
        fprintf(stderr, "calibrate: %zu group operations failed\n", bad);
        return 1;
    }
    printf("{\"suite\":\"%s\",\"hash_to_group_us\":%.3f,\"scalar_mult_us\":%.3f,"
           "\"validate_us\":%.3f,\"tag_us\":%.3f,\"threads\":%zu,"
           "\"parallel_mults_per_s\":%.1f,\"single_mults_per_s\":%.1f",
           c.g->name, h2g, mult, validate, tag, threads, rate, 1e6 / mult);
    /* Per element of PSI: one hash to the group and two multiplications, each
     * multiplication decoding and validating its input and encoding its result. */
    printf(",\"arith\":\"%s\",\"batch_hash_to_group_us\":%.3f,\"batch_scalar_mult_us\":%.3f,"
           "\"element_us_libsodium\":%.3f,\"element_us_batch\":%.3f,\"element_speedup\":%.3f",
           ovl_arith_name(), h2g_batch, mult_batch, element, element_batch,
           element / element_batch);
    printf("}\n");
    return 0;
}
