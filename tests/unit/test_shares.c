/* src/mpc/shares.h against the ideal functionalities (both parties in one
 * process, both directions, 32- and 64-bit words), and its messages' checks. */
#include <sodium.h>
#include <stdlib.h>

#include "mpc/shares.h"
#include "ot_harness.h"
#include "test.h"

static uint64_t mask_of(unsigned w) { return w == 64 ? UINT64_MAX : UINT32_MAX; }
static unsigned bit_at(const uint8_t *bits, size_t j) { return (bits[j / 8] >> (j % 8)) & 1u; }

static uint64_t *rand_words(size_t n, unsigned w)
{
    uint64_t *p = calloc(n, sizeof *p);
    randombytes_buf(p, n * sizeof *p);
    for (size_t i = 0; i < n; i++)
        p[i] &= mask_of(w);
    return p;
}

static void test_cot_chosen_correlation(void)
{
    static const size_t Ls[] = {1, 2, 3, 5, 17};
    ot_pair p;
    EXPECT_OK(ot_pair_new(&p, NULL, NULL, NULL, NULL, NULL));
    for (unsigned w = 32; w <= 64; w += 32)
        for (unsigned s = 0; s < 2; s++)
            for (size_t li = 0; li < sizeof Ls / sizeof Ls[0]; li++) {
                size_t n = 300, L = Ls[li];
                uint8_t ch[(300 + 7) / 8];
                ovl_cot *bs, *br;
                ovl_buf msg;
                uint64_t *corr = rand_words(n * L, w), *sv = calloc(n * L, 8),
                         *out = calloc(n * L, 8);
                randombytes_buf(ch, sizeof ch);
                EXPECT_OK(ot_cot_run(&p, s, ch, n, &bs, &br, NULL, NULL));
                EXPECT_OK(ot_msg_new(&msg));
                EXPECT_OK(ovl_share_cot_send(bs, w, L, corr, sv, &msg));
                EXPECT_EQ(ovl_buf_len(&msg), ovl_share_msg_len(n, w, L));
                EXPECT_OK(ovl_share_cot_recv(br, w, L, &msg, out));
                size_t bad = 0, zero = 0;
                for (size_t j = 0; j < n; j++)
                    for (size_t l = 0; l < L; l++) {
                        size_t at = j * L + l;
                        uint64_t want = (sv[at] + (bit_at(ch, j) ? corr[at] : 0)) & mask_of(w);
                        bad += out[at] != want;
                        zero += sv[at] == 0;
                    }
                EXPECT_EQ(bad, 0);
                EXPECT_TRUE(zero < 2); /* s is random */
                ovl_buf_free(&msg);
                ovl_cot_free(bs);
                ovl_cot_free(br);
                free(corr);
                free(sv);
                free(out);
            }
    ot_pair_free(&p);
}

/* value (receiver) × vector (sender): ℓ COTs and ℓ·L words per product. */
static void test_value_times_vector(void)
{
    ot_pair p;
    EXPECT_OK(ot_pair_new(&p, NULL, NULL, NULL, NULL, NULL));
    for (unsigned w = 32; w <= 64; w += 32)
        for (unsigned s = 0; s < 2; s++) {
            size_t count = 9, L = 4, ell = w == 64 ? 40 : 32, n = count * ell;
            uint64_t *a = rand_words(count, w), *v = rand_words(count * L, w);
            uint64_t *sh_s = calloc(count * L, 8), *sh_r = calloc(count * L, 8);
            uint8_t *ch = calloc((n + 7) / 8, 1);
            ovl_cot *bs, *br;
            ovl_buf msg;
            for (size_t k = 0; k < count; k++)
                a[k] &= ell == 64 ? UINT64_MAX : (UINT64_C(1) << ell) - 1;
            ovl_share_value_bits(ch, a, count, ell);
            EXPECT_OK(ot_cot_run(&p, s, ch, n, &bs, &br, NULL, NULL));
            EXPECT_OK(ot_msg_new(&msg));
            EXPECT_OK(ovl_share_mul_send(bs, w, L, ell, v, sh_s, &msg));
            EXPECT_EQ(ovl_buf_len(&msg), ovl_share_msg_len(n, w, L)); /* ℓ·L words each */
            EXPECT_OK(ovl_share_mul_recv(br, w, L, ell, &msg, sh_r));
            size_t bad = 0;
            for (size_t k = 0; k < count; k++)
                for (size_t l = 0; l < L; l++)
                    bad += ((sh_s[k * L + l] + sh_r[k * L + l]) & mask_of(w)) !=
                           ((a[k] * v[k * L + l]) & mask_of(w));
            EXPECT_EQ(bad, 0);
            ovl_buf_free(&msg);
            ovl_cot_free(bs);
            ovl_cot_free(br);
            free(a);
            free(v);
            free(sh_s);
            free(sh_r);
            free(ch);
        }
    ot_pair_free(&p);
}

