/* OT extension: IKNP with the KOS15 consistency check, and the random and
 * chosen-message OTs derived from it (src/mpc/SPEC.md §4, §5).
 *
 * Receiver, choices r (n bits, padded with κ + s random bits to n_ext):
 * column i is t0_i = G0_i(n_ext), u_i = t0_i ⊕ G1_i(n_ext) ⊕ r. Sender:
 * q_i = G_i(n_ext) ⊕ Δ_i·u_i = t0_i ⊕ Δ_i·r. Transposed, row j gives
 * q_j = t_j ⊕ r_j·Δ. KOS: after EXT_U arrived the sender draws a seed for
 * χ_1..χ_n_ext; the receiver answers x = Σ r_j·χ_j, t = Σ χ_j·t_j in
 * GF(2^128); the sender checks Σ χ_j·q_j = t ⊕ x·Δ. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/guard.h"
#include "core/mem.h"
#include "mpc/gf128.h"
#include "mpc/ot_internal.h"
#include "mpc/transpose.h"

enum { CHI_CHUNK = 1024 };

size_t ovl_cot_ext_rows(size_t n)
{
    return (n + OVL_OT_KAPPA + OVL_OT_STAT + 127) / 128 * 128;
}

size_t ovl_cot_u_msg_len(size_t n)
{
    return OVL_OT_BATCH_HDR + ovl_cot_ext_rows(n) * (OVL_OT_KAPPA / 8);
}

size_t ovl_cot_chosen_msg_len(size_t n) { return OVL_OT_BATCH_HDR + 32 * n; }

static ovl_err put_header(ovl_buf *out, ovl_otmsg_kind kind, uint32_t seq, size_t n)
{
    ovl_err rc = OVL_OK;
    OVL_TRY(ovl_buf_put_u8(out, (uint8_t)kind));
    OVL_TRY(ovl_buf_put_u32(out, seq));
    OVL_TRY(ovl_buf_put_u32(out, (uint32_t)n));
done:
    return rc;
}

static const char *kind_name(unsigned kind)
{
    static const char *const names[] = {"?",         "OT_BASE",   "EXT_U",     "EXT_CHAL",
                                        "EXT_PROOF", "OT_CHOSEN", "SHARE_COT", "SHARE_OPEN",
                                        "CHOSEN_FIX", "WIDE_U"};
    return kind < sizeof names / sizeof names[0] ? names[kind] : "?";
}

/* [kind u8][seq u32][n u32] with the kind, sequence and size this batch expects. */
static ovl_err read_header(ovl_buf *in, ovl_otmsg_kind want, uint32_t seq, uint32_t *n)
{
    ovl_err rc = OVL_OK;
    uint8_t kind = 0;
    uint32_t got_seq = 0;

    OVL_ENSURE(ovl_buf_remaining(in) >= OVL_OT_BATCH_HDR, OVL_ERR_MALFORMED,
               "mpc: %s truncated to %zu bytes", kind_name(want), ovl_buf_remaining(in));
    OVL_TRY(ovl_buf_get_u8(in, &kind));
    OVL_TRY(ovl_buf_get_u32(in, &got_seq));
    OVL_TRY(ovl_buf_get_u32(in, n));
    OVL_ENSURE(kind == want, OVL_ERR_PROTOCOL, "mpc: expected %s, got message kind %u",
               kind_name(want), kind);
    OVL_ENSURE(got_seq == seq, OVL_ERR_PROTOCOL, "mpc: %s for batch %u, expected batch %u",
               kind_name(want), got_seq, seq);
done:
    return rc;
}

ovl_err ovl_cot_write_header(const ovl_cot *b, ovl_buf *out, ovl_otmsg_kind kind)
{
    return put_header(out, kind, b->seq, b->n);
}

ovl_err ovl_cot_read_header(const ovl_cot *b, ovl_buf *in, ovl_otmsg_kind kind)
{
    ovl_err rc = OVL_OK;
    uint32_t n = 0;

    OVL_TRY(read_header(in, kind, b->seq, &n));
    OVL_ENSURE(n == b->n, OVL_ERR_PROTOCOL, "mpc: %s for %u OTs, batch has %zu",
               kind_name(kind), n, b->n);
done:
    return rc;
}

