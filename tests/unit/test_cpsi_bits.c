/* Tests for circuit PSI's bit payload (protocols/cpsi/SPEC.md §6.5): both
 * engines in one process, every bin checked against the ideal functionality
 * (XOR shares of b_i ∧ bit_j(nC(y,c)) and of b_i ∧ [nC(y,c) > 0], next to
 * the match bit and the arithmetic payload), frame sizes independent of
 * which identifiers match, the outer protocol's HELLO hook, and hostile
 * peers and configurations. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hello.h"
#include "cpsi/cpsi.h"
#include "crypto/group.h"
#include "cpsi_fixture.h"
#include "psi_harness.h"
#include "test.h"

static const uint8_t seed_r[32] = {7}, seed_c[32] = {8};

static uint64_t lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005u + 1442695040888963407u;
    return *s >> 17;
}

/* Identifiers "id-<k>" for k in [from, from + n), or (universe > 0) for n
 * distinct k drawn from [0, universe); random payload words and counts below
 * 2^width, a quarter of them 0 and a quarter 2^width − 1. */
static void make_set_in(cf_set *s, size_t from, size_t universe, size_t n, uint32_t words,
                        uint32_t groups, uint32_t width, uint64_t seed)
{
    size_t *pick = calloc(universe + 1, sizeof *pick);
    for (size_t i = 0; i < universe; i++)
        pick[i] = i;
    for (size_t i = 0; i < n && i < universe; i++) { /* partial Fisher-Yates */
        size_t j = i + (size_t)(lcg(&seed) % (universe - i)), t = pick[i];
        pick[i] = pick[j];
        pick[j] = t;
    }
    cf_set_alloc(s, n, words + 1, groups + 1);
    uint32_t top = width ? (1u << width) - 1u : 0u;
    for (size_t i = 0; i < n; i++) {
        cf_set_id(s, i, "id-", universe ? pick[i] : from + i);
        for (uint32_t w = 0; w < words; w++)
            s->payload[i * words + w] = lcg(&seed) * 0x9e3779b97f4a7c15u;
        for (uint32_t c = 0; c < groups; c++) {
            uint64_t r = lcg(&seed);
            s->counts[i * groups + c] =
                (uint16_t)(r % 4 == 0 ? 0u : r % 4 == 1 ? top : (r >> 2) & top);
        }
    }
    free(pick);
}

static void make_set(cf_set *s, size_t from, size_t n, uint32_t words, uint32_t groups,
                     uint32_t width, uint64_t seed)
{
    make_set_in(s, from, 0, n, words, groups, width, seed);
}

typedef struct {
    uint32_t words, groups, width;
} shape;

static ovl_cpsi_config config(const cf_set *s, bool runner, shape sh)
{
    ovl_cpsi_config c = {
        .role = runner ? OVL_ROLE_LISTENER : OVL_ROLE_CONNECTOR,
        .runner = runner,
        .mode = OVL_MODE_AGGREGATE,
        .reveal = OVL_REVEAL_BOTH,
        .ids = (const uint8_t *const *)s->ids,
        .id_len = s->len,
        .nids = s->n,
        .payload = runner ? NULL : s->payload,
        .words = sh.words,
        .bit_groups = sh.groups,
        .bit_width = sh.width,
        .bit_counts = runner ? NULL : s->counts,
        .test_seed = runner ? seed_r : seed_c,
    };
    return c;
}

static bool run_pair(cf_run *x, const cf_set *rs, const cf_set *cs, shape sh)
{
    ovl_cpsi_config a = config(rs, true, sh), b = config(cs, false, sh);
    return cf_run_configs(x, &a, &b, false, NULL, NULL);
}

typedef struct {
    size_t matches, empty, missed, bad;
} tally;

/* One bin's combined shares against the ideal functionality. */
static void check_bin(tally *t, const ovl_cpsi_shares *a, const ovl_cpsi_shares *b, uint32_t i,
                      const cf_set *cs, long y, shape sh)
{
    size_t gw = (size_t)sh.groups * sh.width;
    unsigned m = (a->match[i] ^ b->match[i]) & 1u;
    t->bad += m != (y >= 0) || a->match[i] > 1 || b->match[i] > 1;
    t->matches += m;
    for (uint32_t w = 0; w < sh.words; w++) {
        uint64_t v = a->value[(size_t)i * sh.words + w] + b->value[(size_t)i * sh.words + w];
        t->bad += v != (y < 0 ? 0 : cs->payload[(size_t)y * sh.words + w]);
    }
    for (uint32_t c = 0; c < sh.groups; c++) {
        unsigned n = y < 0 ? 0u : cs->counts[(size_t)y * sh.groups + c];
        for (uint32_t j = 0; j < sh.width; j++) {
            size_t at = ((size_t)i * sh.groups + c) * sh.width + j;
            t->bad += a->beta[at] > 1 || b->beta[at] > 1;
            t->bad += (unsigned)(a->beta[at] ^ b->beta[at]) != ((n >> j) & 1u);
        }
        size_t at = (size_t)i * sh.groups + c;
        t->bad += a->phi[at] > 1 || b->phi[at] > 1;
        t->bad += (unsigned)(a->phi[at] ^ b->phi[at]) != (n > 0);
    }
    (void)gw;
}

static tally check_all(const cf_run *x, const cf_set *rs, const cf_set *cs, shape sh)
{
    ovl_cpsi_shares a, b;
    tally t = {0};
    EXPECT_OK(ovl_cpsi_result(x->r, &a));
    EXPECT_OK(ovl_cpsi_result(x->c, &b));
    EXPECT_TRUE(a.bins == b.bins && a.words == sh.words && b.words == sh.words);
    EXPECT_TRUE(a.bit_groups == sh.groups && b.bit_groups == sh.groups);
    EXPECT_TRUE(a.bit_width == sh.width && b.bit_width == sh.width);
    if (a.bin_item == NULL || a.beta == NULL || b.beta == NULL || a.phi == NULL || !b.phi)
        return (tally){.bad = 1};
    for (uint32_t i = 0; i < a.bins; i++) {
        uint32_t item = a.bin_item[i];
        long y = item == UINT32_MAX ? -1 : cf_set_find(cs, rs->ids[item], rs->len[item]);
        t.empty += item == UINT32_MAX;
        t.missed += item != UINT32_MAX && y < 0;
        check_bin(&t, &a, &b, i, cs, y, sh);
    }
    return t;
}

