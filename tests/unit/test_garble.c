/* Half-gates garbling against plain evaluation, with the evaluator's labels
 * handed over directly (an ideal OT); tampering is caught at decoding. */
#include "gc_testlib.h"
#include "mpc/garble.h"
#include "test.h"

typedef struct {
    ovl_tweak_space sp;
    ovl_hash hash;
    ovl_tweak_stream ts;
    uint64_t base;
    ovl_gc_state g, e;
    ovl_buf tables;
} pair;

static ovl_block rnd_block(void)
{
    uint8_t b[16];
    randombytes_buf(b, sizeof b);
    return ovl_block_load(b);
}

static void pair_init(pair *p, const ovl_circuit *c, const uint8_t *in)
{
    ovl_tweak_space_init(&p->sp, NULL);
    EXPECT_OK(ovl_hash_init(&p->hash, &p->sp));
    EXPECT_OK(ovl_tweak_open(&p->sp, &p->ts, OVL_TWEAK_GC, 0));
    EXPECT_OK(ovl_tweak_take(&p->ts, ovl_gc_tweaks_needed(c), &p->base));
    ovl_block delta = ovl_block_set_lsb(rnd_block());
    EXPECT_OK(ovl_gc_state_init(&p->g, c, &p->hash, true, delta, &p->ts, p->base));
    EXPECT_OK(ovl_gc_state_init(&p->e, c, &p->hash, false, delta, &p->ts, p->base));
    for (uint32_t i = 0; i < c->in_bits; i++) {
        p->g.w[i] = rnd_block();
        p->e.w[i] = ovl_block_xor(p->g.w[i], ovl_block_select(in[i], delta));
    }
    EXPECT_OK(ovl_buf_alloc(&p->tables, 1024, (size_t)1 << 28));
}

static void pair_free(pair *p)
{
    ovl_gc_state_free(&p->g);
    ovl_gc_state_free(&p->e);
    ovl_hash_free(&p->hash);
    ovl_buf_free(&p->tables);
}

typedef void (*tamper_fn)(pair *p, uint8_t *tables, uint32_t n);

/* Garbles in frames of `per` tables, evaluates each, decodes. Returns the
 * decode result; bits in out. */
static ovl_err run_pair(pair *p, uint8_t *out, uint32_t per, tamper_fn tamper)
{
    uint32_t n;
    uint8_t perm[512], tags[512][2][OVL_GC_TAG_BYTES];
    while (!ovl_gc_state_done(&p->g)) {
        ovl_buf_clear(&p->tables);
        if (ovl_gc_garble(&p->g, &p->tables, per, &n) != OVL_OK)
            return OVL_ERR_INTERNAL;
        if (tamper)
            tamper(p, p->tables.data, n);
        ovl_err e = ovl_gc_evaluate(&p->e, p->tables.data, n);
        if (e != OVL_OK)
            return e;
    }
    if (!ovl_gc_state_done(&p->e) || p->g.c->out_bits > 512)
        return OVL_ERR_INTERNAL;
    if (ovl_gc_decode_info(&p->g, perm, tags) != OVL_OK)
        return OVL_ERR_INTERNAL;
    return ovl_gc_decode(&p->e, out, perm, (const uint8_t(*)[2][OVL_GC_TAG_BYTES])tags);
}

static void check_circuit(const char *file, int rounds)
{
    ovl_circuit c;
    EXPECT_OK(gct_load(&c, file));
    uint8_t in[1024], want[512], got[512];
    static const uint32_t pers[] = {1, 7, 100, 4096, UINT32_MAX};
    for (int r = 0; r < rounds; r++) {
        for (uint32_t i = 0; i < c.in_bits; i++)
            in[i] = randombytes_uniform(2);
        EXPECT_OK(ovl_circuit_eval(&c, want, in));
        pair p;
        pair_init(&p, &c, in);
        EXPECT_OK(run_pair(&p, got, pers[r % 5], NULL));
        EXPECT_BYTES_EQ(got, want, c.out_bits);
        /* The garbler reads the evaluator's output labels back. */
        for (uint32_t i = 0; i < c.out_bits; i++) {
            uint8_t bit = 2;
            EXPECT_OK(ovl_gc_check_output(&p.g, i, ovl_gc_output_label(&p.e, i), &bit));
            EXPECT_EQ(bit, want[i]);
        }
        EXPECT_ERR(OVL_ERR_CRYPTO,
                   ovl_gc_check_output(&p.g, 0, ovl_block_xor(ovl_gc_output_label(&p.e, 0),
                                                              ovl_block_make(0, 2)), got));
        pair_free(&p);
    }
    ovl_circuit_free(&c);
}

