#include <pthread.h>
#include <string.h>

#include <sodium.h>

#include "crypto/rng.h"

/* ---- the system generator: fast-key-erasure ChaCha20, one per thread ----
 *
 * getrandom() per draw cost a system call for every bin's few bytes and a
 * kernel ChaCha20 for every bulk fill: an eighth of a 2^20 aggregate run's
 * CPU at the busier party. Instead each thread keeps a 32-byte key drawn
 * from the system once; a refill expands it to a new key and a buffer, and
 * the old key is overwritten at once (Bernstein's fast-key-erasure design),
 * so a later memory disclosure reveals nothing already handed out. Served
 * bytes are wiped from the buffer; a draw of a bulk size gets a one-time key
 * of its own. A forked child starts a fresh key (pthread_atfork). */
enum { SYS_BUF = 256, SYS_BULK = 128 };

typedef struct {
    uint8_t key[crypto_stream_chacha20_ietf_KEYBYTES];
    uint8_t buf[SYS_BUF];
    size_t pos;
    unsigned gen; /* fork generation the key belongs to; 0: no key yet */
} sys_state;

static _Thread_local sys_state sys_tls;
static unsigned fork_gen = 1;
static pthread_once_t sys_once = PTHREAD_ONCE_INIT;
static pthread_key_t sys_key;

static void sys_child(void) { __atomic_add_fetch(&fork_gen, 1, __ATOMIC_SEQ_CST); }

static void sys_thread_end(void *st) { sodium_memzero(st, sizeof(sys_state)); }

static void sys_setup(void)
{
    (void)pthread_atfork(NULL, NULL, sys_child);
    (void)pthread_key_create(&sys_key, sys_thread_end);
}

static void sys_refill(sys_state *st)
{
    static const uint8_t nonce[crypto_stream_chacha20_ietf_NONCEBYTES] = {0};
    uint8_t out[sizeof st->key + SYS_BUF];
    unsigned gen = __atomic_load_n(&fork_gen, __ATOMIC_SEQ_CST);
    if (st->gen != gen) {
        (void)pthread_once(&sys_once, sys_setup);
        (void)pthread_setspecific(sys_key, st);
        randombytes_buf(st->key, sizeof st->key);
        st->gen = gen;
    }
    crypto_stream_chacha20_ietf(out, sizeof out, nonce, st->key);
    memcpy(st->key, out, sizeof st->key);
    memcpy(st->buf, out + sizeof st->key, SYS_BUF);
    sodium_memzero(out, sizeof out);
    st->pos = 0;
}

static void sys_small(sys_state *st, uint8_t *o, size_t n)
{
    while (n > 0) {
        if (st->pos == SYS_BUF || st->gen != __atomic_load_n(&fork_gen, __ATOMIC_SEQ_CST))
            sys_refill(st);
        size_t take = SYS_BUF - st->pos < n ? SYS_BUF - st->pos : n;
        memcpy(o, st->buf + st->pos, take);
        sodium_memzero(st->buf + st->pos, take);
        st->pos += take;
        o += take;
        n -= take;
    }
}

static void sys_bytes(void *out, size_t n)
{
    static const uint8_t nonce[crypto_stream_chacha20_ietf_NONCEBYTES] = {0};
    sys_state *st = &sys_tls;
    if (n < SYS_BULK) {
        sys_small(st, out, n);
        return;
    }
    uint8_t k[crypto_stream_chacha20_ietf_KEYBYTES];
    sys_small(st, k, sizeof k);
    crypto_stream_chacha20_ietf(out, n, nonce, k);
    sodium_memzero(k, sizeof k);
}

void ovl_rng_init_system(ovl_rng *r)
{
    memset(r, 0, sizeof *r);
}

void ovl_rng_init_seeded(ovl_rng *r, const uint8_t seed[32], const char *label)
{
    memset(r, 0, sizeof *r);
    r->seeded = true;
    crypto_generichash(r->key, sizeof r->key, (const uint8_t *)label, strlen(label), seed, 32);
    r->used = sizeof r->pool;
}

static void refill(ovl_rng *r)
{
    static const uint8_t nonce[crypto_stream_chacha20_ietf_NONCEBYTES] = {0};
    memset(r->pool, 0, sizeof r->pool);
    crypto_stream_chacha20_ietf_xor_ic(r->pool, r->pool, sizeof r->pool, nonce,
                                       (uint32_t)r->block++, r->key);
    r->used = 0;
}

void ovl_rng_bytes(ovl_rng *r, void *out, size_t n)
{
    if (!r->seeded) {
        sys_bytes(out, n);
        return;
    }
    uint8_t *o = out;
    while (n > 0) {
        if (r->used == sizeof r->pool)
            refill(r);
        size_t take = sizeof r->pool - r->used;
        if (take > n)
            take = n;
        memcpy(o, r->pool + r->used, take);
        r->used += take;
        o += take;
        n -= take;
    }
}

uint64_t ovl_rng_uniform(ovl_rng *r, uint64_t bound)
{
    if (bound <= 1)
        return 0;
    /* Reject the top partial range so every residue is equally likely. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
    uint64_t x;
    do {
        ovl_rng_bytes(r, &x, sizeof x);
    } while (x >= limit);
    return x % bound;
}

void ovl_rng_shuffle_u32(ovl_rng *r, uint32_t *a, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)ovl_rng_uniform(r, i);
        uint32_t t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
}

void ovl_rng_wipe(ovl_rng *r)
{
    sodium_memzero(r, sizeof *r);
}
