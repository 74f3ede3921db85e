/* The fixed sessions the aggregate fuzz target plays (tests/fuzz/fuzz_aggregate.c).
 * Input: byte 0 selects the engine under test (bit 0: 0 runner, 1
 * contributor); the rest is a stream of frames [type][u32 len][payload] as the
 * peer would send them after its HELLO, which the target supplies from an
 * honest seeded peer. The seeds in corpus/aggregate/ are complete honest
 * sessions recorded with these same configurations. */
#ifndef OVL_AGG_FUZZ_H
#define OVL_AGG_FUZZ_H

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "aggregate/aggregate.h"
#include "core/sort.h"

#define AF_IDS 12

typedef struct {
    uint8_t memb[AF_IDS][32];
    size_t gstart[4];
    uint8_t ids[AF_IDS][32];
    int64_t vec[AF_IDS * 3];
    ovl_paillier_sk *key;
} af_world;

static void af_id(uint8_t out[32], unsigned k)
{
    char v[16];
    int n = snprintf(v, sizeof v, "f-%u", k);
    crypto_hash_sha256(out, (const uint8_t *)v, (unsigned long long)n);
}

/* Runner: 3 groups over ids 0..11; contributor: even ids 0..22. */
static void af_world_init(af_world *w)
{
    static const uint8_t seed[OVL_PAILLIER_SEED_BYTES] = {'f', 'u', 'z', 'z'};
    memset(w, 0, sizeof *w);
    for (unsigned i = 0; i < AF_IDS; i++) {
        af_id(w->memb[i], i);
        af_id(w->ids[i], 2 * i);
        w->vec[i * 3] = 1 + i % 2;
        w->vec[i * 3 + 1] = (int64_t)i * 100 - 300;
        w->vec[i * 3 + 2] = i;
    }
    w->gstart[0] = 0;
    w->gstart[1] = 4;
    w->gstart[2] = 9;
    w->gstart[3] = AF_IDS;
    if (ovl_paillier_keygen_from_seed_for_tests(&w->key, 2048, seed) != OVL_OK)
        abort();
}

static ovl_agg *af_engine(const af_world *w, bool contributor)
{
    static const ovl_value_col cols[2] = {{"amount", 2}, {"n", 0}};
    static const uint8_t seed_r[32] = {'r'}, seed_c[32] = {'c'};
    ovl_agg_config cfg = {
        .role = contributor ? OVL_ROLE_LISTENER : OVL_ROLE_CONNECTOR,
        .contributor = contributor,
        .group = ovl_group_default(),
        .domain = "id=sha256 normalize=email",
        .min_rows = 2,
        .paillier_bits = 2048,
        .memb = (const uint8_t(*)[32])w->memb,
        .group_start = w->gstart,
        .ngroups = 3,
        .group_by_cols = 1,
        .ids = (const uint8_t(*)[32])w->ids,
        .nids = AF_IDS,
        .vectors = w->vec,
        .values = cols,
        .nvalues = 2,
        .test_seed = contributor ? seed_c : seed_r,
        .test_key = w->key,
    };
    ovl_agg *a = NULL;
    if (ovl_agg_new(&a, &cfg) != OVL_OK)
        abort();
    return a;
}

#endif