/* shared bit × shared vector: one COT per direction. */
static void test_shared_bit_times_shared_vector(void)
{
    ot_pair p;
    EXPECT_OK(ot_pair_new(&p, NULL, NULL, NULL, NULL, NULL));
    for (unsigned w = 32; w <= 64; w += 32) {
        size_t n = 200, L = 3;
        uint8_t x[2][25];
        uint64_t *v[2] = {rand_words(n * L, w), rand_words(n * L, w)};
        uint64_t *sh[2] = {calloc(n * L, 8), calloc(n * L, 8)};
        ovl_cot *bs[2], *br[2];
        ovl_buf msg[2];
        randombytes_buf(x, sizeof x);
        for (unsigned s = 0; s < 2; s++) /* batch s: party s sends, party 1-s chooses x[1-s] */
            EXPECT_OK(ot_cot_run(&p, s, x[1 - s], n, &bs[s], &br[s], NULL, NULL));
        for (unsigned s = 0; s < 2; s++) {
            EXPECT_OK(ot_msg_new(&msg[s]));
            EXPECT_OK(ovl_share_bitvec_send(bs[s], w, L, x[s], v[s], sh[s], &msg[s]));
        }
        for (unsigned s = 0; s < 2; s++)
            EXPECT_OK(ovl_share_bitvec_recv(br[s], w, L, &msg[s], sh[1 - s]));
        EXPECT_EQ(ovl_buf_len(&msg[0]) + ovl_buf_len(&msg[1]), 2 * ovl_share_msg_len(n, w, L));
        size_t bad = 0;
        for (size_t j = 0; j < n; j++)
            for (size_t l = 0; l < L; l++) {
                size_t at = j * L + l;
                uint64_t bit = bit_at(x[0], j) ^ bit_at(x[1], j);
                uint64_t want = (bit * (v[0][at] + v[1][at])) & mask_of(w);
                bad += ((sh[0][at] + sh[1][at]) & mask_of(w)) != want;
            }
        EXPECT_EQ(bad, 0);
        for (unsigned s = 0; s < 2; s++) {
            ovl_buf_free(&msg[s]);
            ovl_cot_free(bs[s]);
            ovl_cot_free(br[s]);
            free(v[s]);
            free(sh[s]);
        }
    }
    ot_pair_free(&p);
}

static void test_bit_to_share_and_open(void)
{
    ot_pair p;
    EXPECT_OK(ot_pair_new(&p, NULL, NULL, NULL, NULL, NULL));
    for (unsigned w = 32; w <= 64; w += 32) {
        size_t n = 333;
        uint8_t x[2][42];
        uint64_t sh[2][333], opened[2][333];
        ovl_cot *bs, *br;
        ovl_buf msg, o[2];
        randombytes_buf(x, sizeof x);
        EXPECT_OK(ot_cot_run(&p, 1, x[0], n, &bs, &br, NULL, NULL));
        EXPECT_OK(ot_msg_new(&msg));
        EXPECT_OK(ovl_share_b2a_send(bs, w, x[1], sh[1], &msg));
        EXPECT_OK(ovl_share_b2a_recv(br, w, &msg, sh[0]));
        for (int i = 0; i < 2; i++) {
            EXPECT_OK(ot_msg_new(&o[i]));
            EXPECT_OK(ovl_share_open_write(w, sh[i], n, &o[i]));
        }
        EXPECT_OK(ovl_share_open_read(w, sh[0], n, &o[1], opened[0]));
        EXPECT_OK(ovl_share_open_read(w, sh[1], n, &o[0], opened[1]));
        size_t bad = 0, nonbit = 0;
        for (size_t j = 0; j < n; j++) {
            bad += opened[0][j] != (uint64_t)(bit_at(x[0], j) ^ bit_at(x[1], j));
            bad += opened[1][j] != opened[0][j];
            nonbit += sh[0][j] > 1;
        }
        EXPECT_EQ(bad, 0);
        EXPECT_TRUE(nonbit > n / 2); /* the shares themselves look random */
        /* a second open from the same message fails: it was consumed */
        EXPECT_ERR(OVL_ERR_MALFORMED, ovl_share_open_read(w, sh[0], n, &o[1], opened[0]));
        ovl_buf_free(&msg);
        ovl_buf_free(&o[0]);
        ovl_buf_free(&o[1]);
        ovl_cot_free(bs);
        ovl_cot_free(br);
    }
    ot_pair_free(&p);
}

