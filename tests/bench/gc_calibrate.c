/* Calibration for the garbled-circuit part of `make bench`: on one core, the
 * pipelined AES-128 block time t_AES (fixed-key π through ovl_aes_ecb, whole
 * batches, as the hash uses it) and the in-process cost of garbling and of
 * evaluating one AND gate of the Bristol AES-128 circuit (src/mpc/garble.h,
 * labels handed over directly, no network), each the best of 5 rounds.
 *
 * usage: gc_calibrate CIRCUIT [--seconds S]
 * Prints one JSON object: ns_per_aes_block, ns_per_and_garble, ns_per_and_eval. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "crypto/group.h"
#include "mpc/bristol.h"
#include "mpc/garble.h"
#include "mpc/hash.h"

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double aes_ns(double seconds)
{
    enum { N = 4096 };
    static ovl_block buf[N];
    ovl_aes a;
    double best = 1e30;
    if (ovl_aes_init(&a, ovl_aes_fixed_key) != OVL_OK)
        exit(1);
    for (int round = 0; round < 5; round++) {
        uint64_t blocks = 0;
        double t0 = cpu_s(), t1;
        do {
            if (ovl_aes_ecb(&a, buf, buf, N) != OVL_OK)
                exit(1);
            blocks += N;
        } while ((t1 = cpu_s()) - t0 < seconds / 5);
        double ns = (t1 - t0) * 1e9 / (double)blocks;
        best = ns < best ? ns : best;
    }
    ovl_aes_free(&a);
    return best;
}

/* Garbles and evaluates instances for `seconds` in 5 rounds; CPU ns per AND of
 * each, the best round (as for t_AES: other processes on the machine only ever
 * add time). */
static void gc_ns(const ovl_circuit *c, double seconds, double *g_ns, double *e_ns)
{
    ovl_tweak_space sp;
    ovl_hash h;
    ovl_tweak_stream ts;
    ovl_buf tables;
    uint8_t d[16];
    ovl_tweak_space_init(&sp, NULL);
    if (ovl_hash_init(&h, &sp) != OVL_OK || ovl_tweak_open(&sp, &ts, OVL_TWEAK_GC, 0) != OVL_OK ||
        ovl_buf_alloc(&tables, 1 << 16, (size_t)c->nand * OVL_GC_TABLE_BYTES + 64) != OVL_OK)
        exit(1);
    randombytes_buf(d, sizeof d);
    ovl_block delta = ovl_block_set_lsb(ovl_block_load(d));
    ovl_gc_state g, e;
    if (ovl_gc_state_init(&g, c, &h, true, delta, &ts, 0) != OVL_OK ||
        ovl_gc_state_init(&e, c, &h, false, delta, &ts, 0) != OVL_OK)
        exit(1);
    *g_ns = *e_ns = 1e30;
    for (int round = 0; round < 5; round++) {
        double tg = 0, te = 0;
        uint64_t ands = 0;
        while (tg + te < seconds / 5) {
            uint64_t base;
            uint32_t n;
            if (ovl_tweak_take(&ts, ovl_gc_tweaks_needed(c), &base) != OVL_OK)
                exit(1);
            /* As the engine does: one state per party, restarted per instance. */
            ovl_gc_state_restart(&g, base);
            ovl_gc_state_restart(&e, base);
            randombytes_buf(g.w, (size_t)c->in_bits * sizeof *g.w);
            memcpy(e.w, g.w, (size_t)c->in_bits * sizeof *g.w);
            ovl_buf_clear(&tables);
            double t0 = cpu_s();
            if (ovl_gc_garble(&g, &tables, UINT32_MAX, &n) != OVL_OK)
                exit(1);
            double t1 = cpu_s();
            if (ovl_gc_evaluate(&e, tables.data, n) != OVL_OK)
                exit(1);
            double t2 = cpu_s();
            tg += t1 - t0;
            te += t2 - t1;
            ands += c->nand;
        }
        double gr = tg * 1e9 / (double)ands, er = te * 1e9 / (double)ands;
        *g_ns = gr < *g_ns ? gr : *g_ns;
        *e_ns = er < *e_ns ? er : *e_ns;
    }
    ovl_gc_state_free(&g);
    ovl_gc_state_free(&e);
    ovl_buf_free(&tables);
    ovl_hash_free(&h);
}

int main(int argc, char **argv)
{
    double seconds = 2.0, g_ns, e_ns;
    ovl_circuit c;
    if (argc != 2 && !(argc == 4 && strcmp(argv[2], "--seconds") == 0)) {
        fprintf(stderr, "usage: gc_calibrate CIRCUIT [--seconds S]\n");
        return 2;
    }
    if (argc == 4)
        seconds = atof(argv[3]);
    if (ovl_crypto_init() != OVL_OK || ovl_bristol_load(&c, argv[1]) != OVL_OK) {
        fprintf(stderr, "gc_calibrate: %s\n", ovl_err_detail());
        return 1;
    }
    double t_aes = aes_ns(seconds / 2);
    gc_ns(&c, seconds / 2, &g_ns, &e_ns);
    printf("{\"ns_per_aes_block\": %.4f, \"ns_per_and_garble\": %.3f, \"ns_per_and_eval\": %.3f, "
           "\"and_gates\": %u}\n", t_aes, g_ns, e_ns, c.nand);
    ovl_circuit_free(&c);
    return 0;
}
