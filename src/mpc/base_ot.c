/* Base OTs: Masny–Rindal (CCS 2019, "endemic OT") over ristretto255, κ per
 * direction, both directions in one OT_BASE message each way
 * (src/mpc/SPEC.md §3).
 *
 * Base receiver with choice c: B = sk·G, r_{1-c} uniform, r_c = B − H(r_{1-c}).
 * Base sender with A = a·G: B_b = r_b + H(r_{1-b}), k_b = KDF(a·B_b); the
 * receiver gets k_c = KDF(sk·A). In direction d the base receiver is party d
 * (the future OT-extension sender, choosing with the bits of its Δ). */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/guard.h"
#include "core/mem.h"
#include "crypto/suites.h"
#include "mpc/ot_internal.h"

static const char h_dst[] = "overlap-mpc-v1 MR19 hash-to-group";
static const char kdf_label[] = "overlap-mpc-v1 MR19 key";

/* H(r) for OT i of direction d is RFC 9380 hash_to_ristretto255 (DST h_dst) of
 * this message: d ‖ i ‖ r. */
static void mr_hash_msg(uint8_t msg[1 + 4 + OT_ELEM], unsigned dir, uint32_t i,
                        const uint8_t r[OT_ELEM])
{
    msg[0] = (uint8_t)dir;
    msg[1] = (uint8_t)(i >> 24);
    msg[2] = (uint8_t)(i >> 16);
    msg[3] = (uint8_t)(i >> 8);
    msg[4] = (uint8_t)i;
    memcpy(msg + 5, r, OT_ELEM);
}

/* The 16-byte seed of OT i, message b, bound to the whole exchange. */
static void mr_kdf(uint8_t out[16], unsigned dir, uint32_t i, unsigned b,
                   const uint8_t A[OT_ELEM], const uint8_t r[2][OT_ELEM],
                   const uint8_t shared[OT_ELEM])
{
    crypto_generichash_state st;
    uint8_t hdr[6] = {(uint8_t)dir, (uint8_t)(i >> 24), (uint8_t)(i >> 16), (uint8_t)(i >> 8),
                      (uint8_t)i, (uint8_t)b};
    crypto_generichash_init(&st, NULL, 0, 16);
    crypto_generichash_update(&st, (const uint8_t *)kdf_label, sizeof kdf_label);
    crypto_generichash_update(&st, hdr, sizeof hdr);
    crypto_generichash_update(&st, A, OT_ELEM);
    crypto_generichash_update(&st, r[0], OT_ELEM);
    crypto_generichash_update(&st, r[1], OT_ELEM);
    crypto_generichash_update(&st, shared, OT_ELEM);
    crypto_generichash_final(&st, out, 16);
    sodium_memzero(&st, sizeof st);
}

static ovl_err mr_scalar(ovl_ot *ot, uint8_t out[OT_SCALAR])
{
    uint8_t wide[64];
    ovl_rng_bytes(ot->rng, wide, sizeof wide);
    ovl_err rc = ovl_suite_ristretto255.scalar_from_bytes(out, wide);
    sodium_memzero(wide, sizeof wide);
    return rc;
}

/* Swaps x and y when bit is 1, without a branch on bit. */
static void ct_swap(uint8_t *x, uint8_t *y, size_t n, unsigned bit)
{
    uint8_t m = (uint8_t)(0 - (bit & 1u));
    for (size_t k = 0; k < n; k++) {
        uint8_t t = m & (x[k] ^ y[k]);
        x[k] ^= t;
        y[k] ^= t;
    }
}

ovl_err ovl_ot_new(ovl_ot **out, unsigned party, const ovl_block *delta, ovl_rng *rng,
                   ovl_tweak_space *sp)
{
    ovl_err rc = OVL_OK;
    ovl_ot *ot = NULL;

    *out = NULL;
    OVL_ENSURE(party <= 1, OVL_ERR_USAGE, "mpc: OT party must be 0 or 1, not %u", party);
    OVL_TRY(ovl_calloc((void **)&ot, 1, sizeof *ot));
    ot->party = party;
    ot->rng = rng;
    ot->sp = sp;
    if (delta != NULL) {
        ot->delta = *delta;
    } else {
        uint8_t d[16];
        ovl_rng_bytes(rng, d, sizeof d);
        ot->delta = ovl_block_load(d);
        sodium_memzero(d, sizeof d);
    }
    OVL_TRY(ovl_hash_init(&ot->hash, sp));
    *out = ot;
    ot = NULL;
done:
    ovl_ot_free(ot);
    return rc;
}

