/* The two-party garbled-circuit engine, both roles in one process through
 * the two-engine harness: AES-128 and SHA-256 against OpenSSL, every reveal
 * setting, and hostile frames (truncated, oversized, altered, out of order,
 * forged outputs, a different circuit) rejected with their own errors. */
#include "gc_testlib.h"
#include "mpc/gc.h"
#include "psi_harness.h"
#include "test.h"

typedef struct {
    ovl_rng rng[2];
    ovl_gc *g, *e;
    hx_side side[2]; /* 0 garbler (listener), 1 evaluator (connector) */
} gc_run;

/* Whether gc_run_new folds the garbler's inputs, on each side. */
static bool fold_g, fold_e;

/* in_g, in_e: instances × (each party's bits). */
static ovl_err gc_run_new(gc_run *r, const ovl_circuit *cg, const ovl_circuit *ce,
                          uint32_t instances, ovl_gc_reveal reveal, const uint8_t *in_g,
                          const uint8_t *in_e)
{
    ovl_err rc;
    memset(r, 0, sizeof *r);
    ovl_rng_init_system(&r->rng[0]);
    ovl_rng_init_system(&r->rng[1]);
    ovl_gc_config a = {.role = OVL_GC_GARBLER, .party = 0, .circuit = cg, .garbler_inputs = 1,
                       .instances = instances, .reveal = reveal, .input = in_g, .rng = &r->rng[0]};
    ovl_gc_config b = a;
    b.role = OVL_GC_EVALUATOR;
    b.party = 1;
    b.circuit = ce;
    b.input = in_e;
    b.rng = &r->rng[1];
    a.fold_garbler_inputs = fold_g;
    b.fold_garbler_inputs = fold_e;
    rc = ovl_gc_new(&r->g, &a);
    if (rc == OVL_OK)
        rc = ovl_gc_new(&r->e, &b);
    if (rc != OVL_OK)
        return rc;
    hx_init(&r->side[0], &ovl_gc_ops, r->g);
    hx_init(&r->side[1], &ovl_gc_ops, r->e);
    return OVL_OK;
}

static void gc_run_free(gc_run *r)
{
    ovl_gc_free(r->g);
    ovl_gc_free(r->e);
    hx_free(&r->side[0]);
    hx_free(&r->side[1]);
}

static bool gc_run_go(gc_run *r, hx_tamper t, void *arg)
{
    hx_run(&r->side[0], &r->side[1], t, arg);
    return r->side[0].rc == OVL_OK && r->side[1].rc == OVL_OK && ovl_gc_ops.done(r->g) &&
           ovl_gc_ops.done(r->e);
}

/* Frames of one type in a side's transcript. */
static int count_frames(const hx_side *s, uint8_t type)
{
    int n = 0;
    for (size_t off = 0; off + OVL_FRAME_HDR <= s->log.wpos;) {
        const uint8_t *h = s->log.data + off;
        n += h[0] == type;
        off += OVL_FRAME_HDR + ((size_t)h[1] << 24 | (size_t)h[2] << 16 | (size_t)h[3] << 8 | h[4]);
    }
    return n;
}

/* AES-128 instances on random keys (the garbler's inputs) and plaintexts
 * (the evaluator's), run through both engines and checked on both sides. */
enum { AES_MAX = 3 };
typedef struct {
    int n;
    uint8_t key[AES_MAX][16], pt[AES_MAX][16], kin[AES_MAX][128], pin[AES_MAX][128];
} aes_batch;

static void aes_batch_fill(aes_batch *b, int n)
{
    b->n = n;
    for (int i = 0; i < n; i++) {
        randombytes_buf(b->key[i], 16);
        randombytes_buf(b->pt[i], 16);
        EXPECT_OK(ovl_bits_from_be(b->kin[i], 128, b->key[i], 16));
        EXPECT_OK(ovl_bits_from_be(b->pin[i], 128, b->pt[i], 16));
    }
}

