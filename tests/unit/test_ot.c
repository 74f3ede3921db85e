/* src/mpc/ot.h against the ideal OT functionalities, both roles in one
 * process; the transpose and GF(2^128) against their references; hostile
 * receivers and malformed messages rejected with their own errors. */
#include <sodium.h>

#include "common/proto.h"
#include "mpc/gf128.h"
#include "mpc/transpose.h"
#include "ot_harness.h"
#include "test.h"

static const uint8_t seed_a[32] = {1, 2, 3};

static unsigned bit_at(const uint8_t *bits, size_t j) { return (bits[j / 8] >> (j % 8)) & 1u; }

static void random_bits(uint8_t *bits, size_t n)
{
    randombytes_buf(bits, (n + 7) / 8);
}

static void test_transpose_matches_reference(void)
{
    static const size_t shapes[][2] = {{128, 128}, {128, 384},  {16, 8 * 16},
                                       {48, 256},  {16, 136},   {32, 128 * 3 + 40},
                                       {128, 65280}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        size_t rows = shapes[s][0], cols = shapes[s][1], len = rows * cols / 8;
        uint8_t *in = malloc(len), *a = malloc(len), *b = malloc(len);
        randombytes_buf(in, len);
        ovl_transpose(a, in, rows, cols);
        ovl_transpose_ref(b, in, rows, cols);
        EXPECT_BYTES_EQ(a, b, len);
        ovl_transpose_sse2(a, in, rows, cols);
        EXPECT_BYTES_EQ(a, b, len);
        if (cols % 16 == 0) {
            ovl_transpose(b, a, cols, rows); /* twice is the identity */
            EXPECT_BYTES_EQ(b, in, len);
        }
        free(in);
        free(a);
        free(b);
    }
}

static void test_gf128(void)
{
    ovl_block a[64], b[64];
    randombytes_buf(a, sizeof a);
    randombytes_buf(b, sizeof b);
    ovl_gf256 fast = {ovl_block_zero(), ovl_block_zero()}, ref = fast;
    ovl_gf128_mul_acc(&fast, a, b, 64);
    for (int j = 0; j < 64; j++) {
        ovl_gf256 p = ovl_gf128_clmul_ref(a[j], b[j]);
        ref.lo = ovl_block_xor(ref.lo, p.lo);
        ref.hi = ovl_block_xor(ref.hi, p.hi);
    }
    EXPECT_TRUE(ovl_block_eq(fast.lo, ref.lo) && ovl_block_eq(fast.hi, ref.hi));
    /* x^127 · x = x^128 = x^7 + x^2 + x + 1 */
    ovl_block x127 = ovl_block_make(UINT64_C(1) << 63, 0), x1 = ovl_block_make(0, 2);
    EXPECT_TRUE(ovl_block_eq(ovl_gf128_mul(x127, x1), ovl_block_make(0, 0x87)));
    /* x^127 · x^127 = x^254 = x^126 · (x^7 + x^2 + x + 1) reduced again */
    ovl_block want = ovl_gf128_mul(ovl_block_make(UINT64_C(1) << 62, 0), ovl_block_make(0, 0x87));
    EXPECT_TRUE(ovl_block_eq(ovl_gf128_mul(x127, x127), want));
    /* distributive: (a + b)·c = a·c + b·c */
    EXPECT_TRUE(ovl_block_eq(ovl_gf128_mul(ovl_block_xor(a[0], a[1]), b[0]),
                             ovl_block_xor(ovl_gf128_mul(a[0], b[0]), ovl_gf128_mul(a[1], b[0]))));
    /* commutative and 1 is neutral */
    EXPECT_TRUE(ovl_block_eq(ovl_gf128_mul(a[2], b[2]), ovl_gf128_mul(b[2], a[2])));
    EXPECT_TRUE(ovl_block_eq(ovl_gf128_mul(a[3], ovl_block_make(0, 1)), a[3]));
}