static void test_aes(void)
{
    ovl_circuit c;
    EXPECT_OK(gct_load(&c, "aes_128.txt"));
    uint8_t key[16], pt[16], in[256], out[128], ct[16], want[16];
    for (int r = 0; r < 4; r++) {
        randombytes_buf(key, 16);
        randombytes_buf(pt, 16);
        EXPECT_EQ(gct_inputs(in, &c, key, 16, pt, 16), 0);
        pair p;
        pair_init(&p, &c, in);
        EXPECT_OK(run_pair(&p, out, 1000, NULL));
        ovl_bits_to_be(ct, 16, out, 128);
        gct_aes128(want, key, pt);
        EXPECT_BYTES_EQ(ct, want, 16);
        pair_free(&p);
    }
    ovl_circuit_free(&c);
    check_circuit("aes_128.txt", 5);
}

static void test_sha256(void)
{
    ovl_circuit c;
    EXPECT_OK(gct_load(&c, "sha256.txt"));
    uint8_t msg[55], block[64], in[768], out[256], got[32], want[32];
    for (int r = 0; r < 2; r++) {
        size_t len = r == 0 ? 3 : randombytes_uniform(56);
        if (r == 0)
            memcpy(msg, "abc", 3);
        else
            randombytes_buf(msg, len);
        gct_sha256_block(block, msg, len);
        EXPECT_EQ(gct_inputs(in, &c, block, 64, gct_sha256_iv, 32), 0);
        pair p;
        pair_init(&p, &c, in);
        EXPECT_OK(run_pair(&p, out, 16384, NULL));
        ovl_bits_to_be(got, 32, out, 256);
        crypto_hash_sha256(want, msg, len);
        EXPECT_BYTES_EQ(got, want, 32);
        pair_free(&p);
    }
    ovl_circuit_free(&c);
}

/* A table half is used only when the evaluator's lsb selects it, so both
 * halves of every table in the frame are altered. */
static void flip_one(pair *p, uint8_t *tables, uint32_t n)
{
    (void)p;
    for (uint32_t k = 0; k < n; k++) {
        tables[32 * (size_t)k + 5] ^= 0x10;
        tables[32 * (size_t)k + 21] ^= 0x10;
    }
}

/* Gadgets with constants and inversions garble too (A2B and B2A over 64 bits). */
static void garble_conversion(ovl_err (*make)(ovl_circuit *, uint32_t))
{
    ovl_circuit c;
    EXPECT_OK(make(&c, 64));
    uint8_t in[192], want[64], got[64];
    for (int r = 0; r < 10; r++) {
        for (uint32_t i = 0; i < c.in_bits; i++)
            in[i] = randombytes_uniform(2);
        EXPECT_OK(ovl_circuit_eval(&c, want, in));
        pair p;
        pair_init(&p, &c, in);
        EXPECT_OK(run_pair(&p, got, 9, NULL));
        EXPECT_BYTES_EQ(got, want, 64);
        pair_free(&p);
    }
    ovl_circuit_free(&c);
}

static void test_builder_gc(void)
{
    garble_conversion(ovl_circuit_a2b);
    garble_conversion(ovl_circuit_b2a);
}

static void test_tamper(void)
{
    ovl_circuit c;
    EXPECT_OK(gct_load(&c, "aes_128.txt"));
    uint8_t in[256] = {0}, out[128];
    pair p;
    pair_init(&p, &c, in);
    /* A flipped bit in one table corrupts labels downstream: decoding fails. */
    EXPECT_ERR(OVL_ERR_CRYPTO, run_pair(&p, out, 3000, flip_one));
    pair_free(&p);
    /* More tables than AND gates left. */
    pair_init(&p, &c, in);
    static uint8_t big[6401 * 32];
    EXPECT_ERR(OVL_ERR_PROTOCOL, ovl_gc_evaluate(&p.e, big, 6401));
    pair_free(&p);
    /* A wrong input label (as from a cheating OT) fails decoding too. */
    pair_init(&p, &c, in);
    p.e.w[3] = ovl_block_xor(p.e.w[3], ovl_block_make(1, 0));
    EXPECT_ERR(OVL_ERR_CRYPTO, run_pair(&p, out, 6400, NULL));
    pair_free(&p);
    ovl_circuit_free(&c);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    RUN(test_aes);
    RUN(test_sha256);
    RUN(test_builder_gc);
    RUN(test_tamper);
    return ovl_t_summary("test_garble");
}