void ovl_ot_base_clear(ovl_ot *ot)
{
    sodium_memzero(ot->base_a, sizeof ot->base_a);
    sodium_memzero(ot->base_sk, sizeof ot->base_sk);
    sodium_memzero(ot->base_r, sizeof ot->base_r);
}

void ovl_ot_free(ovl_ot *ot)
{
    if (ot == NULL)
        return;
    for (unsigned i = 0; i < OVL_OT_KAPPA; i++) {
        ovl_prg_free(&ot->send_prg[i]);
        ovl_prg_free(&ot->recv_prg[i][0]);
        ovl_prg_free(&ot->recv_prg[i][1]);
    }
    if (ot->hash.pi.ctx != NULL)
        ovl_hash_free(&ot->hash);
    if (ot->scratch != NULL)
        ovl_free_secret(ot->scratch, ot->scratch_blocks * sizeof *ot->scratch);
    for (int r = 0; r < 2; r++)
        if (ot->spare_rows[r] != NULL)
            ovl_free_secret(ot->spare_rows[r], ot->spare_blocks[r] * sizeof(ovl_block));
    ovl_free_secret(ot, sizeof *ot);
}

ovl_err ovl_ot_scratch(ovl_ot *ot, size_t n, ovl_block **out)
{
    ovl_err rc = OVL_OK;
    ovl_block *p = NULL;

    if (n > ot->scratch_blocks) {
        OVL_TRY(ovl_calloc((void **)&p, n, sizeof *p));
        if (ot->scratch != NULL)
            ovl_free_secret(ot->scratch, ot->scratch_blocks * sizeof *ot->scratch);
        ot->scratch = p;
        ot->scratch_blocks = n;
    }
    *out = ot->scratch;
done:
    return rc;
}

ovl_block ovl_ot_delta(const ovl_ot *ot) { return ot->delta; }

bool ovl_ot_ready(const ovl_ot *ot) { return ot->base_done; }

/* The base-receiver pairs: r_c = sk·G − H(r_{1-c}) with r_{1-c} uniform, the κ
 * hashes to the group as one batch (randomness drawn in the same order as one
 * pair at a time: sk_i, then r_{1-c_i}). */
typedef struct {
    uint8_t S[OVL_OT_KAPPA][OT_ELEM]; /* sk_i·G: with a pair it reveals c_i */
    uint8_t msg[OVL_OT_KAPPA][1 + 4 + OT_ELEM];
    const uint8_t *msgs[OVL_OT_KAPPA];
    uint8_t h[OVL_OT_KAPPA][OT_ELEM];
    uint8_t wide[64];
} mr_receiver_work;

static ovl_err mr_receiver_pairs(ovl_ot *ot)
{
    ovl_err rc = OVL_OK;
    mr_receiver_work *w = NULL;

    OVL_TRY(ovl_calloc((void **)&w, 1, sizeof *w));
    for (uint32_t i = 0; i < OVL_OT_KAPPA; i++) {
        uint8_t *r_other = ot->base_r[i][1];
        OVL_TRY(mr_scalar(ot, ot->base_sk[i]));
        OVL_ENSURE(crypto_scalarmult_ristretto255_base(w->S[i], ot->base_sk[i]) == 0,
                   OVL_ERR_CRYPTO, "mpc: base OT public key is the identity");
        ovl_rng_bytes(ot->rng, w->wide, sizeof w->wide);
        crypto_core_ristretto255_from_hash(r_other, w->wide);
        mr_hash_msg(w->msg[i], ot->party, i, r_other);
        w->msgs[i] = w->msg[i];
    }
    OVL_TRY(ovl_suite_ristretto255.hash_to_group_batch(w->h[0], w->msgs, sizeof w->msg[0],
                                                       OVL_OT_KAPPA, (const uint8_t *)h_dst,
                                                       sizeof h_dst - 1));
    for (uint32_t i = 0; i < OVL_OT_KAPPA; i++) {
        uint8_t *r_chosen = ot->base_r[i][0], *r_other = ot->base_r[i][1];
        crypto_core_ristretto255_sub(r_chosen, w->S[i], w->h[i]);
        /* Identity with probability 2^-252; the peer would refuse it. */
        OVL_ENSURE(!sodium_is_zero(r_chosen, OT_ELEM) && !sodium_is_zero(r_other, OT_ELEM),
                   OVL_ERR_CRYPTO, "mpc: base OT element is the identity");
        ct_swap(r_chosen, r_other, OT_ELEM, ovl_block_bit(ot->delta, i)); /* slot c: r_c */
    }
done:
    if (w != NULL)
        ovl_free_secret(w, sizeof *w);
    return rc;
}