static void test_bits_match_functionality(void)
{
    static const uint32_t groups[] = {1, 3, 7}, widths[] = {1, 3, 16};
    uint64_t seed = 1;
    for (size_t g = 0; g < 3; g++)
        for (size_t k = 0; k < 3; k++) {
            shape sh = {.words = (uint32_t)((g + k) % 3), .groups = groups[g],
                        .width = widths[k]};
            cf_set rs, cs;
            /* random sets of 40 and 30 of 80 identifiers */
            make_set_in(&rs, 0, 80, 40, 0, 0, 0, seed++);
            make_set_in(&cs, 0, 80, 30, sh.words, sh.groups, sh.width, seed++);
            size_t common = 0;
            for (size_t i = 0; i < rs.n; i++)
                common += cf_set_find(&cs, rs.ids[i], rs.len[i]) >= 0;
            cf_run x;
            EXPECT_TRUE(run_pair(&x, &rs, &cs, sh));
            tally t = check_all(&x, &rs, &cs, sh);
            OVL_T_RECORD(t.bad == 0 && t.matches == common && t.empty > 0 && t.missed > 0,
                         "G=%u w=%u L=%u: %zu bad, %zu matches, %zu empty, %zu unmatched bins",
                         sh.groups, sh.width, sh.words, t.bad, t.matches, t.empty, t.missed);
            cf_run_free(&x);
            cf_set_free(&rs);
            cf_set_free(&cs);
        }
}

/* The widest shapes the caps allow (aggregates of 1 000 cells): a store
 * entry of 1 + 256 + 47 words and share batches of 512 bins at L = 256. */
static void test_wide_payload(void)
{
    shape sh = {.words = OVL_CPSI_MAX_WORDS, .groups = 1000, .width = 3};
    cf_set rs, cs;
    make_set(&rs, 0, 5, 0, 0, 0, 61);
    make_set(&cs, 3, 4, sh.words, sh.groups, sh.width, 62); /* 2 in common */
    cf_run x;
    EXPECT_TRUE(run_pair(&x, &rs, &cs, sh));
    OVL_T_RECORD(x.side[0].rc == OVL_OK && x.side[1].rc == OVL_OK, "wide: %s \"%s\" / %s \"%s\"",
                 ovl_err_name(x.side[0].rc), x.side[0].detail, ovl_err_name(x.side[1].rc),
                 x.side[1].detail);
    tally t = check_all(&x, &rs, &cs, sh);
    OVL_T_RECORD(t.bad == 0 && t.matches == 2, "wide: %zu bad bins, %zu matches", t.bad,
                 t.matches);
    cf_run_free(&x);
    /* at w = 16, 1 000 groups need 33 000 + σ + 1 garbler bits: refused at
     * HELLO, naming the cap, before any data-derived frame */
    shape over = {.words = 1, .groups = 1000, .width = 16};
    cf_set co;
    make_set(&co, 3, 4, over.words, over.groups, over.width, 63);
    ovl_cpsi_config a = config(&rs, true, over), b = config(&co, false, over);
    EXPECT_TRUE(!cf_run_configs(&x, &a, &b, false, NULL, NULL));
    for (int s = 0; s < 2; s++) {
        const uint8_t *h = x.side[s].log.data;
        EXPECT_EQ(x.side[s].rc, OVL_ERR_POLICY);
        EXPECT_TRUE(strstr(x.side[s].detail, "cap of 32768") != NULL);
        EXPECT_TRUE(h[0] == OVL_HELLO_TYPE &&
                    x.side[s].log.wpos == OVL_FRAME_HDR + ((size_t)h[3] << 8 | h[4]));
    }
    cf_run_free(&x);
    cf_set_free(&co);
    cf_set_free(&rs);
    cf_set_free(&cs);
}

/* Both parties' frames as (type, length), in order. */
static size_t frame_shape(const hx_side *s, uint32_t *out, size_t cap)
{
    size_t k = 0;
    for (size_t off = 0; off + OVL_FRAME_HDR <= s->log.wpos && k < cap;) {
        const uint8_t *h = s->log.data + off;
        uint32_t len = (uint32_t)h[1] << 24 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 8 | h[4];
        out[k++] = (uint32_t)h[0] << 24 | len;
        off += OVL_FRAME_HDR + len;
    }
    return k;
}

/* Two inputs of equal sizes, all matching and none matching, with other
 * counts: identical frame types and lengths, both ways. */
static void test_frames_independent_of_matches(void)
{
    shape sh = {.words = 2, .groups = 3, .width = 3};
    cf_set rs, all, none;
    make_set(&rs, 0, 24, 0, 0, 0, 11);
    make_set(&all, 0, 24, sh.words, sh.groups, sh.width, 12);
    make_set(&none, 500, 24, sh.words, sh.groups, sh.width, 13);
    cf_run x, y;
    EXPECT_TRUE(run_pair(&x, &rs, &all, sh));
    EXPECT_TRUE(run_pair(&y, &rs, &none, sh));
    EXPECT_EQ(check_all(&x, &rs, &all, sh).matches, 24u);
    EXPECT_EQ(check_all(&y, &rs, &none, sh).matches, 0u);
    for (int s = 0; s < 2; s++) {
        static uint32_t fx[4096], fy[4096];
        size_t nx = frame_shape(&x.side[s], fx, 4096), ny = frame_shape(&y.side[s], fy, 4096);
        OVL_T_RECORD(nx == ny && nx > 0 && memcmp(fx, fy, nx * sizeof *fx) == 0,
                     "side %d: %zu and %zu frames of different shapes", s, nx, ny);
        EXPECT_EQ(x.side[s].log.wpos, y.side[s].log.wpos);
    }
    EXPECT_EQ(ovl_cpsi_bytes_sent(x.r), ovl_cpsi_bytes_sent(y.r));
    EXPECT_EQ(ovl_cpsi_bytes_sent(x.c), ovl_cpsi_bytes_sent(y.c));
    cf_run_free(&x);
    cf_run_free(&y);
    cf_set_free(&rs);
    cf_set_free(&all);
    cf_set_free(&none);
}

