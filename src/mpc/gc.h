/* overlap: the two-party garbled-circuit engine (src/mpc/SPEC.md §GC).
 *
 * A transport-free engine in the protocols' feed/pull style (core/proto.h):
 * the garbler garbles N instances of one circuit with free-XOR half-gates and
 * streams their tables in bounded frames; the evaluator obtains the labels of
 * its input bits by correlated OT (KOS-checked IKNP, src/mpc/ot.h; the
 * garbler is the COT sender and its Δ is the free-XOR offset), receives the
 * garbler's input labels directly, evaluates as tables arrive and decodes the
 * outputs, which are revealed to the evaluator, the garbler or both. Rounds
 * are constant: OT setup, then one flow of tables per instance group, plus one
 * flow of output labels back when the garbler learns the output. */
#ifndef OVERLAP_MPC_GC_H
#define OVERLAP_MPC_GC_H

#include <stdbool.h>
#include <stdint.h>

#include "core/proto.h"
#include "crypto/rng.h"
#include "mpc/circuit.h"

/* Frame types (SPEC §GC.4). */
enum {
    OVL_GC_SETUP = 0x40,
    OVL_GC_OT_BASE = 0x41,
    OVL_GC_OT_U = 0x42,
    OVL_GC_OT_CHAL = 0x43,
    OVL_GC_OT_PROOF = 0x44,
    OVL_GC_INPUTS = 0x45,
    OVL_GC_TABLES = 0x46,
    OVL_GC_DECODE = 0x47,
    OVL_GC_OUTPUT = 0x48
};

#define OVL_GC_TABLES_PER_FRAME 16384u        /* 512 KiB of tables */
#define OVL_GC_MAX_IO_BITS 32768u             /* garbler input bits, output bits */
#define OVL_GC_MAX_INSTANCES (1u << 24)
/* instances × output bits kept (one byte each): 1 GiB, so that circuit PSI's
 * bit payload of conditions across parties at cap 4 (281 bits per bin) fits
 * 2^20 identifiers (1.33 M bins); the memory is the caller's, bounded again by
 * its own caps (circuit PSI's payload cap, the pairs phase's chunks). */
#define OVL_GC_MAX_OUTPUT_BYTES ((size_t)1 << 30)

typedef enum { OVL_GC_GARBLER = 0, OVL_GC_EVALUATOR = 1 } ovl_gc_role;

/* Who learns the outputs (a bit mask; the wire value of GC_SETUP). */
typedef enum {
    OVL_GC_REVEAL_EVALUATOR = 1,
    OVL_GC_REVEAL_GARBLER = 2,
    OVL_GC_REVEAL_BOTH = 3
} ovl_gc_reveal;

typedef struct {
    ovl_gc_role role;
    unsigned party;             /* 0 listener, 1 connector: the OT and tweak direction */
    const ovl_circuit *circuit; /* borrowed for the engine's life */
    uint32_t garbler_inputs;    /* the circuit's leading inputs the garbler supplies */
    uint32_t instances;         /* >= 1 */
    ovl_gc_reveal reveal;
    /* This party's input bits (one byte, 0 or 1, per bit), instance after
     * instance: instances × (its bits). Borrowed. */
    const uint8_t *input;
    ovl_rng *rng;               /* borrowed; seeded only in tests and vectors */
    /* π's key (SPEC §2.1): 16 bytes both parties derive per session, from
     * their transcript as protocols/cpsi does. NULL selects the public fixed
     * key, for tests and vectors only: tweaks restart at 0 in every session,
     * so under one key shared by all sessions the hash's inputs of different
     * sessions would meet the same tweaks. */
    const uint8_t *pi_key;
    /* The garbler's inputs are folded into the garbling as constants: its
     * input wires' zero-labels are x·Δ, so their active label is the zero
     * block and nothing is sent for them (SPEC §GC.3). Both parties set it. */
    bool fold_garbler_inputs;
} ovl_gc_config;

typedef struct ovl_gc ovl_gc;

ovl_err ovl_gc_new(ovl_gc **out, const ovl_gc_config *cfg) OVL_MUST_USE;
void ovl_gc_free(ovl_gc *g);
extern const ovl_proto_ops ovl_gc_ops;

/* For a party that learns them: the output bits of instance i (out_bits
 * bytes, 0 or 1) once that instance is finished, else NULL (also after any
 * failure: never a partial output). */
const uint8_t *ovl_gc_output(const ovl_gc *g, uint32_t instance);
/* AND gates garbled or evaluated so far, over all instances. */
uint64_t ovl_gc_and_gates(const ovl_gc *g);

#endif
