/* overlap: oblivious transfer for the two-party computation layer.
 *
 * One ovl_ot per party per session serves both directions: each party is the
 * OT sender of one direction (holding that direction's Δ) and the receiver of
 * the other. Base OTs are Masny–Rindal over ristretto255 (κ = 128 per
 * direction, both directions in one message each way); extension is IKNP
 * with the KOS15 consistency check (s = 40). Everything is transport-free:
 * every step reads the peer's message from an ovl_buf reader (which must hold
 * exactly that message) and appends its answer to an ovl_buf writer; the
 * enclosing protocol frames them. Byte layouts: src/mpc/SPEC.md §3–§5.
 *
 * A batch of n correlated OTs (COT) in one direction costs two round trips:
 *
 *   receiver                          sender
 *   ovl_cot_recv_start  -- EXT_U -->  ovl_cot_send_start
 *   ovl_cot_recv_prove  <- EXT_CHAL - (challenge drawn after EXT_U arrived)
 *                       - EXT_PROOF ->ovl_cot_send_verify
 *
 * after which the sender holds q_j and the receiver, with choice bit b_j,
 * holds t_j = q_j ⊕ b_j·Δ (j < n). The sender's q_j are released only once
 * the check passed, so nothing derived from Δ can leave before it. A garbler
 * passes its free-XOR Δ (lsb 1) to ovl_ot_new and uses q_j, q_j ⊕ Δ as the
 * evaluator's input labels; the evaluator's t_j is its label.
 *
 * Each batch's outputs are consumed at most once: raw (ovl_cot_blocks), or
 * through one derived mode (random OT, chosen-message OT, or the arithmetic
 * correlations of src/mpc/shares.h), which hashes them under a tweak stream
 * of their own. Batches of one direction are started in the same order on
 * both sides (a sequence number in every message checks it). */
#ifndef OVERLAP_MPC_OT_H
#define OVERLAP_MPC_OT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"
#include "crypto/rng.h"
#include "mpc/block.h"
#include "mpc/hash.h"

#define OVL_OT_KAPPA 128u      /* base OTs per direction = bits of Δ */
#define OVL_OT_STAT 40u        /* statistical security of the KOS check */
/* COTs per batch: keeps EXT_U (16 bytes per extended row) under one frame. */
#define OVL_COT_BATCH_MAX 65024u
/* The message sizes, for callers sizing their writers and framing caps. */
/* Every message starts with a kind byte; batch messages then carry
 * [seq u32][n u32] (SPEC.md §4.1). */
typedef enum {
    OVL_OTMSG_BASE = 0x01,
    OVL_OTMSG_EXT_U = 0x02,
    OVL_OTMSG_EXT_CHAL = 0x03,
    OVL_OTMSG_EXT_PROOF = 0x04,
    OVL_OTMSG_CHOSEN = 0x05,
    OVL_OTMSG_SHARE = 0x06,     /* src/mpc/shares.h: SHARE_COT */
    OVL_OTMSG_SHARE_OPEN = 0x07, /* src/mpc/shares.h: SHARE_OPEN */
    /* 0x08 is src/mpc/shuffle.h's CHOSEN_FIX */
    OVL_OTMSG_WIDE_U = 0x09      /* a wide correlation's columns (ovl_wide_recv) */
} ovl_otmsg_kind;
#define OVL_OT_BATCH_HDR 9u
#define OVL_OT_BASE_MSG_LEN (1u + 32u + OVL_OT_KAPPA * 64u)
#define OVL_COT_CHAL_MSG_LEN (OVL_OT_BATCH_HDR + 16u)
#define OVL_COT_PROOF_MSG_LEN (OVL_OT_BATCH_HDR + 32u)
/* Extended rows of a batch of n COTs: n + κ + s, rounded up to 128. */
size_t ovl_cot_ext_rows(size_t n);
/* EXT_U length for a batch of n COTs: header + 16 bytes per extended row. */
size_t ovl_cot_u_msg_len(size_t n);
/* OT_CHOSEN length: header + 32 bytes per OT. */
size_t ovl_cot_chosen_msg_len(size_t n);

typedef struct ovl_ot ovl_ot;
typedef struct ovl_cot ovl_cot;

/* party: this party, 0 (the listener) or 1 (the connector); the two parties
 * differ, and party p is the COT sender of tweak direction p. delta: the Δ this party uses as COT sender (taken as
 * given; a garbler sets its lsb), or NULL to draw one. rng: the session's
 * randomness (seeded only in tests and vectors), borrowed for the lifetime of
 * ot. sp: the session's tweak space, borrowed likewise. */