/* The AND gates per bin: σ − 1 for the equality, G·w + G·(w − 1) for the bits. */
static void test_and_gates(void)
{
    static const shape shapes[] = {{1, 1, 1}, {0, 3, 3}, {2, 7, 16}};
    for (size_t i = 0; i < 3; i++) {
        shape sh = shapes[i];
        cf_set rs, cs;
        make_set(&rs, 0, 20, 0, 0, 0, 21);
        make_set(&cs, 10, 20, sh.words, sh.groups, sh.width, 22);
        cf_run x;
        EXPECT_TRUE(run_pair(&x, &rs, &cs, sh));
        uint32_t bins = ovl_cpsi_bins(20), sigma = ovl_cpsi_sigma(bins);
        uint64_t per_bin = sigma - 1u + sh.groups * sh.width + sh.groups * (sh.width - 1u);
        EXPECT_EQ(ovl_cpsi_and_gates(x.r), per_bin * bins);
        EXPECT_EQ(ovl_cpsi_and_gates(x.c), per_bin * bins);
        cf_run_free(&x);
        cf_set_free(&rs);
        cf_set_free(&cs);
    }
}

/* ---- the outer protocol's hook ---- */

typedef struct {
    int calls;
    uint64_t seen_set;
    uint32_t seen_params;
    bool refuse;
} hook_ctx;

static ovl_err hook(void *ctx, const ovl_hello *peer)
{
    hook_ctx *h = ctx;
    h->calls++;
    h->seen_set = peer->set_size;
    h->seen_params = peer->params_len;
    if (h->refuse)
        return ovl_err_set(OVL_ERR_POLICY, "outer check: the peer's plan differs");
    return OVL_OK;
}

static void test_check_peer(void)
{
    shape sh = {.words = 1, .groups = 2, .width = 3};
    static const uint8_t params[] = "plan-bytes";
    cf_set rs, cs;
    make_set(&rs, 0, 12, 0, 0, 0, 31);
    make_set(&cs, 6, 10, sh.words, sh.groups, sh.width, 32);
    /* accepted: called once at each party with the peer's HELLO */
    hook_ctx hr = {0}, hc = {0};
    ovl_cpsi_config a = config(&rs, true, sh), b = config(&cs, false, sh);
    a.params = b.params = params;
    a.params_len = b.params_len = sizeof params;
    a.check_peer = b.check_peer = hook;
    a.check_ctx = &hr;
    b.check_ctx = &hc;
    cf_run x;
    EXPECT_TRUE(cf_run_configs(&x, &a, &b, false, NULL, NULL));
    EXPECT_TRUE(hr.calls == 1 && hr.seen_set == 10 && hr.seen_params == sizeof params);
    EXPECT_TRUE(hc.calls == 1 && hc.seen_set == 12 && hc.seen_params == sizeof params);
    cf_run_free(&x);
    /* refused by the runner's hook: that error, and only HELLO was sent */
    hook_ctx rr = {.refuse = true}, rc = {0};
    a.check_ctx = &rr;
    b.check_ctx = &rc;
    EXPECT_TRUE(!cf_run_configs(&x, &a, &b, false, NULL, NULL));
    EXPECT_EQ(x.side[0].rc, OVL_ERR_POLICY);
    EXPECT_TRUE(strstr(x.side[0].detail, "outer check") != NULL);
    const uint8_t *h = x.side[0].log.data;
    EXPECT_TRUE(h[0] == OVL_HELLO_TYPE &&
                x.side[0].log.wpos == OVL_FRAME_HDR + ((size_t)h[3] << 8 | h[4]));
    ovl_cpsi_shares out;
    EXPECT_ERR(OVL_ERR_USAGE, ovl_cpsi_result(x.r, &out));
    cf_run_free(&x);
    cf_set_free(&rs);
    cf_set_free(&cs);
}

/* The runner learns the contributor's shape in check_peer (an outer
 * protocol's HELLO) and sets it there: the run then has that shape. */
typedef struct {
    ovl_cpsi **self;
    shape sh;
    uint32_t gate; /* the gate stride set with the shape (SPEC.md §6.6) */
    int calls;
} shape_ctx;

static ovl_err set_shape_hook(void *ctx, const ovl_hello *peer)
{
    shape_ctx *h = ctx;
    (void)peer;
    h->calls++;
    return ovl_cpsi_set_shape(*h->self, h->sh.words, h->sh.groups, h->sh.width, h->gate);
}

static void test_set_shape(void)
{
    shape sh = {.words = 3, .groups = 3, .width = 3};
    cf_set rs, cs;
    make_set_in(&rs, 0, 60, 25, 0, 0, 0, 71);
    make_set_in(&cs, 0, 60, 20, sh.words, sh.groups, sh.width, 72);
    size_t common = 0;
    for (size_t i = 0; i < rs.n; i++)
        common += cf_set_find(&cs, rs.ids[i], rs.len[i]) >= 0;
    cf_run x;
    shape_ctx h = {.self = &x.r, .sh = sh};
    ovl_cpsi_config a = config(&rs, true, (shape){1, 1, 1}), b = config(&cs, false, sh);
    a.check_peer = set_shape_hook;
    a.check_ctx = &h;
    EXPECT_TRUE(cf_run_configs(&x, &a, &b, false, NULL, NULL));
    tally t = check_all(&x, &rs, &cs, sh);
    OVL_T_RECORD(h.calls == 1 && t.bad == 0 && t.matches == common,
                 "set_shape: %d calls, %zu bad, %zu of %zu matches", h.calls, t.bad, t.matches,
                 common);
    /* only the runner, only before its setup */
    EXPECT_ERR(OVL_ERR_USAGE, ovl_cpsi_set_shape(x.c, 3, 3, 3, 0));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_cpsi_set_shape(x.r, 3, 3, 3, 0));
    cf_run_free(&x);
    cf_set_free(&rs);
    cf_set_free(&cs);
}

/* ---- hostile peers and configurations ---- */

