/* overlap: the OT-based OPRF front end of circuit PSI (protocols/cpsi/SPEC.md §4).
 *
 * Kolesnikov–Kumaresan–Rosulek–Trieu (CCS 2016, "Efficient batched oblivious
 * PRF with applications to private set intersection"): one OPRF instance per
 * cuckoo bin. The runner holds one input per bin; four wide correlations
 * (src/mpc/ot.h, 4 × 128 columns) give it t_b and the contributor
 * q_b = t_b ⊕ (C(x_b) ∧ s), where C is a 512-bit pseudorandom code keyed
 * from the transcript and s the contributor's four Δs. Then
 *   runner:      F(b, x_b) = H(b, t_b)
 *   contributor: F(b, y)   = H(b, q_b ⊕ (C(y) ∧ s))   for any y,
 * equal exactly when y = x_b (except with negligible probability), and
 * F(b, y) for y ≠ x_b pseudorandom to the runner. H is BLAKE2b-512. */
#ifndef OVERLAP_CPSI_OPRF_H
#define OVERLAP_CPSI_OPRF_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "mpc/block.h"
#include "mpc/hash.h"

#define OVL_OPRF_OUT 64u
/* Bytes per identifier: the digest takes any length, but inputs stay bounded. */
#define OVL_OPRF_MAX_INPUT 65535u
#define OVL_OPRF_BLOCKS 4u /* code width 512 = 4 wide correlations of 128 columns */

/* The code's AES key, from the transcript (cpsi_sub_key). */
#define OVL_OPRF_CODE_LABEL "overlap-cpsi-v2 code"

/* The codewords of n digests: out[4i + k] = AES_kc(d_i ⊕ k), k < 4. */
ovl_err ovl_oprf_code(ovl_aes *kc, const ovl_block *d, size_t n, ovl_block *out) OVL_MUST_USE;
/* F = H(bin, row): BLAKE2b-512 keyed with "overlap-cpsi-v2 oprf" over
 * LE32(bin) || the row's 64 bytes. */
void ovl_oprf_out(uint8_t out[static OVL_OPRF_OUT], uint32_t bin,
                  const ovl_block row[static OVL_OPRF_BLOCKS]);
/* The contributor's value for y in bin b: H(b, q_b ⊕ (code(y) ∧ s)). */
void ovl_oprf_eval(uint8_t out[static OVL_OPRF_OUT], uint32_t bin,
                   const ovl_block q[static OVL_OPRF_BLOCKS],
                   const ovl_block code[static OVL_OPRF_BLOCKS],
                   const ovl_block s[static OVL_OPRF_BLOCKS]);

#endif
