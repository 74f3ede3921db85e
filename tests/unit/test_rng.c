#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "crypto/rng.h"
#include "test.h"

enum { N = 100000 };

static bool is_permutation(const uint32_t *a, size_t n)
{
    bool *seen = calloc(n, sizeof *seen);
    bool ok = seen != NULL;
    for (size_t i = 0; ok && i < n; i++) {
        ok = a[i] < n && !seen[a[i]];
        if (ok)
            seen[a[i]] = true;
    }
    free(seen);
    return ok;
}

static void identity(uint32_t *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        a[i] = (uint32_t)i;
}

/* Unseeded: a permutation, a different one each call, with no index
 * favoured in its first position beyond chance. */
static void system_shuffle_is_fresh_permutation(void)
{
    uint32_t *a = calloc(N, sizeof *a), *b = calloc(N, sizeof *b);
    EXPECT_TRUE(a != NULL && b != NULL);
    if (a == NULL || b == NULL)
        goto out;
    ovl_rng r;
    ovl_rng_init_system(&r);
    identity(a, N);
    identity(b, N);
    ovl_rng_shuffle_u32(&r, a, N);
    ovl_rng_shuffle_u32(&r, b, N);
    EXPECT_TRUE(is_permutation(a, N));
    EXPECT_TRUE(is_permutation(b, N));
    EXPECT_TRUE(memcmp(a, b, N * sizeof *a) != 0);
    size_t fixed = 0;
    for (size_t i = 0; i < N; i++)
        fixed += a[i] == i;
    EXPECT_TRUE(fixed < 10); /* expected 1; 10 or more has probability < 1e-7 */
    /* The caller's rng is left in system mode. */
    EXPECT_TRUE(!r.seeded);
    unsigned first[4] = {0};
    for (int t = 0; t < 4000; t++) {
        uint32_t small[4] = {0, 1, 2, 3};
        ovl_rng_shuffle_u32(&r, small, 4);
        first[small[0]]++;
    }
    for (int k = 0; k < 4; k++)
        EXPECT_TRUE(first[k] > 850 && first[k] < 1150); /* 1000 +- 10 sigma */
out:
    free(a);
    free(b);
}

/* The system generator: small draws (from the buffer) and bulk draws (a
 * one-time key each) never repeat, within a thread, across threads, or
 * between a forked child and its parent; and every byte value turns up. */
static void *draw_in_thread(void *out)
{
    ovl_rng r;
    ovl_rng_init_system(&r);
    ovl_rng_bytes(&r, out, 32);
    return NULL;
}

static void system_draws_never_repeat(void)
{
    ovl_rng r;
    uint8_t a[32], b[32], big1[4096], big2[4096], th[32], child[32];
    unsigned counts[256] = {0};
    ovl_rng_init_system(&r);
    ovl_rng_bytes(&r, a, sizeof a);
    ovl_rng_bytes(&r, b, sizeof b);
    EXPECT_TRUE(memcmp(a, b, sizeof a) != 0);
    ovl_rng_bytes(&r, big1, sizeof big1);
    ovl_rng_bytes(&r, big2, sizeof big2);
    EXPECT_TRUE(memcmp(big1, big2, sizeof big1) != 0);
    for (size_t i = 0; i < sizeof big1; i++)
        counts[big1[i]]++;
    unsigned zero = 0;
    for (int v = 0; v < 256; v++)
        zero += counts[v] == 0;
    EXPECT_EQ(zero, 0u); /* each value ~16 times in 4096 bytes; none missing */
    /* 300 one-byte draws cross the 256-byte buffer's refill */
    uint8_t seq[300];
    for (size_t i = 0; i < sizeof seq; i++)
        ovl_rng_bytes(&r, seq + i, 1);
    EXPECT_TRUE(memcmp(seq, seq + 150, 100) != 0);
    pthread_t t;
    EXPECT_EQ(pthread_create(&t, NULL, draw_in_thread, th), 0);
    EXPECT_EQ(pthread_join(t, NULL), 0);
    ovl_rng_bytes(&r, a, sizeof a);
    EXPECT_TRUE(memcmp(th, a, sizeof a) != 0);
    /* a child's next draw differs from the parent's next draw */
    int fd[2];
    EXPECT_EQ(pipe(fd), 0);
    pid_t pid = fork();
    if (pid == 0) {
        ovl_rng_bytes(&r, child, sizeof child);
        ssize_t w = write(fd[1], child, sizeof child);
        _exit(w == (ssize_t)sizeof child ? 0 : 1);
    }
    ovl_rng_bytes(&r, a, sizeof a);
    EXPECT_EQ(read(fd[0], child, sizeof child), (ssize_t)sizeof child);
    int status = 0;
    EXPECT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    EXPECT_TRUE(memcmp(child, a, sizeof a) != 0);
    close(fd[0]);
    close(fd[1]);
    ovl_rng_wipe(&r);
}

/* Seeded: the same seed gives the same permutation (vectors/ rely on it). */
static void seeded_shuffle_is_reproducible(void)
{
    static const uint8_t seed[32] = {7};
    uint32_t a[1000], b[1000];
    ovl_rng r1, r2;
    ovl_rng_init_seeded(&r1, seed, "test");
    ovl_rng_init_seeded(&r2, seed, "test");
    identity(a, 1000);
    identity(b, 1000);
    ovl_rng_shuffle_u32(&r1, a, 1000);
    ovl_rng_shuffle_u32(&r2, b, 1000);
    EXPECT_TRUE(is_permutation(a, 1000));
    EXPECT_BYTES_EQ(a, b, sizeof a);
    ovl_rng_wipe(&r1);
    ovl_rng_wipe(&r2);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    RUN(system_shuffle_is_fresh_permutation);
    RUN(system_draws_never_repeat);
    RUN(seeded_shuffle_is_reproducible);
    return ovl_t_summary("test_rng");
}