/* The COT functionality: t_j = q_j ⊕ b_j·Δ for every j, both directions. */
static void test_cot_both_directions(void)
{
    static const size_t sizes[] = {1, 7, 128, 1000, OVL_COT_BATCH_MAX};
    ot_pair p;
    EXPECT_OK(ot_pair_new(&p, NULL, NULL, NULL, NULL, NULL));
    EXPECT_TRUE(ovl_ot_ready(p.ot[0]) && ovl_ot_ready(p.ot[1]));
    for (unsigned s = 0; s < 2; s++) {
        for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
            size_t n = sizes[k];
            uint8_t *ch = malloc((n + 7) / 8);
            ovl_cot *bs, *br;
            random_bits(ch, n);
            EXPECT_OK(ot_cot_run(&p, s, ch, n, &bs, &br, NULL, NULL));
            EXPECT_TRUE(ovl_cot_ready(bs) && ovl_cot_ready(br));
            EXPECT_EQ(ovl_cot_count(bs), n);
            const ovl_block *q = ovl_cot_blocks(bs), *t = ovl_cot_blocks(br);
            ovl_block d = ovl_ot_delta(p.ot[s]);
            size_t bad = 0;
            for (size_t j = 0; j < n; j++)
                bad += !ovl_block_eq(t[j], ovl_block_xor(q[j], ovl_block_select(bit_at(ch, j), d)));
            EXPECT_EQ(bad, 0);
            /* consumed once */
            EXPECT_TRUE(ovl_cot_blocks(bs) == NULL);
            ovl_cot_free(bs);
            ovl_cot_free(br);
            free(ch);
        }
    }
    ot_pair_free(&p);
}

static void test_chosen_delta_is_used(void)
{
    ovl_block d = ovl_block_set_lsb(ovl_block_make(0x0123456789abcdefu, 0xfedcba9876543210u));
    ot_pair p;
    uint8_t ch[2] = {0xff, 0x00};
    ovl_cot *bs, *br;
    EXPECT_OK(ot_pair_new(&p, NULL, NULL, &d, NULL, NULL));
    EXPECT_TRUE(ovl_block_eq(ovl_ot_delta(p.ot[1]), d));
    EXPECT_OK(ot_cot_run(&p, 1, ch, 16, &bs, &br, NULL, NULL));
    const ovl_block *q = ovl_cot_blocks(bs), *t = ovl_cot_blocks(br);
    EXPECT_TRUE(ovl_block_eq(ovl_block_xor(q[0], t[0]), d));
    EXPECT_TRUE(ovl_block_eq(q[15], t[15]));
    ovl_cot_free(bs);
    ovl_cot_free(br);
    ot_pair_free(&p);
}

static void test_random_and_chosen_ot(void)
{
    enum { N = 700 };
    ot_pair p;
    uint8_t ch[(N + 7) / 8];
    static ovl_block m0[N], m1[N], m[N], c0[N], c1[N];
    ovl_cot *bs, *br;
    ovl_buf msg;
    EXPECT_OK(ot_pair_new(&p, NULL, NULL, NULL, NULL, NULL));
    random_bits(ch, N);
    EXPECT_OK(ot_cot_run(&p, 0, ch, N, &bs, &br, NULL, NULL));
    EXPECT_OK(ovl_rot_send(bs, m0, m1));
    EXPECT_OK(ovl_rot_recv(br, m));
    size_t bad = 0, same = 0;
    for (size_t j = 0; j < N; j++) {
        bad += !ovl_block_eq(m[j], bit_at(ch, j) ? m1[j] : m0[j]);
        same += ovl_block_eq(m0[j], m1[j]) || ovl_block_eq(m[j], bit_at(ch, j) ? m0[j] : m1[j]);
    }
    EXPECT_EQ(bad, 0);
    EXPECT_EQ(same, 0);
    /* a batch is used once */
    EXPECT_ERR(OVL_ERR_USAGE, ovl_rot_send(bs, m0, m1));
    ovl_cot_free(bs);
    ovl_cot_free(br);

    random_bits(ch, N);
    randombytes_buf(c0, sizeof c0);
    randombytes_buf(c1, sizeof c1);
    EXPECT_OK(ot_cot_run(&p, 1, ch, N, &bs, &br, NULL, NULL));
    EXPECT_OK(ot_msg_new(&msg));
    EXPECT_OK(ovl_ot_send_chosen(bs, c0, c1, &msg));
    EXPECT_EQ(ovl_buf_len(&msg), ovl_cot_chosen_msg_len(N));
    EXPECT_OK(ovl_ot_recv_chosen(br, &msg, m));
    bad = 0;
    for (size_t j = 0; j < N; j++)
        bad += !ovl_block_eq(m[j], bit_at(ch, j) ? c1[j] : c0[j]);
    EXPECT_EQ(bad, 0);
    ovl_buf_free(&msg);
    ovl_cot_free(bs);
    ovl_cot_free(br);
    ot_pair_free(&p);
}

