/* Bristol Fashion reader, plain evaluation and the circuit builder's gadgets. */
#include <inttypes.h>

#include "gc_testlib.h"
#include "mpc/circuit.h"
#include "test.h"

static void eval_aes(const ovl_circuit *c, uint8_t ct[16], const uint8_t key[16],
                     const uint8_t pt[16])
{
    uint8_t in[256], out[128];
    EXPECT_EQ(gct_inputs(in, c, key, 16, pt, 16), 0);
    EXPECT_OK(ovl_circuit_eval(c, out, in));
    ovl_bits_to_be(ct, 16, out, 128);
}

static void test_aes_plain(void)
{
    ovl_circuit c;
    uint8_t key[16], pt[16], ct[16], want[16];
    EXPECT_OK(gct_load(&c, "aes_128.txt"));
    EXPECT_EQ(c.nand, 6400);
    EXPECT_EQ(c.ngates, 36663);
    for (int i = 0; i < 16; i++) {
        key[i] = (uint8_t)i;
        pt[i] = (uint8_t)(0x11 * i);
    }
    static const uint8_t fips[16] = {0x69, 0xc4, 0xe0, 0xd8, 0x6a, 0x7b, 0x04, 0x30,
                                     0xd8, 0xcd, 0xb7, 0x80, 0x70, 0xb4, 0xc5, 0x5a};
    eval_aes(&c, ct, key, pt);
    EXPECT_BYTES_EQ(ct, fips, 16);
    for (int t = 0; t < 8; t++) {
        randombytes_buf(key, 16);
        randombytes_buf(pt, 16);
        eval_aes(&c, ct, key, pt);
        gct_aes128(want, key, pt);
        EXPECT_BYTES_EQ(ct, want, 16);
    }
    ovl_circuit_free(&c);
}

static void test_sha256_plain(void)
{
    ovl_circuit c;
    uint8_t msg[55], block[64], in[768], out[256], got[32], want[32];
    EXPECT_OK(gct_load(&c, "sha256.txt"));
    EXPECT_EQ(c.nand, 22573);
    for (int t = 0; t < 5; t++) {
        size_t len = t == 0 ? 3 : randombytes_uniform(56);
        if (t == 0)
            memcpy(msg, "abc", 3);
        else
            randombytes_buf(msg, len);
        gct_sha256_block(block, msg, len);
        EXPECT_EQ(gct_inputs(in, &c, block, 64, gct_sha256_iv, 32), 0);
        EXPECT_OK(ovl_circuit_eval(&c, out, in));
        ovl_bits_to_be(got, 32, out, 256);
        crypto_hash_sha256(want, msg, len);
        EXPECT_BYTES_EQ(got, want, 32);
    }
    ovl_circuit_free(&c);
}

static ovl_err parse_str(ovl_circuit *c, const char *s)
{
    return ovl_bristol_parse(c, "t.txt", (const uint8_t *)s, strlen(s));
}

static void test_bristol_small(void)
{
    ovl_circuit c;
    /* A MAND line may not redefine a wire (here input wire 1). */
    const char *redef = "5 7\n2 1 1\n1 1\n1 1 0 2 INV\n2 1 0 1 3 AND\n1 1 1 4 EQ\n"
                        "2 1 2 3 5 XOR\n4 2 5 4 4 5 1 6 MAND\n";
    EXPECT_ERR(OVL_ERR_INPUT, parse_str(&c, redef));
    /* w5 = (a & b) ^ !a; w4 is the constant 1; MAND: w6 = w5 & w4, w7 = w4 & w5. */
    const char *fine = "5 8\n2 1 1\n1 1\n1 1 0 2 INV\n2 1 0 1 3 AND\n1 1 1 4 EQ\n"
                       "2 1 2 3 5 XOR\n4 2 5 4 4 5 6 7 MAND\n";
    EXPECT_OK(parse_str(&c, fine));
    EXPECT_EQ(c.ngates, 6);
    EXPECT_EQ(c.nand, 3);
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 2; b++) {
            uint8_t in[2] = {(uint8_t)a, (uint8_t)b}, out[1];
            EXPECT_OK(ovl_circuit_eval(&c, out, in));
            int w5 = (a & b) ^ !a;
            EXPECT_EQ(out[0], w5 & 1);
        }
    ovl_circuit_free(&c);
}

