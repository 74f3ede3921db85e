/* overlap: Boolean circuits for two-party computation (src/mpc/SPEC.md §GC).
 *
 * One representation serves the Bristol Fashion reader (mpc/bristol.h), the
 * builder below, the plain evaluator and the garbling engine: wires are
 * numbered, input wires come first (input 0's bits, then input 1's, ...), and
 * every gate reads only wires defined before it, so one pass in gate order
 * evaluates or garbles the circuit. Bit i of an input or output is wire i of
 * it, the least significant bit of the integer it stands for. */
#ifndef OVERLAP_MPC_CIRCUIT_H
#define OVERLAP_MPC_CIRCUIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* Caps every circuit obeys, whether read from a file or built. */
#define OVL_CIRCUIT_MAX_GATES (1u << 25)
#define OVL_CIRCUIT_MAX_WIRES (1u << 25)
#define OVL_CIRCUIT_MAX_IO 16u /* inputs, and outputs, per circuit */

typedef enum {
    OVL_GATE_XOR = 0, /* out = a ^ b (free) */
    OVL_GATE_AND = 1, /* out = a & b (one half-gates table) */
    OVL_GATE_INV = 2, /* out = !a (free) */
    OVL_GATE_CONST = 3, /* out = a, where a is the constant 0 or 1 itself (Bristol EQ) */
    OVL_GATE_COPY = 4 /* out = a (Bristol EQW) */
} ovl_gate_op;

typedef struct {
    uint32_t a, b, out;
    uint32_t op; /* ovl_gate_op */
} ovl_gate;

typedef struct {
    uint32_t nwires;
    uint32_t ngates;
    uint32_t nand; /* AND gates among them */
    uint32_t nin, nout;
    uint32_t in_width[OVL_CIRCUIT_MAX_IO];
    uint32_t out_width[OVL_CIRCUIT_MAX_IO];
    uint32_t in_bits, out_bits; /* sums of the widths */
    ovl_gate *gates;
    uint32_t *outputs; /* out_bits wire numbers, output 0's bits first */
} ovl_circuit;

void ovl_circuit_free(ovl_circuit *c);
/* Checks the invariants above (wire numbers in range, inputs first, each wire
 * defined once and before use, outputs defined). The reader and the builder
 * call it; `label` names the circuit in the error. */
ovl_err ovl_circuit_check(const ovl_circuit *c, const char *label) OVL_MUST_USE;
/* Reorders the gates by AND depth: the AND gates of depth d (ANDs on the
 * longest path from an input), then the free gates of depth d, each group in
 * its previous order, and renumbers the wires in the order they are defined
 * (gate g writes wire in_bits + g). The result is still valid and computes
 * the same function, and the AND gates of one depth are independent, so
 * garbling hashes them as one batch. The reader and the builder call it; the gate
 * order it yields is the order of the garbled tables (SPEC §GC.1). */
ovl_err ovl_circuit_levelize(ovl_circuit *c) OVL_MUST_USE;
/* Plain evaluation, one byte (0 or 1) per bit: `in` holds in_bits, `out`
 * receives out_bits. For tests and tools; the garbling engine never calls it. */
ovl_err ovl_circuit_eval(const ovl_circuit *c, uint8_t *out, const uint8_t *in) OVL_MUST_USE;
/* The first bit of input (or output) number i among all input (output) bits. */
uint32_t ovl_circuit_in_offset(const ovl_circuit *c, uint32_t i);
uint32_t ovl_circuit_out_offset(const ovl_circuit *c, uint32_t i);
/* SHA-256 of a canonical encoding of the circuit: both parties of a
 * computation check they hold the same one. */
void ovl_circuit_digest(uint8_t out[static 32], const ovl_circuit *c);

/* Bits <-> the bytes of a big-endian integer (the circuits README's
 * convention): bit i is the integer's bit i. nbits <= 8 * nbytes; bits of the
 * integer above nbits must be zero when reading (OVL_ERR_INPUT otherwise). */