/* The same seeds give the same transcript and outputs (vectors rely on it). */
static void test_seeded_runs_repeat(void)
{
    ovl_block out[2][64];
    for (int r = 0; r < 2; r++) {
        ot_pair p;
        uint8_t ch[8] = {0x5a, 1, 2, 3, 4, 5, 6, 7};
        ovl_cot *bs, *br;
        EXPECT_OK(ot_pair_new(&p, seed_a, NULL, NULL, NULL, NULL));
        EXPECT_OK(ot_cot_run(&p, 0, ch, 64, &bs, &br, NULL, NULL));
        memcpy(out[r], ovl_cot_blocks(br), sizeof out[r]);
        ovl_cot_free(bs);
        ovl_cot_free(br);
        ot_pair_free(&p);
    }
    EXPECT_BYTES_EQ(out[0], out[1], sizeof out[0]);
}

/* ---- hostile receivers and malformed messages */

typedef struct {
    const char *step;
    void (*fn)(ovl_buf *msg, size_t arg);
    size_t arg;
} tamper_spec;

static void tamper_hook(void *arg, const char *step, ovl_buf *msg)
{
    const tamper_spec *t = arg;
    if (strcmp(step, t->step) == 0)
        t->fn(msg, t->arg);
}

static void flip_byte(ovl_buf *m, size_t at) { m->data[at] ^= 0x01; }
static void truncate_by(ovl_buf *m, size_t k) { m->wpos -= k; }
static void append_bytes(ovl_buf *m, size_t k)
{
    for (size_t i = 0; i < k; i++)
        if (ovl_buf_put_u8(m, 0) != OVL_OK)
            abort();
}
static void set_u32(ovl_buf *m, size_t at, uint32_t v)
{
    m->data[at] = (uint8_t)(v >> 24);
    m->data[at + 1] = (uint8_t)(v >> 16);
    m->data[at + 2] = (uint8_t)(v >> 8);
    m->data[at + 3] = (uint8_t)v;
}
static void set_n(ovl_buf *m, size_t v) { set_u32(m, 5, (uint32_t)v); }
static void set_seq(ovl_buf *m, size_t v) { set_u32(m, 1, (uint32_t)v); }
static void set_kind(ovl_buf *m, size_t v) { m->data[0] = (uint8_t)v; }
/* The first element (the sender key A) of OT_BASE. */
static void base_identity(ovl_buf *m, size_t at) { memset(m->data + 1 + at, 0, 32); }
static void base_top_bit(ovl_buf *m, size_t at) { m->data[1 + at + 31] |= 0x80; }
static void base_not_point(ovl_buf *m, size_t at)
{
    /* 2^255 - 20 is an odd field element, never a canonical encoding. */
    memset(m->data + 1 + at, 0xff, 32);
    m->data[1 + at] = 0xec;
    m->data[1 + at + 31] = 0x7f;
}

/* A cheating receiver: flips its choice in column i for one row, i.e. a
 * column that does not match the others. Δ has bit 5 set and bit 6 clear. */