static void aes_batch_check(const aes_batch *b, const gc_run *r)
{
    uint8_t ct[16], want[16];
    OVL_T_RECORD(r->side[0].rc == OVL_OK && r->side[1].rc == OVL_OK, "run failed: %s / %s",
                 r->side[0].detail, r->side[1].detail);
    for (int i = 0; i < b->n; i++) {
        gct_aes128(want, b->key[i], b->pt[i]);
        for (int s = 0; s < 2; s++) {
            const uint8_t *o = ovl_gc_output(s == 0 ? r->g : r->e, (uint32_t)i);
            EXPECT_TRUE(o != NULL);
            if (o == NULL)
                continue;
            ovl_bits_to_be(ct, 16, o, 128);
            EXPECT_BYTES_EQ(ct, want, 16);
        }
    }
}

static void test_aes_both(void)
{
    ovl_circuit c;
    EXPECT_OK(gct_load(&c, "aes_128.txt"));
    aes_batch b;
    aes_batch_fill(&b, 3);
    gc_run r;
    EXPECT_OK(gc_run_new(&r, &c, &c, b.n, OVL_GC_REVEAL_BOTH, b.kin[0], b.pin[0]));
    EXPECT_TRUE(gc_run_go(&r, NULL, NULL));
    aes_batch_check(&b, &r);
    EXPECT_EQ(ovl_gc_and_gates(r.g), 3 * 6400);
    EXPECT_EQ(ovl_gc_and_gates(r.e), 3 * 6400);
    /* Bytes per AND gate on the garbler's side: 32 plus framing and OT. */
    double per = (double)r.side[0].log.wpos / (3 * 6400);
    OVL_T_RECORD(per >= 32 && per < 40, "garbler sent %.2f bytes per AND gate", per);
    gc_run_free(&r);
    ovl_circuit_free(&c);
}

/* Folded garbler inputs: AES still computes, no INPUTS frame carries a
 * label, and a garbler that folds against an evaluator that does not is
 * refused at SETUP. */
static void test_aes_folded(void)
{
    ovl_circuit c;
    EXPECT_OK(gct_load(&c, "aes_128.txt"));
    enum { N = 2 };
    aes_batch b;
    aes_batch_fill(&b, N);
    gc_run r;
    fold_g = fold_e = true;
    EXPECT_OK(gc_run_new(&r, &c, &c, N, OVL_GC_REVEAL_BOTH, b.kin[0], b.pin[0]));
    EXPECT_TRUE(gc_run_go(&r, NULL, NULL));
    aes_batch_check(&b, &r);
    int inputs = 0;
    for (size_t off = 0; off + OVL_FRAME_HDR <= r.side[0].log.wpos;) {
        const uint8_t *h = r.side[0].log.data + off;
        size_t len = (size_t)h[1] << 24 | (size_t)h[2] << 16 | (size_t)h[3] << 8 | h[4];
        if (h[0] == OVL_GC_INPUTS) {
            inputs++;
            EXPECT_EQ(len, 4);
        }
        off += OVL_FRAME_HDR + len;
    }
    EXPECT_EQ(inputs, N);
    gc_run_free(&r);
    fold_e = false;
    EXPECT_OK(gc_run_new(&r, &c, &c, N, OVL_GC_REVEAL_BOTH, b.kin[0], b.pin[0]));
    EXPECT_TRUE(!gc_run_go(&r, NULL, NULL));
    EXPECT_TRUE(r.side[0].rc == OVL_ERR_POLICY || r.side[1].rc == OVL_ERR_POLICY);
    gc_run_free(&r);
    fold_g = false;
    ovl_circuit_free(&c);
}

/* The evaluator's view of the garbler's input: the signal bits (lsbs) of the
 * labels in INPUTS look uniform whatever the input, here all zeros and all
 * ones over 4 instances of 128 bits (a 0.35..0.65 band: ~1e-11 to fail). */