ovl_err ovl_bits_from_be(uint8_t *bits, size_t nbits, const uint8_t *bytes,
                         size_t nbytes) OVL_MUST_USE;
void ovl_bits_to_be(uint8_t *bytes, size_t nbytes, const uint8_t *bits, size_t nbits);
/* Bits <-> a 64-bit word, least significant first. */
void ovl_bits_from_u64(uint8_t *bits, size_t nbits, uint64_t v);
uint64_t ovl_bits_to_u64(const uint8_t *bits, size_t nbits);

/* ---- Builder. Gates append in order, so any circuit built is topological.
 * Errors are sticky: a failing call records the error and returns wire 0;
 * ovl_cb_finish reports the first one. Inputs must all be declared before the
 * first gate. */
typedef struct {
    ovl_circuit c;
    uint32_t gcap, ocap;
    uint32_t max_gates;
    ovl_err rc;
} ovl_cb;

/* max_gates: 0 for OVL_CIRCUIT_MAX_GATES. */
void ovl_cb_init(ovl_cb *cb, uint32_t max_gates);
/* Declares the next input of `width` bits; its wires are first..first+width-1. */
uint32_t ovl_cb_input(ovl_cb *cb, uint32_t width);
uint32_t ovl_cb_xor(ovl_cb *cb, uint32_t a, uint32_t b);
uint32_t ovl_cb_and(ovl_cb *cb, uint32_t a, uint32_t b);
uint32_t ovl_cb_inv(ovl_cb *cb, uint32_t a);
uint32_t ovl_cb_const(ovl_cb *cb, bool v);
/* Declares the next output as the given wires (least significant first). */
void ovl_cb_output(ovl_cb *cb, const uint32_t *w, uint32_t width);
/* Moves the circuit to *out (checked) and resets the builder. */
ovl_err ovl_cb_finish(ovl_cb *cb, ovl_circuit *out) OVL_MUST_USE;
void ovl_cb_free(ovl_cb *cb);

/* ---- Gadgets over n-bit words (arrays of wires, least significant first).
 * The AND cost of each is stated; XOR and INV are free. */
/* s = a + b mod 2^n (n-1 ANDs). */
void ovl_cb_add(ovl_cb *cb, uint32_t *s, const uint32_t *a, const uint32_t *b, uint32_t n);
/* d = a - b mod 2^n (n-1 ANDs). */
void ovl_cb_sub(ovl_cb *cb, uint32_t *d, const uint32_t *a, const uint32_t *b, uint32_t n);
/* 1 iff a == b (n-1 ANDs). */
uint32_t ovl_cb_eq(ovl_cb *cb, const uint32_t *a, const uint32_t *b, uint32_t n);
/* 1 iff a >= b, unsigned (n ANDs). */
uint32_t ovl_cb_ge(ovl_cb *cb, const uint32_t *a, const uint32_t *b, uint32_t n);
/* 1 iff a >= k for a public constant k < 2^n (at most n ANDs; k is folded
 * into the gates, so it is part of the circuit both parties agree on). */
uint32_t ovl_cb_ge_const(ovl_cb *cb, const uint32_t *a, uint64_t k, uint32_t n);
/* o = s ? a : b (n ANDs). */
void ovl_cb_mux(ovl_cb *cb, uint32_t *o, uint32_t s, const uint32_t *a, const uint32_t *b,
                uint32_t n);

/* Whole circuits for share conversion over Z_2^n (n <= 64), garbler inputs
 * first (src/mpc/SPEC.md §GC.7):
 * A2B: inputs (garbler: a, r; evaluator: b), output (a + b) ^ r: the evaluator's
 *      XOR share, r being the garbler's.
 * B2A: inputs (garbler: x_g, r; evaluator: x_e), output (x_g ^ x_e) - r: the
 *      evaluator's additive share, r being the garbler's. */
ovl_err ovl_circuit_a2b(ovl_circuit *out, uint32_t n) OVL_MUST_USE;
ovl_err ovl_circuit_b2a(ovl_circuit *out, uint32_t n) OVL_MUST_USE;

#endif
