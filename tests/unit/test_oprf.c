/* Tests for circuit PSI's OT-based OPRF (protocols/cpsi/oprf.h) and the wide
 * correlations under it (src/mpc/ot.h): q_j = t_j ⊕ (c_j ∧ Δ) row by row, and
 * the OPRF values the two parties compute agree exactly on the runner's own
 * input of each bin. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/mem.h"
#include "cpsi/oprf.h"
#include "crypto/group.h"
#include "crypto/rng.h"
#include "mpc/ot.h"
#include "test.h"

typedef struct {
    ovl_rng rng[2];
    ovl_tweak_space sp[2];
    ovl_ot *ot[2][OVL_OPRF_BLOCKS]; /* [0]: the OPRF's receiver (runner), [1]: sender */
} pair;

static void pair_init(pair *p, const char *label)
{
    uint8_t seed[32] = {7};
    memset(p, 0, sizeof *p);
    ovl_rng_init_seeded(&p->rng[0], seed, label);
    seed[0] = 8;
    ovl_rng_init_seeded(&p->rng[1], seed, label);
    ovl_tweak_space_init(&p->sp[0], NULL);
    ovl_tweak_space_init(&p->sp[1], NULL);
    for (unsigned k = 0; k < OVL_OPRF_BLOCKS; k++) {
        ovl_buf m0 = {0}, m1 = {0};
        EXPECT_OK(ovl_ot_new(&p->ot[0][k], 0, NULL, &p->rng[0], &p->sp[0]));
        EXPECT_OK(ovl_ot_new(&p->ot[1][k], 1, NULL, &p->rng[1], &p->sp[1]));
        EXPECT_OK(ovl_buf_alloc(&m0, OVL_OT_BASE_MSG_LEN, OVL_OT_BASE_MSG_LEN));
        EXPECT_OK(ovl_buf_alloc(&m1, OVL_OT_BASE_MSG_LEN, OVL_OT_BASE_MSG_LEN));
        EXPECT_OK(ovl_ot_base_write(p->ot[0][k], &m0));
        EXPECT_OK(ovl_ot_base_write(p->ot[1][k], &m1));
        EXPECT_OK(ovl_ot_base_read(p->ot[0][k], &m1));
        EXPECT_OK(ovl_ot_base_read(p->ot[1][k], &m0));
        ovl_buf_free(&m0);
        ovl_buf_free(&m1);
    }
}

static void pair_free(pair *p)
{
    for (unsigned k = 0; k < OVL_OPRF_BLOCKS; k++) {
        ovl_ot_free(p->ot[0][k]);
        ovl_ot_free(p->ot[1][k]);
    }
    ovl_rng_wipe(&p->rng[0]);
    ovl_rng_wipe(&p->rng[1]);
}

static bool block_eq(ovl_block a, ovl_block b) { return ovl_block_eq(a, b); }

/* One wide batch of n rows: t ⊕ q = c ∧ Δ on every row, including sizes that
 * are not multiples of 128. */
static void test_wide_correlation(void)
{
    static const size_t sizes[] = {1, 127, 128, 129, 1000};
    pair p;
    pair_init(&p, "wide");
    ovl_ot *r = p.ot[0][0], *s = p.ot[1][0];
    ovl_block delta = ovl_ot_delta(s);
    for (size_t z = 0; z < sizeof sizes / sizeof *sizes; z++) {
        size_t n = sizes[z];
        ovl_block *c = calloc(n, sizeof *c), *t = calloc(n, sizeof *t), *q = calloc(n, sizeof *q);
        ovl_buf msg = {0};
        EXPECT_TRUE(c && t && q);
        if (!c || !t || !q)
            break;
        randombytes_buf(c, n * sizeof *c);
        EXPECT_OK(ovl_buf_alloc(&msg, ovl_wide_msg_len(n), ovl_wide_msg_len(n)));
        EXPECT_OK(ovl_wide_recv(r, c, n, t, &msg));
        EXPECT_EQ(ovl_buf_len(&msg), ovl_wide_msg_len(n));
        EXPECT_OK(ovl_wide_send(s, &msg, n, q));
        size_t bad = 0;
        for (size_t i = 0; i < n; i++)
            bad += !block_eq(ovl_block_xor(t[i], q[i]), ovl_block_and(c[i], delta));
        EXPECT_EQ(bad, 0u);
        ovl_buf_free(&msg);
        free(c);
        free(t);
        free(q);
    }
    pair_free(&p);
}

/* The sender refuses a message of the wrong size, kind or batch number, or
 * for another count of rows, and is unusable after. */
