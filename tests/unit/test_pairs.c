/* The pairwise condition circuits (mpc/pairs.h) against plain evaluation:
 * every operator signed and unsigned, BETWEEN with day offsets both ways round,
 * whole bin circuits with caps, groups, padding rows and XOR-shared inputs, and
 * the AND count of protocols/aggregate/CONDITIONS.md §6. */
#include <sodium.h>
#include <stdlib.h>

#include "crypto/rng.h"
#include "mpc/gc.h"
#include "mpc/pairs.h"
#include "psi_harness.h"
#include "test.h"

static int64_t sext(uint64_t v, uint32_t n)
{
    if (n == 64)
        return (int64_t)v;
    uint64_t m = (uint64_t)1 << (n - 1);
    v &= (m << 1) - 1;
    return (int64_t)((v ^ m) - m);
}

/* Both words as integers of their kind, for the plain reference. */
static bool plain_cmp(ovl_pc_op op, uint64_t a, uint64_t b, uint32_t n, bool is_signed)
{
    int c;
    if (is_signed) {
        int64_t x = sext(a, n), y = sext(b, n);
        c = x < y ? -1 : x > y;
    } else {
        c = a < b ? -1 : a > b;
    }
    switch (op) {
    case OVL_PC_EQ: return c == 0;
    case OVL_PC_NE: return c != 0;
    case OVL_PC_LT: return c < 0;
    case OVL_PC_LE: return c <= 0;
    case OVL_PC_GT: return c > 0;
    default: return c >= 0;
    }
}

static uint64_t mask_of(uint32_t n) { return n == 64 ? UINT64_MAX : ((uint64_t)1 << n) - 1; }

static uint64_t rand64(void)
{
    uint64_t v;
    randombytes_buf(&v, sizeof v);
    return v;
}

/* One comparison circuit: inputs a, b; output the bit. */
static bool eval_cmp(ovl_pc_op op, uint64_t a, uint64_t b, uint32_t n, bool is_signed,
                     uint32_t *nand)
{
    ovl_cb cb;
    ovl_circuit c;
    uint32_t aw[64], bw[64];
    uint8_t in[128], out[1] = {0};
    ovl_cb_init(&cb, 0);
    uint32_t ia = ovl_cb_input(&cb, n), ib = ovl_cb_input(&cb, n);
    for (uint32_t i = 0; i < n; i++) {
        aw[i] = ia + i;
        bw[i] = ib + i;
    }
    uint32_t o = ovl_cb_cmp(&cb, op, aw, bw, n, is_signed);
    ovl_cb_output(&cb, &o, 1);
    EXPECT_OK(ovl_cb_finish(&cb, &c));
    ovl_bits_from_u64(in, n, a);
    ovl_bits_from_u64(in + n, n, b);
    EXPECT_OK(ovl_circuit_eval(&c, out, in));
    *nand = c.nand;
    ovl_circuit_free(&c);
    return out[0] == 1;
}

static void test_cmp_exhaustive(void)
{
    const uint32_t n = 3;
    for (int op = OVL_PC_EQ; op <= OVL_PC_GE; op++)
        for (int sg = 0; sg < 2; sg++) {
            int bad = 0;
            uint32_t nand = 0;
            for (uint64_t a = 0; a < 8; a++)
                for (uint64_t b = 0; b < 8; b++)
                    bad += eval_cmp((ovl_pc_op)op, a, b, n, sg, &nand) !=
                           plain_cmp((ovl_pc_op)op, a, b, n, sg);
            EXPECT_EQ(bad, 0);
            EXPECT_EQ(nand, op <= OVL_PC_NE ? n - 1 : n);
        }
}

static void test_cmp_wide(void)
{
    static const uint32_t widths[] = {1, 17, 40, 64};
    for (size_t w = 0; w < sizeof widths / sizeof *widths; w++) {
        uint32_t n = widths[w], nand = 0;
        int bad = 0;
        for (int t = 0; t < 60; t++) {
            uint64_t a = rand64() & mask_of(n), b = t % 3 == 0 ? a : rand64() & mask_of(n);
            if (t % 5 == 1)
                b = (a + 1) & mask_of(n); /* neighbours, where orders differ from = */
            for (int op = OVL_PC_EQ; op <= OVL_PC_GE; op++)
                for (int sg = 0; sg < 2; sg++)
                    bad += eval_cmp((ovl_pc_op)op, a, b, n, sg, &nand) !=
                           plain_cmp((ovl_pc_op)op, a, b, n, sg);
        }
        EXPECT_EQ(bad, 0);
    }
}