static void test_kos_catches_inconsistent_columns(void)
{
    ovl_block d = ovl_block_make(0, 0x21); /* bits 0 and 5 */
    enum { N = 500 };
    uint8_t ch[(N + 7) / 8] = {0};
    size_t cols = ovl_cot_ext_rows(N) / 8;
    ovl_cot *bs, *br;
    ot_pair p;

    /* column 5, row 3: Δ_5 = 1, so the sender's q changes and KOS must see it */
    tamper_spec t = {"u", flip_byte, OVL_OT_BATCH_HDR + 5 * cols};
    EXPECT_OK(ot_pair_new(&p, NULL, &d, NULL, NULL, NULL));
    EXPECT_ERR(OVL_ERR_CRYPTO, ot_cot_run(&p, 0, ch, N, &bs, &br, tamper_hook, &t));
    EXPECT_TRUE(!ovl_cot_ready(bs) && ovl_cot_blocks(bs) == NULL);
    ovl_cot_free(bs);
    ovl_cot_free(br);
    /* the direction stays failed */
    EXPECT_ERR(OVL_ERR_USAGE, ot_cot_run(&p, 0, ch, N, &bs, &br, NULL, NULL));
    ovl_cot_free(bs);
    ovl_cot_free(br);
    /* the other direction is independent */
    EXPECT_OK(ot_cot_run(&p, 1, ch, N, &bs, &br, NULL, NULL));
    ovl_cot_free(bs);
    ovl_cot_free(br);
    ot_pair_free(&p);

    /* column 6 (Δ_6 = 0): the flip changes nothing the sender holds, and
     * nothing is learnt, so the check passes */
    t.arg = OVL_OT_BATCH_HDR + 6 * cols;
    EXPECT_OK(ot_pair_new(&p, NULL, &d, NULL, NULL, NULL));
    EXPECT_OK(ot_cot_run(&p, 0, ch, N, &bs, &br, tamper_hook, &t));
    ovl_cot_free(bs);
    ovl_cot_free(br);
    ot_pair_free(&p);
}

/* A smarter cheat: flip column bits i1, i2 of row j and fix up the proof's t
 * as if Δ_i1 = Δ_i2 = 1. It passes exactly when that guess of 2 bits of Δ is
 * right: caught except with probability 2^-c for c = 2. */
typedef struct {
    size_t j, i[2], cols;
    ovl_block chi_j;
} guess_cheat;

static void guess_hook(void *arg, const char *step, ovl_buf *msg)
{
    guess_cheat *g = arg;
    if (strcmp(step, "u") == 0) {
        for (int k = 0; k < 2; k++)
            msg->data[OVL_OT_BATCH_HDR + g->i[k] * g->cols + g->j / 8] ^= (uint8_t)(1u << (g->j % 8));
    } else if (strcmp(step, "chal") == 0) {
        ovl_prg prg;
        static ovl_block chi[1024];
        if (ovl_prg_init(&prg, msg->data + OVL_OT_BATCH_HDR) != OVL_OK ||
            ovl_prg_blocks(&prg, chi, g->j + 1) != OVL_OK)
            abort();
        g->chi_j = chi[g->j];
        ovl_prg_free(&prg);
    } else if (strcmp(step, "proof") == 0) {
        ovl_block e = ovl_block_xor(ovl_block_make(g->i[0] >= 64 ? UINT64_C(1) << (g->i[0] - 64) : 0,
                                                   g->i[0] < 64 ? UINT64_C(1) << g->i[0] : 0),
                                    ovl_block_make(g->i[1] >= 64 ? UINT64_C(1) << (g->i[1] - 64) : 0,
                                                   g->i[1] < 64 ? UINT64_C(1) << g->i[1] : 0));
        uint8_t *t = msg->data + OVL_OT_BATCH_HDR + 16;
        ovl_block_store(t, ovl_block_xor(ovl_block_load(t), ovl_gf128_mul(g->chi_j, e)));
    }
}