ovl_err ovl_ot_base_write(ovl_ot *ot, ovl_buf *out)
{
    ovl_err rc = OVL_OK;

    OVL_ENSURE(!ot->base_written, OVL_ERR_USAGE, "mpc: OT_BASE already written");
    OVL_TRY(mr_scalar(ot, ot->base_a));
    OVL_ENSURE(crypto_scalarmult_ristretto255_base(ot->base_A, ot->base_a) == 0,
               OVL_ERR_CRYPTO, "mpc: base OT sender key is the identity");
    OVL_TRY(mr_receiver_pairs(ot));
    OVL_TRY(ovl_buf_put_u8(out, OVL_OTMSG_BASE));
    OVL_TRY(ovl_buf_put_bytes(out, ot->base_A, OT_ELEM));
    OVL_TRY(ovl_buf_put_bytes(out, ot->base_r, sizeof ot->base_r));
    ot->base_written = true;
done:
    if (rc != OVL_OK)
        ovl_ot_base_clear(ot);
    return rc;
}

/* The read side's 3κ scalar products and 2κ hashes to the group run as
 * batches: eight at a time on the AVX-512 IFMA back end (crypto/group.h),
 * with the same bytes and refusals as one at a time. They are most of a
 * session's fixed cost before the first garbled table can move. */

/* Own direction: this party is base receiver; k_{Δ_i} = KDF(sk_i·A_peer). */
static ovl_err mr_receiver_keys(ovl_ot *ot, const uint8_t A_peer[OT_ELEM])
{
    ovl_err rc = OVL_OK;
    uint8_t (*pts)[OT_ELEM] = NULL, (*shared)[OT_ELEM] = NULL, key[16];
    size_t bad = 0;

    OVL_TRY(ovl_calloc((void **)&pts, OVL_OT_KAPPA, OT_ELEM));
    OVL_TRY(ovl_calloc((void **)&shared, OVL_OT_KAPPA, OT_ELEM));
    for (uint32_t i = 0; i < OVL_OT_KAPPA; i++)
        memcpy(pts[i], A_peer, OT_ELEM);
    OVL_TRY(ovl_suite_ristretto255.scalar_mult_batch(shared[0], &bad, ot->base_sk[0], OT_SCALAR,
                                                     pts[0], OVL_OT_KAPPA));
    for (uint32_t i = 0; i < OVL_OT_KAPPA; i++) {
        mr_kdf(key, ot->party, i, ovl_block_bit(ot->delta, i), A_peer,
               (const uint8_t(*)[OT_ELEM])ot->base_r[i], shared[i]);
        OVL_TRY(ovl_prg_init(&ot->send_prg[i], key));
    }
done:
    free(pts);
    if (shared != NULL)
        ovl_free_secret(shared, (size_t)OVL_OT_KAPPA * OT_ELEM);
    sodium_memzero(key, sizeof key);
    return rc;
}

/* Peer's direction: this party is base sender; k_b = KDF(a·(r_b + H(r_{1-b})))
 * for the peer's pairs (pair i at pairs + 2i·OT_ELEM); product j = 2i + b. */
typedef struct {
    uint8_t msg[2 * OVL_OT_KAPPA][1 + 4 + OT_ELEM];
    const uint8_t *msgs[2 * OVL_OT_KAPPA];
    uint8_t h[2 * OVL_OT_KAPPA][OT_ELEM];
    uint8_t B[2 * OVL_OT_KAPPA][OT_ELEM];
    uint8_t shared[2 * OVL_OT_KAPPA][OT_ELEM];
} mr_sender_work;