ovl_err ovl_ot_new(ovl_ot **out, unsigned party, const ovl_block *delta, ovl_rng *rng,
                   ovl_tweak_space *sp) OVL_MUST_USE;
void ovl_ot_free(ovl_ot *ot);
/* This party's Δ as COT sender (a secret). */
ovl_block ovl_ot_delta(const ovl_ot *ot);

/* Base OTs of both directions: each party writes its OT_BASE message and
 * reads the peer's, in either order. */
ovl_err ovl_ot_base_write(ovl_ot *ot, ovl_buf *out) OVL_MUST_USE;
ovl_err ovl_ot_base_read(ovl_ot *ot, ovl_buf *in) OVL_MUST_USE;
/* True once both base-OT messages were handled: extension batches may start. */
bool ovl_ot_ready(const ovl_ot *ot);

/* Receiver: n COTs (1 <= n <= OVL_COT_BATCH_MAX) with choice bit j at
 * (choices[j / 8] >> (j % 8)) & 1; writes EXT_U. */
ovl_err ovl_cot_recv_start(ovl_cot **out, ovl_ot *ot, const uint8_t *choices, size_t n,
                           ovl_buf *msg_out) OVL_MUST_USE;
/* Sender: reads EXT_U, writes EXT_CHAL. */
ovl_err ovl_cot_send_start(ovl_cot **out, ovl_ot *ot, ovl_buf *msg_in,
                           ovl_buf *msg_out) OVL_MUST_USE;
/* Receiver: reads EXT_CHAL, writes EXT_PROOF. */
ovl_err ovl_cot_recv_prove(ovl_cot *b, ovl_buf *msg_in, ovl_buf *msg_out) OVL_MUST_USE;
/* Sender: reads EXT_PROOF; OVL_ERR_CRYPTO when the receiver's columns were
 * inconsistent (a cheating receiver), after which the batch and the session's
 * direction are unusable. */
ovl_err ovl_cot_send_verify(ovl_cot *b, ovl_buf *msg_in) OVL_MUST_USE;

size_t ovl_cot_count(const ovl_cot *b);
/* q_j (sender, NULL until verified) or t_j (receiver), n blocks; marks the
 * batch consumed. */
const ovl_block *ovl_cot_blocks(ovl_cot *b);
/* True once the batch's outputs may be used (receiver: after recv_prove;
 * sender: after a passing verify). */
bool ovl_cot_ready(const ovl_cot *b);
void ovl_cot_free(ovl_cot *b);

/* Random OT: sender m0_j = H(q_j), m1_j = H(q_j ⊕ Δ); receiver m_j = H(t_j). */
ovl_err ovl_rot_send(ovl_cot *b, ovl_block *m0, ovl_block *m1) OVL_MUST_USE;
ovl_err ovl_rot_recv(ovl_cot *b, ovl_block *m) OVL_MUST_USE;
/* Chosen-message OT of n block pairs: the sender writes OT_CHOSEN, the
 * receiver reads it and gets m_j = (b_j ? m1_j : m0_j). */
ovl_err ovl_ot_send_chosen(ovl_cot *b, const ovl_block *m0, const ovl_block *m1,
                           ovl_buf *msg_out) OVL_MUST_USE;
ovl_err ovl_ot_recv_chosen(ovl_cot *b, ovl_buf *msg_in, ovl_block *m) OVL_MUST_USE;


/* Wide correlations (KKRT16's extension, SPEC.md §4.5): the receiver gives a
 * 128-bit block c_j per row instead of a choice bit and gets t_j; the sender
 * gets q_j = t_j ⊕ (c_j ∧ Δ). One message, WIDE_U, from the receiver; no
 * consistency check (the one protocol using them, circuit PSI's OPRF, needs
 * none: protocols/cpsi/SPEC.md §4). They draw on the same column PRGs as COT
 * batches and count in the same sequence, so both parties must interleave the
 * two kinds alike. 1 <= n <= OVL_COT_BATCH_MAX rows; t and q hold n blocks. */
size_t ovl_wide_msg_len(size_t n);
ovl_err ovl_wide_recv(ovl_ot *ot, const ovl_block *c, size_t n, ovl_block *t,
                      ovl_buf *msg_out) OVL_MUST_USE;
/* Reads a WIDE_U of exactly n rows. */
ovl_err ovl_wide_send(ovl_ot *ot, ovl_buf *msg_in, size_t n, ovl_block *q) OVL_MUST_USE;

#endif