static void tamper_seed(void *arg, int side, ovl_buf *f, bool *drop)
{
    (void)drop;
    const char *what = arg;
    uint8_t *d = f->data;
    if (side != 0 || d[0] != OVL_CPSI_SEED)
        return;
    if (strcmp(what, "seed_groups_zero") == 0 && f->wpos == OVL_FRAME_HDR + 23)
        memset(d + OVL_FRAME_HDR + 18, 0, 4);
    if (strcmp(what, "seed_says_2_groups") == 0 && f->wpos == OVL_FRAME_HDR + 23)
        d[OVL_FRAME_HDR + 21] = 2;
    if (strcmp(what, "seed_truncated") == 0 && f->wpos == OVL_FRAME_HDR + 23) {
        f->wpos--; /* the width byte missing */
        d[4]--;
    }
}

static void expect_refused(const ovl_cpsi_config *a, const ovl_cpsi_config *b, int side,
                           ovl_err code, const char *detail, hx_tamper t, void *arg)
{
    cf_run x;
    bool ok = cf_run_configs(&x, a, b, false, t, arg);
    const hx_side *s = &x.side[side];
    OVL_T_RECORD(!ok && s->rc == code && strstr(s->detail, detail) != NULL,
                 "side %d ended with %s \"%s\" where %s \"%s\" was due", side,
                 ovl_err_name(s->rc), s->detail, ovl_err_name(code), detail);
    /* the contributor answered SEED with nothing: HELLO is all it sent */
    if (side == 1) {
        const uint8_t *h = s->log.data;
        EXPECT_TRUE(h[0] == OVL_HELLO_TYPE &&
                    s->log.wpos == OVL_FRAME_HDR + ((size_t)h[3] << 8 | h[4]));
    }
    cf_run_free(&x);
}

static void test_hostile_seed(void)
{
    cf_set rs, cs;
    make_set(&rs, 0, 12, 0, 0, 0, 41);
    make_set(&cs, 6, 10, 1, 3, 3, 42);
    shape mine = {.words = 1, .groups = 3, .width = 3};
    ovl_cpsi_config b = config(&cs, false, mine);
    static const shape other[] = {{1, 2, 3}, {1, 3, 4}, {1, 0, 0}};
    for (size_t i = 0; i < 3; i++) {
        ovl_cpsi_config a = config(&rs, true, other[i]);
        expect_refused(&a, &b, 1, OVL_ERR_POLICY, "bit payload of", NULL, NULL);
    }
    /* the payload width is still checked first, with its own error */
    ovl_cpsi_config a = config(&rs, true, (shape){2, 3, 3});
    expect_refused(&a, &b, 1, OVL_ERR_POLICY, "payload words", NULL, NULL);
    /* a contributor without bit payload facing a runner with one */
    ovl_cpsi_config plain = config(&cs, false, (shape){1, 0, 0});
    a = config(&rs, true, mine);
    expect_refused(&a, &plain, 1, OVL_ERR_POLICY, "bit payload of", NULL, NULL);
    /* SEED announcing 0 groups in the bit payload's fields is malformed */
    expect_refused(&a, &b, 1, OVL_ERR_MALFORMED, "0 groups", tamper_seed,
                   (void *)"seed_groups_zero");
    expect_refused(&a, &b, 1, OVL_ERR_MALFORMED, "", tamper_seed, (void *)"seed_truncated");
    /* a SEED rewritten in flight to the contributor's shape: the runner
     * refuses the garbler's circuit of another shape at GC_SETUP */
    ovl_cpsi_config two = config(&cs, false, (shape){1, 2, 3});
    expect_refused(&a, &two, 0, OVL_ERR_POLICY, "different circuit", tamper_seed,
                   (void *)"seed_says_2_groups");
    cf_set_free(&rs);
    cf_set_free(&cs);
}

static void test_bad_configs(void)
{
    cf_set cs;
    make_set(&cs, 0, 5, 1, 2, 3, 51);
    ovl_cpsi *p = NULL;
    ovl_cpsi_config c = config(&cs, false, (shape){1, 2, 3});
    cs.counts[3] = 8; /* does not fit 3 bits */
    EXPECT_ERR(OVL_ERR_INPUT, ovl_cpsi_new(&p, &c));
    EXPECT_TRUE(strstr(ovl_err_detail(), "group 1") && strstr(ovl_err_detail(), "3 bits"));
    cs.counts[3] = 7;
    EXPECT_OK(ovl_cpsi_new(&p, &c));
    ovl_cpsi_free(p);
    p = NULL;
    c.bit_width = 17;
    EXPECT_ERR(OVL_ERR_USAGE, ovl_cpsi_new(&p, &c));
    c.bit_width = 0;
    EXPECT_ERR(OVL_ERR_USAGE, ovl_cpsi_new(&p, &c));
    c.bit_width = 3;
    c.bit_counts = NULL;
    EXPECT_ERR(OVL_ERR_USAGE, ovl_cpsi_new(&p, &c));
    c.bit_counts = cs.counts;
    c.mode = OVL_MODE_CARDINALITY;
    EXPECT_ERR(OVL_ERR_USAGE, ovl_cpsi_new(&p, &c));
    c.mode = OVL_MODE_AGGREGATE;
    /* no payload words: allowed only with a bit payload */
    c.words = 0;
    EXPECT_OK(ovl_cpsi_new(&p, &c));
    ovl_cpsi_free(p);
    p = NULL;
    c.bit_groups = 0;
    EXPECT_ERR(OVL_ERR_USAGE, ovl_cpsi_new(&p, &c));
    /* over the store's width: the cap is named */
    c.words = OVL_CPSI_MAX_WORDS;
    c.bit_groups = 2048;
    c.bit_width = 16;
    c.bit_counts = NULL;
    c.runner = true;
    EXPECT_ERR(OVL_ERR_USAGE, ovl_cpsi_new(&p, &c));
    EXPECT_TRUE(strstr(ovl_err_detail(), "cap") != NULL);
    c.words = OVL_CPSI_MAX_WORDS + 1;
    c.bit_groups = 0;
    EXPECT_ERR(OVL_ERR_USAGE, ovl_cpsi_new(&p, &c));
    cf_set_free(&cs);
}

/* ---- the gate stride (SPEC.md §6.6) ---- */

typedef struct {
    shape sh;
    uint32_t gate;
} strided;

/* A configuration with gate stride `gate`, R on the connector side when
 * r_connects. */
static ovl_cpsi_config gated_config(const cf_set *s, bool runner, shape sh, uint32_t gate,
                                    bool r_connects)
{
    ovl_cpsi_config c = config(s, runner, sh);
    c.bit_gate_every = gate;
    if (r_connects)
        c.role = runner ? OVL_ROLE_CONNECTOR : OVL_ROLE_LISTENER;
    return c;
}

