/* src/mpc/hash.c: AES against FIPS-197, the PRG against AES-CTR's definition,
 * the TCCR hash against its formula, and the tweak space's disjointness. */
#include <string.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "mpc/hash.h"
#include "test.h"

static ovl_block hex_block(const char *hex)
{
    uint8_t b[16];
    for (int i = 0; i < 16; i++)
        sscanf(hex + 2 * i, "%2hhx", &b[i]);
    return ovl_block_load(b);
}

static void test_aes_fips197(void)
{
    /* FIPS-197 Appendix C.1 */
    uint8_t key[16];
    for (int i = 0; i < 16; i++)
        key[i] = (uint8_t)i;
    ovl_aes a;
    ovl_block in[3], out[3];
    ovl_block want = hex_block("69c4e0d86a7b0430d8cdb78070b4c55a");
    for (int i = 0; i < 3; i++)
        in[i] = hex_block("00112233445566778899aabbccddeeff");
    EXPECT_OK(ovl_aes_init(&a, key));
    EXPECT_OK(ovl_aes_ecb(&a, out, in, 3));
    for (int i = 0; i < 3; i++)
        EXPECT_TRUE(ovl_block_eq(out[i], want));
    EXPECT_OK(ovl_aes_ecb(&a, in, in, 3)); /* in place */
    EXPECT_TRUE(ovl_block_eq(in[2], want));
    EXPECT_TRUE(!ovl_block_eq(in[2], hex_block("00112233445566778899aabbccddeeff")));
    ovl_aes_free(&a);
}

/* OpenSSL's ECB, straight from EVP: the reference every implementation must match. */
static void evp_ecb(const uint8_t key[16], uint8_t *out, const uint8_t *in, size_t n)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int len = 0;
    EXPECT_TRUE(ctx != NULL);
    EXPECT_EQ(EVP_EncryptInit_ex(ctx, EVP_aes_128_ecb(), NULL, key, NULL), 1);
    EXPECT_EQ(EVP_CIPHER_CTX_set_padding(ctx, 0), 1);
    EXPECT_EQ(EVP_EncryptUpdate(ctx, out, &len, in, (int)(n * 16)), 1);
    EXPECT_EQ((size_t)len, n * 16);
    EVP_CIPHER_CTX_free(ctx);
}

/* Every implementation this CPU runs, for every n up to 100 (each partial
 * group of 8 and of 32) and a few large n, out of place and in place, under
 * random keys, gives OpenSSL's bytes and writes nothing past out[n]. */
static void check_impl(ovl_aes_impl impl, size_t n, const uint8_t key[16])
{
    enum { MAX = 5000 };
    static ovl_block in[MAX + 1], want[MAX], got[MAX + 1];
    ovl_aes a;
    randombytes_buf(in, (n + 1) * sizeof *in);
    evp_ecb(key, (uint8_t *)want, (const uint8_t *)in, n);
    EXPECT_OK(ovl_aes_init(&a, key));
    got[n] = ovl_block_make(0x5a5a, 0xa5a5);
    EXPECT_OK(ovl_aes_ecb_impl(&a, impl, got, in, n));
    int ok = memcmp(got, want, n * sizeof *got) == 0 &&
             ovl_block_eq(got[n], ovl_block_make(0x5a5a, 0xa5a5));
    EXPECT_OK(ovl_aes_ecb_impl(&a, impl, in, in, n)); /* in place */
    ok = ok && memcmp(in, want, n * sizeof *in) == 0;
    if (!ok)
        fprintf(stderr, "    %s differs from OpenSSL at n = %zu\n", ovl_aes_impl_name(impl), n);
    EXPECT_TRUE(ok);
    ovl_aes_free(&a);
    EXPECT_TRUE(sodium_is_zero((const unsigned char *)a.rk, sizeof a.rk));
}

static void test_aes_impls_match_openssl(void)
{
    static const size_t large[] = {255, 256, 257, 1000, 4096, 4999, 5000};
    uint8_t key[16];
    unsigned ran = 0;
    for (int impl = 0; impl < OVL_AES_IMPLS; impl++) {
        if (!ovl_aes_impl_runs((ovl_aes_impl)impl))
            continue;
        ran++;
        for (size_t n = 0; n <= 100; n++) {
            randombytes_buf(key, sizeof key);
            check_impl((ovl_aes_impl)impl, n, key);
        }
        for (size_t i = 0; i < sizeof large / sizeof large[0]; i++) {
            randombytes_buf(key, sizeof key);
            check_impl((ovl_aes_impl)impl, large[i], key);
        }
    }
    EXPECT_TRUE(ovl_aes_impl_runs(OVL_AES_EVP));
    printf("  aes: %u implementations checked on this CPU\n", ran);
    ovl_aes a;
    ovl_block b = ovl_block_zero();
    EXPECT_OK(ovl_aes_init(&a, key));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_aes_ecb_impl(&a, OVL_AES_IMPLS, &b, &b, 1));
    ovl_aes_free(&a);
}

