/* OT-extension benchmark for `make bench` (tests/bench/bench.py): random
 * correlated OTs per second on one core, as a ratio to the pipelined AES-128
 * block time calibrated in the same run.
 *
 * usage: ot_bench [--seconds S]
 * Prints one JSON object. Both parties run in this one thread (receiver and
 * sender of every batch: PRG columns, transpose, KOS check, the four
 * messages), so cot_ns is the cost of one COT to both parties together on one
 * core; CPU time of the thread, median of 5 rounds. aes_block_ns is
 * ovl_aes_ecb over 1024-block batches (what the PRG and hash pipeline). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "../unit/ot_harness.h"
#include "crypto/group.h"

enum { ROUNDS = 5, AES_BATCH = 1024 };

static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v)
{
    qsort(v, ROUNDS, sizeof *v, cmp_double);
    return v[ROUNDS / 2];
}

static void die(const char *what)
{
    fprintf(stderr, "ot_bench: %s failed: %s\n", what, ovl_err_detail());
    exit(1);
}

static double aes_block_ns(double seconds)
{
    static ovl_block blk[AES_BATCH];
    ovl_aes a;
    double per[ROUNDS];
    if (ovl_aes_init(&a, ovl_aes_fixed_key) != OVL_OK)
        die("AES key");
    randombytes_buf(blk, sizeof blk);
    for (int r = 0; r < ROUNDS; r++) {
        size_t calls = 0;
        double t0 = cpu_now(), t1;
        do {
            for (int k = 0; k < 64; k++)
                if (ovl_aes_ecb(&a, blk, blk, AES_BATCH) != OVL_OK)
                    die("AES");
            calls += 64;
            t1 = cpu_now();
        } while (t1 - t0 < seconds / ROUNDS);
        per[r] = (t1 - t0) * 1e9 / ((double)calls * AES_BATCH);
    }
    ovl_aes_free(&a);
    return median(per);
}

/* The four messages of a batch, allocated once and reused as a driver would. */
static ovl_buf msg_u, msg_chal, msg_proof;

static void one_batch(ot_pair *p, const uint8_t *ch, ovl_cot **bs, ovl_cot **br)
{
    ovl_buf_clear(&msg_u);
    ovl_buf_clear(&msg_chal);
    ovl_buf_clear(&msg_proof);
    if (ovl_cot_recv_start(br, p->ot[1], ch, OVL_COT_BATCH_MAX, &msg_u) != OVL_OK ||
        ovl_cot_send_start(bs, p->ot[0], &msg_u, &msg_chal) != OVL_OK ||
        ovl_cot_recv_prove(*br, &msg_chal, &msg_proof) != OVL_OK ||
        ovl_cot_send_verify(*bs, &msg_proof) != OVL_OK)
        die("COT batch");
}

/* One round: as many full batches as fit in `seconds`; ns per COT, and per
 * random OT when hashed is set (both parties' hashes included). */
static double cot_ns(ot_pair *p, const uint8_t *ch, double seconds, int hashed)
{
    static ovl_block m0[OVL_COT_BATCH_MAX], m1[OVL_COT_BATCH_MAX], m[OVL_COT_BATCH_MAX];
    size_t done = 0;
    double t0 = cpu_now(), t1;
    do {
        ovl_cot *bs, *br;
        one_batch(p, ch, &bs, &br);
        if (hashed && (ovl_rot_send(bs, m0, m1) != OVL_OK || ovl_rot_recv(br, m) != OVL_OK))
            die("random OT");
        if (!hashed && (ovl_cot_blocks(bs) == NULL || ovl_cot_blocks(br) == NULL))
            die("COT outputs");
        ovl_cot_free(bs);
        ovl_cot_free(br);
        done += OVL_COT_BATCH_MAX;
        t1 = cpu_now();
    } while (t1 - t0 < seconds);
    return (t1 - t0) * 1e9 / (double)done;
}

int main(int argc, char **argv)
{
    double seconds = 2.0, cot[ROUNDS], rot[ROUNDS];
    static uint8_t ch[OVL_COT_BATCH_MAX / 8];
    ot_pair p;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            seconds = atof(argv[++i]);
        else {
            fprintf(stderr, "usage: ot_bench [--seconds S]\n");
            return 2;
        }
    }
    if (ovl_crypto_init() != OVL_OK)
        die("crypto init");
    double t_aes = aes_block_ns(seconds / 4);
    double b0 = cpu_now();
    if (ot_pair_new(&p, NULL, NULL, NULL, NULL, NULL) != OVL_OK)
        die("base OTs");
    double base_ms = (cpu_now() - b0) * 1e3;
    randombytes_buf(ch, sizeof ch);
    if (ovl_buf_alloc(&msg_u, ovl_cot_u_msg_len(OVL_COT_BATCH_MAX), 2u << 20) != OVL_OK ||
        ovl_buf_alloc(&msg_chal, 64, 64) != OVL_OK || ovl_buf_alloc(&msg_proof, 64, 64) != OVL_OK)
        die("buffers");
    for (int r = 0; r < ROUNDS; r++) {
        cot[r] = cot_ns(&p, ch, seconds / (2 * ROUNDS), 0);
        rot[r] = cot_ns(&p, ch, seconds / (2 * ROUNDS), 1);
    }
    double c = median(cot), ro = median(rot);
    printf("{\"aes_block_ns\": %.4f, \"batch\": %u, \"cot_ns\": %.3f, \"cot_per_s\": %.0f, "
           "\"cot_ns_over_aes_block\": %.3f, \"rot_ns\": %.3f, \"rot_per_s\": %.0f, "
           "\"rot_ns_over_aes_block\": %.3f, \"base_ot_both_directions_ms\": %.1f}\n",
           t_aes, OVL_COT_BATCH_MAX, c, 1e9 / c, c / t_aes, ro, 1e9 / ro, ro / t_aes, base_ms);
    ot_pair_free(&p);
    ovl_buf_free(&msg_u);
    ovl_buf_free(&msg_chal);
    ovl_buf_free(&msg_proof);
    return 0;
}
