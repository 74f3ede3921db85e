/* overlap: cuckoo hashing for circuit PSI (cuckoo.h, SPEC.md §3). */
#include "cpsi/cuckoo.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/guard.h"
#include "core/mem.h"
#include "mpc/hash.h"

#define CHUNK 1024u

/* PSZ18 (TOPS 2018), three functions, no stash: the expansion that keeps the
 * insertion failure at or below 2^-40; small tables need more room. */
static const struct {
    size_t below;
    uint32_t milli;
} expansion[] = {
    {2, 2000}, {4, 15600}, {8, 10000}, {16, 6000}, {32, 4000},
    {64, 3000}, {128, 2000}, {257, 1500},
};

uint32_t ovl_cuckoo_expansion_milli(size_t n)
{
    for (size_t i = 0; i < sizeof expansion / sizeof *expansion; i++)
        if (n < expansion[i].below)
            return expansion[i].milli;
    return 1270;
}

uint32_t ovl_cuckoo_bins(size_t n)
{
    uint64_t b = ((uint64_t)n * ovl_cuckoo_expansion_milli(n) + 999u) / 1000u;
    return b < 3 ? 3u : (uint32_t)b;
}

static uint32_t reduce(uint32_t x, uint32_t s) { return (uint32_t)(((uint64_t)x * s) >> 32); }

ovl_err ovl_cuckoo_candidates(uint32_t *out, const uint8_t seed[static 16], uint32_t bins,
                              const ovl_block *ids, size_t n)
{
    ovl_err rc = OVL_OK;
    ovl_aes aes = {0};
    ovl_block h[CHUNK];
    OVL_TRY(ovl_aes_init(&aes, seed));
    for (size_t at = 0; at < n; at += CHUNK) {
        size_t k = n - at < CHUNK ? n - at : CHUNK;
        OVL_TRY(ovl_aes_ecb(&aes, h, ids + at, k));
        for (size_t i = 0; i < k; i++) {
            uint64_t lo = ovl_block_lo(h[i]), hi = ovl_block_hi(h[i]);
            out[3 * (at + i)] = reduce((uint32_t)lo, bins);
            out[3 * (at + i) + 1] = reduce((uint32_t)(lo >> 32), bins);
            out[3 * (at + i) + 2] = reduce((uint32_t)hi, bins);
        }
    }
done:
    ovl_aes_free(&aes);
    sodium_memzero(h, sizeof h);
    return rc;
}

/* Random-walk insertion of item i: take the bin of function j; an occupant
 * is evicted and retried at one of its two other functions. */
static bool insert(ovl_cuckoo *c, uint32_t i, ovl_rng *rng)
{
    uint32_t cur = i;
    unsigned j = (unsigned)ovl_rng_uniform(rng, OVL_CUCKOO_HASHES);
    for (unsigned step = 0; step < OVL_CUCKOO_EVICTIONS; step++) {
        uint32_t b = c->cand[3 * (size_t)cur + j];
        uint32_t old = c->slot[b];
        c->slot[b] = cur;
        c->func[cur] = (uint8_t)j;
        if (old == OVL_CUCKOO_EMPTY)
            return true;
        cur = old;
        j = (c->func[old] + 1u + (unsigned)ovl_rng_uniform(rng, 2)) % OVL_CUCKOO_HASHES;
    }
    return false;
}

static ovl_err alloc_table(ovl_cuckoo *c, size_t n, uint32_t bins)
{
    ovl_err rc = OVL_OK;
    c->bins = bins;
    c->items = (uint32_t)n;
    OVL_TRY(ovl_calloc((void **)&c->slot, bins, sizeof *c->slot));
    OVL_TRY(ovl_calloc((void **)&c->func, n ? n : 1, sizeof *c->func));
    OVL_TRY(ovl_calloc((void **)&c->cand, 3u * (n ? n : 1), sizeof *c->cand));
done:
    return rc;
}

bool ovl_cuckoo_try(ovl_cuckoo *c, const ovl_block *ids, size_t n, uint32_t bins, ovl_rng *rng)
{
    if (c->cand == NULL && alloc_table(c, n, bins) != OVL_OK)
        return false;
    if (ovl_cuckoo_candidates(c->cand, c->seed, bins, ids, n) != OVL_OK)
        return false;
    memset(c->slot, 0xff, (size_t)bins * sizeof *c->slot);
    for (size_t i = 0; i < n; i++)
        if (!insert(c, (uint32_t)i, rng))
            return false;
    memset(c->placed, 0, sizeof c->placed);
    for (size_t i = 0; i < n; i++)
        c->placed[c->func[i]]++;
    return true;
}

ovl_err ovl_cuckoo_build(ovl_cuckoo *c, const ovl_block *ids, size_t n, ovl_rng *rng)
{
    ovl_err rc = OVL_OK;
    bool ok = false;
    memset(c, 0, sizeof *c);
    OVL_ENSURE(n <= OVL_CUCKOO_MAX_ITEMS, OVL_ERR_LIMIT,
               "cuckoo: %zu identifiers exceed the cap %u", n, OVL_CUCKOO_MAX_ITEMS);
    uint32_t bins = ovl_cuckoo_bins(n);
    OVL_TRY(alloc_table(c, n, bins));
    for (unsigned attempt = 0; attempt < OVL_CUCKOO_SEEDS && !ok; attempt++) {
        ovl_rng_bytes(rng, c->seed, sizeof c->seed);
        ok = ovl_cuckoo_try(c, ids, n, bins, rng);
    }
    OVL_ENSURE(ok, OVL_ERR_CRYPTO,
               "cuckoo: no seed of %u places the %zu identifiers (are they distinct?)",
               OVL_CUCKOO_SEEDS, n);
done:
    if (rc != OVL_OK)
        ovl_cuckoo_free(c);
    return rc;
}

/* The table says where each of the runner's identifiers sits: a secret. */
void ovl_cuckoo_free(ovl_cuckoo *c)
{
    size_t items = c->items ? c->items : 1;
    ovl_free_secret(c->slot, (size_t)c->bins * sizeof *c->slot);
    ovl_free_secret(c->func, items * sizeof *c->func);
    ovl_free_secret(c->cand, 3u * items * sizeof *c->cand);
    sodium_memzero(c, sizeof *c);
}
