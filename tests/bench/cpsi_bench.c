/* Circuit-PSI benchmark (protocols/cpsi/SPEC.md §11): both engines in one
 * process and one thread, through the two-engine harness, on 2^k identifiers
 * per party with half in common. Prints one JSON line: wall seconds, the
 * ECDH-PSI bound calibrated in the same run (2n hash-to-group + 4n scalar
 * multiplications, over 2 cores and over 1), bytes each party sent per runner
 * identifier, and the process's peak RSS (both parties together). The
 * engines run single-threaded: the ratio to the 1-core bound is the one that
 * measures the protocol, the 2-core one what a deployment would see today.
 *   cpsi_bench [log2 n (default 16)] [payload words, 0 = cardinality] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <sodium.h>

#include "cpsi/cpsi.h"
#include "crypto/group.h"
#include "core/frame.h"
#include "ecdh_bound.h"
#include "wire_pair.h"

int main(int argc, char **argv)
{
    unsigned lg = argc > 1 ? (unsigned)atoi(argv[1]) : 16;
    uint32_t words = argc > 2 ? (uint32_t)atoi(argv[2]) : 0;
    if (lg > 22 || ovl_crypto_init() != OVL_OK)
        return 2;
    size_t n = (size_t)1 << lg, total = n + n;
    uint8_t (*raw)[32] = calloc(total, 32);
    const uint8_t **ids = calloc(total, sizeof *ids);
    size_t *lens = calloc(total, sizeof *lens);
    uint64_t *payload = calloc(n * (words ? words : 1), sizeof *payload);
    if (!raw || !ids || !lens || !payload)
        return 1;
    /* runner: 0..n-1; contributor: n/2 .. n/2+n-1 */
    for (size_t i = 0; i < total; i++) {
        uint64_t v = i < n ? i : i - n + n / 2;
        crypto_hash_sha256(raw[i], (const uint8_t *)&v, sizeof v);
        ids[i] = raw[i];
        lens[i] = 32;
    }
    for (size_t i = 0; i < n * words; i++)
        payload[i] = i;
    double t_hash, t_mult;
    bench_ecdh_calibrate(&t_hash, &t_mult);
    ovl_mode mode = words ? OVL_MODE_AGGREGATE : OVL_MODE_CARDINALITY;
    ovl_cpsi_config r = {.role = OVL_ROLE_CONNECTOR, .runner = true, .mode = mode,
                         .reveal = OVL_REVEAL_BOTH, .ids = ids, .id_len = lens, .nids = n,
                         .words = words};
    ovl_cpsi_config c = {.role = OVL_ROLE_LISTENER, .runner = false, .mode = mode,
                         .reveal = OVL_REVEAL_BOTH, .ids = ids + n, .id_len = lens + n,
                         .nids = n, .payload = payload, .words = words};
    ovl_cpsi *er = NULL, *ec = NULL;
    wp_side s[2];
    double t0 = bench_now(), cpu0 = bench_cpu_now();
    if (ovl_cpsi_new(&er, &r) != OVL_OK || ovl_cpsi_new(&ec, &c) != OVL_OK ||
        !wp_init(s, &ovl_cpsi_ops, ec, er))
        return 1;
    (void)wp_run(&s[0], &s[1]); /* `ok` below says whether both completed */
    double wall = bench_now() - t0, cpu = bench_cpu_now();
    uint64_t count = 0;
    bool ok = ovl_cpsi_ops.done(er) && ovl_cpsi_ops.done(ec);
    if (!words)
        ok = ok && ovl_cpsi_count(er, &count) == OVL_OK;
    if (!ok)
        fprintf(stderr, "cpsi_bench: the run failed: %s\n", ovl_err_detail());
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double bound1 = bench_ecdh_bound_1core(n, t_hash, t_mult);
    printf("{\"log2_n\":%u,\"words\":%u,\"ok\":%s,\"count\":%llu,\"expected\":%zu,"
           "\"wall_s\":%.2f,\"ecdh_bound_1core_s\":%.2f,\"ecdh_bound_2core_s\":%.2f,"
           "\"ratio_to_2core_bound\":%.2f,\"t_hash_us\":%.1f,\"t_mult_us\":%.1f,"
           "\"cpu_s\":%.2f,\"ratio_cpu_to_1core_bound\":%.2f,\"runner_bytes_per_id\":%.0f,\"contributor_bytes_per_runner_id\":%.0f,"
           "\"total_bytes_per_runner_id\":%.0f,\"peak_rss_mib_both\":%.1f}\n",
           lg, words, ok ? "true" : "false", (unsigned long long)count, words ? 0 : n / 2, wall,
           bound1, bound1 / 2, wall / (bound1 / 2), 1e6 * t_hash, 1e6 * t_mult, cpu - cpu0,
           (cpu - cpu0) / bound1,
           (double)ovl_cpsi_bytes_sent(er) / (double)n,
           (double)ovl_cpsi_bytes_sent(ec) / (double)n,
           (double)(ovl_cpsi_bytes_sent(er) + ovl_cpsi_bytes_sent(ec)) / (double)n,
           (double)ru.ru_maxrss / 1024.0);
    wp_free(s);
    ovl_cpsi_free(er);
    ovl_cpsi_free(ec);
    free(raw);
    free(ids);
    free(lens);
    free(payload);
    return ok ? 0 : 1;
}