static void test_bristol_rejects(void)
{
    ovl_circuit c;
    static const struct {
        const char *text;
        ovl_err want;
        const char *why;
    } bad[] = {
        {"", OVL_ERR_INPUT, "empty"},
        {"1 3\n2 1 1\n1 1\n", OVL_ERR_INPUT, "truncated: no gates"},
        {"1 3\n2 1 1\n1 1\n2 1 0 1 2 AN", OVL_ERR_INPUT, "truncated gate type"},
        {"1 3\n2 1 1\n1 1\n2 1 0 1 3 AND\n", OVL_ERR_LIMIT, "wire index past the count"},
        {"1 3\n2 1 1\n1 1\n2 1 0 2 2 AND\n", OVL_ERR_INPUT, "reads its own output"},
        {"2 4\n2 1 1\n1 1\n2 1 0 3 2 AND\n2 1 0 1 3 XOR\n", OVL_ERR_INPUT, "not topological"},
        {"1 3\n2 1 1\n1 1\n2 1 0 1 2 NAND\n", OVL_ERR_INPUT, "unknown type"},
        {"1 3\n2 1 1\n1 1\n3 1 0 1 1 2 AND\n", OVL_ERR_INPUT, "AND with 3 inputs"},
        {"2 3\n2 1 1\n1 1\n2 1 0 1 2 AND\n", OVL_ERR_INPUT, "fewer gates than declared"},
        {"1 4\n2 1 1\n1 1\n2 1 0 1 2 AND\n", OVL_ERR_INPUT, "output wire undefined"},
        {"1 3\n2 2 1\n1 1\n2 1 0 1 2 AND\n", OVL_ERR_INPUT, "inputs overlap output"},
        {"99999999 3\n2 1 1\n1 1\n2 1 0 1 2 AND\n", OVL_ERR_LIMIT, "gate count over cap"},
        {"9999999 3\n2 1 1\n1 1\n2 1 0 1 2 AND\n", OVL_ERR_INPUT, "gate claim over file size"},
        {"1 99999999\n2 1 1\n1 1\n", OVL_ERR_LIMIT, "wire count over cap"},
        {"1 3\n17 1 1\n1 1\n", OVL_ERR_LIMIT, "too many inputs"},
        {"1 3\n2 1 1\n1 1\n1 1 2 2 EQ\n", OVL_ERR_INPUT, "EQ constant 2"},
        {"1 3\n2 1 1\n1 1\n2 1 0 1 2 AND extra\n", OVL_ERR_INPUT, "trailing text"},
        {"1 3\n2 1 1\n1 1\n2 1 0 1x 2 AND\n", OVL_ERR_INPUT, "not a number"},
        {"1 3\n2 1 1\n1 1\n2 1 0 1 2 AND\n2 1 0 1 2 AND\n", OVL_ERR_INPUT, "extra gate"},
        {"1 3 4\n2 1 1\n1 1\n2 1 0 1 2 AND\n", OVL_ERR_INPUT, "header trailing"},
        {"1 3\n2 1 0\n1 1\n2 1 0 1 2 AND\n", OVL_ERR_INPUT, "width 0"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ovl_err e = parse_str(&c, bad[i].text);
        OVL_T_RECORD(e == bad[i].want, "case '%s': got %s (%s)", bad[i].why, ovl_err_name(e),
                     ovl_err_detail());
        OVL_T_RECORD(strncmp(ovl_err_detail(), "t.txt", 5) == 0, "case '%s': detail '%s'",
                     bad[i].why, ovl_err_detail());
    }
    /* A good one parses, and the line number is reported. */
    EXPECT_OK(parse_str(&c, "1 3\n2 1 1\n1 1\n2 1 0 1 2 AND"));
    ovl_circuit_free(&c);
    EXPECT_ERR(OVL_ERR_INPUT, parse_str(&c, "2 4\n2 1 1\n1 1\n2 1 0 1 2 AND\n\n2 1 0 3 3 XOR\n"));
    EXPECT_TRUE(strstr(ovl_err_detail(), "t.txt:6:") != NULL);
    EXPECT_ERR(OVL_ERR_INPUT, ovl_bristol_load(&c, "/nonexistent/c.txt"));
}

typedef uint64_t (*ref2)(uint64_t a, uint64_t b, uint64_t mask);

static uint64_t r_add(uint64_t a, uint64_t b, uint64_t m) { return (a + b) & m; }
static uint64_t r_sub(uint64_t a, uint64_t b, uint64_t m) { return (a - b) & m; }
static uint64_t r_eq(uint64_t a, uint64_t b, uint64_t m) { (void)m; return a == b; }
static uint64_t r_ge(uint64_t a, uint64_t b, uint64_t m) { (void)m; return a >= b; }

enum { G_ADD, G_SUB, G_EQ, G_GE, G_MUX };

static ovl_err build_binary(ovl_circuit *c, int which, uint32_t n)
{
    ovl_cb cb;
    uint32_t a[64], b[64], o[64];
    ovl_cb_init(&cb, 0);
    uint32_t s = which == G_MUX ? ovl_cb_input(&cb, 1) : 0;
    uint32_t wa = ovl_cb_input(&cb, n), wb = ovl_cb_input(&cb, n);
    for (uint32_t i = 0; i < n; i++) {
        a[i] = wa + i;
        b[i] = wb + i;
    }
    switch (which) {
    case G_ADD: ovl_cb_add(&cb, o, a, b, n); break;
    case G_SUB: ovl_cb_sub(&cb, o, a, b, n); break;
    case G_EQ: o[0] = ovl_cb_eq(&cb, a, b, n); break;
    case G_GE: o[0] = ovl_cb_ge(&cb, a, b, n); break;
    default: ovl_cb_mux(&cb, o, s, a, b, n); break;
    }
    ovl_cb_output(&cb, o, which == G_EQ || which == G_GE ? 1 : n);
    return ovl_cb_finish(&cb, c);
}

static uint64_t run_u64(const ovl_circuit *c, const uint64_t *vals, const uint32_t *widths,
                        int nvals)
{
    uint8_t in[256], out[64];
    uint32_t off = 0;
    for (int i = 0; i < nvals; i++) {
        ovl_bits_from_u64(in + off, widths[i], vals[i]);
        off += widths[i];
    }
    if (ovl_circuit_eval(c, out, in) != OVL_OK)
        return UINT64_MAX;
    return ovl_bits_to_u64(out, c->out_bits);
}

static uint64_t rnd64(void)
{
    uint64_t v;
    randombytes_buf(&v, sizeof v);
    return v;
}

static void test_gadgets(void)
{
    static const ref2 refs[] = {r_add, r_sub, r_eq, r_ge};
    static const uint32_t widths[] = {1, 2, 7, 32, 64};
    for (int which = G_ADD; which <= G_MUX; which++)
        for (size_t wi = 0; wi < sizeof widths / sizeof widths[0]; wi++) {
            uint32_t n = widths[wi];
            uint64_t m = n == 64 ? UINT64_MAX : ((uint64_t)1 << n) - 1;
            ovl_circuit c;
            EXPECT_OK(build_binary(&c, which, n));
            /* The stated AND costs. */
            uint32_t want = which == G_ADD || which == G_SUB ? n - 1 : which == G_EQ ? n - 1 : n;
            OVL_T_RECORD(c.nand == want, "gadget %d width %u: %u ANDs, want %u", which, n, c.nand,
                         want);
            for (int t = 0; t < 40; t++) {
                uint64_t a = rnd64() & m, b = t % 4 == 0 ? a : rnd64() & m;
                if (t % 7 == 1)
                    b = (a + 1) & m;
                if (which == G_MUX) {
                    uint64_t s = (uint64_t)(t & 1), v[3] = {s, a, b};
                    uint32_t w[3] = {1, n, n};
                    EXPECT_EQ(run_u64(&c, v, w, 3), s ? a : b);
                } else {
                    uint64_t v[2] = {a, b};
                    uint32_t w[2] = {n, n};
                    uint64_t got = run_u64(&c, v, w, 2), exp = refs[which](a, b, m);
                    OVL_T_RECORD(got == exp, "gadget %d width %u a=%" PRIx64 " b=%" PRIx64
                                             ": %" PRIx64 " want %" PRIx64,
                                 which, n, a, b, got, exp);
                }
            }
            ovl_circuit_free(&c);
        }
}

static void test_ge_const(void)
{
    static const uint64_t ks[] = {0, 1, 2, 5, 100, 0x7fffffffffffffffull, UINT64_MAX};
    for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ki++)
        for (uint32_t n = 8; n <= 64; n += 56) {
            uint64_t m = n == 64 ? UINT64_MAX : ((uint64_t)1 << n) - 1;
            uint64_t k = ks[ki] & m;
            ovl_cb cb;
            ovl_circuit c;
            uint32_t a[64];
            ovl_cb_init(&cb, 0);
            uint32_t wa = ovl_cb_input(&cb, n);
            for (uint32_t i = 0; i < n; i++)
                a[i] = wa + i;
            uint32_t o = ovl_cb_ge_const(&cb, a, k, n);
            ovl_cb_output(&cb, &o, 1);
            EXPECT_OK(ovl_cb_finish(&cb, &c));
            EXPECT_TRUE(c.nand <= n);
            for (int t = 0; t < 30; t++) {
                uint64_t v = t < 3 ? (k + (uint64_t)t - 1) & m : rnd64() & m;
                uint32_t w = n;
                EXPECT_EQ(run_u64(&c, &v, &w, 1), v >= k);
            }
            ovl_circuit_free(&c);
        }
}

