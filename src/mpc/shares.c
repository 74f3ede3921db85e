/* Arithmetic shares over Z_2^w from correlated OT (src/mpc/SPEC.md §6).
 *
 * COT with chosen correlation c_j: from the batch's pads P0_j = H(q_j),
 * P1_j = H(q_j ⊕ Δ) (receiver: P_j = H(t_j) = P_{b_j}), stretched to L words
 * with one tweak per 128 bits, the sender keeps s_j = P0_j and sends
 * d_j = s_j + c_j − P1_j; the receiver takes P_j + b_j·d_j = s_j + b_j·c_j. */
#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/guard.h"
#include "core/mem.h"
#include "mpc/ot_internal.h"
#include "mpc/shares.h"

static uint64_t word_mask(unsigned w) { return w == 64 ? UINT64_MAX : UINT32_MAX; }

static size_t pads_per_row(unsigned w, size_t L) { return (L * (w / 8) + 15) / 16; }

size_t ovl_share_msg_len(size_t n, unsigned w, size_t L)
{
    return OVL_OT_BATCH_HDR + 1 + 4 + n * L * (w / 8);
}

/* Word k of a row's stretched pad (little-endian words in the pad bytes).
 * This runs per COT word: one load and a byte swap at most, inlined. */
static inline uint64_t pad_word(const ovl_block *pad, unsigned w, size_t k)
{
    const uint8_t *p = (const uint8_t *)pad + k * (w / 8);
    if (w == 64) {
        uint64_t v;
        memcpy(&v, p, 8);
        return le64toh(v);
    }
    uint32_t v;
    memcpy(&v, p, 4);
    return le32toh(v);
}

static ovl_err check_shape(const ovl_cot *b, unsigned w, size_t L, bool sender)
{
    ovl_err rc = OVL_OK;
    size_t words = 0, bytes = 0;

    OVL_ENSURE(b->sender == sender, OVL_ERR_USAGE, "mpc: share %s on a %s batch",
               sender ? "send" : "receive", b->sender ? "sender" : "receiver");
    OVL_ENSURE(w == 32 || w == 64, OVL_ERR_USAGE, "mpc: shares are 32 or 64 bits, not %u", w);
    OVL_ENSURE(L >= 1 && L <= OVL_SHARE_MAX_WORDS, OVL_ERR_USAGE,
               "mpc: %zu words per OT (1 to %u)", L, OVL_SHARE_MAX_WORDS);
    OVL_ENSURE(ovl_mul_ok(b->n, L, &words) && ovl_mul_ok(words, w / 8, &bytes) &&
                   bytes <= OVL_SHARE_MAX_MSG,
               OVL_ERR_LIMIT, "mpc: %zu OTs of %zu words exceed one SHARE_COT message", b->n, L);
done:
    return rc;
}

static ovl_err put_word(ovl_buf *out, unsigned w, uint64_t v)
{
    return w == 64 ? ovl_buf_put_u64(out, v) : ovl_buf_put_u32(out, (uint32_t)v);
}

static ovl_err get_word(ovl_buf *in, unsigned w, uint64_t *v)
{
    uint32_t v32 = 0;
    if (w == 64)
        return ovl_buf_get_u64(in, v);
    ovl_err rc = ovl_buf_get_u32(in, &v32);
    *v = v32;
    return rc;
}

/* Big-endian words (ovl_buf's encoding) into and out of a region reserved
 * or read once per message, rather than one bounds-checked call per word. */
static inline void store_word(uint8_t *dst, unsigned w, uint64_t v)
{
    if (w == 64) {
        uint64_t b = htobe64(v);
        memcpy(dst, &b, 8);
    } else {
        uint32_t b = htobe32((uint32_t)v);
        memcpy(dst, &b, 4);
    }
}

static inline uint64_t load_word(const uint8_t *src, unsigned w)
{
    if (w == 64) {
        uint64_t v;
        memcpy(&v, src, 8);
        return be64toh(v);
    }
    uint32_t v;
    memcpy(&v, src, 4);
    return be32toh(v);
}