static ovl_err batch_new(ovl_cot **out, ovl_ot *ot, bool sender, size_t n)
{
    ovl_err rc = OVL_OK;
    ovl_cot *b = NULL;

    OVL_TRY(ovl_calloc((void **)&b, 1, sizeof *b));
    b->ot = ot;
    b->sender = sender;
    b->n = n;
    b->n_ext = ovl_cot_ext_rows(n);
    if (ot->spare_rows[sender] != NULL && ot->spare_blocks[sender] >= b->n_ext) {
        b->rows = ot->spare_rows[sender];
        b->rows_cap = ot->spare_blocks[sender];
        ot->spare_rows[sender] = NULL;
    } else {
        OVL_TRY(ovl_calloc((void **)&b->rows, b->n_ext, sizeof *b->rows));
        b->rows_cap = b->n_ext;
    }
    if (!sender)
        OVL_TRY(ovl_calloc((void **)&b->choice, b->n_ext / 128, sizeof *b->choice));
    OVL_TRY(ovl_tweak_open(ot->sp, &b->tw, OVL_TWEAK_OT, sender ? ot->party : 1u - ot->party));
    *out = b;
    b = NULL;
done:
    ovl_cot_free(b);
    return rc;
}

void ovl_cot_free(ovl_cot *b)
{
    if (b == NULL)
        return;
    if (b->rows != NULL && b->ot->spare_rows[b->sender] == NULL) {
        b->ot->spare_rows[b->sender] = b->rows;
        b->ot->spare_blocks[b->sender] = b->rows_cap;
    } else if (b->rows != NULL) {
        ovl_free_secret(b->rows, b->rows_cap * sizeof *b->rows);
    }
    if (b->choice != NULL)
        ovl_free_secret(b->choice, b->n_ext / 128 * sizeof *b->choice);
    ovl_free_secret(b, sizeof *b);
}

size_t ovl_cot_count(const ovl_cot *b) { return b->n; }

bool ovl_cot_ready(const ovl_cot *b) { return b->state == COT_READY; }

const ovl_block *ovl_cot_blocks(ovl_cot *b)
{
    if (b->state != COT_READY || b->consumed)
        return NULL;
    b->consumed = true;
    return b->rows;
}

/* The caller's n bits, then random padding; bits of choices past n are ignored. */
static void load_choices(ovl_cot *b, const uint8_t *choices)
{
    uint8_t *c = (uint8_t *)b->choice;
    size_t whole = b->n / 8, tail = b->n % 8;

    ovl_rng_bytes(b->ot->rng, c, b->n_ext / 8);
    memcpy(c, choices, whole);
    if (tail != 0) {
        uint8_t keep = (uint8_t)((1u << tail) - 1u);
        c[whole] = (uint8_t)((choices[whole] & keep) | (c[whole] & (uint8_t)~keep));
    }
}

/* The receiver's columns: t0_i = G0_i, u_i = t0_i ⊕ G1_i ⊕ x_i, where x_i is
 * the column's choice vector: one vector for every column (x_stride 0, a COT
 * batch) or one per column (x_stride = words, a wide batch). */
static ovl_err recv_columns(ovl_ot *ot, ovl_block *t0, ovl_block *t1, size_t words, uint8_t *u,
                            const ovl_block *x, size_t x_stride)
{
    ovl_err rc = OVL_OK;
    for (size_t i = 0; i < OVL_OT_KAPPA; i++) {
        ovl_block *col = t0 + i * words;
        const ovl_block *xi = x + i * x_stride;
        OVL_TRY(ovl_prg_blocks(&ot->recv_prg[i][0], col, words));
        OVL_TRY(ovl_prg_blocks(&ot->recv_prg[i][1], t1, words));
        for (size_t w = 0; w < words; w++)
            ovl_block_store(u + (i * words + w) * OVL_BLOCK_BYTES,
                            ovl_block_xor(ovl_block_xor(col[w], t1[w]), xi[w]));
    }
done:
    return rc;
}

/* The sender's columns: q_i = G_i ⊕ Δ_i·u_i (a mask, not a branch). */
static ovl_err send_columns(ovl_ot *ot, ovl_block *q, size_t words, const uint8_t *u)
{
    ovl_err rc = OVL_OK;
    for (size_t i = 0; i < OVL_OT_KAPPA; i++) {
        ovl_block *col = q + i * words;
        ovl_block m = ovl_block_mask(ovl_block_bit(ot->delta, (unsigned)i));
        OVL_TRY(ovl_prg_blocks(&ot->send_prg[i], col, words));
        for (size_t w = 0; w < words; w++) {
            ovl_block uw = ovl_block_load(u + (i * words + w) * OVL_BLOCK_BYTES);
            col[w] = ovl_block_xor(col[w], ovl_block_and(m, uw));
        }
    }
done:
    return rc;
}

