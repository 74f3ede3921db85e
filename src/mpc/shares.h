/* overlap: additive (arithmetic) shares over Z_2^32 and Z_2^64 from correlated
 * OT (src/mpc/SPEC.md §6).
 *
 * Every operation runs on one ready COT batch (src/mpc/ot.h) and consumes it.
 * Words are uint64_t holding a value mod 2^w (w = 32 or 64: the high bits of
 * a 32-bit word are always zero). A party's share of a value x is one word;
 * the two shares sum to x mod 2^w. Shares are secrets: wipe them.
 *
 * The building block is a COT with chosen vector correlations: the sender
 * picks a correlation c_j (L words) per OT and gets a random s_j; the
 * receiver with choice b_j gets s_j + b_j·c_j. On top of it:
 *
 *   value × vector  a receiver who knows an ℓ-bit value a and a sender who
 *                   knows an L-word vector v get shares of a·v: ℓ COTs
 *                   (choices = the bits of a) and ℓ·L words.
 *   bit × vector    a bit XOR-shared (x0 ⊕ x1) times a vector additively
 *                   shared (v0 + v1): 2 COTs, one per direction, and 2L words.
 *   bit to share    a bit XOR-shared becomes additively shared: 1 COT, 1 word.
 *
 * Each "send" writes one SHARE_COT message; the matching "recv" reads it. */
#ifndef OVERLAP_MPC_SHARES_H
#define OVERLAP_MPC_SHARES_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"
#include "mpc/ot.h"

/* Words per OT (L) and bytes of correction words per SHARE_COT message. */
#define OVL_SHARE_MAX_WORDS 256u
#define OVL_SHARE_MAX_MSG (1u << 20)
/* SHARE_COT length for n OTs of L words of w bits. */
size_t ovl_share_msg_len(size_t n, unsigned w, size_t L);

/* COT with chosen correlations. corr and s are n·L words (OT j's words at
 * j·L); the receiver's out likewise. */
ovl_err ovl_share_cot_send(ovl_cot *b, unsigned w, size_t L, const uint64_t *corr, uint64_t *s,
                           ovl_buf *msg_out) OVL_MUST_USE;
ovl_err ovl_share_cot_recv(ovl_cot *b, unsigned w, size_t L, ovl_buf *msg_in,
                           uint64_t *out) OVL_MUST_USE;

/* Value × vector, for count = n / ell products in one batch of n COTs.
 * The receiver started the batch with ovl_share_value_bits(values) as
 * choices; the sender supplies count vectors of L words. Each side gets
 * count·L words of shares of values[k]·v_k. */
void ovl_share_value_bits(uint8_t *choices, const uint64_t *values, size_t count, size_t ell);
ovl_err ovl_share_mul_send(ovl_cot *b, unsigned w, size_t L, size_t ell, const uint64_t *v,
                           uint64_t *share, ovl_buf *msg_out) OVL_MUST_USE;
ovl_err ovl_share_mul_recv(ovl_cot *b, unsigned w, size_t L, size_t ell, ovl_buf *msg_in,
                           uint64_t *share) OVL_MUST_USE;

/* Bit × vector for n products: each party runs bitvec_send on the batch it
 * sends (n COTs) and bitvec_recv on the batch it receives (n COTs, choices =
 * its bit shares). bits: this party's XOR shares (bit j at bits[j/8] >> j%8);
 * vec: its additive shares, n·L words. Both calls ADD into share (n·L words,
 * zero it first); after both, share holds this party's share of
 * (x0 ⊕ x1)·(v0 + v1). */
ovl_err ovl_share_bitvec_send(ovl_cot *b, unsigned w, size_t L, const uint8_t *bits,
                              const uint64_t *vec, uint64_t *share,
                              ovl_buf *msg_out) OVL_MUST_USE;
ovl_err ovl_share_bitvec_recv(ovl_cot *b, unsigned w, size_t L, ovl_buf *msg_in,
                              uint64_t *share) OVL_MUST_USE;

/* Bit to share for n bits: the sender of the batch calls b2a_send with its
 * XOR shares; the receiver (choices = its XOR shares) calls b2a_recv. Each
 * gets n words with share_0 + share_1 = x0 ⊕ x1 mod 2^w. */
ovl_err ovl_share_b2a_send(ovl_cot *b, unsigned w, const uint8_t *bits, uint64_t *share,
                           ovl_buf *msg_out) OVL_MUST_USE;
ovl_err ovl_share_b2a_recv(ovl_cot *b, unsigned w, ovl_buf *msg_in,
                           uint64_t *share) OVL_MUST_USE;

/* Opening (the only way a shared value becomes known, SPEC §6.5): each party
 * writes SHARE_OPEN with its n shares and reads the peer's; out = the sums. */
ovl_err ovl_share_open_write(unsigned w, const uint64_t *share, size_t n,
                             ovl_buf *msg_out) OVL_MUST_USE;
ovl_err ovl_share_open_read(unsigned w, const uint64_t *share, size_t n, ovl_buf *msg_in,
                            uint64_t *out) OVL_MUST_USE;

#endif
