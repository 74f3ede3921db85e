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
    int calls;
} shape_ctx;

static ovl_err set_shape_hook(void *ctx, const ovl_hello *peer)
{
    shape_ctx *h = ctx;
    (void)peer;
    h->calls++;
    return ovl_cpsi_set_shape(*h->self, h->sh.words, h->sh.groups, h->sh.width, 0);
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
    return ovl_t_summary("test_cpsi_bits");
}