ovl_err ovl_cot_recv_start(ovl_cot **out, ovl_ot *ot, const uint8_t *choices, size_t n,
                           ovl_buf *msg_out)
{
    ovl_err rc = OVL_OK;
    ovl_cot *b = NULL;
    ovl_block *t0 = NULL, *t1 = NULL;
    uint8_t *u = NULL;
    size_t words = 0;

    *out = NULL;
    OVL_ENSURE(ot->base_done && !ot->broken_recv, OVL_ERR_USAGE,
               "mpc: OT extension before the base OTs completed, or after a failure");
    OVL_ENSURE(n >= 1 && n <= OVL_COT_BATCH_MAX && choices != NULL, OVL_ERR_USAGE,
               "mpc: a COT batch holds 1 to %u OTs, not %zu", OVL_COT_BATCH_MAX, n);
    OVL_TRY(batch_new(&b, ot, false, n));
    b->seq = ot->recv_seq;
    load_choices(b, choices);
    words = b->n_ext / 128;
    OVL_TRY(ovl_ot_scratch(ot, (OVL_OT_KAPPA + 1) * words, &t0));
    t1 = t0 + OVL_OT_KAPPA * words;
    OVL_TRY(put_header(msg_out, OVL_OTMSG_EXT_U, b->seq, n));
    OVL_TRY(ovl_buf_reserve(msg_out, OVL_OT_KAPPA * words * OVL_BLOCK_BYTES, &u));
    OVL_TRY(recv_columns(ot, t0, t1, words, u, b->choice, 0));
    ovl_transpose((uint8_t *)b->rows, (const uint8_t *)t0, OVL_OT_KAPPA, b->n_ext);
    b->state = COT_WAIT_CHAL;
    ot->recv_seq++;
    *out = b;
    b = NULL;
done:
    ovl_cot_free(b);
    if (rc != OVL_OK)
        ot->broken_recv = true;
    return rc;
}

ovl_err ovl_cot_send_start(ovl_cot **out, ovl_ot *ot, ovl_buf *msg_in, ovl_buf *msg_out)
{
    ovl_err rc = OVL_OK;
    ovl_cot *b = NULL;
    ovl_block *q = NULL;
    const uint8_t *u = NULL;
    uint32_t n = 0;
    size_t words = 0;
    uint8_t seed[16];

    *out = NULL;
    OVL_ENSURE(ot->base_done && !ot->broken_send, OVL_ERR_USAGE,
               "mpc: OT extension before the base OTs completed, or after a failure");
    OVL_TRY(read_header(msg_in, OVL_OTMSG_EXT_U, ot->send_seq, &n));
    OVL_ENSURE(n >= 1 && n <= OVL_COT_BATCH_MAX, OVL_ERR_LIMIT,
               "mpc: EXT_U announces %u OTs, the cap is %u", n, OVL_COT_BATCH_MAX);
    OVL_ENSURE(ovl_buf_remaining(msg_in) == ovl_cot_u_msg_len(n) - OVL_OT_BATCH_HDR,
               OVL_ERR_MALFORMED, "mpc: EXT_U for %u OTs has %zu column bytes, expected %zu", n,
               ovl_buf_remaining(msg_in), ovl_cot_u_msg_len(n) - OVL_OT_BATCH_HDR);
    OVL_TRY(ovl_buf_get_ptr(msg_in, ovl_buf_remaining(msg_in), &u));
    OVL_TRY(batch_new(&b, ot, true, n));
    b->seq = ot->send_seq;
    words = b->n_ext / 128;
    OVL_TRY(ovl_ot_scratch(ot, OVL_OT_KAPPA * words, &q));
    OVL_TRY(send_columns(ot, q, words, u));
    ovl_transpose((uint8_t *)b->rows, (const uint8_t *)q, OVL_OT_KAPPA, b->n_ext);
    /* The challenge is drawn only now, after every column arrived (SPEC §4.3). */
    ovl_rng_bytes(ot->rng, seed, sizeof seed);
    b->chal_seed = ovl_block_load(seed);
    OVL_TRY(put_header(msg_out, OVL_OTMSG_EXT_CHAL, b->seq, n));
    OVL_TRY(ovl_buf_put_bytes(msg_out, seed, sizeof seed));
    b->state = COT_WAIT_PROOF;
    ot->send_seq++;
    *out = b;
    b = NULL;
done:
    ovl_cot_free(b);
    if (rc != OVL_OK)
        ot->broken_send = true;
    return rc;
}

