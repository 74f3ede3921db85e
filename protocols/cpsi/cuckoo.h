/* overlap: the runner's cuckoo table for circuit PSI (protocols/cpsi/SPEC.md §3).
 *
 * n identifiers (as 128-bit digests) go into B bins, at most one per bin,
 * each in one of its three candidate bins h_1..h_3 (functions of the digest
 * under a 16-byte seed the runner draws). B = ⌈ε(n)·n⌉ with ε from
 * Pinkas–Schneider–Zohner 2018 for three hash functions and no stash
 * (1.27 from n = 257 on, larger below), where insertion fails with
 * probability at most 2^-40. Insertion starts each identifier at a random
 * function and evicts along a random walk; the runner re-draws the seed when
 * insertion fails. */
#ifndef OVERLAP_CPSI_CUCKOO_H
#define OVERLAP_CPSI_CUCKOO_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "crypto/rng.h"
#include "mpc/block.h"

#define OVL_CUCKOO_HASHES 3u
#define OVL_CUCKOO_MAX_ITEMS (1u << 24)
#define OVL_CUCKOO_SEEDS 16u     /* seeds tried before giving up */
#define OVL_CUCKOO_EVICTIONS 512u /* random-walk steps per insertion */
#define OVL_CUCKOO_EMPTY UINT32_MAX

typedef struct {
    uint8_t seed[16];
    uint32_t bins;
    uint32_t items;
    uint32_t *slot;   /* bins entries: the item in the bin, or OVL_CUCKOO_EMPTY */
    uint8_t *func;    /* items entries: the function (0..2) that placed it */
    uint32_t *cand;   /* 3·items: the candidate bins of each item */
    uint32_t placed[OVL_CUCKOO_HASHES];
} ovl_cuckoo;

/* ε(n) from PSZ18, in thousandths (1270 for n > 256). */
uint32_t ovl_cuckoo_expansion_milli(size_t n);
/* B = ⌈ε(n)·n⌉ (at least 3 so the candidate bins can differ). */
uint32_t ovl_cuckoo_bins(size_t n);

/* The three candidate bins of each digest under seed: out[3i + j] = h_{j+1}(ids[i]). */
ovl_err ovl_cuckoo_candidates(uint32_t *out, const uint8_t seed[static 16], uint32_t bins,
                              const ovl_block *ids, size_t n) OVL_MUST_USE;
/* Builds the table for n distinct digests (n <= OVL_CUCKOO_MAX_ITEMS), drawing
 * seeds and walks from rng. OVL_ERR_CRYPTO when no seed of OVL_CUCKOO_SEEDS
 * works. */
ovl_err ovl_cuckoo_build(ovl_cuckoo *c, const ovl_block *ids, size_t n,
                         ovl_rng *rng) OVL_MUST_USE;
/* One insertion attempt under c->seed (tests measure the failure rate with
 * it): true when every item was placed within the eviction limit. */
bool ovl_cuckoo_try(ovl_cuckoo *c, const ovl_block *ids, size_t n, uint32_t bins,
                    ovl_rng *rng);
void ovl_cuckoo_free(ovl_cuckoo *c);

#endif
