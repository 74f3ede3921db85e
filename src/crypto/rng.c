#include <string.h>

#include <sodium.h>

#include "crypto/rng.h"

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
        randombytes_buf(out, n);
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
    if (!r->seeded && bound <= UINT32_MAX)
        return randombytes_uniform((uint32_t)bound);
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
    /* From the system RNG every index would cost a getrandom() call, seconds
     * at a million rows; a stream keyed with 32 fresh system bytes is as
     * unpredictable and costs one ChaCha20 block per eight indices. */
    ovl_rng fresh;
    ovl_rng *src = r;
    if (!r->seeded) {
        memset(&fresh, 0, sizeof fresh);
        fresh.seeded = true;
        randombytes_buf(fresh.key, sizeof fresh.key);
        fresh.used = sizeof fresh.pool;
        src = &fresh;
    }
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)ovl_rng_uniform(src, i);
        uint32_t t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
    if (src == &fresh)
        ovl_rng_wipe(&fresh);
}

void ovl_rng_wipe(ovl_rng *r)
{
    sodium_memzero(r, sizeof *r);
}
