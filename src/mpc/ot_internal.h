/* overlap: state shared by the base-OT and OT-extension halves of src/mpc/ot.h.
 * Not for other modules: they go through ot.h. */
#ifndef OVERLAP_MPC_OT_INTERNAL_H
#define OVERLAP_MPC_OT_INTERNAL_H

#include "mpc/ot.h"

#define OT_ELEM 32u   /* ristretto255 element */
#define OT_SCALAR 32u /* ristretto255 scalar */

struct ovl_ot {
    unsigned party;
    ovl_rng *rng;
    ovl_tweak_space *sp;
    ovl_hash hash;
    ovl_block delta; /* this party's Δ as COT sender */

    /* Base OT secrets, wiped once both base messages were handled. */
    uint8_t base_a[OT_SCALAR];                    /* as base sender (peer's direction) */
    uint8_t base_A[OT_ELEM];
    uint8_t base_sk[OVL_OT_KAPPA][OT_SCALAR];     /* as base receiver (own direction) */
    uint8_t base_r[OVL_OT_KAPPA][2][OT_ELEM];     /* the pairs this party sent */
    bool base_written, base_done, broken_send, broken_recv;

    /* Column PRGs: as sender G_i = PRG(k_{Δ_i}); as receiver PRG(k0_i), PRG(k1_i). */
    ovl_prg send_prg[OVL_OT_KAPPA];
    ovl_prg recv_prg[OVL_OT_KAPPA][2];
    uint32_t send_seq, recv_seq; /* batches started per direction */
    /* Column matrix of the batch being started, reused so a session does not
     * map and fault in a fresh megabyte per batch; wiped when ot is freed. */
    ovl_block *scratch;
    size_t scratch_blocks;
    /* The rows of the last freed batch of each role, kept for the next one
     * for the same reason (cot_free hands them back, ovl_ot_free wipes them). */
    ovl_block *spare_rows[2];
    size_t spare_blocks[2];
};

/* ot->scratch with room for n blocks (contents unspecified). */
ovl_err ovl_ot_scratch(ovl_ot *ot, size_t n, ovl_block **out) OVL_MUST_USE;

/* Wipes the base-OT secrets. */
void ovl_ot_base_clear(ovl_ot *ot);

typedef enum { COT_WAIT_CHAL, COT_WAIT_PROOF, COT_READY, COT_FAILED } ovl_cot_state;

struct ovl_cot {
    ovl_ot *ot;
    bool sender;
    bool consumed;
    ovl_cot_state state;
    uint32_t seq;
    size_t n, n_ext;        /* requested and extended (KOS padding, 128-aligned) rows */
    ovl_block *rows;        /* q_j (sender) or t_j (receiver), n_ext of them */
    size_t rows_cap;        /* blocks allocated at rows */
    ovl_block *choice;      /* receiver: n_ext choice bits, padding random */
    ovl_block chal_seed;    /* the sender's KOS challenge seed */
    ovl_tweak_stream tw;    /* opened when the batch starts */
    uint64_t tw_first;      /* first counter reserved by ovl_cot_consume */
    size_t per_row;         /* tweaks per row reserved by ovl_cot_consume */
};

/* Marks a ready batch consumed and reserves per_row tweaks for each of its n
 * rows. OVL_ERR_USAGE if not ready or already consumed. */
ovl_err ovl_cot_consume(ovl_cot *b, size_t per_row) OVL_MUST_USE;
/* Pads of rows [j0, j0 + cnt): p0[r·per_row + k] = H(x_j, tweak(j, k)) with
 * x_j = q_j (sender) or t_j (receiver), and for the sender also
 * p1[...] = H(q_j ⊕ Δ, tweak(j, k)). cnt·per_row <= OVL_COT_PAD_CHUNK. */
#define OVL_COT_PAD_CHUNK 256u
ovl_err ovl_cot_pads(ovl_cot *b, size_t j0, size_t cnt, ovl_block *p0,
                     ovl_block *p1) OVL_MUST_USE;
/* The receiver's choice bit j (a secret: use it only through masks). */
static inline unsigned ovl_cot_choice(const ovl_cot *b, size_t j)
{
    return ovl_block_bit(b->choice[j / 128], (unsigned)(j % 128));
}
/* Writes / reads and checks the [kind u8][seq u32][n u32] header of a batch message. */
ovl_err ovl_cot_write_header(const ovl_cot *b, ovl_buf *out, ovl_otmsg_kind kind) OVL_MUST_USE;
ovl_err ovl_cot_read_header(const ovl_cot *b, ovl_buf *in, ovl_otmsg_kind kind) OVL_MUST_USE;

#endif