/* Σ χ_j·rows_j (reduced) and, for the receiver, Σ r_j·χ_j. */
static ovl_err kos_combine(ovl_cot *b, ovl_block *sum, ovl_block *x)
{
    ovl_err rc = OVL_OK;
    ovl_prg g = {0};
    ovl_block chi[CHI_CHUNK];
    ovl_gf256 acc = {ovl_block_zero(), ovl_block_zero()};
    ovl_block xs = ovl_block_zero();
    uint8_t seed[16];

    ovl_block_store(seed, b->chal_seed);
    OVL_TRY(ovl_prg_init(&g, seed));
    for (size_t j0 = 0; j0 < b->n_ext; j0 += CHI_CHUNK) {
        size_t k = b->n_ext - j0 < CHI_CHUNK ? b->n_ext - j0 : CHI_CHUNK;
        OVL_TRY(ovl_prg_blocks(&g, chi, k));
        ovl_gf128_mul_acc(&acc, chi, b->rows + j0, k);
        if (!b->sender)
            for (size_t j = 0; j < k; j++)
                xs = ovl_block_xor(xs, ovl_block_select(ovl_cot_choice(b, j0 + j), chi[j]));
    }
    *sum = ovl_gf128_reduce(acc);
    *x = xs;
done:
    ovl_prg_free(&g);
    sodium_memzero(&acc, sizeof acc);
    sodium_memzero(&xs, sizeof xs);
    return rc;
}

ovl_err ovl_cot_recv_prove(ovl_cot *b, ovl_buf *msg_in, ovl_buf *msg_out)
{
    ovl_err rc = OVL_OK;
    uint32_t n = 0;
    uint8_t seed[16], xb[16], tb[16];
    ovl_block t, x;

    OVL_ENSURE(!b->sender && b->state == COT_WAIT_CHAL, OVL_ERR_USAGE,
               "mpc: EXT_CHAL handled by a sender or out of order");
    OVL_TRY(read_header(msg_in, OVL_OTMSG_EXT_CHAL, b->seq, &n));
    OVL_ENSURE(n == b->n, OVL_ERR_PROTOCOL, "mpc: EXT_CHAL for %u OTs, batch has %zu", n, b->n);
    OVL_ENSURE(ovl_buf_remaining(msg_in) == sizeof seed, OVL_ERR_MALFORMED,
               "mpc: EXT_CHAL has %zu seed bytes, expected %zu", ovl_buf_remaining(msg_in),
               sizeof seed);
    OVL_TRY(ovl_buf_get_bytes(msg_in, seed, sizeof seed));
    b->chal_seed = ovl_block_load(seed);
    OVL_TRY(kos_combine(b, &t, &x));
    ovl_block_store(xb, x);
    ovl_block_store(tb, t);
    OVL_TRY(put_header(msg_out, OVL_OTMSG_EXT_PROOF, b->seq, b->n));
    OVL_TRY(ovl_buf_put_bytes(msg_out, xb, sizeof xb));
    OVL_TRY(ovl_buf_put_bytes(msg_out, tb, sizeof tb));
    b->state = COT_READY;
done:
    if (rc != OVL_OK) {
        b->state = COT_FAILED;
        b->ot->broken_recv = true;
    }
    return rc;
}

/* The one branch on the check's outcome, which the sender reveals anyway by
 * going on or aborting (kept apart for tests/ct/ct.supp). */
__attribute__((noinline)) static ovl_err kos_verdict(const ovl_cot *b, ovl_block q,
                                                     ovl_block want)
{
    if (!ovl_block_eq(q, want))
        return ovl_err_set(OVL_ERR_CRYPTO,
                           "mpc: OT extension batch %u: the receiver failed the KOS consistency "
                           "check",
                           b->seq);
    return OVL_OK;
}