/* ---- whole bin circuits ---- */

typedef struct {
    bool valid;
    uint32_t group;
    uint64_t w[OVL_PC_MAX_CONDS][2]; /* condition words (lo, hi) */
} row;

static uint32_t put_bits(uint8_t *bits, uint32_t at, uint64_t v, uint32_t n)
{
    ovl_bits_from_u64(bits + at, n, v);
    return at + n;
}

static uint32_t put_row(uint8_t *bits, uint32_t at, const ovl_pc_shape *s, const row *r,
                        uint32_t groups, bool contrib)
{
    at = put_bits(bits, at, r->valid, 1);
    if (groups > 1)
        for (uint32_t g = 0; g < groups; g++)
            at = put_bits(bits, at, r->valid && r->group == g, 1);
    for (uint32_t k = 0; k < s->nconds; k++) {
        at = put_bits(bits, at, r->w[k][0], s->conds[k].width);
        if (contrib && s->conds[k].op == OVL_PC_BETWEEN)
            at = put_bits(bits, at, r->w[k][1], s->conds[k].width);
    }
    return at;
}

static bool plain_pass(const ovl_pc_shape *s, const row *r, const row *c)
{
    if (!r->valid || !c->valid)
        return false;
    for (uint32_t k = 0; k < s->nconds; k++) {
        const ovl_pc_cond *cd = &s->conds[k];
        bool ok;
        if (cd->op == OVL_PC_BETWEEN)
            ok = plain_cmp(OVL_PC_GE, r->w[k][0], c->w[k][0], cd->width, cd->is_signed) &&
                 plain_cmp(OVL_PC_LE, r->w[k][0], c->w[k][1], cd->width, cd->is_signed);
        else
            ok = plain_cmp((ovl_pc_op)cd->op, r->w[k][0], c->w[k][0], cd->width, cd->is_signed);
        if (!ok)
            return false;
    }
    return true;
}

/* Evaluates the bin circuit on rows r[cap_r], c[cap_c] with the contributor's
 * rows XOR-shared and random output masks, and checks every output against
 * the plain reference. Returns the number of passing pairs. */
static uint32_t check_bin(const ovl_pc_shape *s, const row *r, const row *c)
{
    ovl_circuit circ;
    EXPECT_OK(ovl_circuit_pairs(&circ, s));
    if (circ.nin != 4)
        return 0;
    EXPECT_EQ(circ.nand, ovl_pc_and_count(s));
    EXPECT_EQ(circ.out_bits, ovl_pc_out_bits(s));
    uint32_t rb = s->cap_r * ovl_pc_runner_row_bits(s), cb = s->cap_c * ovl_pc_contrib_row_bits(s);
    uint32_t ob = ovl_pc_out_bits(s), k = s->groups_r * s->groups_c;
    uint8_t *in = calloc(circ.in_bits, 1), *out = calloc(ob, 1), *want = calloc(ob, 1);
    uint8_t *plain = calloc(cb, 1);
    /* Garbler (contributor): share x, masks; evaluator (runner): rows, share y. */
    uint8_t *x = in, *mask = in + cb, *rows = mask + ob, *y = rows + rb;
    uint32_t at = 0, passing = 0;
    for (uint32_t i = 0; i < s->cap_r; i++)
        at = put_row(rows, at, s, &r[i], s->groups_r, false);
    EXPECT_EQ(at, rb);
    uint32_t pat = 0;
    for (uint32_t j = 0; j < s->cap_c; j++)
        pat = put_row(plain, pat, s, &c[j], s->groups_c, true);
    EXPECT_EQ(pat, cb);
    for (uint32_t i = 0; i < cb; i++) {
        x[i] = (uint8_t)randombytes_uniform(2);
        y[i] = x[i] ^ plain[i];
    }
    for (uint32_t i = 0; i < ob; i++)
        mask[i] = (uint8_t)randombytes_uniform(2);
    for (uint32_t i = 0; i < s->cap_r; i++)
        for (uint32_t j = 0; j < s->cap_c; j++) {
            bool p = plain_pass(s, &r[i], &c[j]);
            passing += p;
            for (uint32_t g = 0; g < s->groups_r; g++)
                for (uint32_t cc = 0; cc < s->groups_c; cc++) {
                    uint32_t cell = g * s->groups_c + cc;
                    bool z = p && r[i].group == g && c[j].group == cc;
                    want[(i * s->cap_c + j) * k + cell] = z;
                    want[s->cap_r * s->cap_c * k + cell] |= z;
                }
        }
    EXPECT_OK(ovl_circuit_eval(&circ, out, in));
    int bad = 0;
    for (uint32_t i = 0; i < ob; i++)
        bad += (out[i] ^ mask[i]) != want[i];
    EXPECT_EQ(bad, 0);
    free(in);
    free(out);
    free(want);
    free(plain);
    ovl_circuit_free(&circ);
    return passing;
}

