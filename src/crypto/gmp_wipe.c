#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gmp.h>
#include <sodium.h>

#include "crypto/gmp_wipe.h"

/* GMP has no way to report a failed allocation; like its default allocator we
 * stop the process (this is memory exhaustion, not peer input). */
static void *wipe_alloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL) {
        fputs("overlap: out of memory in GMP\n", stderr);
        abort();
    }
    return p;
}

/* A fresh block and a wiped old one: realloc() could leave key limbs behind. */
static void *wipe_realloc(void *old, size_t old_size, size_t new_size)
{
    void *p = wipe_alloc(new_size);
    if (old != NULL) {
        memcpy(p, old, old_size < new_size ? old_size : new_size);
        sodium_memzero(old, old_size);
        free(old);
    }
    return p;
}

static void wipe_free(void *p, size_t size)
{
    if (p == NULL)
        return;
    sodium_memzero(p, size);
    free(p);
}

static pthread_once_t wipe_once = PTHREAD_ONCE_INIT;

static void wipe_install_once(void)
{
    mp_set_memory_functions(wipe_alloc, wipe_realloc, wipe_free);
}

void ovl_gmp_wipe_install(void)
{
    (void)pthread_once(&wipe_once, wipe_install_once);
}

bool ovl_gmp_get_limbs(mp_limb_t *out, size_t n, const mpz_t v)
{
    size_t used = mpz_size(v);
    if (mpz_sgn(v) < 0 || used > n)
        return false;
    if (used > 0)
        memcpy(out, mpz_limbs_read(v), used * sizeof *out);
    memset(out + used, 0, (n - used) * sizeof *out);
    return true;
}

__attribute__((noinline)) void ovl_gmp_set_limbs(mpz_t v, const mp_limb_t *p, size_t n)
{
    mp_limb_t *d = mpz_limbs_write(v, (mp_size_t)n);
    memcpy(d, p, n * sizeof *d);
    mpz_limbs_finish(v, (mp_size_t)n);
    /* Keeps this frame on the stack (no tail call) for the ct.supp entry. */
    __asm__ volatile("" ::: "memory");
}