static void test_signals_uniform(void)
{
    ovl_circuit c;
    EXPECT_OK(gct_load(&c, "aes_128.txt"));
    static uint8_t gin[4 * 128], ein[4 * 128];
    for (int v = 0; v < 2; v++) {
        memset(gin, v, sizeof gin);
        gc_run r;
        EXPECT_OK(gc_run_new(&r, &c, &c, 4, OVL_GC_REVEAL_EVALUATOR, gin, ein));
        EXPECT_TRUE(gc_run_go(&r, NULL, NULL));
        int ones = 0, total = 0;
        for (size_t off = 0; off + OVL_FRAME_HDR <= r.side[0].log.wpos;) {
            const uint8_t *h = r.side[0].log.data + off;
            size_t len = (size_t)h[1] << 24 | (size_t)h[2] << 16 | (size_t)h[3] << 8 | h[4];
            if (h[0] == OVL_GC_INPUTS)
                for (size_t k = OVL_FRAME_HDR + 4; k + 16 <= OVL_FRAME_HDR + len; k += 16) {
                    ones += h[k] & 1;
                    total++;
                }
            off += OVL_FRAME_HDR + len;
        }
        EXPECT_EQ(total, 4 * 128);
        OVL_T_RECORD(ones > 0.35 * total && ones < 0.65 * total,
                     "input %d: %d of %d signal bits set", v, ones, total);
        gc_run_free(&r);
    }
    ovl_circuit_free(&c);
}

static void test_sha256_evaluator(void)
{
    ovl_circuit c;
    EXPECT_OK(gct_load(&c, "sha256.txt"));
    uint8_t block[64], bin[512], ivin[256], got[32], want[32];
    const char *msg = "a short message for the garbled SHA-256";
    gct_sha256_block(block, (const uint8_t *)msg, strlen(msg));
    EXPECT_OK(ovl_bits_from_be(bin, 512, block, 64));
    EXPECT_OK(ovl_bits_from_be(ivin, 256, gct_sha256_iv, 32));
    gc_run r;
    EXPECT_OK(gc_run_new(&r, &c, &c, 1, OVL_GC_REVEAL_EVALUATOR, bin, ivin));
    EXPECT_TRUE(gc_run_go(&r, NULL, NULL));
    EXPECT_TRUE(ovl_gc_output(r.g, 0) == NULL); /* the garbler learns nothing */
    /* What each party learns (SPEC §GC.8): no output labels go back to a
     * garbler that does not learn the output. */
    EXPECT_EQ(count_frames(&r.side[1], OVL_GC_OUTPUT), 0);
    EXPECT_EQ(count_frames(&r.side[0], OVL_GC_DECODE), 1);
    const uint8_t *o = ovl_gc_output(r.e, 0);
    EXPECT_TRUE(o != NULL);
    if (o != NULL) {
        ovl_bits_to_be(got, 32, o, 256);
        crypto_hash_sha256(want, (const uint8_t *)msg, strlen(msg));
        EXPECT_BYTES_EQ(got, want, 32);
    }
    gc_run_free(&r);
    ovl_circuit_free(&c);
}

static void test_a2b_garbler(void)
{
    /* A2B over 64 bits, the garbler learning: inputs (garbler: a, r; evaluator: b). */
    ovl_circuit c;
    EXPECT_OK(ovl_circuit_a2b(&c, 64));
    uint64_t a = 0x0123456789abcdefull, r64 = 0xfedcba9876543210ull, b = 0x1111111111111111ull;
    uint8_t gin[128], ein[64];
    ovl_bits_from_u64(gin, 64, a);
    ovl_bits_from_u64(gin + 64, 64, r64);
    ovl_bits_from_u64(ein, 64, b);
    gc_run r;
    memset(&r, 0, sizeof r);
    ovl_rng_init_system(&r.rng[0]);
    ovl_rng_init_system(&r.rng[1]);
    ovl_gc_config ga = {.role = OVL_GC_GARBLER, .party = 1, .circuit = &c, .garbler_inputs = 2,
                        .instances = 2, .reveal = OVL_GC_REVEAL_GARBLER, .input = gin,
                        .rng = &r.rng[0]};
    ovl_gc_config ev = ga;
    ev.role = OVL_GC_EVALUATOR;
    ev.party = 0;
    ev.input = ein;
    ev.rng = &r.rng[1];
    /* Two instances: the same inputs twice (the input arrays repeat). */
    uint8_t gin2[256], ein2[128];
    memcpy(gin2, gin, 128);
    memcpy(gin2 + 128, gin, 128);
    memcpy(ein2, ein, 64);
    memcpy(ein2 + 64, ein, 64);
    ga.input = gin2;
    ev.input = ein2;
    EXPECT_OK(ovl_gc_new(&r.g, &ga));
    EXPECT_OK(ovl_gc_new(&r.e, &ev));
    hx_init(&r.side[0], &ovl_gc_ops, r.g);
    hx_init(&r.side[1], &ovl_gc_ops, r.e);
    EXPECT_TRUE(gc_run_go(&r, NULL, NULL));
    EXPECT_TRUE(ovl_gc_output(r.e, 0) == NULL);
    /* No decoding record reaches an evaluator that does not learn the output;
     * the garbler reads both instances' output labels. */
    EXPECT_EQ(count_frames(&r.side[0], OVL_GC_DECODE), 0);
    EXPECT_EQ(count_frames(&r.side[1], OVL_GC_OUTPUT), 2);
    for (uint32_t i = 0; i < 2; i++) {
        const uint8_t *o = ovl_gc_output(r.g, i);
        EXPECT_TRUE(o != NULL);
        if (o != NULL)
            EXPECT_TRUE((ovl_bits_to_u64(o, 64) ^ r64) == a + b);
    }
    gc_run_free(&r);
    ovl_circuit_free(&c);
}