/* 2026-07-01 as a day number since 1900-01-01. */
#define DAY_20260701 46202u

/* The article's window, p.purchase_date BETWEEN c.impression_date AND
 * c.impression_date + 30 days, with the retailer (purchases) as runner: the
 * contributor offers (impression, impression + 30). */
static void test_attribution_window(void)
{
    ovl_pc_shape s = {.cap_r = 2, .cap_c = 2, .groups_r = 1, .groups_c = 1, .nconds = 1,
                      .conds = {{.op = OVL_PC_BETWEEN, .width = OVL_PC_DATE_BITS}}};
    uint32_t imp = DAY_20260701;
    row c[2] = {{.valid = true, .w = {{imp, imp + 30}}},
                {.valid = true, .w = {{imp + 40, imp + 70}}}};
    row r[2] = {{.valid = true, .w = {{imp + 30}}}, {.valid = true, .w = {{imp + 31}}}};
    /* imp+30 passes the first impression only; imp+31 passes neither
     * (the second window starts at imp+40). */
    EXPECT_EQ(check_bin(&s, r, c), 1);
    r[1].w[0][0] = imp - 1;
    EXPECT_EQ(check_bin(&s, r, c), 1);
    r[1].w[0][0] = imp + 45;
    EXPECT_EQ(check_bin(&s, r, c), 2);
    /* Mirror image: the advertiser (impressions) as runner; the retailer offers
     * (purchase - 30, purchase): r.impression BETWEEN c.purchase - 30 AND c.purchase. */
    uint32_t pur = DAY_20260701 + 10;
    row c2[2] = {{.valid = true, .w = {{pur - 30, pur}}}, {.valid = false, .w = {{0, 131071}}}};
    row r2[2] = {{.valid = true, .w = {{pur - 30}}}, {.valid = true, .w = {{pur + 1}}}};
    EXPECT_EQ(check_bin(&s, r2, c2), 1);
}

/* A padding row carries validity 0, not a sentinel: `<>` against any value
 * would pass a sentinel, and must not pass padding. */
static void test_padding_not_sentinel(void)
{
    ovl_pc_shape s = {.cap_r = 2, .cap_c = 3, .groups_r = 1, .groups_c = 1, .nconds = 1,
                      .conds = {{.op = OVL_PC_NE, .width = OVL_PC_DATE_BITS}}};
    row r[2] = {{.valid = true, .w = {{100}}}, {.valid = false, .w = {{0}}}};
    row c[3] = {{.valid = true, .w = {{100}}}, {.valid = false, .w = {{0}}},
                {.valid = false, .w = {{131071}}}};
    EXPECT_EQ(check_bin(&s, r, c), 0);
    c[1].valid = true;
    EXPECT_EQ(check_bin(&s, r, c), 1);
}

static void random_row(row *x, const ovl_pc_shape *s, uint32_t groups, bool contrib)
{
    x->valid = randombytes_uniform(5) != 0;
    x->group = randombytes_uniform(groups);
    for (uint32_t k = 0; k < s->nconds; k++) {
        const ovl_pc_cond *cd = &s->conds[k];
        uint64_t m = mask_of(cd->width);
        /* Small spread so that orders and equalities both occur. */
        uint64_t base = cd->width > 4 ? (uint64_t)1 << (cd->width - 2) : 0;
        uint64_t v = (base + randombytes_uniform(12)) & m;
        if (cd->is_signed && randombytes_uniform(2))
            v = (uint64_t)(-(int64_t)randombytes_uniform(6)) & m; /* negatives */
        x->w[k][0] = v;
        x->w[k][1] = contrib ? (v + randombytes_uniform(8)) & m : 0;
    }
}

