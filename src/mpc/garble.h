/* overlap: half-gates garbling with free-XOR and point-and-permute
 * (Zahur–Rosulek–Evans, EUROCRYPT 2015), streamed (src/mpc/SPEC.md §GC.3).
 *
 * The garbler walks the circuit in gate order and appends one 32-byte table
 * per AND gate to a caller's buffer, as many as the caller allows per call, so
 * a circuit of any size is garbled into bounded frames; the evaluator consumes
 * the tables in the same order. Neither side holds more than the circuit's
 * wire labels (16 bytes a wire) and one batch of tables.
 *
 * Labels: each wire w has a zero-label W0 (garbler) and W1 = W0 ⊕ Δ, lsb(Δ) = 1;
 * the evaluator holds W_v for the wire's value v and sees only lsb(W_v), which
 * is v masked by the random permute bit lsb(W0). AND gate k (k-th AND in gate
 * order) hashes under the tweaks (stream id, base + 2k) and (…, base + 2k + 1)
 * of the instance's GC tweak stream, so no tweak repeats. Consecutive AND
 * gates whose inputs are ready are hashed as one batch, so AES pipelines. */
#ifndef OVERLAP_MPC_GARBLE_H
#define OVERLAP_MPC_GARBLE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"
#include "mpc/block.h"
#include "mpc/circuit.h"
#include "mpc/hash.h"

#define OVL_GC_TABLE_BYTES 32u /* one half-gates AND table: T_G, T_E */
#define OVL_GC_TAG_BYTES 8u    /* an output label's check tag */

/* A gate as the kernels read it, one 16-byte record so the gate walk streams
 * one array: its input slots a and b, its output slot, and meta = 2·dep + 1
 * for an AND gate, 2·dep for a free one, where dep is 1 + the number (in AND
 * order) of the last AND gate whose output it reads directly, or 0. A free
 * gate is out = w[a] ⊕ w[b] (garble.c maps XOR, INV, COPY and constants to
 * that form). */
typedef struct {
    uint32_t a, b, out, meta;
} ovl_gc_op;

typedef struct {
    const ovl_circuit *c; /* borrowed */
    ovl_hash *hash;       /* borrowed; keyed by the session's π key */
    ovl_block *w;         /* label slots (garbler: W0; evaluator: W_v): inputs
                           * first, then reused; ZERO, DELTA, SINK last */
    ovl_gc_op *ops;       /* per gate, in gate order */
    uint32_t *out_slot;   /* per output bit */
    uint32_t nslots;
    ovl_block *scratch;   /* hash inputs, tweaks and outputs of one batch */
    uint32_t *batch;      /* output slots of the pending batch's AND gates */
    ovl_block delta;      /* garbler only */
    uint64_t tweak_id, tweak_base;
    uint32_t next_gate, ands_done, nbatch;
    bool garbler;
} ovl_gc_state;

/* Allocates the label arrays; `tweak_base` is the first of 2·nand + out_bits
 * counters the caller reserved in `tweaks` (ovl_gc_tweaks_needed). The caller
 * then writes the input labels into st->w[0 .. in_bits-1]: W0 (garbler) or
 * the active label (evaluator). delta is ignored by the evaluator. */
ovl_err ovl_gc_state_init(ovl_gc_state *st, const ovl_circuit *c, ovl_hash *hash, bool garbler,
                          ovl_block delta, const ovl_tweak_stream *tweaks,
                          uint64_t tweak_base) OVL_MUST_USE;
/* Starts the next instance of the same circuit in the same state (no
 * reallocation): the caller then writes its input labels again. */
void ovl_gc_state_restart(ovl_gc_state *st, uint64_t tweak_base);
void ovl_gc_state_free(ovl_gc_state *st);
uint64_t ovl_gc_tweaks_needed(const ovl_circuit *c);
static inline bool ovl_gc_state_done(const ovl_gc_state *st)
{
    return st->next_gate == st->c->ngates && st->nbatch == 0;
}

/* Garbler: garbles on until max_tables more tables were appended to out (or
 * the circuit ended); *ntables says how many. */
ovl_err ovl_gc_garble(ovl_gc_state *st, ovl_buf *out, uint32_t max_tables,
                      uint32_t *ntables) OVL_MUST_USE;
/* Evaluator: evaluates on, consuming exactly ntables tables (ntables·32
 * bytes); OVL_ERR_PROTOCOL if the circuit has fewer AND gates left. */
ovl_err ovl_gc_evaluate(ovl_gc_state *st, const uint8_t *tables, uint32_t ntables) OVL_MUST_USE;

/* Output decoding (SPEC §GC.5), after the last gate. Garbler: the decoding
 * record of output bit i, its permute bit and the tags of its two labels,
 * ordered by their lsb. */
ovl_err ovl_gc_decode_info(ovl_gc_state *st, uint8_t *permute,
                           uint8_t (*tags)[2][OVL_GC_TAG_BYTES]) OVL_MUST_USE;
/* Evaluator: the output bits from its labels, the permute bits and tags;
 * OVL_ERR_CRYPTO when a label matches neither tag (tables altered). */
ovl_err ovl_gc_decode(ovl_gc_state *st, uint8_t *bits, const uint8_t *permute,
                      const uint8_t (*tags)[2][OVL_GC_TAG_BYTES]) OVL_MUST_USE;
/* The evaluator's output label of bit i (sent to a garbler that learns the output). */
ovl_block ovl_gc_output_label(const ovl_gc_state *st, uint32_t i);
/* Garbler: the bit an evaluator's output label stands for; OVL_ERR_CRYPTO
 * when it is neither of the wire's labels (a forged output). */
ovl_err ovl_gc_check_output(const ovl_gc_state *st, uint32_t i, ovl_block label,
                            uint8_t *bit) OVL_MUST_USE;
/* The same against a wire's zero-label kept apart from the state; i names the
 * output in the error. */
ovl_err ovl_gc_check_label(ovl_block zero, ovl_block delta, ovl_block label, uint32_t i,
                           uint8_t *bit) OVL_MUST_USE;

#endif