ovl_err ovl_share_cot_send(ovl_cot *b, unsigned w, size_t L, const uint64_t *corr, uint64_t *s,
                           ovl_buf *msg_out)
{
    ovl_err rc = OVL_OK;
    ovl_block p0[OVL_COT_PAD_CHUNK], p1[OVL_COT_PAD_CHUNK];
    size_t per = pads_per_row(w, L), rows = 0, wb = w / 8;
    uint64_t mask = word_mask(w);
    uint8_t *dst = NULL;

    OVL_TRY(check_shape(b, w, L, true));
    OVL_TRY(ovl_cot_consume(b, per));
    OVL_TRY(ovl_cot_write_header(b, msg_out, OVL_OTMSG_SHARE));
    OVL_TRY(ovl_buf_put_u8(msg_out, (uint8_t)w));
    OVL_TRY(ovl_buf_put_u32(msg_out, (uint32_t)L));
    /* check_shape bounded b->n · L · wb by OVL_SHARE_MAX_MSG */
    OVL_TRY(ovl_buf_reserve(msg_out, b->n * L * wb, &dst));
    rows = OVL_COT_PAD_CHUNK / per;
    for (size_t j0 = 0; j0 < b->n; j0 += rows) {
        size_t cnt = b->n - j0 < rows ? b->n - j0 : rows;
        OVL_TRY(ovl_cot_pads(b, j0, cnt, p0, p1));
        for (size_t r = 0; r < cnt; r++)
            for (size_t k = 0; k < L; k++) {
                size_t at = (j0 + r) * L + k;
                uint64_t s0 = pad_word(p0 + r * per, w, k) & mask;
                uint64_t s1 = pad_word(p1 + r * per, w, k) & mask;
                s[at] = s0;
                store_word(dst + at * wb, w, (s0 + corr[at] - s1) & mask);
            }
    }
done:
    sodium_memzero(p0, sizeof p0);
    sodium_memzero(p1, sizeof p1);
    return rc;
}

ovl_err ovl_share_cot_recv(ovl_cot *b, unsigned w, size_t L, ovl_buf *msg_in, uint64_t *out)
{
    ovl_err rc = OVL_OK;
    ovl_block p[OVL_COT_PAD_CHUNK];
    size_t per = pads_per_row(w, L), rows = 0, wb = w / 8;
    uint64_t mask = word_mask(w);
    const uint8_t *src = NULL;
    uint8_t got_w = 0;
    uint32_t got_L = 0;

    OVL_TRY(check_shape(b, w, L, false));
    OVL_TRY(ovl_cot_read_header(b, msg_in, OVL_OTMSG_SHARE));
    OVL_TRY(ovl_buf_get_u8(msg_in, &got_w));
    OVL_TRY(ovl_buf_get_u32(msg_in, &got_L));
    OVL_ENSURE(got_w == w && got_L == L, OVL_ERR_PROTOCOL,
               "mpc: SHARE_COT carries %u-bit words x %u, expected %u-bit x %zu", got_w, got_L,
               w, L);
    OVL_ENSURE(ovl_buf_remaining(msg_in) == b->n * L * (w / 8), OVL_ERR_MALFORMED,
               "mpc: SHARE_COT has %zu word bytes, expected %zu", ovl_buf_remaining(msg_in),
               b->n * L * (w / 8));
    OVL_TRY(ovl_cot_consume(b, per));
    OVL_TRY(ovl_buf_get_ptr(msg_in, b->n * L * wb, &src));
    rows = OVL_COT_PAD_CHUNK / per;
    for (size_t j0 = 0; j0 < b->n; j0 += rows) {
        size_t cnt = b->n - j0 < rows ? b->n - j0 : rows;
        OVL_TRY(ovl_cot_pads(b, j0, cnt, p, NULL));
        for (size_t r = 0; r < cnt; r++) {
            uint64_t m = 0 - (uint64_t)ovl_cot_choice(b, j0 + r);
            for (size_t k = 0; k < L; k++) {
                size_t at = (j0 + r) * L + k;
                uint64_t d = load_word(src + at * wb, w);
                out[at] = (pad_word(p + r * per, w, k) + (m & d)) & mask;
            }
        }
    }
done:
    sodium_memzero(p, sizeof p);
    return rc;
}

void ovl_share_value_bits(uint8_t *choices, const uint64_t *values, size_t count, size_t ell)
{
    memset(choices, 0, (count * ell + 7) / 8);
    for (size_t k = 0; k < count; k++)
        for (size_t i = 0; i < ell; i++) {
            size_t j = k * ell + i;
            choices[j / 8] |= (uint8_t)(((values[k] >> i) & 1u) << (j % 8));
        }
}