static ovl_err mr_sender_keys(ovl_ot *ot, const uint8_t *pairs)
{
    ovl_err rc = OVL_OK;
    unsigned dir = 1u - ot->party;
    mr_sender_work *w = NULL;
    uint8_t key[16];
    size_t bad = 0;

    OVL_TRY(ovl_calloc((void **)&w, 1, sizeof *w));
    for (uint32_t j = 0; j < 2 * OVL_OT_KAPPA; j++) {
        const uint8_t *r = pairs + (size_t)(j / 2) * 2 * OT_ELEM;
        mr_hash_msg(w->msg[j], dir, j / 2, r + (1 - j % 2) * OT_ELEM);
        w->msgs[j] = w->msg[j];
    }
    OVL_TRY(ovl_suite_ristretto255.hash_to_group_batch(w->h[0], w->msgs, sizeof w->msg[0],
                                                       2 * OVL_OT_KAPPA, (const uint8_t *)h_dst,
                                                       sizeof h_dst - 1));
    for (uint32_t j = 0; j < 2 * OVL_OT_KAPPA; j++)
        crypto_core_ristretto255_add(w->B[j], pairs + (size_t)j * OT_ELEM, w->h[j]);
    /* The batch refuses an identity B, which a peer could aim for. */
    rc = ovl_suite_ristretto255.scalar_mult_batch(w->shared[0], &bad, ot->base_a, 0, w->B[0],
                                                  2 * OVL_OT_KAPPA);
    OVL_ENSURE(rc == OVL_OK, OVL_ERR_CRYPTO, "mpc: OT_BASE pair %u gives an invalid key",
               (unsigned)(bad / 2));
    for (uint32_t j = 0; j < 2 * OVL_OT_KAPPA; j++) {
        mr_kdf(key, dir, j / 2, j % 2, ot->base_A,
               (const uint8_t(*)[OT_ELEM])(pairs + (size_t)(j / 2) * 2 * OT_ELEM), w->shared[j]);
        OVL_TRY(ovl_prg_init(&ot->recv_prg[j / 2][j % 2], key));
    }
done:
    if (w != NULL)
        ovl_free_secret(w, sizeof *w);
    sodium_memzero(key, sizeof key);
    return rc;
}

ovl_err ovl_ot_base_read(ovl_ot *ot, ovl_buf *in)
{
    ovl_err rc = OVL_OK;
    const uint8_t *A_peer = NULL, *pairs = NULL;
    uint8_t kind = 0;

    OVL_ENSURE(ot->base_written && !ot->base_done && !ot->broken_send, OVL_ERR_USAGE,
               "mpc: OT_BASE read before this party wrote its own, twice, or after a failure");
    OVL_ENSURE(ovl_buf_remaining(in) == OVL_OT_BASE_MSG_LEN, OVL_ERR_MALFORMED,
               "mpc: OT_BASE is %zu bytes, expected %u", ovl_buf_remaining(in),
               OVL_OT_BASE_MSG_LEN);
    OVL_TRY(ovl_buf_get_u8(in, &kind));
    OVL_ENSURE(kind == OVL_OTMSG_BASE, OVL_ERR_PROTOCOL,
               "mpc: expected OT_BASE (kind %u), got kind %u", OVL_OTMSG_BASE, kind);
    OVL_TRY(ovl_buf_get_ptr(in, OT_ELEM, &A_peer));
    OVL_TRY(ovl_buf_get_ptr(in, OVL_OT_KAPPA * 2 * OT_ELEM, &pairs));
    OVL_ENSURE(ovl_suite_ristretto255.validate(A_peer) == OVL_OK, OVL_ERR_CRYPTO,
               "mpc: OT_BASE sender key is not a valid ristretto255 element");
    for (uint32_t i = 0; i < 2 * OVL_OT_KAPPA; i++)
        OVL_ENSURE(ovl_suite_ristretto255.validate(pairs + i * OT_ELEM) == OVL_OK,
                   OVL_ERR_CRYPTO, "mpc: OT_BASE element %u is not a valid ristretto255 element",
                   i);
    OVL_TRY(mr_receiver_keys(ot, A_peer));
    OVL_TRY(mr_sender_keys(ot, pairs));
    ot->base_done = true;
done:
    ovl_ot_base_clear(ot);
    if (rc != OVL_OK)
        ot->broken_send = ot->broken_recv = true;
    return rc;
}
