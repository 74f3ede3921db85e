/* overlap: a bounded reader of Bristol Fashion circuits (src/mpc/SPEC.md §GC.2).
 *
 * Format: `gates wires`; `ninputs width...`; `noutputs width...`; then one gate
 * a line, `nin nout in... out... OP` with OP among XOR, AND, INV, EQ (a
 * constant), EQW (a copy) and MAND (several ANDs, expanded here). Output wires
 * are the last wires. Every count is checked against the caps of
 * mpc/circuit.h, every wire index against the declared wire count, and gates
 * must be in topological order; errors name "file:line". */
#ifndef OVERLAP_MPC_BRISTOL_H
#define OVERLAP_MPC_BRISTOL_H

#include <stddef.h>
#include <stdint.h>

#include "mpc/circuit.h"

/* A circuit file larger than this is refused before it is read. */
#define OVL_BRISTOL_MAX_BYTES ((size_t)1 << 30)
/* MAND gates: at most this many ANDs in one line. */
#define OVL_BRISTOL_MAX_MAND 4096u

/* Parses the text of a circuit; `label` names it in errors. OVL_ERR_INPUT for
 * a malformed or inconsistent circuit, OVL_ERR_LIMIT over a cap. */
ovl_err ovl_bristol_parse(ovl_circuit *out, const char *label, const uint8_t *text,
                          size_t len) OVL_MUST_USE;
ovl_err ovl_bristol_load(ovl_circuit *out, const char *path) OVL_MUST_USE;

#endif