/* ---- hostile frames ---- */

typedef struct {
    int side;     /* whose frames to alter */
    uint8_t type; /* which frame type */
    int nth;      /* the nth frame of that type (0-based) */
    int seen;
    void (*edit)(ovl_buf *frame);
} tamper_spec;

static void set_len(ovl_buf *f, uint32_t len)
{
    f->data[1] = (uint8_t)(len >> 24);
    f->data[2] = (uint8_t)(len >> 16);
    f->data[3] = (uint8_t)(len >> 8);
    f->data[4] = (uint8_t)len;
}

static void ed_truncate(ovl_buf *f)
{
    f->wpos -= 7;
    set_len(f, (uint32_t)(f->wpos - OVL_FRAME_HDR));
}
/* A table half is only used when the evaluator's label lsb selects it, so
 * every table of the frame is altered in both halves. */
static void ed_flip_table(ovl_buf *f)
{
    for (size_t off = OVL_FRAME_HDR + 8; off + 32 <= f->wpos; off += 32) {
        f->data[off + 3] ^= 0x04;
        f->data[off + 19] ^= 0x04;
    }
}
static void ed_big_count(ovl_buf *f)
{
    uint8_t *c = f->data + OVL_FRAME_HDR + 4;
    c[0] = 0x7f;
}
static void ed_count_plus(ovl_buf *f) { f->data[OVL_FRAME_HDR + 7] ^= 0x01; }
static void ed_instance(ovl_buf *f) { f->data[OVL_FRAME_HDR + 3] ^= 0x01; }
static void ed_flip_label(ovl_buf *f) { f->data[OVL_FRAME_HDR + 4 + 20] ^= 0x80; }
/* Both tags of the last output bit, whichever the evaluator checks. */
static void ed_flip_tag(ovl_buf *f)
{
    f->data[f->wpos - 3] ^= 0x01;
    f->data[f->wpos - 11] ^= 0x01;
}
/* EXT_U is 128 columns of n_ext bits after a 9-byte header. Flipping bits in
 * one column passes KOS when that bit of Δ is 0, and flipping a whole row is a
 * consistent change of a choice bit; flipping row 0 in columns 0..63 only is
 * caught unless Δ's upper half is zero (2^-64). */
static void ed_flip_deep(ovl_buf *f)
{
    size_t col = (f->wpos - OVL_FRAME_HDR - 9) / 128;
    for (size_t i = 0; i < 64; i++)
        f->data[OVL_FRAME_HDR + 9 + col * i] ^= 0x01;
}
static void ed_flip_last(ovl_buf *f) { f->data[f->wpos - 1] ^= 0x08; }
static void ed_type_decode(ovl_buf *f) { f->data[0] = OVL_GC_DECODE; }
static void ed_flip_digest(ovl_buf *f) { f->data[OVL_FRAME_HDR + 20] ^= 0x01; }