static void test_random_bins(void)
{
    static const ovl_pc_op ops[] = {OVL_PC_EQ, OVL_PC_NE, OVL_PC_LT, OVL_PC_LE,
                                    OVL_PC_GT, OVL_PC_GE, OVL_PC_BETWEEN};
    uint32_t total = 0;
    for (int t = 0; t < 40; t++) {
        ovl_pc_shape s = {.cap_r = 1 + randombytes_uniform(4), .cap_c = 1 + randombytes_uniform(4),
                          .groups_r = 1 + randombytes_uniform(3),
                          .groups_c = 1 + randombytes_uniform(4),
                          .nconds = randombytes_uniform(4)};
        for (uint32_t k = 0; k < s.nconds; k++) {
            s.conds[k].op = ops[randombytes_uniform(7)];
            s.conds[k].is_signed = randombytes_uniform(2);
            s.conds[k].width = k == 0 ? OVL_PC_DATE_BITS : 8 + randombytes_uniform(57);
            if (!s.conds[k].is_signed && k == 0)
                s.conds[k].width = OVL_PC_DATE_BITS;
        }
        row r[OVL_PC_MAX_CAP], c[OVL_PC_MAX_CAP];
        for (uint32_t i = 0; i < s.cap_r; i++)
            random_row(&r[i], &s, s.groups_r, false);
        for (uint32_t j = 0; j < s.cap_c; j++)
            random_row(&c[j], &s, s.groups_c, true);
        total += check_bin(&s, r, c);
    }
    EXPECT_TRUE(total > 0); /* the random rows did exercise passing pairs */
}

/* The bin circuit under the real half-gates engine, the contributor garbling
 * (its share and masks) and the runner evaluating (its rows and share), as
 * CONDITIONS.md §4.1 composes it: the runner's outputs XOR the contributor's
 * masks are the plain z and phi, bin after bin. */
