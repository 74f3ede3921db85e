/* `make bench`, multi-party PSI (protocols/mpsi/SPEC.md): K members with 2^N
 * identifiers each, all on this machine, one thread per member, frames
 * relayed in memory (no TLS). Calibrates in the same run, before and after,
 * the single-core cost of the two group operations the protocol needs
 * (hash-to-group and scalar multiplication, which decodes and validates its
 * input), and reports
 *   bound = (hashes x t_hash + multiplications x t_mult) / min(cores, K)
 *   ratio = wall / bound
 *   cpu_ratio = the busiest member's CPU / its own share of the group operations
 * with bytes sent per member and a check against the known intersection.
 * usage: mpsi_bench [log2 n (18)] [K (3)] [intersection|cardinality]
 *        mpsi_bench calibrate   (the two costs alone, for tests/bench/mpsi_procs.py) */
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/frame.h"
#include "crypto/group.h"
#include "mpsi/mpsi.h"

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    ovl_buf in[OVL_MPSI_MAX_MEMBERS][OVL_MPSI_MAX_MEMBERS]; /* [to][from] */
    unsigned k;
    int failed;
} relay;

typedef struct {
    relay *r;
    ovl_mpsi *m;
    unsigned self;
    double cpu;
    char err[256];
} member;

static double now(clockid_t c)
{
    struct timespec t;
    clock_gettime(c, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void *member_main(void *arg)
{
    member *me = arg;
    relay *r = me->r;
    ovl_buf f, mine[OVL_MPSI_MAX_MEMBERS];
    if (ovl_buf_alloc(&f, 64, OVL_FRAME_HDR + OVL_FRAME_MAX_PAYLOAD) != OVL_OK)
        abort();
    for (unsigned j = 0; j < r->k; j++)
        if (ovl_buf_alloc(&mine[j], 64, (size_t)1 << 32) != OVL_OK)
            abort();
    for (;;) {
        bool have = true, moved = false;
        unsigned to;
        while (have) {
            ovl_buf_clear(&f);
            if (ovl_mpsi_pull(me->m, &f, &to, &have) != OVL_OK)
                goto fail;
            if (have) {
                pthread_mutex_lock(&r->mu);
                if (ovl_buf_put_bytes(&r->in[to][me->self], f.data, f.wpos) != OVL_OK)
                    abort();
                pthread_cond_broadcast(&r->cv);
                pthread_mutex_unlock(&r->mu);
                moved = true;
            }
        }
        if (ovl_mpsi_done(me->m))
            break;
        pthread_mutex_lock(&r->mu);
        for (;;) {
            bool any = false;
            for (unsigned j = 0; j < r->k; j++) {
                ovl_buf *q = &r->in[me->self][j];
                if (ovl_buf_remaining(q)) {
                    if (ovl_buf_put_bytes(&mine[j], ovl_buf_rptr(q), ovl_buf_remaining(q)) != OVL_OK)
                        abort();
                    ovl_buf_clear(q);
                    any = true;
                }
            }
            if (any || moved || r->failed)
                break;
            pthread_cond_wait(&r->cv, &r->mu);
        }
        int failed = r->failed;
        pthread_mutex_unlock(&r->mu);
        if (failed)
            goto out;
        for (unsigned j = 0; j < r->k; j++) {
            for (;;) {
                uint8_t type;
                ovl_buf p;
                bool complete;
                if (ovl_frame_parse(&mine[j], OVL_FRAME_MAX_PAYLOAD, &type, &p, &complete) != OVL_OK)
                    goto fail;
                if (!complete)
                    break;
                if (ovl_mpsi_feed(me->m, j, type, ovl_buf_rptr(&p), ovl_buf_remaining(&p)) != OVL_OK)
                    goto fail;
            }
            ovl_buf_compact(&mine[j]);
        }
    }
    goto out;
fail:
    snprintf(me->err, sizeof me->err, "%s", ovl_err_detail());
    pthread_mutex_lock(&r->mu);
    r->failed = 1;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
out:
    me->cpu = now(CLOCK_THREAD_CPUTIME_ID);
    ovl_buf_free(&f);
    for (unsigned j = 0; j < r->k; j++)
        ovl_buf_free(&mine[j]);
    return NULL;
}

/* Microseconds of thread CPU per hash-to-group and per scalar multiplication. */
static void calibrate(double *t_hash, double *t_mult)
{
    const ovl_group *g = ovl_group_default();
    enum { N = 3000 };
    static const char dst[] = "OVERLAP-V1-MPSI-ristretto255_XMD:SHA-512_R255MAP_RO_";
    uint8_t s[32], p[32], id[32] = {1};
    if (g->scalar_random(s) != OVL_OK)
        abort();
    double t0 = now(CLOCK_THREAD_CPUTIME_ID);
    for (int i = 0; i < N; i++) {
        id[0] = (uint8_t)i;
        id[1] = (uint8_t)(i >> 8);
        if (g->hash_to_group(p, id, 32, (const uint8_t *)dst, sizeof dst - 1) != OVL_OK)
            abort();
    }
    double t1 = now(CLOCK_THREAD_CPUTIME_ID);
    for (int i = 0; i < N; i++)
        if (g->scalar_mult(p, s, p) != OVL_OK)
            abort();
    double t2 = now(CLOCK_THREAD_CPUTIME_ID);
    *t_hash = (t1 - t0) / N * 1e6;
    *t_mult = (t2 - t1) / N * 1e6;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "calibrate") == 0) {
        double th, tm;
        if (ovl_crypto_init() != OVL_OK)
            return 1;
        calibrate(&th, &tm);
        printf("{\"t_hash_us\": %.3f, \"t_mult_us\": %.3f}\n", th, tm);
        return 0;
    }
    unsigned lg = argc > 1 ? (unsigned)atoi(argv[1]) : 18, k = argc > 2 ? (unsigned)atoi(argv[2]) : 3;
    ovl_mode mode = argc > 3 && strcmp(argv[3], "cardinality") == 0 ? OVL_MODE_CARDINALITY
                                                                      : OVL_MODE_INTERSECTION;
    if (lg < 4 || lg > 22 || k < 3 || k > OVL_MPSI_MAX_MEMBERS || ovl_crypto_init() != OVL_OK) {
        fprintf(stderr, "usage: mpsi_bench [log2 n 4..22] [K 3..10] [intersection|cardinality]\n");
        return 2;
    }
    size_t n = (size_t)1 << lg, shift = n / (2 * (k - 1));
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    double th0, tm0, th1, tm1;
    calibrate(&th0, &tm0);
    uint8_t(*ids)[32] = malloc((size_t)k * n * 32);
    uint8_t pk[OVL_MPSI_MAX_MEMBERS][32], sk[OVL_MPSI_MAX_MEMBERS][64], session[32] = {9};
    uint64_t sizes[OVL_MPSI_MAX_MEMBERS];
    if (ids == NULL)
        return 1;
    /* member i holds values [i·shift, i·shift + n): all K share [(K-1)·shift, n) */
    for (unsigned i = 0; i < k; i++) {
        crypto_sign_keypair(pk[i], sk[i]);
        sizes[i] = n;
        for (size_t a = 0; a < n; a++) {
            uint64_t v = i * shift + a;
            crypto_hash_sha256(ids[i * n + a], (const uint8_t *)&v, sizeof v);
        }
    }
    uint64_t want = n - (k - 1) * shift;
    relay r = {.k = k};
    pthread_mutex_init(&r.mu, NULL);
    pthread_cond_init(&r.cv, NULL);
    for (unsigned a = 0; a < k; a++)
        for (unsigned b = 0; b < k; b++)
            if (ovl_buf_alloc(&r.in[a][b], 64, (size_t)1 << 32) != OVL_OK)
                return 1;
    member ms[OVL_MPSI_MAX_MEMBERS];
    pthread_t th[OVL_MPSI_MAX_MEMBERS];
    double w0 = now(CLOCK_MONOTONIC);
    for (unsigned i = 0; i < k; i++) {
        ovl_mpsi_config c = {.members = k, .self = i, .mode = mode, .reveal = OVL_REVEAL_BOTH,
                             .group = ovl_group_default(),
                             .ids = (const uint8_t(*)[32])(ids + i * n), .nids = n,
                             .set_sizes = sizes, .member_pk = (const uint8_t(*)[32])pk,
                             .sign_sk = sk[i], .session = session};
        ms[i] = (member){.r = &r, .self = i};
        if (ovl_mpsi_new(&ms[i].m, &c) != OVL_OK) {
            fprintf(stderr, "mpsi_bench: %s\n", ovl_err_detail());
            return 1;
        }
    }
    for (unsigned i = 0; i < k; i++)
        pthread_create(&th[i], NULL, member_main, &ms[i]);
    for (unsigned i = 0; i < k; i++)
        pthread_join(th[i], NULL);
    double wall = now(CLOCK_MONOTONIC) - w0;
    calibrate(&th1, &tm1);
    double t_hash = (th0 + th1) / 2, t_mult = (tm0 + tm1) / 2;
    /* §9: each member n hashes, n (mask) + (K-1)·n (relay) + n (back) multiplications;
     * cardinality: members 0 and 1 hash n more and multiply 2n more. */
    double hashes = (double)k * n, mults = (double)k * n * (k + 1);
    if (mode == OVL_MODE_CARDINALITY) {
        hashes += 2.0 * n;
        mults += 4.0 * n;
    }
    double par = (double)(cores < (long)k ? cores : (long)k);
    double bound = (hashes * t_hash + mults * t_mult) * 1e-6 / par;
    /* On a shared machine wall measures the neighbours too: the busiest
     * member's own CPU against its share of the bound (one core) does not. */
    double cpu_max = 0;
    for (unsigned i = 0; i < k; i++)
        cpu_max = ms[i].cpu > cpu_max ? ms[i].cpu : cpu_max;
    double member_bound = bound * par / k;
    int ok = 1;
    printf("{\"members\": %u, \"n\": %zu, \"mode\": \"%s\", \"cores\": %ld, \"t_hash_us\": %.2f, "
           "\"t_mult_us\": %.2f, \"hashes\": %.0f, \"mults\": %.0f, \"wall_s\": %.2f, "
           "\"bound_s\": %.2f, \"ratio\": %.3f, \"member_bound_cpu_s\": %.2f, "
           "\"cpu_ratio\": %.3f, \"members_cpu_s\": [",
           k, n, mode == OVL_MODE_CARDINALITY ? "cardinality" : "intersection", cores, t_hash,
           t_mult, hashes, mults, wall, bound, wall / bound, member_bound, cpu_max / member_bound);
    for (unsigned i = 0; i < k; i++)
        printf("%s%.2f", i ? ", " : "", ms[i].cpu);
    printf("], \"bytes_sent\": [");
    for (unsigned i = 0; i < k; i++)
        printf("%s%llu", i ? ", " : "", (unsigned long long)ovl_mpsi_bytes_sent(ms[i].m));
    printf("], \"expected\": %llu, \"results\": [", (unsigned long long)want);
    for (unsigned i = 0; i < k; i++) {
        const bool *matched;
        uint64_t count = 0;
        if (ms[i].err[0] || ovl_mpsi_result(ms[i].m, &matched, &count) != OVL_OK) {
            fprintf(stderr, "mpsi_bench: member %u: %s\n", i, ms[i].err);
            ok = 0;
        }
        printf("%s%llu", i ? ", " : "", (unsigned long long)count);
        ok &= count == want;
    }
    printf("], \"correct\": %s}\n", ok ? "true" : "false");
    for (unsigned i = 0; i < k; i++)
        ovl_mpsi_free(ms[i].m);
    free(ids);
    return ok ? 0 : 1;
}
