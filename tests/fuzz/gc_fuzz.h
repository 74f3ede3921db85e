/* The garbled-circuit engine as the fuzz target and its seed generator see
 * it. Input: [selector u8][frames from the peer...]. Selector bit 0: the
 * target is the garbler (1) or the evaluator (0); (selector >> 1) % 3 picks
 * who learns the output. Both parties draw from fixed-seed streams, so the
 * frames an honest peer sent in a recorded run (tests/tools/gen_gc_seeds.c)
 * answer the target's own messages exactly and the fuzzer starts deep in a
 * session: past the base OTs, in the tables. */
#ifndef OVL_GC_FUZZ_H
#define OVL_GC_FUZZ_H

#include <string.h>

#include "mpc/circuit.h"
#include "mpc/gc.h"

#define GCF_BITS 8u
#define GCF_INSTANCES 2u

/* The A2B circuit over 8 bits: small, with ANDs, constants and inversions. */
static inline const ovl_circuit *gcf_circuit(void)
{
    static ovl_circuit c;
    static int built;
    if (!built && ovl_circuit_a2b(&c, GCF_BITS) == OVL_OK)
        built = 1;
    return built ? &c : NULL;
}

static inline ovl_err gcf_new(ovl_gc **out, uint8_t sel, ovl_gc_role role, ovl_rng *rng)
{
    static const uint8_t seed[2][32] = {{1}, {2}};
    static uint8_t gin[GCF_INSTANCES * 2 * GCF_BITS], ein[GCF_INSTANCES * GCF_BITS];
    for (size_t i = 0; i < sizeof gin; i++)
        gin[i] = (uint8_t)((i * 7 + 3) % 5 < 2);
    for (size_t i = 0; i < sizeof ein; i++)
        ein[i] = (uint8_t)((i * 3 + 1) % 4 < 2);
    ovl_rng_init_seeded(rng, seed[role], role == OVL_GC_GARBLER ? "gc-fuzz-g" : "gc-fuzz-e");
    ovl_gc_config cfg = {
        .role = role,
        .party = role == OVL_GC_GARBLER ? 0 : 1,
        .circuit = gcf_circuit(),
        .garbler_inputs = 2,
        .instances = GCF_INSTANCES,
        .reveal = (ovl_gc_reveal)(1 + (sel >> 1) % 3),
        .input = role == OVL_GC_GARBLER ? gin : ein,
        .rng = rng,
    };
    if (cfg.circuit == NULL)
        return OVL_ERR_INTERNAL;
    return ovl_gc_new(out, &cfg);
}

#endif