static bool run_gated(cf_run *x, const cf_set *rs, const cf_set *cs, shape sh, uint32_t gate,
                      bool r_connects)
{
    ovl_cpsi_config a = gated_config(rs, true, sh, gate, r_connects);
    ovl_cpsi_config b = gated_config(cs, false, sh, gate, r_connects);
    return cf_run_configs(x, &a, &b, r_connects, NULL, NULL);
}

typedef struct {
    size_t matches, bad;
    size_t gated;       /* gated bits, every bin */
    size_t ungated;     /* ungated bits of matching bins */
    size_t plain;       /* of which R's share is the bit itself */
    size_t loose, ones; /* ungated bits of the other bins, and how many combine to 1 */
    size_t zero_words;  /* words of the other bins combining to 0 (noise: almost none) */
} gate_tally;

/* One bin against §6.6: the match bit as without a stride; the words combine
 * to the payload in a matching bin (noise elsewhere: no share phase); a gated
 * bit combines to b_i ∧ bit (n = 0 outside a match), an ungated one to the
 * bit in a matching bin and to noise in the others. */
static void check_gated_bin(gate_tally *t, const ovl_cpsi_shares *a, const ovl_cpsi_shares *b,
                            uint32_t i, const cf_set *cs, long y, shape sh, uint32_t gate)
{
    size_t gw = (size_t)sh.groups * sh.width;
    unsigned m = (a->match[i] ^ b->match[i]) & 1u;
    t->bad += m != (y >= 0) || a->match[i] > 1 || b->match[i] > 1;
    t->matches += m;
    for (uint32_t w = 0; w < sh.words; w++) {
        uint64_t v = a->value[(size_t)i * sh.words + w] + b->value[(size_t)i * sh.words + w];
        if (y >= 0)
            t->bad += v != cs->payload[(size_t)y * sh.words + w];
        else
            t->zero_words += v == 0;
    }
    for (size_t k = 0; k < gw; k++) { /* k = c·w + j */
        size_t at = (size_t)i * gw + k;
        unsigned n = y < 0 ? 0u : cs->counts[(size_t)y * sh.groups + k / sh.width];
        unsigned bit = (n >> (k % sh.width)) & 1u, v = (unsigned)(a->beta[at] ^ b->beta[at]);
        t->bad += a->beta[at] > 1 || b->beta[at] > 1;
        if (k % gate == 0) {
            t->gated++;
            t->bad += v != bit;
        } else if (y >= 0) {
            t->ungated++;
            t->bad += v != bit;
            t->plain += a->beta[at] == bit;
        } else {
            t->loose++;
            t->ones += v;
        }
    }
}

static gate_tally check_all_gated(const cf_run *x, const cf_set *rs, const cf_set *cs, shape sh,
                                  uint32_t gate)
{
    ovl_cpsi_shares a = {0}, b = {0};
    gate_tally t = {0};
    EXPECT_OK(ovl_cpsi_result(x->r, &a));
    EXPECT_OK(ovl_cpsi_result(x->c, &b));
    EXPECT_TRUE(a.bins == b.bins && a.words == sh.words && b.words == sh.words);
    EXPECT_TRUE(a.bit_groups == sh.groups && b.bit_groups == sh.groups);
    EXPECT_TRUE(a.bit_width == sh.width && b.bit_width == sh.width);
    /* no flags with a stride */
    EXPECT_TRUE(a.phi == NULL && b.phi == NULL);
    if (a.bins != b.bins || a.bin_item == NULL || a.beta == NULL || b.beta == NULL)
        return (gate_tally){.bad = 1};
    for (uint32_t i = 0; i < a.bins; i++) {
        uint32_t item = a.bin_item[i];
        long y = item == UINT32_MAX ? -1 : cf_set_find(cs, rs->ids[item], rs->len[item]);
        check_gated_bin(&t, &a, &b, i, cs, y, sh, gate);
    }
    return t;
}

static uint32_t gated_bits(shape sh, uint32_t gate)
{
    return (sh.groups * sh.width + gate - 1u) / gate;
}

/* Every bin against the ideal functionality, the runner listening in the
 * even cases and connecting in the odd ones: the gated bits b_i ∧ bit, the
 * ungated ones the payload bit in a matching bin and about half ones
 * elsewhere; and σ − 1 + n_g AND gates per bin, n_g = ceil(G·w/s). */
static void test_gate_stride_shares(void)
{
    static const strided cases[] = {
        {{0, 140, 1}, 35}, {{1, 8, 1}, 1}, {{2, 7, 3}, 2}, {{1, 3, 16}, 48}};
    uint64_t seed = 101;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        shape sh = cases[i].sh;
        uint32_t gate = cases[i].gate, gw = sh.groups * sh.width, ng = gated_bits(sh, gate);
        bool r_connects = i % 2 == 1;
        cf_set rs, cs;
        /* random sets of 40 and 30 of 80 identifiers */
        make_set_in(&rs, 0, 80, 40, 0, 0, 0, seed++);
        make_set_in(&cs, 0, 80, 30, sh.words, sh.groups, sh.width, seed++);
        size_t common = 0, bins = ovl_cpsi_bins(40);
        for (size_t k = 0; k < rs.n; k++)
            common += cf_set_find(&cs, rs.ids[k], rs.len[k]) >= 0;
        cf_run x;
        EXPECT_TRUE(run_gated(&x, &rs, &cs, sh, gate, r_connects));
        gate_tally t = check_all_gated(&x, &rs, &cs, sh, gate);
        bool counted = t.gated == bins * ng && t.ungated == common * (gw - ng) &&
                       t.loose == (bins - common) * (gw - ng);
        /* noise, not zeros, outside a match, and R's shares masked in a
         * matching bin (§8): 1/4..3/4 when there are enough */
        bool noisy = t.loose < 200 || (4 * t.ones > t.loose && 4 * t.ones < 3 * t.loose);
        bool masked =
            t.ungated < 200 || (4 * t.plain > t.ungated && 4 * t.plain < 3 * t.ungated);
        /* the words outside a match are noise too: a 0 has odds 2^-64 */
        bool words_noisy = sh.words == 0 || t.zero_words == 0;
        OVL_T_RECORD(t.bad == 0 && t.matches == common && counted && noisy && masked &&
                         words_noisy,
                     "G=%u w=%u s=%u L=%u r_connects=%d: %zu bad, %zu of %zu matches, "
                     "%zu gated, %zu ungated matched (%zu plain at R), %zu of %zu loose ones",
                     sh.groups, sh.width, gate, sh.words, r_connects, t.bad, t.matches, common,
                     t.gated, t.ungated, t.plain, t.ones, t.loose);
        uint64_t ands = (uint64_t)bins * (ovl_cpsi_sigma((uint32_t)bins) - 1u + ng);
        EXPECT_EQ(ovl_cpsi_and_gates(x.r), ands);
        EXPECT_EQ(ovl_cpsi_and_gates(x.c), ands);
        cf_run_free(&x);
        cf_set_free(&rs);
        cf_set_free(&cs);
    }
}