/* FIPS-197 C.1 through each implementation by name, so a CPU that runs
 * several checks them all, not only the one ovl_aes_ecb picks. */
static void test_aes_impls_fips197(void)
{
    uint8_t key[16];
    for (int i = 0; i < 16; i++)
        key[i] = (uint8_t)i;
    ovl_block want = hex_block("69c4e0d86a7b0430d8cdb78070b4c55a");
    ovl_aes a;
    EXPECT_OK(ovl_aes_init(&a, key));
    for (int impl = 0; impl < OVL_AES_IMPLS; impl++) {
        ovl_block blk[37];
        if (!ovl_aes_impl_runs((ovl_aes_impl)impl))
            continue;
        for (int i = 0; i < 37; i++)
            blk[i] = hex_block("00112233445566778899aabbccddeeff");
        EXPECT_OK(ovl_aes_ecb_impl(&a, (ovl_aes_impl)impl, blk, blk, 37));
        for (int i = 0; i < 37; i++)
            EXPECT_TRUE(ovl_block_eq(blk[i], want));
    }
    ovl_aes_free(&a);
}

static void test_prg_is_ctr(void)
{
    uint8_t seed[16] = {9, 8, 7};
    ovl_prg g;
    ovl_aes a;
    ovl_block s[5], ctr[5];
    uint8_t bytes[21];
    EXPECT_OK(ovl_prg_init(&g, seed));
    EXPECT_OK(ovl_prg_blocks(&g, s, 2));
    EXPECT_OK(ovl_prg_blocks(&g, s + 2, 3)); /* the stream continues */
    EXPECT_OK(ovl_aes_init(&a, seed));
    for (int i = 0; i < 5; i++) {
        uint8_t c[16] = {0};
        c[15] = (uint8_t)i; /* CTR counts big-endian from IV 0 */
        ctr[i] = ovl_block_load(c);
    }
    EXPECT_OK(ovl_aes_ecb(&a, ctr, ctr, 5));
    EXPECT_BYTES_EQ(s, ctr, sizeof s);
    ovl_prg_free(&g);
    EXPECT_OK(ovl_prg_init(&g, seed));
    EXPECT_OK(ovl_prg_bytes(&g, bytes, sizeof bytes));
    EXPECT_BYTES_EQ(bytes, ctr, sizeof bytes);
    ovl_prg_free(&g);
    ovl_aes_free(&a);
}

/* The one-shot PRG gives the stream's bytes for many seeds and every
 * length up to 600 bytes (past 256 blocks' counters' low byte too), and the
 * FIPS-197 key's first block. */
static void test_prg_once_is_the_stream(void)
{
    uint8_t seed[16], want[4200], got[4201];
    size_t bad = 0;
    for (int t = 0; t < 64; t++) {
        randombytes_buf(seed, sizeof seed);
        size_t n = t < 60 ? (size_t)randombytes_uniform(601) : sizeof want - (size_t)(t - 60);
        ovl_prg g;
        EXPECT_OK(ovl_prg_init(&g, seed));
        EXPECT_OK(ovl_prg_bytes(&g, want, n));
        ovl_prg_free(&g);
        got[n] = 0x5a;
        EXPECT_OK(ovl_prg_once(seed, got, n));
        bad += memcmp(got, want, n) != 0 || got[n] != 0x5a;
    }
    EXPECT_EQ(bad, 0u);
    uint8_t key[16], first[16];
    for (int i = 0; i < 16; i++)
        key[i] = (uint8_t)i;
    ovl_aes a;
    ovl_block zero = ovl_block_zero(), enc;
    EXPECT_OK(ovl_aes_init(&a, key));
    EXPECT_OK(ovl_aes_ecb(&a, &enc, &zero, 1));
    EXPECT_OK(ovl_prg_once(key, first, sizeof first));
    EXPECT_BYTES_EQ(first, &enc, sizeof first);
    ovl_aes_free(&a);
}