static void test_garbled_bins(void)
{
    enum { BINS = 6 };
    ovl_pc_shape s = {.cap_r = 2, .cap_c = 3, .groups_r = 2, .groups_c = 2, .nconds = 2,
                      .conds = {{.op = OVL_PC_BETWEEN, .width = OVL_PC_DATE_BITS},
                                {.op = OVL_PC_NE, .width = 20, .is_signed = true}}};
    ovl_circuit circ;
    EXPECT_OK(ovl_circuit_pairs(&circ, &s));
    uint32_t cb = circ.in_width[0], ob = circ.in_width[1], rb = circ.in_width[2];
    uint32_t k = s.groups_r * s.groups_c;
    uint8_t *gin = calloc((size_t)BINS * (cb + ob), 1), *ein = calloc((size_t)BINS * (rb + cb), 1);
    uint8_t *want = calloc((size_t)BINS * ob, 1), *plain = calloc(cb, 1);
    uint32_t passing = 0;
    for (int b = 0; b < BINS; b++) {
        row r[OVL_PC_MAX_CAP], c[OVL_PC_MAX_CAP];
        for (uint32_t i = 0; i < s.cap_r; i++)
            random_row(&r[i], &s, s.groups_r, false);
        for (uint32_t j = 0; j < s.cap_c; j++)
            random_row(&c[j], &s, s.groups_c, true);
        uint8_t *x = gin + (size_t)b * (cb + ob), *mask = x + cb;
        uint8_t *rows = ein + (size_t)b * (rb + cb), *y = rows + rb;
        uint32_t at = 0;
        for (uint32_t i = 0; i < s.cap_r; i++)
            at = put_row(rows, at, &s, &r[i], s.groups_r, false);
        at = 0;
        for (uint32_t j = 0; j < s.cap_c; j++)
            at = put_row(plain, at, &s, &c[j], s.groups_c, true);
        for (uint32_t i = 0; i < cb; i++) {
            x[i] = (uint8_t)randombytes_uniform(2);
            y[i] = x[i] ^ plain[i];
        }
        for (uint32_t i = 0; i < ob; i++)
            mask[i] = (uint8_t)randombytes_uniform(2);
        uint8_t *w = want + (size_t)b * ob;
        for (uint32_t i = 0; i < s.cap_r; i++)
            for (uint32_t j = 0; j < s.cap_c; j++) {
                bool p = plain_pass(&s, &r[i], &c[j]);
                passing += p;
                for (uint32_t g = 0; g < s.groups_r; g++)
                    for (uint32_t cc = 0; cc < s.groups_c; cc++) {
                        bool z = p && r[i].group == g && c[j].group == cc;
                        w[(i * s.cap_c + j) * k + g * s.groups_c + cc] = z;
                        w[s.cap_r * s.cap_c * k + g * s.groups_c + cc] |= z;
                    }
            }
    }
    ovl_rng rng[2];
    ovl_rng_init_system(&rng[0]);
    ovl_rng_init_system(&rng[1]);
    ovl_gc_config gcfg = {.role = OVL_GC_GARBLER, .party = 0, .circuit = &circ,
                          .garbler_inputs = 2, .instances = BINS,
                          .reveal = OVL_GC_REVEAL_EVALUATOR, .input = gin, .rng = &rng[0]};
    ovl_gc_config ecfg = gcfg;
    ecfg.role = OVL_GC_EVALUATOR;
    ecfg.party = 1;
    ecfg.input = ein;
    ecfg.rng = &rng[1];
    ovl_gc *g = NULL, *e = NULL;
    hx_side side[2];
    EXPECT_OK(ovl_gc_new(&g, &gcfg));
    EXPECT_OK(ovl_gc_new(&e, &ecfg));
    hx_init(&side[0], &ovl_gc_ops, g);
    hx_init(&side[1], &ovl_gc_ops, e);
    hx_run(&side[0], &side[1], NULL, NULL);
    OVL_T_RECORD(side[0].rc == OVL_OK && side[1].rc == OVL_OK, "garbled run failed: %s / %s",
                 side[0].detail, side[1].detail);
    EXPECT_TRUE(ovl_gc_output(g, 0) == NULL); /* the garbler learns nothing */
    int bad = 0;
    for (int b = 0; b < BINS; b++) {
        const uint8_t *o = ovl_gc_output(e, (uint32_t)b);
        const uint8_t *mask = gin + (size_t)b * (cb + ob) + cb;
        EXPECT_TRUE(o != NULL);
        for (uint32_t i = 0; o && i < ob; i++)
            bad += (o[i] ^ mask[i]) != want[(size_t)b * ob + i];
    }
    EXPECT_EQ(bad, 0);
    EXPECT_EQ(ovl_gc_and_gates(e), (uint64_t)BINS * ovl_pc_and_count(&s));
    printf("pairs: %d garbled bins, %u passing pairs, garbler sent %zu bytes\n", BINS, passing,
           side[0].log.wpos);
    ovl_gc_free(g);
    ovl_gc_free(e);
    hx_free(&side[0]);
    hx_free(&side[1]);
    free(gin);
    free(ein);
    free(want);
    free(plain);
    ovl_circuit_free(&circ);
}

/* The AND count of CONDITIONS.md §6 at the figures it quotes. */
static void test_cost_formula(void)
{
    ovl_pc_shape s = {.cap_r = 4, .cap_c = 4, .groups_r = 1, .groups_c = 1, .nconds = 1,
                      .conds = {{.op = OVL_PC_BETWEEN, .width = OVL_PC_DATE_BITS}}};
    EXPECT_EQ(ovl_pc_and_count(&s), 16u * (35 + 2) + 15u);
    s.groups_r = 4;
    s.groups_c = 8;
    EXPECT_EQ(ovl_pc_and_count(&s), 16u * (37 + 8 + 32) + 32u * 15);
    for (uint32_t cap = 1; cap <= 8; cap *= 2) {
        ovl_pc_shape t = s;
        t.cap_r = t.cap_c = cap;
        ovl_circuit c;
        EXPECT_OK(ovl_circuit_pairs(&c, &t));
        EXPECT_EQ(c.nand, ovl_pc_and_count(&t));
        printf("pairs: cap %u, 4 x 8 cells, one 17-bit BETWEEN: %u AND gates per bin\n", cap,
               c.nand);
        ovl_circuit_free(&c);
    }
}

/* The byte formula of CONDITIONS.md §6 at its worked example, and its input
 * terms agreeing with the circuit actually built. */