static void test_kos_guessing_receiver(void)
{
    enum { N = 300 };
    static const struct {
        uint64_t hi, lo;
        bool pass;
    } deltas[] = {
        {UINT64_C(1) << 6, UINT64_C(1) << 3, true},   /* bits 3 and 70 set: guess right */
        {0, UINT64_C(1) << 3, false},                 /* bit 70 clear */
        {UINT64_C(1) << 6, 0, false},                 /* bit 3 clear */
        {0, 0, false},                                /* neither */
    };
    for (size_t k = 0; k < sizeof deltas / sizeof deltas[0]; k++) {
        ovl_block d = ovl_block_make(deltas[k].hi, deltas[k].lo);
        uint8_t ch[(N + 7) / 8] = {0};
        guess_cheat g = {.j = 201, .i = {3, 70}, .cols = ovl_cot_ext_rows(N) / 8};
        ovl_cot *bs, *br;
        ot_pair p;
        EXPECT_OK(ot_pair_new(&p, NULL, &d, NULL, NULL, NULL));
        ovl_err got = ot_cot_run(&p, 0, ch, N, &bs, &br, guess_hook, &g);
        OVL_T_RECORD(got == (deltas[k].pass ? OVL_OK : OVL_ERR_CRYPTO), "delta case %zu: %s", k,
                     ovl_err_name(got));
        ovl_cot_free(bs);
        ovl_cot_free(br);
        ot_pair_free(&p);
    }
}

static void expect_batch_fails(ovl_err want, tamper_spec t)
{
    uint8_t ch[128] = {0};
    ovl_cot *bs, *br;
    ot_pair p;
    EXPECT_OK(ot_pair_new(&p, NULL, NULL, NULL, NULL, NULL));
    ovl_err got = ot_cot_run(&p, 1, ch, 1000, &bs, &br, tamper_hook, &t);
    OVL_T_RECORD(got == want, "tampered %s (arg %zu): got %s (%s), expected %s", t.step, t.arg,
                 ovl_err_name(got), ovl_err_detail(), ovl_err_name(want));
    ovl_cot_free(bs);
    ovl_cot_free(br);
    ot_pair_free(&p);
}

static void test_malformed_batch_messages(void)
{
    size_t ulen = ovl_cot_u_msg_len(1000);
    expect_batch_fails(OVL_ERR_MALFORMED, (tamper_spec){"u", truncate_by, 1});
    expect_batch_fails(OVL_ERR_MALFORMED, (tamper_spec){"u", truncate_by, ulen - 3});
    expect_batch_fails(OVL_ERR_MALFORMED, (tamper_spec){"u", append_bytes, 1});
    expect_batch_fails(OVL_ERR_LIMIT, (tamper_spec){"u", set_n, OVL_COT_BATCH_MAX + 1});
    expect_batch_fails(OVL_ERR_LIMIT, (tamper_spec){"u", set_n, 0});
    /* 800 OTs extend to fewer rows than were sent; 999 to as many, which
     * the receiver catches when the challenge names a batch size it never asked for */
    expect_batch_fails(OVL_ERR_MALFORMED, (tamper_spec){"u", set_n, 800});
    expect_batch_fails(OVL_ERR_PROTOCOL, (tamper_spec){"u", set_n, 999});
    expect_batch_fails(OVL_ERR_PROTOCOL, (tamper_spec){"u", set_kind, OVL_OTMSG_EXT_PROOF});
    expect_batch_fails(OVL_ERR_PROTOCOL, (tamper_spec){"u", set_seq, 1});
    expect_batch_fails(OVL_ERR_MALFORMED, (tamper_spec){"chal", truncate_by, 1});
    expect_batch_fails(OVL_ERR_MALFORMED, (tamper_spec){"chal", append_bytes, 1});
    expect_batch_fails(OVL_ERR_PROTOCOL, (tamper_spec){"chal", set_n, 7});
    expect_batch_fails(OVL_ERR_PROTOCOL, (tamper_spec){"chal", set_kind, OVL_OTMSG_EXT_U});
    expect_batch_fails(OVL_ERR_MALFORMED, (tamper_spec){"proof", truncate_by, 1});
    expect_batch_fails(OVL_ERR_MALFORMED, (tamper_spec){"proof", truncate_by, 40});
    expect_batch_fails(OVL_ERR_MALFORMED, (tamper_spec){"proof", append_bytes, 1});
    expect_batch_fails(OVL_ERR_PROTOCOL, (tamper_spec){"proof", set_seq, 9});
    /* a garbled proof (x or t) is a failed check */
    expect_batch_fails(OVL_ERR_CRYPTO, (tamper_spec){"proof", flip_byte, OVL_OT_BATCH_HDR});
    expect_batch_fails(OVL_ERR_CRYPTO, (tamper_spec){"proof", flip_byte, OVL_OT_BATCH_HDR + 20});
    /* a different challenge than the sender drew */
    expect_batch_fails(OVL_ERR_CRYPTO, (tamper_spec){"chal", flip_byte, OVL_OT_BATCH_HDR + 3});
}