static void test_tccr_formula(void)
{
    ovl_tweak_space sp;
    ovl_tweak_stream st, st2;
    ovl_hash h;
    ovl_aes pi;
    enum { N = 600 }; /* more than one internal chunk */
    static ovl_block x[N], tw[N], got[N], got2[N];
    ovl_tweak_space_init(&sp, NULL);
    EXPECT_OK(ovl_tweak_open(&sp, &st, OVL_TWEAK_OT, 1));
    st2 = st;
    for (int j = 0; j < N; j++) {
        x[j] = ovl_block_make((uint64_t)j * 0x9e3779b97f4a7c15u, (uint64_t)j);
        tw[j] = ovl_tweak_block(&st, (uint64_t)j);
    }
    EXPECT_OK(ovl_hash_init(&h, &sp));
    EXPECT_OK(ovl_aes_init(&pi, ovl_aes_fixed_key));
    EXPECT_OK(ovl_hash_tccr(&h, got, x, tw, N));
    EXPECT_OK(ovl_hash_tccr_stream(&h, got2, x, N, &st2));
    EXPECT_BYTES_EQ(got, got2, sizeof got);
    EXPECT_EQ(st2.next, N);
    for (int j = 0; j < N; j += 97) {
        ovl_block p, q;
        EXPECT_OK(ovl_aes_ecb(&pi, &p, &x[j], 1));
        q = ovl_block_xor(p, tw[j]);
        EXPECT_OK(ovl_aes_ecb(&pi, &q, &q, 1));
        EXPECT_TRUE(ovl_block_eq(got[j], ovl_block_xor(q, p)));
    }
    /* A different tweak gives a different hash. */
    tw[0] = ovl_block_xor(tw[0], ovl_block_make(0, 1));
    EXPECT_OK(ovl_hash_tccr(&h, got2, x, tw, 1));
    EXPECT_TRUE(!ovl_block_eq(got[0], got2[0]));
    ovl_hash_free(&h);
    ovl_aes_free(&pi);
}

static void test_tweak_space_disjoint(void)
{
    ovl_tweak_space sp;
    ovl_tweak_stream a, b, c, d;
    uint64_t first = 0;
    ovl_tweak_space_init(&sp, NULL);
    EXPECT_OK(ovl_tweak_open(&sp, &a, OVL_TWEAK_OT, 0));
    EXPECT_OK(ovl_tweak_open(&sp, &b, OVL_TWEAK_OT, 0));
    EXPECT_OK(ovl_tweak_open(&sp, &c, OVL_TWEAK_OT, 1));
    EXPECT_OK(ovl_tweak_open(&sp, &d, OVL_TWEAK_GC, 0));
    EXPECT_TRUE(a.id != b.id && a.id != c.id && a.id != d.id && b.id != c.id && b.id != d.id &&
                c.id != d.id);
    EXPECT_OK(ovl_tweak_take(&a, 10, &first));
    EXPECT_EQ(first, 0);
    EXPECT_OK(ovl_tweak_take(&a, 5, &first));
    EXPECT_EQ(first, 10);
    EXPECT_ERR(OVL_ERR_LIMIT, ovl_tweak_take(&a, UINT64_MAX - 3, &first));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_tweak_open(&sp, &a, OVL_TWEAK_DOMAINS, 0));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_tweak_open(&sp, &a, OVL_TWEAK_OT, 2));
    sp.next_instance[OVL_TWEAK_GC][1] = OVL_TWEAK_INSTANCE_MAX + 1;
    EXPECT_ERR(OVL_ERR_LIMIT, ovl_tweak_open(&sp, &a, OVL_TWEAK_GC, 1));
}

static void test_block_helpers(void)
{
    uint8_t b[16] = {0x03, 0, 0, 0, 0, 0, 0, 0, 0x80};
    ovl_block x = ovl_block_load(b);
    uint8_t back[16];
    EXPECT_EQ(ovl_block_lsb(x), 1);
    EXPECT_EQ(ovl_block_bit(x, 1), 1);
    EXPECT_EQ(ovl_block_bit(x, 2), 0);
    EXPECT_EQ(ovl_block_bit(x, 71), 1);
    EXPECT_EQ(ovl_block_hi(x), 0x80);
    EXPECT_EQ(ovl_block_lo(x), 3);
    EXPECT_TRUE(ovl_block_eq(ovl_block_select(1, x), x));
    EXPECT_TRUE(ovl_block_eq(ovl_block_select(0, x), ovl_block_zero()));
    EXPECT_EQ(ovl_block_lsb(ovl_block_set_lsb(ovl_block_zero())), 1);
    ovl_block_store(back, x);
    EXPECT_BYTES_EQ(back, b, 16);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    RUN(test_aes_fips197);
    RUN(test_aes_impls_fips197);
    RUN(test_aes_impls_match_openssl);
    RUN(test_prg_is_ctr);
    RUN(test_prg_once_is_the_stream);
    RUN(test_tccr_formula);
    RUN(test_tweak_space_disjoint);
    RUN(test_block_helpers);
    return ovl_t_summary("test_mpc_hash");
}