static void tamper_cb(void *arg, int side, ovl_buf *frame, bool *drop)
{
    tamper_spec *t = arg;
    (void)drop;
    if (side != t->side || frame->wpos < OVL_FRAME_HDR || frame->data[0] != t->type)
        return;
    if (t->seen++ == t->nth)
        t->edit(frame);
}

static void expect_tamper(const ovl_circuit *c, int side, uint8_t type, int nth,
                          void (*edit)(ovl_buf *), int victim, ovl_err want, const char *what)
{
    enum { N = 2 };
    uint8_t gin[N * 128] = {0}, ein[N * 128] = {0};
    for (size_t i = 0; i < sizeof gin; i++) {
        gin[i] = randombytes_uniform(2);
        ein[i] = randombytes_uniform(2);
    }
    gc_run r;
    tamper_spec t = {.side = side, .type = type, .nth = nth, .edit = edit};
    EXPECT_OK(gc_run_new(&r, c, c, N, OVL_GC_REVEAL_BOTH, gin, ein));
    EXPECT_TRUE(!gc_run_go(&r, tamper_cb, &t));
    OVL_T_RECORD(t.seen > nth, "%s: the frame was never sent", what);
    OVL_T_RECORD(r.side[victim].rc == want, "%s: side %d got %s (%s), want %s", what, victim,
                 ovl_err_name(r.side[victim].rc), r.side[victim].detail, ovl_err_name(want));
    gc_run_free(&r);
}

static void test_hostile(void)
{
    ovl_circuit c;
    EXPECT_OK(gct_load(&c, "aes_128.txt"));
    expect_tamper(&c, 0, OVL_GC_TABLES, 0, ed_truncate, 1, OVL_ERR_MALFORMED, "truncated TABLES");
    expect_tamper(&c, 0, OVL_GC_TABLES, 1, ed_big_count, 1, OVL_ERR_LIMIT, "oversized count");
    expect_tamper(&c, 0, OVL_GC_TABLES, 0, ed_count_plus, 1, OVL_ERR_MALFORMED, "count off by one");
    expect_tamper(&c, 0, OVL_GC_TABLES, 1, ed_flip_table, 1, OVL_ERR_CRYPTO, "altered table");
    expect_tamper(&c, 0, OVL_GC_TABLES, 0, ed_instance, 1, OVL_ERR_PROTOCOL, "wrong instance");
    expect_tamper(&c, 0, OVL_GC_INPUTS, 1, ed_flip_label, 1, OVL_ERR_CRYPTO, "altered label");
    expect_tamper(&c, 0, OVL_GC_INPUTS, 0, ed_truncate, 1, OVL_ERR_MALFORMED, "short INPUTS");
    expect_tamper(&c, 0, OVL_GC_DECODE, 0, ed_flip_tag, 1, OVL_ERR_CRYPTO, "altered tag");
    expect_tamper(&c, 0, OVL_GC_DECODE, 0, ed_truncate, 1, OVL_ERR_MALFORMED, "short DECODE");
    expect_tamper(&c, 0, OVL_GC_INPUTS, 0, ed_type_decode, 1, OVL_ERR_PROTOCOL, "DECODE first");
    expect_tamper(&c, 1, OVL_GC_OUTPUT, 0, ed_flip_label, 0, OVL_ERR_CRYPTO, "forged output");
    expect_tamper(&c, 1, OVL_GC_OUTPUT, 1, ed_truncate, 0, OVL_ERR_MALFORMED, "short OUTPUT");
    expect_tamper(&c, 1, OVL_GC_OUTPUT, 0, ed_instance, 0, OVL_ERR_PROTOCOL, "OUTPUT out of order");
    /* A cheating OT receiver (altered columns or proof) fails the KOS check. */
    expect_tamper(&c, 1, OVL_GC_OT_U, 0, ed_flip_deep, 0, OVL_ERR_CRYPTO, "altered OT columns");
    expect_tamper(&c, 1, OVL_GC_OT_PROOF, 0, ed_flip_last, 0, OVL_ERR_CRYPTO, "altered OT proof");
    expect_tamper(&c, 1, OVL_GC_SETUP, 0, ed_flip_digest, 0, OVL_ERR_POLICY, "other circuit");
    expect_tamper(&c, 1, OVL_GC_SETUP, 0, ed_truncate, 0, OVL_ERR_MALFORMED, "short SETUP");
    ovl_circuit_free(&c);
}