static void expect_base_fails(ovl_err want, tamper_spec t)
{
    ot_pair p;
    ovl_err got = ot_pair_new(&p, NULL, NULL, NULL, tamper_hook, &t);
    OVL_T_RECORD(got == want, "tampered %s (arg %zu): got %s (%s), expected %s", t.step, t.arg,
                 ovl_err_name(got), ovl_err_detail(), ovl_err_name(want));
    if (p.ot[0] != NULL && p.ot[1] != NULL)
        EXPECT_TRUE(!ovl_ot_ready(p.ot[0]) || !ovl_ot_ready(p.ot[1]));
    ot_pair_free(&p);
}

static void test_invalid_base_points(void)
{
    expect_base_fails(OVL_ERR_CRYPTO, (tamper_spec){"base0", base_identity, 0});
    expect_base_fails(OVL_ERR_CRYPTO, (tamper_spec){"base1", base_identity, 32});
    expect_base_fails(OVL_ERR_CRYPTO, (tamper_spec){"base1", base_identity, 32 + 64 * 127 + 32});
    expect_base_fails(OVL_ERR_CRYPTO, (tamper_spec){"base0", base_top_bit, 0});
    expect_base_fails(OVL_ERR_CRYPTO, (tamper_spec){"base0", base_top_bit, 32 + 64 * 9});
    expect_base_fails(OVL_ERR_CRYPTO, (tamper_spec){"base1", base_not_point, 0});
    expect_base_fails(OVL_ERR_CRYPTO, (tamper_spec){"base1", base_not_point, 32 + 64 * 3 + 32});
    expect_base_fails(OVL_ERR_MALFORMED, (tamper_spec){"base0", truncate_by, 1});
    expect_base_fails(OVL_ERR_MALFORMED, (tamper_spec){"base0", append_bytes, 1});
    expect_base_fails(OVL_ERR_PROTOCOL, (tamper_spec){"base1", set_kind, OVL_OTMSG_EXT_U});
}

/* A tampered but valid base element changes the pads: the parties' COTs no
 * longer agree, and the KOS check of the affected direction fails. */
static void test_swapped_base_element_is_caught(void)
{
    ovl_cot *bs, *br;
    uint8_t ch[16] = {0};
    ot_pair p;
    ovl_buf m0, m1;
    ovl_rng r0, r1;
    ovl_tweak_space s0, s1;
    ovl_ot *a, *b;
    ovl_rng_init_system(&r0);
    ovl_rng_init_system(&r1);
    ovl_tweak_space_init(&s0, NULL);
    ovl_tweak_space_init(&s1, NULL);
    EXPECT_OK(ovl_ot_new(&a, 0, NULL, &r0, &s0));
    EXPECT_OK(ovl_ot_new(&b, 1, NULL, &r1, &s1));
    EXPECT_OK(ot_msg_new(&m0));
    EXPECT_OK(ot_msg_new(&m1));
    EXPECT_OK(ovl_ot_base_write(a, &m0));
    EXPECT_OK(ovl_ot_base_write(b, &m1));
    /* party 1's A replaced by its first r element: a valid point, wrong key */
    memcpy(m1.data + 1, m1.data + 1 + 32, 32);
    EXPECT_OK(ovl_ot_base_read(a, &m1));
    EXPECT_OK(ovl_ot_base_read(b, &m0));
    p.ot[0] = a;
    p.ot[1] = b;
    EXPECT_ERR(OVL_ERR_CRYPTO, ot_cot_run(&p, 0, ch, 100, &bs, &br, NULL, NULL));
    ovl_cot_free(bs);
    ovl_cot_free(br);
    ot_pair_free(&p);
    ovl_buf_free(&m0);
    ovl_buf_free(&m1);
}