static void test_wide_refusals(void)
{
    pair p;
    pair_init(&p, "refuse");
    ovl_block c[10] = {0}, t[10], q[10];
    ovl_buf msg = {0}, in;
    EXPECT_OK(ovl_buf_alloc(&msg, 4096, 4096));
    EXPECT_OK(ovl_wide_recv(p.ot[0][0], c, 10, t, &msg));
    ovl_buf_reader(&in, msg.data, ovl_buf_len(&msg) - 1);
    EXPECT_ERR(OVL_ERR_MALFORMED, ovl_wide_send(p.ot[1][0], &in, 10, q));
    ovl_buf_reader(&in, msg.data, ovl_buf_len(&msg));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_wide_send(p.ot[1][0], &in, 10, q)); /* broken now */
    ovl_buf_reader(&in, msg.data, ovl_buf_len(&msg));
    EXPECT_ERR(OVL_ERR_PROTOCOL, ovl_wide_send(p.ot[1][1], &in, 9, q));
    msg.data[1] ^= 1; /* batch 16777216 */
    ovl_buf_reader(&in, msg.data, ovl_buf_len(&msg));
    EXPECT_ERR(OVL_ERR_PROTOCOL, ovl_wide_send(p.ot[1][2], &in, 10, q));
    msg.data[1] ^= 1;
    msg.data[0] = OVL_OTMSG_EXT_U;
    ovl_buf_reader(&in, msg.data, ovl_buf_len(&msg));
    EXPECT_ERR(OVL_ERR_PROTOCOL, ovl_wide_send(p.ot[1][3], &in, 10, q));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_wide_recv(p.ot[0][1], c, 0, t, &msg));
    ovl_buf_free(&msg);
    pair_free(&p);
}

/* The OPRF over four wide correlations: for each bin the runner's value
 * equals the contributor's at the runner's input, and differs at any other
 * input, at the same input in another bin, and after a one-bit change. */
static void test_oprf_values(void)
{
    enum { N = 300 };
    pair p;
    pair_init(&p, "oprf");
    uint8_t kc_key[16] = {1, 2, 3};
    ovl_aes kc = {0};
    ovl_block d[N], other[N], code[N * OVL_OPRF_BLOCKS], ocode[N * OVL_OPRF_BLOCKS];
    ovl_block t[N * OVL_OPRF_BLOCKS], q[N * OVL_OPRF_BLOCKS], s[OVL_OPRF_BLOCKS];
    ovl_block col[N], out[N];
    randombytes_buf(d, sizeof d);
    randombytes_buf(other, sizeof other);
    EXPECT_OK(ovl_aes_init(&kc, kc_key));
    EXPECT_OK(ovl_oprf_code(&kc, d, N, code));
    EXPECT_OK(ovl_oprf_code(&kc, other, N, ocode));
    for (unsigned k = 0; k < OVL_OPRF_BLOCKS; k++) {
        ovl_buf msg = {0};
        s[k] = ovl_ot_delta(p.ot[1][k]);
        for (size_t i = 0; i < N; i++)
            col[i] = code[OVL_OPRF_BLOCKS * i + k];
        EXPECT_OK(ovl_buf_alloc(&msg, ovl_wide_msg_len(N), ovl_wide_msg_len(N)));
        EXPECT_OK(ovl_wide_recv(p.ot[0][k], col, N, out, &msg));
        for (size_t i = 0; i < N; i++)
            t[OVL_OPRF_BLOCKS * i + k] = out[i];
        EXPECT_OK(ovl_wide_send(p.ot[1][k], &msg, N, out));
        for (size_t i = 0; i < N; i++)
            q[OVL_OPRF_BLOCKS * i + k] = out[i];
        ovl_buf_free(&msg);
    }
    size_t same = 0, other_in = 0, other_bin = 0, flipped = 0;
    for (uint32_t i = 0; i < N; i++) {
        uint8_t fr[OVL_OPRF_OUT], fc[OVL_OPRF_OUT];
        ovl_oprf_out(fr, i, t + OVL_OPRF_BLOCKS * i);
        ovl_oprf_eval(fc, i, q + OVL_OPRF_BLOCKS * i, code + OVL_OPRF_BLOCKS * i, s);
        same += memcmp(fr, fc, sizeof fr) == 0;
        ovl_oprf_eval(fc, i, q + OVL_OPRF_BLOCKS * i, ocode + OVL_OPRF_BLOCKS * i, s);
        other_in += memcmp(fr, fc, sizeof fr) == 0;
        uint32_t j = (i + 1) % N;
        ovl_oprf_eval(fc, j, q + OVL_OPRF_BLOCKS * j, code + OVL_OPRF_BLOCKS * i, s);
        other_bin += memcmp(fr, fc, sizeof fr) == 0;
        /* the runner's value under its own row with one bit of t changed */
        ovl_block tt[OVL_OPRF_BLOCKS];
        memcpy(tt, t + OVL_OPRF_BLOCKS * i, sizeof tt);
        tt[i % OVL_OPRF_BLOCKS] = ovl_block_xor(tt[i % OVL_OPRF_BLOCKS], ovl_block_make(0, 1));
        ovl_oprf_out(fr, i, tt);
        ovl_oprf_eval(fc, i, q + OVL_OPRF_BLOCKS * i, code + OVL_OPRF_BLOCKS * i, s);
        flipped += memcmp(fr, fc, sizeof fr) == 0;
    }
    EXPECT_EQ(same, (size_t)N);
    EXPECT_EQ(other_in, 0u);
    EXPECT_EQ(other_bin, 0u);
    EXPECT_EQ(flipped, 0u);
    /* the code is a function of the digest and the key only */
    ovl_block again[OVL_OPRF_BLOCKS];
    EXPECT_OK(ovl_oprf_code(&kc, d + 5, 1, again));
    EXPECT_BYTES_EQ(again, code + 5 * OVL_OPRF_BLOCKS, sizeof again);
    ovl_aes_free(&kc);
    pair_free(&p);
}

int main(void)
{
    if (ovl_crypto_init() != OVL_OK)
        return 1;
    RUN(test_wide_correlation);
    RUN(test_wide_refusals);
    RUN(test_oprf_values);
    return ovl_t_summary("test_oprf");
}