static ovl_err check_ell(const ovl_cot *b, unsigned w, size_t ell)
{
    if (ell < 1 || ell > w || b->n % ell != 0)
        return ovl_err_set(OVL_ERR_USAGE, "mpc: %zu-bit values do not divide a batch of %zu",
                           ell, b->n);
    return OVL_OK;
}

/* Scratch of n·L words, wiped on release. */
static ovl_err words_new(uint64_t **out, size_t n, size_t L)
{
    return ovl_calloc((void **)out, n * L, sizeof **out);
}

static void words_free(uint64_t *p, size_t n, size_t L)
{
    if (p != NULL)
        ovl_free_secret(p, n * L * sizeof *p);
}

/* OT (k, i) carries 2^i·v_k: the receiver's bit i of a_k selects it. */
ovl_err ovl_share_mul_send(ovl_cot *b, unsigned w, size_t L, size_t ell, const uint64_t *v,
                           uint64_t *share, ovl_buf *msg_out)
{
    ovl_err rc = OVL_OK;
    uint64_t *corr = NULL, *s = NULL, mask = word_mask(w);
    size_t count = 0;

    OVL_TRY(check_shape(b, w, L, true));
    OVL_TRY(check_ell(b, w, ell));
    count = b->n / ell;
    OVL_TRY(words_new(&corr, b->n, L));
    OVL_TRY(words_new(&s, b->n, L));
    for (size_t k = 0; k < count; k++)
        for (size_t i = 0; i < ell; i++)
            for (size_t l = 0; l < L; l++)
                corr[(k * ell + i) * L + l] = (v[k * L + l] << i) & mask;
    OVL_TRY(ovl_share_cot_send(b, w, L, corr, s, msg_out));
    for (size_t k = 0; k < count; k++)
        for (size_t l = 0; l < L; l++) {
            uint64_t acc = 0;
            for (size_t i = 0; i < ell; i++)
                acc += s[(k * ell + i) * L + l];
            share[k * L + l] = (0 - acc) & mask;
        }
done:
    words_free(corr, b->n, L);
    words_free(s, b->n, L);
    return rc;
}

ovl_err ovl_share_mul_recv(ovl_cot *b, unsigned w, size_t L, size_t ell, ovl_buf *msg_in,
                           uint64_t *share)
{
    ovl_err rc = OVL_OK;
    uint64_t *got = NULL, mask = word_mask(w);
    size_t count = 0;

    OVL_TRY(check_shape(b, w, L, false));
    OVL_TRY(check_ell(b, w, ell));
    count = b->n / ell;
    OVL_TRY(words_new(&got, b->n, L));
    OVL_TRY(ovl_share_cot_recv(b, w, L, msg_in, got));
    for (size_t k = 0; k < count; k++)
        for (size_t l = 0; l < L; l++) {
            uint64_t acc = 0;
            for (size_t i = 0; i < ell; i++)
                acc += got[(k * ell + i) * L + l];
            share[k * L + l] = acc & mask;
        }
done:
    words_free(got, b->n, L);
    return rc;
}

static uint64_t bit_of(const uint8_t *bits, size_t j) { return (bits[j / 8] >> (j % 8)) & 1u; }

/* Sender with bit x and vector v: c = (1 − 2x)·v, own part −s + x·v; with the
 * receiver's s + y·c the two sum to (x ⊕ y)·v. */
ovl_err ovl_share_bitvec_send(ovl_cot *b, unsigned w, size_t L, const uint8_t *bits,
                              const uint64_t *vec, uint64_t *share, ovl_buf *msg_out)
{
    ovl_err rc = OVL_OK;
    uint64_t *corr = NULL, *s = NULL, mask = word_mask(w);

    OVL_TRY(check_shape(b, w, L, true));
    OVL_TRY(words_new(&corr, b->n, L));
    OVL_TRY(words_new(&s, b->n, L));
    for (size_t j = 0; j < b->n; j++) {
        uint64_t m = 0 - bit_of(bits, j); /* x·v = m & v; (1 − 2x)·v = v − 2(m & v) */
        for (size_t l = 0; l < L; l++) {
            uint64_t v = vec[j * L + l];
            corr[j * L + l] = (v - 2 * (m & v)) & mask;
        }
    }
    OVL_TRY(ovl_share_cot_send(b, w, L, corr, s, msg_out));
    for (size_t j = 0; j < b->n; j++) {
        uint64_t m = 0 - bit_of(bits, j);
        for (size_t l = 0; l < L; l++) {
            size_t at = j * L + l;
            share[at] = (share[at] - s[at] + (m & vec[at])) & mask;
        }
    }
done:
    words_free(corr, b->n, L);
    words_free(s, b->n, L);
    return rc;
}