ovl_err ovl_cot_send_verify(ovl_cot *b, ovl_buf *msg_in)
{
    ovl_err rc = OVL_OK;
    uint32_t n = 0;
    uint8_t xb[16], tb[16];
    ovl_block q, x;

    OVL_ENSURE(b->sender && b->state == COT_WAIT_PROOF, OVL_ERR_USAGE,
               "mpc: EXT_PROOF handled by a receiver or out of order");
    OVL_TRY(read_header(msg_in, OVL_OTMSG_EXT_PROOF, b->seq, &n));
    OVL_ENSURE(n == b->n, OVL_ERR_PROTOCOL, "mpc: EXT_PROOF for %u OTs, batch has %zu", n, b->n);
    OVL_ENSURE(ovl_buf_remaining(msg_in) == sizeof xb + sizeof tb, OVL_ERR_MALFORMED,
               "mpc: EXT_PROOF has %zu proof bytes, expected %zu", ovl_buf_remaining(msg_in),
               sizeof xb + sizeof tb);
    OVL_TRY(ovl_buf_get_bytes(msg_in, xb, sizeof xb));
    OVL_TRY(ovl_buf_get_bytes(msg_in, tb, sizeof tb));
    OVL_TRY(kos_combine(b, &q, &x));
    OVL_TRY(kos_verdict(b, q, ovl_block_xor(ovl_block_load(tb),
                                            ovl_gf128_mul(ovl_block_load(xb), b->ot->delta))));
    b->state = COT_READY;
done:
    sodium_memzero(&q, sizeof q);
    if (rc != OVL_OK) {
        b->state = COT_FAILED;
        b->ot->broken_send = true;
        sodium_memzero(b->rows, b->n_ext * sizeof *b->rows);
    }
    return rc;
}

ovl_err ovl_cot_consume(ovl_cot *b, size_t per_row)
{
    ovl_err rc = OVL_OK;
    size_t total = 0;

    OVL_ENSURE(b->state == COT_READY && !b->consumed, OVL_ERR_USAGE,
               "mpc: COT batch %u not ready or already used", b->seq);
    OVL_ENSURE(per_row >= 1 && per_row <= OVL_COT_PAD_CHUNK && ovl_mul_ok(b->n, per_row, &total),
               OVL_ERR_USAGE, "mpc: %zu pads per OT is out of range", per_row);
    OVL_TRY(ovl_tweak_take(&b->tw, total, &b->tw_first));
    b->per_row = per_row;
    b->consumed = true;
done:
    return rc;
}

ovl_err ovl_cot_pads(ovl_cot *b, size_t j0, size_t cnt, ovl_block *p0, ovl_block *p1)
{
    ovl_err rc = OVL_OK;
    ovl_block x[OVL_COT_PAD_CHUNK], tw[OVL_COT_PAD_CHUNK];
    size_t k = b->per_row, m = cnt * b->per_row;

    OVL_ENSURE(b->consumed && j0 <= b->n && cnt <= b->n - j0 && m <= OVL_COT_PAD_CHUNK,
               OVL_ERR_INTERNAL, "mpc: pads of rows %zu+%zu out of range", j0, cnt);
    for (size_t r = 0; r < cnt; r++)
        for (size_t i = 0; i < k; i++) {
            x[r * k + i] = b->rows[j0 + r];
            tw[r * k + i] = ovl_tweak_block(&b->tw, b->tw_first + (j0 + r) * k + i);
        }
    OVL_TRY(ovl_hash_tccr(&b->ot->hash, p0, x, tw, m));
    if (b->sender) {
        for (size_t i = 0; i < m; i++)
            x[i] = ovl_block_xor(x[i], b->ot->delta);
        OVL_TRY(ovl_hash_tccr(&b->ot->hash, p1, x, tw, m));
    }
done:
    sodium_memzero(x, sizeof x);
    return rc;
}

ovl_err ovl_rot_send(ovl_cot *b, ovl_block *m0, ovl_block *m1)
{
    ovl_err rc = OVL_OK;

    OVL_ENSURE(b->sender, OVL_ERR_USAGE, "mpc: random-OT send on a receiver batch");
    OVL_TRY(ovl_cot_consume(b, 1));
    for (size_t j = 0; j < b->n; j += OVL_COT_PAD_CHUNK) {
        size_t k = b->n - j < OVL_COT_PAD_CHUNK ? b->n - j : OVL_COT_PAD_CHUNK;
        OVL_TRY(ovl_cot_pads(b, j, k, m0 + j, m1 + j));
    }
done:
    return rc;
}