/* Runs one SHARE_COT exchange with the message rewritten by fn. */
static ovl_err share_exchange(void (*fn)(ovl_buf *), unsigned w_recv, size_t L_recv)
{
    ot_pair p;
    uint8_t ch[8] = {0x33};
    uint64_t corr[64] = {0}, s[64], out[64];
    ovl_cot *bs, *br;
    ovl_buf msg;
    ovl_err rc;
    if (ot_pair_new(&p, NULL, NULL, NULL, NULL, NULL) != OVL_OK ||
        ot_cot_run(&p, 0, ch, 32, &bs, &br, NULL, NULL) != OVL_OK || ot_msg_new(&msg) != OVL_OK ||
        ovl_share_cot_send(bs, 64, 2, corr, s, &msg) != OVL_OK)
        abort();
    fn(&msg);
    rc = ovl_share_cot_recv(br, w_recv, L_recv, &msg, out);
    ovl_buf_free(&msg);
    ovl_cot_free(bs);
    ovl_cot_free(br);
    ot_pair_free(&p);
    return rc;
}

static void keep(ovl_buf *m) { (void)m; }
static void chop(ovl_buf *m) { m->wpos--; }
static void chop_header(ovl_buf *m) { m->wpos = 7; }
static void extend(ovl_buf *m)
{
    if (ovl_buf_put_u8(m, 0) != OVL_OK)
        abort();
}
static void rekind(ovl_buf *m) { m->data[0] = OVL_OTMSG_CHOSEN; }
static void reseq(ovl_buf *m) { m->data[4] ^= 1; }
static void rewidth(ovl_buf *m) { m->data[OVL_OT_BATCH_HDR] = 32; }
static void relen(ovl_buf *m) { m->data[OVL_OT_BATCH_HDR + 4] = 3; }

static void test_share_messages_checked(void)
{
    EXPECT_OK(share_exchange(keep, 64, 2));
    EXPECT_ERR(OVL_ERR_MALFORMED, share_exchange(chop, 64, 2));
    EXPECT_ERR(OVL_ERR_MALFORMED, share_exchange(chop_header, 64, 2));
    EXPECT_ERR(OVL_ERR_MALFORMED, share_exchange(extend, 64, 2));
    EXPECT_ERR(OVL_ERR_PROTOCOL, share_exchange(rekind, 64, 2));
    EXPECT_ERR(OVL_ERR_PROTOCOL, share_exchange(reseq, 64, 2));
    EXPECT_ERR(OVL_ERR_PROTOCOL, share_exchange(rewidth, 64, 2));
    EXPECT_ERR(OVL_ERR_PROTOCOL, share_exchange(relen, 64, 2));
    EXPECT_ERR(OVL_ERR_PROTOCOL, share_exchange(keep, 32, 4));
    EXPECT_ERR(OVL_ERR_USAGE, share_exchange(keep, 16, 2));
    EXPECT_ERR(OVL_ERR_USAGE, share_exchange(keep, 64, 0));
    EXPECT_ERR(OVL_ERR_USAGE, share_exchange(keep, 64, OVL_SHARE_MAX_WORDS + 1));
}

static void test_share_limits(void)
{
    ot_pair p;
    uint8_t ch[8192] = {0};
    ovl_cot *bs, *br;
    ovl_buf msg;
    static uint64_t corr[2], s[2];
    EXPECT_OK(ot_pair_new(&p, NULL, NULL, NULL, NULL, NULL));
    EXPECT_OK(ot_cot_run(&p, 0, ch, 65000, &bs, &br, NULL, NULL));
    EXPECT_OK(ot_msg_new(&msg));
    /* 65000 OTs × 3 words × 8 bytes > one message */
    EXPECT_ERR(OVL_ERR_LIMIT, ovl_share_cot_send(bs, 64, 3, corr, s, &msg));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_share_mul_send(bs, 64, 1, 7, corr, s, &msg)); /* 7 ∤ 65000 */
    EXPECT_ERR(OVL_ERR_USAGE, ovl_share_cot_recv(bs, 64, 1, &msg, s));           /* wrong end */
    ovl_buf_free(&msg);
    ovl_cot_free(bs);
    ovl_cot_free(br);
    ot_pair_free(&p);
    EXPECT_ERR(OVL_ERR_USAGE, ovl_share_open_write(48, s, 1, &msg));
    EXPECT_ERR(OVL_ERR_LIMIT, ovl_share_open_write(64, s, 0, &msg));
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    RUN(test_cot_chosen_correlation);
    RUN(test_value_times_vector);
    RUN(test_shared_bit_times_shared_vector);
    RUN(test_bit_to_share_and_open);
    RUN(test_share_messages_checked);
    RUN(test_share_limits);
    return ovl_t_summary("test_shares");
}