static void test_cost_bytes(void)
{
    ovl_pc_shape s = {.cap_r = 4, .cap_c = 4, .groups_r = 1, .groups_c = 1, .nconds = 1,
                      .conds = {{.op = OVL_PC_BETWEEN, .width = OVL_PC_DATE_BITS}}};
    ovl_pc_cost c;
    EXPECT_OK(ovl_pc_cost_eval(&c, &s, 2, 2));
    EXPECT_EQ(c.and_gates, 607 + 4);
    EXPECT_EQ(c.cots, 33);
    /* 32*611 + 16*(4*18 + 4*35 + 4) + 16*17 + 3 + 16*4 + 0 + 48 + 16*33 + 8*16*7 + 8 */
    EXPECT_EQ(c.bytes, 19552u + 3456u + 272u + 3u + 64u + 48u + 528u + 896u + 8u);
    ovl_circuit circ;
    EXPECT_OK(ovl_circuit_pairs(&circ, &s));
    EXPECT_EQ(circ.in_width[2] + circ.in_width[3], 4 * 18 + 4 * 35);
    EXPECT_EQ(circ.in_width[0] + circ.in_width[1], 4 * 35 + 17);
    ovl_circuit_free(&circ);
    for (uint32_t cap = 1; cap <= 8; cap *= 2) {
        ovl_pc_shape t = s;
        t.cap_r = t.cap_c = cap;
        EXPECT_OK(ovl_pc_cost_eval(&c, &t, 2, 2));
        printf("pairs: cap %u, one 17-bit BETWEEN, no dimensions, k_R = k_C = 2: %llu ANDs, "
               "%llu COTs, %llu bytes per bin\n", cap, (unsigned long long)c.and_gates,
               (unsigned long long)c.cots, (unsigned long long)c.bytes);
    }
    EXPECT_OK(ovl_pc_cost_eval(&c, &s, 2, 0));
    EXPECT_EQ(c.cots, 17);
    EXPECT_ERR(OVL_ERR_USAGE, ovl_pc_cost_eval(&c, &s, 65, 0));
    s.cap_r = 0;
    EXPECT_ERR(OVL_ERR_LIMIT, ovl_pc_cost_eval(&c, &s, 2, 2));
}

static void test_shape_refused(void)
{
    ovl_circuit c;
    ovl_pc_shape s = {.cap_r = 0, .cap_c = 1, .groups_r = 1, .groups_c = 1};
    EXPECT_ERR(OVL_ERR_LIMIT, ovl_circuit_pairs(&c, &s));
    s.cap_r = OVL_PC_MAX_CAP + 1;
    EXPECT_ERR(OVL_ERR_LIMIT, ovl_circuit_pairs(&c, &s));
    s.cap_r = 1;
    s.groups_c = OVL_PC_MAX_GROUPS + 1;
    EXPECT_ERR(OVL_ERR_LIMIT, ovl_circuit_pairs(&c, &s));
    s.groups_c = 1;
    s.nconds = OVL_PC_MAX_CONDS + 1;
    EXPECT_ERR(OVL_ERR_LIMIT, ovl_circuit_pairs(&c, &s));
    s.nconds = 1;
    s.conds[0] = (ovl_pc_cond){.op = OVL_PC_OPS, .width = 17};
    EXPECT_ERR(OVL_ERR_USAGE, ovl_circuit_pairs(&c, &s));
    s.conds[0] = (ovl_pc_cond){.op = OVL_PC_LT, .width = 0};
    EXPECT_ERR(OVL_ERR_USAGE, ovl_circuit_pairs(&c, &s));
    s.conds[0].width = 65;
    EXPECT_ERR(OVL_ERR_USAGE, ovl_circuit_pairs(&c, &s));
    s.conds[0].width = 64;
    EXPECT_OK(ovl_circuit_pairs(&c, &s));
    ovl_circuit_free(&c);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    RUN(test_cmp_exhaustive);
    RUN(test_cmp_wide);
    RUN(test_attribution_window);
    RUN(test_padding_not_sentinel);
    RUN(test_random_bins);
    RUN(test_garbled_bins);
    RUN(test_cost_formula);
    RUN(test_cost_bytes);
    RUN(test_shape_refused);
    return ovl_t_summary("test_pairs");
}