ovl_err ovl_rot_recv(ovl_cot *b, ovl_block *m)
{
    ovl_err rc = OVL_OK;

    OVL_ENSURE(!b->sender, OVL_ERR_USAGE, "mpc: random-OT receive on a sender batch");
    OVL_TRY(ovl_cot_consume(b, 1));
    for (size_t j = 0; j < b->n; j += OVL_COT_PAD_CHUNK) {
        size_t k = b->n - j < OVL_COT_PAD_CHUNK ? b->n - j : OVL_COT_PAD_CHUNK;
        OVL_TRY(ovl_cot_pads(b, j, k, m + j, NULL));
    }
done:
    return rc;
}

ovl_err ovl_ot_send_chosen(ovl_cot *b, const ovl_block *m0, const ovl_block *m1,
                           ovl_buf *msg_out)
{
    ovl_err rc = OVL_OK;
    ovl_block p0[OVL_COT_PAD_CHUNK], p1[OVL_COT_PAD_CHUNK];
    uint8_t *y = NULL;

    OVL_ENSURE(b->sender, OVL_ERR_USAGE, "mpc: chosen-OT send on a receiver batch");
    OVL_TRY(ovl_cot_consume(b, 1));
    OVL_TRY(put_header(msg_out, OVL_OTMSG_CHOSEN, b->seq, b->n));
    OVL_TRY(ovl_buf_reserve(msg_out, 32 * b->n, &y));
    for (size_t j = 0; j < b->n; j += OVL_COT_PAD_CHUNK) {
        size_t k = b->n - j < OVL_COT_PAD_CHUNK ? b->n - j : OVL_COT_PAD_CHUNK;
        OVL_TRY(ovl_cot_pads(b, j, k, p0, p1));
        for (size_t i = 0; i < k; i++) {
            ovl_block_store(y + 32 * (j + i), ovl_block_xor(m0[j + i], p0[i]));
            ovl_block_store(y + 32 * (j + i) + 16, ovl_block_xor(m1[j + i], p1[i]));
        }
    }
done:
    sodium_memzero(p0, sizeof p0);
    sodium_memzero(p1, sizeof p1);
    return rc;
}

ovl_err ovl_ot_recv_chosen(ovl_cot *b, ovl_buf *msg_in, ovl_block *m)
{
    ovl_err rc = OVL_OK;
    ovl_block p[OVL_COT_PAD_CHUNK];
    const uint8_t *y = NULL;
    uint32_t n = 0;

    OVL_ENSURE(!b->sender, OVL_ERR_USAGE, "mpc: chosen-OT receive on a sender batch");
    OVL_TRY(read_header(msg_in, OVL_OTMSG_CHOSEN, b->seq, &n));
    OVL_ENSURE(n == b->n, OVL_ERR_PROTOCOL, "mpc: OT_CHOSEN for %u OTs, batch has %zu", n, b->n);
    OVL_ENSURE(ovl_buf_remaining(msg_in) == 32 * b->n, OVL_ERR_MALFORMED,
               "mpc: OT_CHOSEN has %zu message bytes, expected %zu", ovl_buf_remaining(msg_in),
               32 * b->n);
    OVL_TRY(ovl_buf_get_ptr(msg_in, 32 * b->n, &y));
    OVL_TRY(ovl_cot_consume(b, 1));
    for (size_t j = 0; j < b->n; j += OVL_COT_PAD_CHUNK) {
        size_t k = b->n - j < OVL_COT_PAD_CHUNK ? b->n - j : OVL_COT_PAD_CHUNK;
        OVL_TRY(ovl_cot_pads(b, j, k, p, NULL));
        for (size_t i = 0; i < k; i++) {
            ovl_block y0 = ovl_block_load(y + 32 * (j + i));
            ovl_block y1 = ovl_block_load(y + 32 * (j + i) + 16);
            ovl_block pick = ovl_block_select(ovl_cot_choice(b, j + i), ovl_block_xor(y0, y1));
            m[j + i] = ovl_block_xor(ovl_block_xor(y0, pick), p[i]);
        }
    }
done:
    sodium_memzero(p, sizeof p);
    return rc;
}

/* ---- wide correlations (SPEC.md §4.5) ---- */

static size_t wide_rows(size_t n) { return (n + 127) / 128 * 128; }

size_t ovl_wide_msg_len(size_t n)
{
    return OVL_OT_BATCH_HDR + wide_rows(n) * (OVL_OT_KAPPA / 8);
}

/* Rows past n are zero blocks: their columns' bits are G0 ⊕ G1 of PRG output
 * no other batch uses. */