/* The runner's SEED payload length, 0 if it sent none. */
static uint32_t seed_length(const hx_side *s)
{
    static uint32_t f[4096];
    size_t n = frame_shape(s, f, 4096);
    for (size_t i = 0; i < n; i++)
        if (f[i] >> 24 == OVL_CPSI_SEED)
            return f[i] & 0xffffffu;
    return 0;
}

/* All matching and none matching with a stride: identical frames, both
 * ways; SEED 4 bytes longer than at s = 0 (16 + 2 + 4 + 1 + 4), whose runs
 * keep their bytes (18 without a bit payload, seen in a run the contributor
 * refuses) and their flags. */
static void test_gate_stride_frames(void)
{
    shape sh = {.words = 1, .groups = 7, .width = 3};
    uint32_t gate = 2;
    cf_set rs, all, none;
    make_set(&rs, 0, 24, 0, 0, 0, 111);
    make_set(&all, 0, 24, sh.words, sh.groups, sh.width, 112);
    make_set(&none, 500, 24, sh.words, sh.groups, sh.width, 113);
    cf_run x, y, z, u;
    EXPECT_TRUE(run_gated(&x, &rs, &all, sh, gate, false));
    EXPECT_TRUE(run_gated(&y, &rs, &none, sh, gate, false));
    EXPECT_TRUE(run_gated(&z, &rs, &all, sh, 0, false));
    ovl_cpsi_config plain = config(&rs, true, (shape){1, 0, 0});
    ovl_cpsi_config with_bits = config(&all, false, sh);
    EXPECT_TRUE(!cf_run_configs(&u, &plain, &with_bits, false, NULL, NULL));
    gate_tally tx = check_all_gated(&x, &rs, &all, sh, gate);
    gate_tally ty = check_all_gated(&y, &rs, &none, sh, gate);
    EXPECT_TRUE(tx.bad == 0 && tx.matches == 24u && ty.bad == 0 && ty.matches == 0u);
    for (int s = 0; s < 2; s++) {
        static uint32_t fx[4096], fy[4096];
        size_t nx = frame_shape(&x.side[s], fx, 4096), ny = frame_shape(&y.side[s], fy, 4096);
        OVL_T_RECORD(nx == ny && nx > 0 && memcmp(fx, fy, nx * sizeof *fx) == 0,
                     "gate %u, side %d: %zu and %zu frames of different shapes", gate, s, nx, ny);
        EXPECT_EQ(x.side[s].log.wpos, y.side[s].log.wpos);
    }
    EXPECT_EQ(ovl_cpsi_bytes_sent(x.r), ovl_cpsi_bytes_sent(y.r));
    EXPECT_EQ(ovl_cpsi_bytes_sent(x.c), ovl_cpsi_bytes_sent(y.c));
    EXPECT_EQ(seed_length(&x.side[0]), 27u);
    EXPECT_EQ(seed_length(&z.side[0]), 23u);
    EXPECT_EQ(seed_length(&u.side[0]), 18u);
    /* fewer gates, fewer garbled tables */
    EXPECT_TRUE(ovl_cpsi_bytes_sent(x.c) < ovl_cpsi_bytes_sent(z.c));
    /* s = 0: every bit gated and the flags made */
    tally tz = check_all(&z, &rs, &all, sh);
    EXPECT_TRUE(tz.bad == 0 && tz.matches == 24u);
    ovl_cpsi_shares zr = {0}, zc = {0};
    EXPECT_OK(ovl_cpsi_result(z.r, &zr));
    EXPECT_OK(ovl_cpsi_result(z.c, &zc));
    EXPECT_TRUE(zr.phi != NULL && zc.phi != NULL);
    cf_run_free(&x);
    cf_run_free(&y);
    cf_run_free(&z);
    cf_run_free(&u);
    cf_set_free(&rs);
    cf_set_free(&all);
    cf_set_free(&none);
}

/* Edits of the stride field, after seed, L, G_C and w_C. */
static void tamper_gate(void *arg, int side, ovl_buf *f, bool *drop)
{
    (void)drop;
    const char *what = arg;
    static const uint8_t two[4] = {0, 0, 0, 2}, pad = 0;
    size_t at = OVL_FRAME_HDR + 23;
    if (side != 0 || f->data[0] != OVL_CPSI_SEED)
        return;
    if (strcmp(what, "gate_added") == 0 && f->wpos == at) {
        if (ovl_buf_put_bytes(f, two, sizeof two) != OVL_OK)
            abort();
        f->data[4] += 4;
    }
    if (f->wpos != at + 4)
        return;
    if (strcmp(what, "gate_zero") == 0)
        memset(f->data + at, 0, 4);
    if (strcmp(what, "gate_3") == 0)
        f->data[at + 3] = 3;
    if (strcmp(what, "gate_removed") == 0 || strcmp(what, "gate_truncated") == 0) {
        size_t cut = strcmp(what, "gate_removed") == 0 ? 4 : 2;
        f->wpos -= cut;
        f->data[4] -= (uint8_t)cut;
    }
    if (strcmp(what, "gate_trailing") == 0) {
        if (ovl_buf_put_bytes(f, &pad, 1) != OVL_OK)
            abort();
        f->data[4]++;
    }
}

/* The contributor refuses another stride (POLICY, SPEC.md §10), a SEED
 * announcing 0 and a malformed field (MALFORMED), sending nothing after
 * HELLO; a SEED rewritten to the contributor's stride is refused by the
 * runner at GC_SETUP (the circuit's digest covers the stride). */