/* Instances × output bits kept are capped at OVL_GC_MAX_OUTPUT_BYTES (1 GiB):
 * one instance more is refused before anything is allocated. */
static void test_output_cap(void)
{
    ovl_circuit c;
    EXPECT_OK(gct_load(&c, "aes_128.txt"));
    EXPECT_EQ(c.out_bits, 128u);
    uint32_t most = (uint32_t)(OVL_GC_MAX_OUTPUT_BYTES / c.out_bits);
    uint8_t in[16] = {0};
    ovl_rng rng;
    ovl_rng_init_system(&rng);
    for (int role = 0; role < 2; role++) {
        ovl_gc_config cfg = {.role = role ? OVL_GC_EVALUATOR : OVL_GC_GARBLER,
                             .party = (unsigned)role, .circuit = &c, .garbler_inputs = 1,
                             .instances = most + 1, .reveal = OVL_GC_REVEAL_BOTH, .input = in,
                             .rng = &rng};
        ovl_gc *g = NULL;
        EXPECT_ERR(OVL_ERR_LIMIT, ovl_gc_new(&g, &cfg));
        EXPECT_TRUE(g == NULL);
        EXPECT_TRUE(strstr(ovl_err_detail(), "1073741824-byte cap") != NULL);
        ovl_gc_free(g);
    }
    ovl_circuit_free(&c);
}

static void test_mismatch(void)
{
    ovl_circuit a, b;
    EXPECT_OK(ovl_circuit_a2b(&a, 32));
    EXPECT_OK(ovl_circuit_b2a(&b, 32));
    uint8_t in[128] = {0};
    gc_run r;
    /* Different circuits: refused at SETUP before any OT. */
    memset(&r, 0, sizeof r);
    ovl_rng_init_system(&r.rng[0]);
    ovl_rng_init_system(&r.rng[1]);
    ovl_gc_config ga = {.role = OVL_GC_GARBLER, .party = 0, .circuit = &a, .garbler_inputs = 2,
                        .instances = 1, .reveal = OVL_GC_REVEAL_BOTH, .input = in,
                        .rng = &r.rng[0]};
    ovl_gc_config eb = ga;
    eb.role = OVL_GC_EVALUATOR;
    eb.party = 1;
    eb.circuit = &b;
    eb.rng = &r.rng[1];
    EXPECT_OK(ovl_gc_new(&r.g, &ga));
    EXPECT_OK(ovl_gc_new(&r.e, &eb));
    hx_init(&r.side[0], &ovl_gc_ops, r.g);
    hx_init(&r.side[1], &ovl_gc_ops, r.e);
    EXPECT_TRUE(!gc_run_go(&r, NULL, NULL));
    EXPECT_EQ(r.side[0].rc, OVL_ERR_POLICY);
    EXPECT_TRUE(strstr(r.side[0].detail, "different circuit") != NULL);
    gc_run_free(&r);
    /* Bad configurations. */
    ovl_gc *g;
    ovl_gc_config bad = ga;
    bad.instances = 0;
    EXPECT_ERR(OVL_ERR_USAGE, ovl_gc_new(&g, &bad));
    bad = ga;
    bad.garbler_inputs = 4;
    EXPECT_ERR(OVL_ERR_USAGE, ovl_gc_new(&g, &bad));
    bad = ga;
    bad.reveal = 0;
    EXPECT_ERR(OVL_ERR_USAGE, ovl_gc_new(&g, &bad));
    ovl_circuit_free(&a);
    ovl_circuit_free(&b);
}