ovl_err ovl_wide_recv(ovl_ot *ot, const ovl_block *c, size_t n, ovl_block *t, ovl_buf *msg_out)
{
    ovl_err rc = OVL_OK;
    ovl_block *t0 = NULL, *t1 = NULL, *cc = NULL, *rows = NULL;
    uint8_t *u = NULL;
    size_t ext = wide_rows(n), words = ext / 128;

    OVL_ENSURE(ot->base_done && !ot->broken_recv, OVL_ERR_USAGE,
               "mpc: OT extension before the base OTs completed, or after a failure");
    OVL_ENSURE(n >= 1 && n <= OVL_COT_BATCH_MAX, OVL_ERR_USAGE,
               "mpc: a wide batch holds 1 to %u rows, not %zu", OVL_COT_BATCH_MAX, n);
    OVL_TRY(ovl_ot_scratch(ot, (2 * OVL_OT_KAPPA + 1) * words + ext, &t0));
    cc = t0 + OVL_OT_KAPPA * words;
    t1 = cc + OVL_OT_KAPPA * words;
    rows = t1 + words;
    memcpy(rows, c, n * sizeof *rows);
    memset(rows + n, 0, (ext - n) * sizeof *rows);
    ovl_transpose((uint8_t *)cc, (const uint8_t *)rows, ext, OVL_OT_KAPPA);
    OVL_TRY(put_header(msg_out, OVL_OTMSG_WIDE_U, ot->recv_seq, n));
    OVL_TRY(ovl_buf_reserve(msg_out, OVL_OT_KAPPA * words * OVL_BLOCK_BYTES, &u));
    OVL_TRY(recv_columns(ot, t0, t1, words, u, cc, words));
    ovl_transpose((uint8_t *)rows, (const uint8_t *)t0, OVL_OT_KAPPA, ext);
    memcpy(t, rows, n * sizeof *t);
    ot->recv_seq++;
done:
    if (t0 != NULL)
        sodium_memzero(t0, ((2 * OVL_OT_KAPPA + 1) * words + ext) * sizeof *t0);
    if (rc != OVL_OK)
        ot->broken_recv = true;
    return rc;
}

ovl_err ovl_wide_send(ovl_ot *ot, ovl_buf *msg_in, size_t n, ovl_block *q)
{
    ovl_err rc = OVL_OK;
    ovl_block *cols = NULL, *rows = NULL;
    const uint8_t *u = NULL;
    uint32_t got = 0;
    size_t ext = wide_rows(n), words = ext / 128;

    OVL_ENSURE(ot->base_done && !ot->broken_send, OVL_ERR_USAGE,
               "mpc: OT extension before the base OTs completed, or after a failure");
    OVL_ENSURE(n >= 1 && n <= OVL_COT_BATCH_MAX, OVL_ERR_USAGE,
               "mpc: a wide batch holds 1 to %u rows, not %zu", OVL_COT_BATCH_MAX, n);
    OVL_TRY(read_header(msg_in, OVL_OTMSG_WIDE_U, ot->send_seq, &got));
    OVL_ENSURE(got == n, OVL_ERR_PROTOCOL, "mpc: WIDE_U for %u rows, %zu were due", got, n);
    OVL_ENSURE(ovl_buf_remaining(msg_in) == ovl_wide_msg_len(n) - OVL_OT_BATCH_HDR,
               OVL_ERR_MALFORMED, "mpc: WIDE_U for %zu rows has %zu column bytes, expected %zu",
               n, ovl_buf_remaining(msg_in), ovl_wide_msg_len(n) - OVL_OT_BATCH_HDR);
    OVL_TRY(ovl_buf_get_ptr(msg_in, ovl_buf_remaining(msg_in), &u));
    OVL_TRY(ovl_ot_scratch(ot, OVL_OT_KAPPA * words + ext, &cols));
    rows = cols + OVL_OT_KAPPA * words;
    OVL_TRY(send_columns(ot, cols, words, u));
    ovl_transpose((uint8_t *)rows, (const uint8_t *)cols, OVL_OT_KAPPA, ext);
    memcpy(q, rows, n * sizeof *q);
    ot->send_seq++;
done:
    if (cols != NULL)
        sodium_memzero(cols, (OVL_OT_KAPPA * words + ext) * sizeof *cols);
    if (rc != OVL_OK)
        ot->broken_send = true;
    return rc;
}