static void test_gate_stride_refused(void)
{
    shape sh = {.words = 1, .groups = 7, .width = 3};
    cf_set rs, cs;
    make_set(&rs, 0, 12, 0, 0, 0, 131);
    make_set(&cs, 6, 10, sh.words, sh.groups, sh.width, 132);
    static const uint32_t pairs[][2] = {{2, 3}, {0, 2}, {2, 0}, {21, 1}};
    for (size_t i = 0; i < sizeof pairs / sizeof *pairs; i++) {
        ovl_cpsi_config a = gated_config(&rs, true, sh, pairs[i][0], false);
        ovl_cpsi_config b = gated_config(&cs, false, sh, pairs[i][1], false);
        char want[128];
        snprintf(want, sizeof want,
                 "the runner gates every %u bits of the bit payload with the match, this party "
                 "every %u (0: all)",
                 pairs[i][0], pairs[i][1]);
        expect_refused(&a, &b, 1, OVL_ERR_POLICY, want, NULL, NULL);
    }
    /* the groups are checked before the stride */
    ovl_cpsi_config a = gated_config(&rs, true, (shape){1, 6, 3}, 3, false);
    ovl_cpsi_config b = gated_config(&cs, false, sh, 2, false);
    expect_refused(&a, &b, 1, OVL_ERR_POLICY, "bit payload of", NULL, NULL);
    a = gated_config(&rs, true, sh, 2, false);
    expect_refused(&a, &b, 1, OVL_ERR_MALFORMED, "SEED announces a gate every 0 bits",
                   tamper_gate, (void *)"gate_zero");
    expect_refused(&a, &b, 1, OVL_ERR_MALFORMED, "", tamper_gate, (void *)"gate_truncated");
    expect_refused(&a, &b, 1, OVL_ERR_MALFORMED, "trailing", tamper_gate,
                   (void *)"gate_trailing");
    /* rewritten in flight to what the contributor has */
    ovl_cpsi_config c3 = gated_config(&cs, false, sh, 3, false);
    expect_refused(&a, &c3, 0, OVL_ERR_POLICY, "different circuit", tamper_gate,
                   (void *)"gate_3");
    ovl_cpsi_config c0 = gated_config(&cs, false, sh, 0, false);
    expect_refused(&a, &c0, 0, OVL_ERR_POLICY, "different circuit", tamper_gate,
                   (void *)"gate_removed");
    ovl_cpsi_config r0 = gated_config(&rs, true, sh, 0, false);
    expect_refused(&r0, &b, 0, OVL_ERR_POLICY, "different circuit", tamper_gate,
                   (void *)"gate_added");
    cf_set_free(&rs);
    cf_set_free(&cs);
}

/* Strides over G·w or without a bit payload: USAGE at creation, and from
 * set_shape in the runner's check_peer (only HELLO sent); a valid one set
 * there runs with it. */
static void test_gate_stride_configs(void)
{
    shape sh = {.words = 1, .groups = 7, .width = 3};
    cf_set rs, cs;
    make_set_in(&rs, 0, 40, 20, 0, 0, 0, 141);
    make_set_in(&cs, 0, 40, 15, sh.words, sh.groups, sh.width, 142);
    ovl_cpsi *p = NULL;
    for (int runner = 0; runner < 2; runner++) {
        ovl_cpsi_config c = gated_config(runner ? &rs : &cs, runner, sh, 21, false);
        EXPECT_OK(ovl_cpsi_new(&p, &c));
        ovl_cpsi_free(p);
        p = NULL;
        c.bit_gate_every = 22;
        EXPECT_ERR(OVL_ERR_USAGE, ovl_cpsi_new(&p, &c));
        c.bit_gate_every = UINT32_MAX;
        EXPECT_ERR(OVL_ERR_USAGE, ovl_cpsi_new(&p, &c));
        c.bit_gate_every = 1;
        c.bit_groups = 0;
        EXPECT_ERR(OVL_ERR_USAGE, ovl_cpsi_new(&p, &c));
        c.mode = OVL_MODE_CARDINALITY;
        c.words = 0;
        EXPECT_ERR(OVL_ERR_USAGE, ovl_cpsi_new(&p, &c));
        EXPECT_TRUE(p == NULL);
    }
    static const struct {
        shape sh;
        uint32_t gate;
    } bad[] = {{{1, 7, 3}, 22}, {{1, 0, 0}, 1}};
    for (size_t i = 0; i < 2; i++) {
        cf_run x;
        shape_ctx h = {.self = &x.r, .sh = bad[i].sh, .gate = bad[i].gate};
        ovl_cpsi_config a = config(&rs, true, (shape){1, 1, 1});
        ovl_cpsi_config b = gated_config(&cs, false, sh, 2, false);
        a.check_peer = set_shape_hook;
        a.check_ctx = &h;
        EXPECT_TRUE(!cf_run_configs(&x, &a, &b, false, NULL, NULL));
        const uint8_t *hd = x.side[0].log.data;
        OVL_T_RECORD(h.calls == 1 && x.side[0].rc == OVL_ERR_USAGE,
                     "set_shape(G=%u, s=%u): %d calls, %s \"%s\"", bad[i].sh.groups,
                     bad[i].gate, h.calls, ovl_err_name(x.side[0].rc), x.side[0].detail);
        EXPECT_TRUE(hd[0] == OVL_HELLO_TYPE &&
                    x.side[0].log.wpos == OVL_FRAME_HDR + ((size_t)hd[3] << 8 | hd[4]));
        cf_run_free(&x);
    }
    /* the runner learns the stride in check_peer */
    cf_run x;
    shape_ctx h = {.self = &x.r, .sh = sh, .gate = 2};
    ovl_cpsi_config a = config(&rs, true, (shape){1, 1, 1});
    ovl_cpsi_config b = gated_config(&cs, false, sh, 2, false);
    a.check_peer = set_shape_hook;
    a.check_ctx = &h;
    EXPECT_TRUE(cf_run_configs(&x, &a, &b, false, NULL, NULL));
    size_t common = 0;
    for (size_t i = 0; i < rs.n; i++)
        common += cf_set_find(&cs, rs.ids[i], rs.len[i]) >= 0;
    gate_tally t = check_all_gated(&x, &rs, &cs, sh, 2);
    OVL_T_RECORD(h.calls == 1 && t.bad == 0 && t.matches == common,
                 "set_shape with s=2: %d calls, %zu bad, %zu of %zu matches", h.calls, t.bad,
                 t.matches, common);
    uint32_t bins = ovl_cpsi_bins(rs.n);
    EXPECT_EQ(ovl_cpsi_and_gates(x.r),
              (uint64_t)bins * (ovl_cpsi_sigma(bins) - 1u + gated_bits(sh, 2)));
    cf_run_free(&x);
    cf_set_free(&rs);
    cf_set_free(&cs);
}