static void test_conversions(void)
{
    for (uint32_t n = 32; n <= 64; n += 32) {
        uint64_t m = n == 64 ? UINT64_MAX : ((uint64_t)1 << n) - 1;
        ovl_circuit a2b, b2a;
        EXPECT_OK(ovl_circuit_a2b(&a2b, n));
        EXPECT_OK(ovl_circuit_b2a(&b2a, n));
        EXPECT_EQ(a2b.nand, n - 1);
        EXPECT_EQ(b2a.nand, n - 1);
        uint32_t w[3] = {n, n, n};
        for (int t = 0; t < 40; t++) {
            uint64_t x = rnd64() & m, r = rnd64() & m, sg = rnd64() & m;
            /* A2B: arithmetic shares sg + se = x become XOR shares r, out. */
            uint64_t v[3] = {sg, r, (x - sg) & m};
            EXPECT_EQ(run_u64(&a2b, v, w, 3) ^ r, x);
            /* B2A: XOR shares sg ^ se = x become additive shares r, out. */
            uint64_t u[3] = {sg, r, x ^ sg};
            EXPECT_EQ((run_u64(&b2a, u, w, 3) + r) & m, x);
        }
        ovl_circuit_free(&a2b);
        ovl_circuit_free(&b2a);
    }
    ovl_circuit c;
    EXPECT_ERR(OVL_ERR_USAGE, ovl_circuit_a2b(&c, 65));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_circuit_b2a(&c, 0));
}

