/* overlap: the threshold comparison of aggregates version 2
 * (protocols/aggregate/SPEC.md §8.2): one garbled circuit per shuffled cell
 * record adds the two parties' shares of its COUNT(DISTINCT) D and compares
 * the sum with the public threshold T, which is folded into the gates (so the
 * circuit digest both parties agree on binds T). D <= B < 2^23, so the low 32
 * bits of the shares' sum are D exactly. */
#ifndef OVL_PROTOCOLS_AGGREGATE_THRESHOLD_H
#define OVL_PROTOCOLS_AGGREGATE_THRESHOLD_H

#include <stdint.h>

#include "core/error.h"
#include "mpc/circuit.h"

#define OVL_AGG2_D_BITS 32u
#define OVL_AGG2_MIN_THRESHOLD 2u
#define OVL_AGG2_MAX_THRESHOLD (1u << 23)

/* Inputs: the garbler's 32 share bits, then the evaluator's (least
 * significant first); one output bit, [a + b mod 2^32 >= T]. T in
 * OVL_AGG2_MIN_THRESHOLD .. OVL_AGG2_MAX_THRESHOLD (OVL_ERR_USAGE otherwise). */
ovl_err ovl_agg2_threshold_circuit(ovl_circuit *out, uint64_t threshold) OVL_MUST_USE;
/* A party's input bits (32 bytes, 0 or 1) from its share word of D. */
void ovl_agg2_threshold_bits(uint8_t bits[static OVL_AGG2_D_BITS], uint64_t share);

#endif