/* Pulls at most one frame from a side (hx_step_out pulls all it has). */
static bool pull_one(hx_side *s)
{
    ovl_buf frame;
    bool have = false;
    if (s->rc != OVL_OK || ovl_buf_alloc(&frame, 64, OVL_FRAME_HDR + OVL_FRAME_MAX_PAYLOAD) != OVL_OK)
        return false;
    ovl_err e = s->ops->pull(s->proto, &frame, &have);
    if (e != OVL_OK)
        hx_fail(s, e);
    else if (have && (ovl_buf_put_bytes(&s->wire, frame.data, frame.wpos) != OVL_OK ||
                      ovl_buf_put_bytes(&s->log, frame.data, frame.wpos) != OVL_OK))
        abort();
    ovl_buf_free(&frame);
    return have || e != OVL_OK;
}

/* An evaluator that answers every frame before the garbler pulls its next
 * one, as over a fast link: its GC_OUTPUT for an instance arrives right after
 * that instance's last tables, so the garbler must count the instance as
 * finished when those tables leave, not at its next pull. */
static void test_prompt_peer(void)
{
    ovl_circuit c;
    EXPECT_OK(ovl_circuit_a2b(&c, 32));
    enum { N = 4 };
    uint8_t gin[N][64], ein[N][32];
    for (int i = 0; i < N; i++) {
        ovl_bits_from_u64(gin[i], 32, 0x9e3779b9u * (uint32_t)(i + 1));
        ovl_bits_from_u64(gin[i] + 32, 32, 0x7f4a7c15u ^ (uint32_t)i);
        ovl_bits_from_u64(ein[i], 32, 0x85ebca6bu + (uint32_t)i);
    }
    gc_run r;
    memset(&r, 0, sizeof r);
    ovl_rng_init_system(&r.rng[0]);
    ovl_rng_init_system(&r.rng[1]);
    ovl_gc_config ga = {.role = OVL_GC_GARBLER, .party = 0, .circuit = &c, .garbler_inputs = 2,
                        .instances = N, .reveal = OVL_GC_REVEAL_BOTH, .input = gin[0],
                        .rng = &r.rng[0]};
    ovl_gc_config eb = ga;
    eb.role = OVL_GC_EVALUATOR;
    eb.party = 1;
    eb.input = ein[0];
    eb.rng = &r.rng[1];
    EXPECT_OK(ovl_gc_new(&r.g, &ga));
    EXPECT_OK(ovl_gc_new(&r.e, &eb));
    hx_init(&r.side[0], &ovl_gc_ops, r.g);
    hx_init(&r.side[1], &ovl_gc_ops, r.e);
    for (int guard = 0; guard < 100000; guard++) {
        bool moved = pull_one(&r.side[0]);
        moved |= hx_deliver(&r.side[0], &r.side[1]);
        moved |= hx_step_out(&r.side[1], 1, NULL, NULL);
        moved |= hx_deliver(&r.side[1], &r.side[0]);
        if (!moved || r.side[0].rc != OVL_OK || r.side[1].rc != OVL_OK)
            break;
    }
    EXPECT_OK(r.side[0].rc);
    EXPECT_OK(r.side[1].rc);
    EXPECT_TRUE(ovl_gc_ops.done(r.g) && ovl_gc_ops.done(r.e));
    for (uint32_t i = 0; i < N; i++) {
        const uint8_t *og = ovl_gc_output(r.g, i), *oe = ovl_gc_output(r.e, i);
        EXPECT_TRUE(og != NULL && oe != NULL);
        if (og == NULL || oe == NULL)
            break;
        uint64_t a = ovl_bits_to_u64(gin[i], 32), m = ovl_bits_to_u64(gin[i] + 32, 32);
        uint64_t b = ovl_bits_to_u64(ein[i], 32);
        EXPECT_EQ(ovl_bits_to_u64(og, 32), ((a + b) & 0xffffffffu) ^ m);
        EXPECT_EQ(ovl_bits_to_u64(oe, 32), ((a + b) & 0xffffffffu) ^ m);
    }
    gc_run_free(&r);
    ovl_circuit_free(&c);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    RUN(test_aes_both);
    RUN(test_aes_folded);
    RUN(test_signals_uniform);
    RUN(test_sha256_evaluator);
    RUN(test_a2b_garbler);
    RUN(test_hostile);
    RUN(test_output_cap);
    RUN(test_mismatch);
    RUN(test_prompt_peer);
    return ovl_t_summary("test_gc");
}