/* The largest messages fit one overlap frame, so callers frame them as they are. */
static void test_messages_fit_a_frame(void)
{
    EXPECT_TRUE(ovl_cot_u_msg_len(OVL_COT_BATCH_MAX) <= OVL_FRAME_MAX_PAYLOAD);
    EXPECT_TRUE(ovl_cot_u_msg_len(65536) > OVL_FRAME_MAX_PAYLOAD); /* why a cap is needed */
    EXPECT_TRUE(OVL_OT_BASE_MSG_LEN <= OVL_FRAME_MAX_PAYLOAD);
    EXPECT_TRUE(ovl_cot_chosen_msg_len(OVL_FRAME_MAX_PAYLOAD / 32 - 1) <= OVL_FRAME_MAX_PAYLOAD);
    EXPECT_EQ(ovl_cot_ext_rows(1), 256);
    EXPECT_EQ(ovl_cot_ext_rows(88), 256);
    EXPECT_EQ(ovl_cot_ext_rows(89), 384);
}

static void test_misuse(void)
{
    ot_pair p;
    ovl_cot *bs = NULL, *br = NULL;
    uint8_t ch[4] = {0};
    ovl_buf m;
    ovl_rng r;
    ovl_tweak_space s;
    ovl_ot *o;
    ovl_rng_init_system(&r);
    ovl_tweak_space_init(&s, NULL);
    EXPECT_ERR(OVL_ERR_USAGE, ovl_ot_new(&o, 2, NULL, &r, &s));
    EXPECT_OK(ovl_ot_new(&o, 0, NULL, &r, &s));
    EXPECT_OK(ot_msg_new(&m));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_cot_recv_start(&br, o, ch, 8, &m));
    ovl_ot_free(o);
    EXPECT_OK(ot_pair_new(&p, NULL, NULL, NULL, NULL, NULL));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_cot_recv_start(&br, p.ot[0], ch, 0, &m));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_cot_recv_start(&br, p.ot[1], ch, OVL_COT_BATCH_MAX + 1, &m));
    ot_pair_free(&p);
    /* outputs are not handed out before the check */
    EXPECT_OK(ot_pair_new(&p, NULL, NULL, NULL, NULL, NULL));
    ovl_buf_clear(&m);
    ovl_buf chal;
    EXPECT_OK(ot_msg_new(&chal));
    EXPECT_OK(ovl_cot_recv_start(&br, p.ot[0], ch, 20, &m));
    EXPECT_OK(ovl_cot_send_start(&bs, p.ot[1], &m, &chal));
    EXPECT_TRUE(ovl_cot_blocks(bs) == NULL);
    ovl_block m0[20], m1[20];
    EXPECT_ERR(OVL_ERR_USAGE, ovl_rot_send(bs, m0, m1));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_rot_recv(bs, m0));
    ovl_cot_free(bs);
    ovl_cot_free(br);
    ovl_buf_free(&chal);
    ovl_buf_free(&m);
    ot_pair_free(&p);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    RUN(test_transpose_matches_reference);
    RUN(test_gf128);
    RUN(test_cot_both_directions);
    RUN(test_chosen_delta_is_used);
    RUN(test_random_and_chosen_ot);
    RUN(test_seeded_runs_repeat);
    RUN(test_kos_catches_inconsistent_columns);
    RUN(test_kos_guessing_receiver);
    RUN(test_malformed_batch_messages);
    RUN(test_invalid_base_points);
    RUN(test_swapped_base_element_is_caught);
    RUN(test_messages_fit_a_frame);
    RUN(test_misuse);
    return ovl_t_summary("test_ot");
}