ovl_err ovl_share_bitvec_recv(ovl_cot *b, unsigned w, size_t L, ovl_buf *msg_in,
                              uint64_t *share)
{
    ovl_err rc = OVL_OK;
    uint64_t *got = NULL, mask = word_mask(w);

    OVL_TRY(check_shape(b, w, L, false));
    OVL_TRY(words_new(&got, b->n, L));
    OVL_TRY(ovl_share_cot_recv(b, w, L, msg_in, got));
    for (size_t at = 0; at < b->n * L; at++)
        share[at] = (share[at] + got[at]) & mask;
done:
    words_free(got, b->n, L);
    return rc;
}

ovl_err ovl_share_b2a_send(ovl_cot *b, unsigned w, const uint8_t *bits, uint64_t *share,
                           ovl_buf *msg_out)
{
    ovl_err rc = OVL_OK;
    uint64_t *one = NULL;

    OVL_TRY(check_shape(b, w, 1, true));
    OVL_TRY(words_new(&one, b->n, 1));
    for (size_t j = 0; j < b->n; j++) {
        one[j] = 1;
        share[j] = 0;
    }
    OVL_TRY(ovl_share_bitvec_send(b, w, 1, bits, one, share, msg_out));
done:
    words_free(one, b->n, 1);
    return rc;
}

ovl_err ovl_share_b2a_recv(ovl_cot *b, unsigned w, ovl_buf *msg_in, uint64_t *share)
{
    ovl_err rc = OVL_OK;

    OVL_TRY(check_shape(b, w, 1, false));
    memset(share, 0, b->n * sizeof *share);
    OVL_TRY(ovl_share_bitvec_recv(b, w, 1, msg_in, share));
done:
    return rc;
}

ovl_err ovl_share_open_write(unsigned w, const uint64_t *share, size_t n, ovl_buf *msg_out)
{
    ovl_err rc = OVL_OK;

    OVL_ENSURE(w == 32 || w == 64, OVL_ERR_USAGE, "mpc: shares are 32 or 64 bits, not %u", w);
    OVL_ENSURE(n >= 1 && n <= OVL_SHARE_MAX_MSG / (w / 8), OVL_ERR_LIMIT,
               "mpc: %zu shares exceed one SHARE_OPEN message", n);
    OVL_TRY(ovl_buf_put_u8(msg_out, OVL_OTMSG_SHARE_OPEN));
    OVL_TRY(ovl_buf_put_u8(msg_out, (uint8_t)w));
    OVL_TRY(ovl_buf_put_u32(msg_out, (uint32_t)n));
    for (size_t j = 0; j < n; j++)
        OVL_TRY(put_word(msg_out, w, share[j]));
done:
    return rc;
}

ovl_err ovl_share_open_read(unsigned w, const uint64_t *share, size_t n, ovl_buf *msg_in,
                            uint64_t *out)
{
    ovl_err rc = OVL_OK;
    uint8_t kind = 0, got_w = 0;
    uint32_t got_n = 0;
    uint64_t v = 0;

    OVL_ENSURE(w == 32 || w == 64, OVL_ERR_USAGE, "mpc: shares are 32 or 64 bits, not %u", w);
    OVL_TRY(ovl_buf_get_u8(msg_in, &kind));
    OVL_TRY(ovl_buf_get_u8(msg_in, &got_w));
    OVL_TRY(ovl_buf_get_u32(msg_in, &got_n));
    OVL_ENSURE(kind == OVL_OTMSG_SHARE_OPEN, OVL_ERR_PROTOCOL,
               "mpc: expected SHARE_OPEN, got message kind %u", kind);
    OVL_ENSURE(got_w == w && got_n == n, OVL_ERR_PROTOCOL,
               "mpc: SHARE_OPEN carries %u %u-bit shares, expected %zu %u-bit", got_n, got_w, n,
               w);
    OVL_ENSURE(ovl_buf_remaining(msg_in) == n * (w / 8), OVL_ERR_MALFORMED,
               "mpc: SHARE_OPEN has %zu share bytes, expected %zu", ovl_buf_remaining(msg_in),
               n * (w / 8));
    for (size_t j = 0; j < n; j++) {
        OVL_TRY(get_word(msg_in, w, &v));
        out[j] = (share[j] + v) & word_mask(w);
    }
done:
    return rc;
}
