/* overlap: randomness for protocols.
 *
 * Production sessions draw from the system generator: per thread, a ChaCha20
 * key drawn once from the operating system (libsodium randombytes) and
 * renewed at every refill (fast key erasure; rng.c says why), safe to use
 * from any thread. Tests and vectors/ use a seeded ChaCha20 stream instead,
 * so every message of a run can be reproduced byte for byte; nothing else
 * may seed it. */
#ifndef OVERLAP_RNG_H
#define OVERLAP_RNG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    bool seeded;
    uint8_t key[32];
    uint64_t block;
    uint8_t pool[64];
    size_t used;
} ovl_rng;

void ovl_rng_init_system(ovl_rng *r);
/* Deterministic stream keyed by BLAKE2b(seed, label): for tests/vectors only. */
void ovl_rng_init_seeded(ovl_rng *r, const uint8_t seed[32], const char *label);
void ovl_rng_bytes(ovl_rng *r, void *out, size_t n);
/* Uniform in [0, bound), bound >= 1, by rejection sampling. */
uint64_t ovl_rng_uniform(ovl_rng *r, uint64_t bound);
/* Fisher-Yates shuffle of a[0..n). */
void ovl_rng_shuffle_u32(ovl_rng *r, uint32_t *a, size_t n);
void ovl_rng_wipe(ovl_rng *r);

#endif