static void test_builder_errors(void)
{
    ovl_cb cb;
    ovl_circuit c;
    ovl_cb_init(&cb, 3);
    uint32_t a = ovl_cb_input(&cb, 2);
    uint32_t x = ovl_cb_and(&cb, a, a + 1);
    (void)ovl_cb_input(&cb, 1); /* an input after a gate */
    ovl_cb_output(&cb, &x, 1);
    EXPECT_ERR(OVL_ERR_USAGE, ovl_cb_finish(&cb, &c));

    ovl_cb_init(&cb, 2);
    a = ovl_cb_input(&cb, 2);
    x = ovl_cb_and(&cb, a, a + 1);
    x = ovl_cb_xor(&cb, x, a);
    x = ovl_cb_xor(&cb, x, a); /* the third gate is over the cap of 2 */
    ovl_cb_output(&cb, &x, 1);
    EXPECT_ERR(OVL_ERR_LIMIT, ovl_cb_finish(&cb, &c));

    ovl_cb_init(&cb, 0);
    a = ovl_cb_input(&cb, 2);
    x = ovl_cb_xor(&cb, a, 77); /* an undefined wire */
    EXPECT_ERR(OVL_ERR_USAGE, ovl_cb_finish(&cb, &c));

    ovl_cb_init(&cb, 0);
    a = ovl_cb_input(&cb, 2);
    uint32_t bad = 99;
    ovl_cb_output(&cb, &bad, 1); /* an output that is no wire */
    EXPECT_ERR(OVL_ERR_INPUT, ovl_cb_finish(&cb, &c));
}

static void test_bits(void)
{
    uint8_t bits[12], back[2];
    const uint8_t v[2] = {0x0a, 0xbc};
    EXPECT_OK(ovl_bits_from_be(bits, 12, v, 2));
    EXPECT_EQ(bits[0], 0);
    EXPECT_EQ(bits[2], 1);
    EXPECT_EQ(bits[11], 1);
    ovl_bits_to_be(back, 2, bits, 12);
    EXPECT_BYTES_EQ(back, v, 2);
    const uint8_t wide[2] = {0x1a, 0xbc};
    EXPECT_ERR(OVL_ERR_INPUT, ovl_bits_from_be(bits, 12, wide, 2));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_bits_from_be(bits, 17, wide, 2));
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    RUN(test_bits);
    RUN(test_bristol_small);
    RUN(test_bristol_rejects);
    RUN(test_aes_plain);
    RUN(test_sha256_plain);
    RUN(test_gadgets);
    RUN(test_ge_const);
    RUN(test_conversions);
    RUN(test_builder_errors);
    return ovl_t_summary("test_circuit");
}
