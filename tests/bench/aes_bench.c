/* Fixed-key AES-128 ECB throughput of each implementation ovl_aes_ecb chooses
 * from (src/mpc/hash.h), on one core: batches of 256 blocks (one chunk of the
 * TCCR hash), of 4096, and the short batches of 1, 8, 16 and 32 blocks, in place
 * as the hash runs it, the best of 5 rounds (other processes on the machine
 * only ever add time); S seconds per implementation in all.
 *
 * usage: aes_bench [--seconds S]
 * Prints one JSON object per implementation this CPU runs, then the one
 * ovl_aes_ecb picks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "mpc/hash.h"

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Blocks per second of impl over batches of n blocks. */
static double blocks_per_s(ovl_aes *a, ovl_aes_impl impl, size_t n, double seconds)
{
    /* 16 bytes past a 64-byte boundary, as the callers' block arrays may be:
     * a 64-byte register then straddles two cache lines on every load. */
    static _Alignas(64) ovl_block space[4096 + 1];
    ovl_block *buf = space + 1;
    double best = 0;
    randombytes_buf(buf, 4096 * sizeof *buf);
    for (int round = 0; round < 5; round++) {
        uint64_t blocks = 0;
        double t0 = cpu_s(), t1;
        do {
            for (int i = 0; i < 64; i++)
                if (ovl_aes_ecb_impl(a, impl, buf, buf, n) != OVL_OK)
                    exit(1);
            blocks += 64 * n;
        } while ((t1 = cpu_s()) - t0 < seconds / 5);
        double r = (double)blocks / (t1 - t0);
        best = r > best ? r : best;
    }
    return best;
}

int main(int argc, char **argv)
{
    double seconds = 2;
    ovl_aes a;
    if (argc == 3 && strcmp(argv[1], "--seconds") == 0)
        seconds = atof(argv[2]);
    else if (argc != 1) {
        fprintf(stderr, "usage: aes_bench [--seconds S]\n");
        return 2;
    }
    if (sodium_init() < 0 || seconds <= 0 || ovl_aes_init(&a, ovl_aes_fixed_key) != OVL_OK)
        return 1;
    static const size_t sizes[] = {1, 8, 16, 32, 256, 4096};
    enum { SIZES = sizeof sizes / sizeof sizes[0] };
    double evp[SIZES];
    for (int s = 0; s < SIZES; s++)
        evp[s] = blocks_per_s(&a, OVL_AES_EVP, sizes[s], seconds / SIZES);
    for (int impl = 0; impl < OVL_AES_IMPLS; impl++) {
        if (!ovl_aes_impl_runs((ovl_aes_impl)impl))
            continue;
        printf("{\"impl\": \"%s\"", ovl_aes_impl_name((ovl_aes_impl)impl));
        for (int s = 0; s < SIZES; s++) {
            double r = impl == OVL_AES_EVP
                           ? evp[s]
                           : blocks_per_s(&a, (ovl_aes_impl)impl, sizes[s], seconds / SIZES);
            printf(", \"blocks_per_s_%zu\": %.4g, \"vs_openssl_%zu\": %.2f", sizes[s], r,
                   sizes[s], r / evp[s]);
        }
        printf("}\n");
    }
    int best = 0;
    while (!ovl_aes_impl_runs((ovl_aes_impl)best))
        best++;
    printf("{\"ovl_aes_ecb\": \"%s\"}\n", ovl_aes_impl_name((ovl_aes_impl)best));
    ovl_aes_free(&a);
    return 0;
}