/* Lets HELLO and SEED through and counts the OPRF_BASE each side sends: a
 * party that sends one has passed the caps at HELLO (and the contributor
 * SEED's checks); the run then stalls before any costly step. */
static void stall_after_seed(void *arg, int side, ovl_buf *f, bool *drop)
{
    int *oprf_base = arg;
    uint8_t type = f->data[0];
    oprf_base[side] += type == OVL_CPSI_OPRF_BASE;
    *drop = type != OVL_HELLO_TYPE && type != OVL_CPSI_SEED;
}

/* The caps at HELLO count 2·n_g garbler bits and no flags (SPEC.md §2): at
 * w = 16, 1 100 groups (refused at s = 0 and if all 17 600 bits counted) run
 * at s = 16, 2 000 groups pass HELLO at s = 2 (32 047 bits here, 34 047 with the
 * flags), 2 040 groups at s = 1 (65 327 bits) are refused, naming the cap. */
static void test_gate_stride_caps(void)
{
    shape sh = {.words = 1, .groups = 1100, .width = 16};
    cf_set rs, cs;
    make_set(&rs, 0, 5, 0, 0, 0, 151);
    make_set(&cs, 3, 4, sh.words, sh.groups, sh.width, 152); /* 2 in common */
    cf_run x;
    EXPECT_TRUE(run_gated(&x, &rs, &cs, sh, 16, false));
    gate_tally t = check_all_gated(&x, &rs, &cs, sh, 16);
    OVL_T_RECORD(t.bad == 0 && t.matches == 2, "G=1100 w=16 s=16: %zu bad bins, %zu matches",
                 t.bad, t.matches);
    cf_run_free(&x);
    shape big = {.words = 0, .groups = 2000, .width = 16};
    cf_set cb;
    make_set(&cb, 3, 4, big.words, big.groups, big.width, 153);
    ovl_cpsi_config a = gated_config(&rs, true, big, 2, false);
    ovl_cpsi_config b = gated_config(&cb, false, big, 2, false);
    int oprf_base[2] = {0};
    EXPECT_TRUE(!cf_run_configs(&x, &a, &b, false, stall_after_seed, oprf_base));
    OVL_T_RECORD(x.side[0].rc == OVL_OK && x.side[1].rc == OVL_OK && oprf_base[0] == 1 &&
                     oprf_base[1] == 1,
                 "G=2000 w=16 s=2: %s \"%s\" / %s \"%s\", OPRF_BASE %d / %d",
                 ovl_err_name(x.side[0].rc), x.side[0].detail, ovl_err_name(x.side[1].rc),
                 x.side[1].detail, oprf_base[0], oprf_base[1]);
    cf_run_free(&x);
    cf_set_free(&cb);
    shape over = {.words = 0, .groups = 2040, .width = 16};
    cf_set co;
    make_set(&co, 3, 4, over.words, over.groups, over.width, 154);
    a = gated_config(&rs, true, over, 1, false);
    b = gated_config(&co, false, over, 1, false);
    EXPECT_TRUE(!cf_run_configs(&x, &a, &b, false, NULL, NULL));
    for (int s = 0; s < 2; s++) {
        const uint8_t *h = x.side[s].log.data;
        OVL_T_RECORD(x.side[s].rc == OVL_ERR_POLICY && strstr(x.side[s].detail, "cap of 32768"),
                     "side %d: %s \"%s\"", s, ovl_err_name(x.side[s].rc), x.side[s].detail);
        EXPECT_TRUE(h[0] == OVL_HELLO_TYPE &&
                    x.side[s].log.wpos == OVL_FRAME_HDR + ((size_t)h[3] << 8 | h[4]));
    }
    cf_run_free(&x);
    cf_set_free(&co);
    /* The memory cap counts every payload bit beta keeps, gated or not: one
     * gated bit of 2000 × 16 over the bins of 220 000 runner identifiers is
     * some 8.7 GiB of beta alone, refused at HELLO by both. */
    shape wide = {.words = 0, .groups = 2000, .width = 16};
    cf_set rb, cw;
    make_set(&rb, 0, 220000, 0, 0, 0, 155);
    make_set(&cw, 3, 4, wide.words, wide.groups, wide.width, 156);
    a = gated_config(&rb, true, wide, 32000, false);
    b = gated_config(&cw, false, wide, 32000, false);
    EXPECT_TRUE(!cf_run_configs(&x, &a, &b, false, NULL, NULL));
    for (int s = 0; s < 2; s++)
        OVL_T_RECORD(x.side[s].rc == OVL_ERR_POLICY &&
                         strstr(x.side[s].detail, "over the cap of 8192 MiB") != NULL,
                     "memory cap, side %d: %s \"%s\"", s, ovl_err_name(x.side[s].rc),
                     x.side[s].detail);
    cf_run_free(&x);
    cf_set_free(&rb);
    cf_set_free(&cw);
    cf_set_free(&rs);
    cf_set_free(&cs);
}

int main(void)
{
    if (ovl_crypto_init() != OVL_OK)
        return 1;
    RUN(test_bits_match_functionality);
    RUN(test_frames_independent_of_matches);
    RUN(test_wide_payload);
    RUN(test_and_gates);
    RUN(test_check_peer);
    RUN(test_set_shape);
    RUN(test_hostile_seed);
    RUN(test_bad_configs);
    RUN(test_gate_stride_shares);
    RUN(test_gate_stride_frames);
    RUN(test_gate_stride_refused);
    RUN(test_gate_stride_configs);
    RUN(test_gate_stride_caps);
    return ovl_t_summary("test_cpsi_bits");
}
