/* Tests for circuit PSI (protocols/cpsi/): both engines in one process
 * through the two-engine harness, checked against the ideal functionality
 * (per bin: XOR shares of [bin's identifier ∈ Y], additive shares of that
 * bit × the contributor's payload; in cardinality mode the count, to the
 * receivers only), and hostile peers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hello.h"
#include "cpsi/cpsi.h"
#include "cpsi/state.h"
#include "crypto/group.h"
#include "mpc/gc.h"
#include "mpc/okvs.h"
#include "mpc/ot.h"
#include "cpsi_fixture.h"
#include "psi_harness.h"
#include "test.h"

static const uint8_t seed_r[32] = {1}, seed_c[32] = {2};

/* Identifiers "user-<k>" for k in [from, from + n). */
static void make_set(cf_set *s, size_t from, size_t n, uint32_t words)
{
    cf_set_alloc(s, n, words ? words : 1, 0);
    for (size_t i = 0; i < n; i++) {
        cf_set_id(s, i, "user-", from + i);
        for (uint32_t w = 0; w < words; w++)
            s->payload[i * words + w] = (from + i) * 1000u + w - 7u; /* wraps for small k */
    }
}

static ovl_cpsi_config config(const cf_set *s, bool runner, ovl_role role, ovl_mode mode,
                              ovl_reveal reveal, uint32_t words)
{
    ovl_cpsi_config c = {
        .role = role,
        .runner = runner,
        .mode = mode,
        .reveal = reveal,
        .ids = (const uint8_t *const *)s->ids,
        .id_len = s->len,
        .nids = s->n,
        .payload = runner ? NULL : s->payload,
        .words = words,
        .test_seed = runner ? seed_r : seed_c,
    };
    return c;
}

/* R on the listener side unless r_connects. Returns true when both completed. */
static bool run_pair(cf_run *x, const cf_set *rs, const cf_set *cs, ovl_mode mode,
                     ovl_reveal reveal, uint32_t words, bool r_connects, hx_tamper t, void *arg)
{
    ovl_role rr = r_connects ? OVL_ROLE_CONNECTOR : OVL_ROLE_LISTENER;
    ovl_role cr = r_connects ? OVL_ROLE_LISTENER : OVL_ROLE_CONNECTOR;
    ovl_cpsi_config a = config(rs, true, rr, mode, reveal, words);
    ovl_cpsi_config b = config(cs, false, cr, mode, reveal, words);
    return cf_run_configs(x, &a, &b, r_connects, t, arg);
}

/* Every bin against the ideal functionality; returns the matches seen. */
static size_t check_shares(const cf_run *x, const cf_set *rs, const cf_set *cs, uint32_t words,
                           bool ones)
{
    ovl_cpsi_shares a, b;
    size_t matches = 0, bad = 0;
    EXPECT_OK(ovl_cpsi_result(x->r, &a));
    EXPECT_OK(ovl_cpsi_result(x->c, &b));
    EXPECT_EQ(a.bins, b.bins);
    EXPECT_EQ(a.words, words);
    EXPECT_TRUE(a.bin_item != NULL && b.bin_item == NULL);
    for (uint32_t i = 0; i < a.bins && a.bin_item; i++) {
        uint32_t item = a.bin_item[i];
        long y = item == UINT32_MAX ? -1 : cf_set_find(cs, rs->ids[item], rs->len[item]);
        unsigned m = (a.match[i] ^ b.match[i]) & 1u;
        bad += m != (y >= 0);
        matches += m;
        for (uint32_t w = 0; w < words; w++) {
            uint64_t v = a.value[(size_t)i * words + w] + b.value[(size_t)i * words + w];
            uint64_t want = y < 0 ? 0 : ones ? 1 : cs->payload[(size_t)y * words + w];
            bad += v != want;
        }
    }
    OVL_T_RECORD(bad == 0, "%zu bins differ from the ideal functionality", bad);
    return matches;
}

static void test_payload_shares(void)
{
    cf_set rs, cs;
    make_set(&rs, 0, 60, 0);
    make_set(&cs, 40, 50, 3); /* 20 in common */
    cf_run x;
    EXPECT_TRUE(run_pair(&x, &rs, &cs, OVL_MODE_AGGREGATE, OVL_REVEAL_BOTH, 3, false, NULL, NULL));
    EXPECT_EQ(check_shares(&x, &rs, &cs, 3, false), 20u);
    cf_run_free(&x);
    /* the runner on the connector side: the roles of OT and GC swap */
    EXPECT_TRUE(run_pair(&x, &rs, &cs, OVL_MODE_AGGREGATE, OVL_REVEAL_BOTH, 3, true, NULL, NULL));
    EXPECT_EQ(check_shares(&x, &rs, &cs, 3, false), 20u);
    cf_run_free(&x);
    cf_set_free(&rs);
    cf_set_free(&cs);
}

/* The contributor's inputs to the garbled equality are folded into the
 * garbling: its GC_INPUTS frames (one per bin) carry no label. */
static void test_garbler_inputs_folded(void)
{
    cf_set rs, cs;
    make_set(&rs, 0, 33, 0);
    make_set(&cs, 20, 40, 1);
    cf_run x;
    EXPECT_TRUE(run_pair(&x, &rs, &cs, OVL_MODE_CARDINALITY, OVL_REVEAL_BOTH, 0, false, NULL,
                         NULL));
    const hx_side *c = &x.side[1];
    uint32_t inputs = 0;
    for (size_t off = 0; off + OVL_FRAME_HDR <= c->log.wpos;) {
        const uint8_t *h = c->log.data + off;
        size_t len = (size_t)h[1] << 24 | (size_t)h[2] << 16 | (size_t)h[3] << 8 | h[4];
        if (h[0] == OVL_GC_INPUTS) {
            inputs++;
            EXPECT_EQ(len, 4);
        }
        off += OVL_FRAME_HDR + len;
    }
    EXPECT_EQ(inputs, ovl_cpsi_bins(33));
    cf_run_free(&x);
    cf_set_free(&rs);
    cf_set_free(&cs);
}

/* The count reaches exactly the receivers; the runner is the receiving party
 * when only one receives (on either transport side). */
static void test_cardinality_receivers(void)
{
    cf_set rs, cs;
    make_set(&rs, 0, 33, 0);
    make_set(&cs, 20, 40, 1); /* 13 in common */
    static const struct {
        ovl_reveal reveal;
        bool r_connects;
    } runs[] = {{OVL_REVEAL_BOTH, false}, {OVL_REVEAL_BOTH, true}, {OVL_REVEAL_LISTENER, false},
                {OVL_REVEAL_CONNECTOR, true}};
    for (size_t i = 0; i < sizeof runs / sizeof *runs; i++) {
        cf_run x;
        uint64_t n;
        EXPECT_TRUE(run_pair(&x, &rs, &cs, OVL_MODE_CARDINALITY, runs[i].reveal, 0,
                             runs[i].r_connects, NULL, NULL));
        bool c_gets = runs[i].reveal == OVL_REVEAL_BOTH;
        EXPECT_TRUE(ovl_cpsi_receives_count(x.r));
        EXPECT_EQ(ovl_cpsi_receives_count(x.c), c_gets);
        EXPECT_OK(ovl_cpsi_count(x.r, &n));
        EXPECT_EQ(n, 13u);
        if (c_gets) {
            EXPECT_OK(ovl_cpsi_count(x.c, &n));
            EXPECT_EQ(n, 13u);
        } else {
            EXPECT_ERR(OVL_ERR_USAGE, ovl_cpsi_count(x.c, &n));
        }
        /* value: per-bin arithmetic shares of the match bits, toward R */
        EXPECT_EQ(check_shares(&x, &rs, &cs, 1, true), 13u);
        cf_run_free(&x);
    }
    cf_set_free(&rs);
    cf_set_free(&cs);
}

/* A count for the contributor alone is refused at creation, by both engines:
 * the receiver must be the runner (SPEC.md §6.4). */
static void test_cardinality_contributor_alone_refused(void)
{
    cf_set s;
    make_set(&s, 0, 5, 0);
    ovl_cpsi *e = NULL;
    ovl_cpsi_config r = config(&s, true, OVL_ROLE_LISTENER, OVL_MODE_CARDINALITY,
                               OVL_REVEAL_CONNECTOR, 0);
    ovl_cpsi_config c = config(&s, false, OVL_ROLE_CONNECTOR, OVL_MODE_CARDINALITY,
                               OVL_REVEAL_CONNECTOR, 0);
    EXPECT_ERR(OVL_ERR_USAGE, ovl_cpsi_new(&e, &r));
    EXPECT_TRUE(e == NULL && strstr(ovl_err_detail(), "must be the runner") != NULL);
    EXPECT_ERR(OVL_ERR_USAGE, ovl_cpsi_new(&e, &c));
    EXPECT_TRUE(e == NULL);
    cf_set_free(&s);
}

static uint64_t get64(const uint8_t *b)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | b[i];
    return v;
}

/* The payload of the one COUNT frame in a side's log; false when none. */
static bool count_frame(const hx_side *s, uint64_t *v)
{
    bool found = false;
    for (size_t off = 0; off + OVL_FRAME_HDR <= s->log.wpos;) {
        const uint8_t *h = s->log.data + off;
        size_t len = (size_t)h[1] << 24 | (size_t)h[2] << 16 | (size_t)h[3] << 8 | h[4];
        if (h[0] == OVL_CPSI_COUNT && len == 8) {
            *v = get64(h + OVL_FRAME_HDR);
            found = true;
        }
        off += OVL_FRAME_HDR + len;
    }
    return found;
}

/* SPEC.md §9's weighting attack by a modified receiver. Its view of the
 * opening is its per-bin terms t_i (its output shares) and the contributor's
 * one COUNT word X. Reading 64 match bits needs Σ_k 2^k·b_k: the attacker
 * computes X + Σ_k 2^k·t_k over 64 bins holding its identifiers. That readout
 * equals count + Σ_i (w_i − 1)·t_i, a function of the count and its own
 * view (so it learns the count and nothing more), and its bits are not the
 * match bits. The contributor, as OT sender whose correlations could weight
 * the receiver's terms, never sees anything derived from them. */
static void test_count_weighting_attack(void)
{
    cf_set rs, cs;
    make_set(&rs, 0, 100, 0);
    make_set(&cs, 50, 80, 1); /* 50 in common */
    cf_run x;
    ovl_cpsi_shares a, b;
    uint64_t count = 0, X = 0, unused;
    EXPECT_TRUE(run_pair(&x, &rs, &cs, OVL_MODE_CARDINALITY, OVL_REVEAL_LISTENER, 0, false, NULL,
                         NULL));
    EXPECT_OK(ovl_cpsi_count(x.r, &count));
    EXPECT_EQ(count, 50u);
    EXPECT_OK(ovl_cpsi_result(x.r, &a));
    EXPECT_OK(ovl_cpsi_result(x.c, &b));
    EXPECT_TRUE(count_frame(&x.side[1], &X));
    EXPECT_TRUE(!count_frame(&x.side[0], &unused)); /* nothing opens toward C */
    /* the honest opening: X plus the unweighted terms */
    uint64_t honest = X, readout = X, simulated = count;
    for (uint32_t i = 0; i < a.bins; i++)
        honest += a.value[i];
    EXPECT_EQ(honest, count);
    /* the attack: weight 2^k on the k-th bin that holds an identifier */
    uint32_t bin_of[64], k = 0;
    for (uint32_t i = 0; i < a.bins && k < 64; i++)
        if (a.bin_item[i] != UINT32_MAX)
            bin_of[k++] = i;
    EXPECT_EQ(k, 64u);
    for (uint32_t i = 0; i < a.bins; i++)
        simulated -= a.value[i]; /* weight 0 outside the 64 */
    for (k = 0; k < 64; k++) {
        readout += a.value[bin_of[k]] << k;
        simulated += (((uint64_t)1 << k) - 1u) * a.value[bin_of[k]] + a.value[bin_of[k]];
    }
    EXPECT_EQ(readout, simulated);
    unsigned wrong = 0;
    for (k = 0; k < 64; k++) {
        unsigned truth = (a.match[bin_of[k]] ^ b.match[bin_of[k]]) & 1u;
        wrong += (unsigned)((readout >> k) & 1u) != truth;
    }
    OVL_T_RECORD(wrong >= 8, "the weighted readout gave %u of 64 match bits wrong (an attack "
                             "that works gets 0 wrong)", wrong);
    cf_run_free(&x);
    cf_set_free(&rs);
    cf_set_free(&cs);
}

static void test_edge_sizes(void)
{
    static const size_t sizes[][3] = {{0, 0, 0}, {1, 1, 1}, {1, 0, 0}, {0, 5, 0}, {7, 1, 1}, {3, 9, 2}};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        cf_set rs, cs;
        make_set(&rs, 0, sizes[i][0], 0);
        /* the contributor's set overlaps the runner's in its first `common` */
        make_set(&cs, sizes[i][0] - sizes[i][2], sizes[i][1], 2);
        cf_run x;
        EXPECT_TRUE(run_pair(&x, &rs, &cs, OVL_MODE_AGGREGATE, OVL_REVEAL_BOTH, 2, false, NULL,
                             NULL));
        EXPECT_EQ(check_shares(&x, &rs, &cs, 2, false), sizes[i][2]);
        cf_run_free(&x);
        cf_set_free(&rs);
        cf_set_free(&cs);
    }
}


/* ---- hostile peers: each tampering ends with its own error and no output ---- */

typedef struct {
    const char *what;
    int blinds, okvs; /* frames of each type seen */
    int last_okvs; /* OKVS frames the contributor will send */
} tamper_ctx;

static uint32_t get32(const uint8_t *b)
{
    return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
}

static void put32(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t)(v >> 24);
    b[1] = (uint8_t)(v >> 16);
    b[2] = (uint8_t)(v >> 8);
    b[3] = (uint8_t)v;
}

/* Appends a copy of the frame f holds (copied out first: f may move). */
static void repeat_frame(ovl_buf *f)
{
    size_t n = ovl_buf_len(f);
    uint8_t *copy = malloc(n);
    if (copy == NULL)
        abort();
    memcpy(copy, f->data, n);
    if (ovl_buf_put_bytes(f, copy, n) != OVL_OK)
        abort();
    free(copy);
}

/* Side 0 is the listener: the runner in these runs. */
static void tamper(void *arg, int side, ovl_buf *f, bool *drop)
{
    tamper_ctx *t = arg;
    uint8_t *d = f->data, type = d[0];
    uint8_t *pl = d + OVL_FRAME_HDR;
    uint32_t len = get32(d + 1);
    const char *w = t->what;
    if (side == 0 && type == OVL_CPSI_OPRF_U && t->blinds++ == 0) {
        if (strcmp(w, "u_extra") == 0) {
            if (ovl_buf_put_u8(f, 0) != OVL_OK)
                abort();
            put32(f->data + 1, len + 1);
        }
        if (strcmp(w, "u_twice") == 0)
            repeat_frame(f);
        if (strcmp(w, "u_wrong_seq") == 0)
            pl[4] ^= 1; /* the first WIDE_U's batch number */
        if (strcmp(w, "u_flip") == 0)
            pl[OVL_OT_BATCH_HDR] ^= 1; /* column 0 of bin 0: not its codeword */
    }
    if (side == 0 && type == OVL_CPSI_SEED && strcmp(w, "seed_dropped") == 0)
        *drop = true;
    if (side == 0 && type == OVL_CPSI_OPRF_BASE && strcmp(w, "base_twice") == 0)
        repeat_frame(f);
    if (side == 0 && type == OVL_CPSI_OPRF_BASE && strcmp(w, "rbase_dropped") == 0)
        *drop = true;
    if (side == 1 && type == OVL_CPSI_OPRF_BASE) {
        if (strcmp(w, "base_as_okvs") == 0)
            d[0] = OVL_CPSI_OKVS;
        if (strcmp(w, "base_short") == 0) {
            f->wpos -= 1;
            put32(d + 1, len - 1);
        }
    }
    if (type == OVL_CPSI_COUNT && side == 1) {
        if (strcmp(w, "count_wrong") == 0)
            pl[2] ^= 0x01; /* + 2^40 or so: more than min(n, m) */
        if (strcmp(w, "count_short") == 0) {
            f->wpos -= 1;
            put32(d + 1, len - 1);
        }
        if (strcmp(w, "count_twice") == 0 && ovl_buf_put_bytes(f, d, OVL_FRAME_HDR + 8) != OVL_OK)
            abort();
    }
    /* A COUNT appended to a party's first OT frame: to a non-receiver (from
     * the runner) or before the share phase ended (from the contributor). */
    if (type == OVL_CPSI_OT && pl[0] == 0x01 && ((side == 0 && strcmp(w, "count_to_c") == 0) ||
                                                 (side == 1 && strcmp(w, "count_early") == 0))) {
        static const uint8_t cf[OVL_FRAME_HDR + 8] = {OVL_CPSI_COUNT, 0, 0, 0, 8};
        if (ovl_buf_put_bytes(f, cf, sizeof cf) != OVL_OK)
            abort();
    }
    if (side == 1 && type == OVL_CPSI_OKVS) {
        int k = t->okvs++;
        if (strcmp(w, "okvs_truncated") == 0 && k == t->last_okvs)
            *drop = true;
        if (strcmp(w, "okvs_oversized") == 0 && k == t->last_okvs) {
            if (ovl_buf_put_u64(f, 0) != OVL_OK)
                abort();
            put32(f->data + 1, len + 8);
        }
        if (strcmp(w, "okvs_reshaped") == 0 && k == 0)
            pl[16 + 3] ^= 3; /* the rows field */
    }
}

static void test_hostile_peers(void)
{
    static const struct {
        const char *what;
        int side; /* the side that must fail: 0 runner, 1 contributor */
        ovl_err code;
        const char *detail;
    } cases[] = {
        {"u_extra", 1, OVL_ERR_MALFORMED, "OPRF_U for bins 0.. carries"},
        {"u_twice", 1, OVL_ERR_PROTOCOL, "the runner sent OPRF_U beyond its 120 bins"},
        {"u_wrong_seq", 1, OVL_ERR_PROTOCOL, "WIDE_U for batch 1, expected batch 0"},
        {"seed_dropped", 1, OVL_ERR_PROTOCOL, "OPRF_BASE arrived before SEED"},
        {"base_twice", 1, OVL_ERR_PROTOCOL, "a second OPRF_BASE"},
        {"rbase_dropped", 1, OVL_ERR_PROTOCOL, "OPRF_U arrived before the runner's OPRF_BASE"},
        {"base_short", 0, OVL_ERR_MALFORMED, "OPRF_BASE of 32899 bytes, expected 32900"},
        {"base_as_okvs", 0, OVL_ERR_PROTOCOL, "OKVS arrived before the contributor's OPRF_BASE"},
        {"okvs_truncated", 0, OVL_ERR_PROTOCOL, "before the key-value store was complete"},
        {"okvs_oversized", 0, OVL_ERR_PROTOCOL, "oversized key-value store"},
        {"okvs_reshaped", 0, OVL_ERR_PROTOCOL, "okvs: table of"},
        {"count_wrong", 0, OVL_ERR_PROTOCOL, "more than min(n, m) = 20"},
        {"count_short", 0, OVL_ERR_MALFORMED, ""},
        {"count_twice", 0, OVL_ERR_PROTOCOL, "a second COUNT"},
        {"count_early", 0, OVL_ERR_PROTOCOL, "COUNT arrived before the share phase ended"},
        {"count_to_c", 1, OVL_ERR_PROTOCOL, "COUNT to a party that receives no count"},
    };
    cf_set rs, cs;
    make_set(&rs, 0, 30, 0);
    make_set(&cs, 20, 20, 1);
    /* OKVS frames for 3·20 keys of 2 words: one slice */
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        tamper_ctx t = {.what = cases[i].what, .last_okvs = 0};
        cf_run x;
        uint64_t n;
        ovl_cpsi_shares sh;
        /* the COUNT cases: the runner (listener) alone receives */
        ovl_reveal rv = strncmp(cases[i].what, "count_", 6) == 0 ? OVL_REVEAL_LISTENER
                                                                 : OVL_REVEAL_BOTH;
        bool ok = run_pair(&x, &rs, &cs, OVL_MODE_CARDINALITY, rv, 0, false, tamper, &t);
        hx_side *bad = &x.side[cases[i].side];
        OVL_T_RECORD(!ok && bad->rc == cases[i].code && strstr(bad->detail, cases[i].detail),
                     "%s: side %d ended with %s \"%s\"", cases[i].what, cases[i].side,
                     ovl_err_name(bad->rc), bad->detail);
        /* a wrong final COUNT fails the runner after the contributor, which
         * receives nothing, has sent its last frame: only the runner's
         * output is at stake then */
        bool c_finished = rv == OVL_REVEAL_LISTENER && cases[i].side == 0 &&
                          ovl_cpsi_ops.done(x.c);
        EXPECT_ERR(OVL_ERR_USAGE, ovl_cpsi_result(x.r, &sh));
        if (!c_finished)
            EXPECT_ERR(OVL_ERR_USAGE, ovl_cpsi_result(x.c, &sh));
        EXPECT_ERR(OVL_ERR_USAGE, ovl_cpsi_count(x.r, &n));
        EXPECT_ERR(OVL_ERR_USAGE, ovl_cpsi_count(x.c, &n));
        cf_run_free(&x);
    }
    /* The parties disagree on the payload width: refused before any OPRF work. */
    {
        ovl_cpsi_config a = config(&rs, true, OVL_ROLE_LISTENER, OVL_MODE_AGGREGATE,
                                   OVL_REVEAL_BOTH, 2);
        ovl_cpsi_config b = config(&cs, false, OVL_ROLE_CONNECTOR, OVL_MODE_AGGREGATE,
                                   OVL_REVEAL_BOTH, 1);
        cf_run x;
        memset(&x, 0, sizeof x);
        EXPECT_OK(ovl_cpsi_new(&x.r, &a));
        EXPECT_OK(ovl_cpsi_new(&x.c, &b));
        hx_init(&x.side[0], &ovl_cpsi_ops, x.r);
        hx_init(&x.side[1], &ovl_cpsi_ops, x.c);
        hx_run(&x.side[0], &x.side[1], NULL, NULL);
        EXPECT_EQ(x.side[1].rc, OVL_ERR_POLICY);
        EXPECT_TRUE(strstr(x.side[1].detail, "payload words") != NULL);
        /* the contributor sent its HELLO and nothing else */
        const uint8_t *h = x.side[1].log.data;
        EXPECT_TRUE(h[0] == OVL_HELLO_TYPE &&
                    x.side[1].log.wpos == OVL_FRAME_HDR + get32(h + 1));
        cf_run_free(&x);
    }
    /* A runner that sends a row off its codeword gets a wrong OPRF value for
     * that bin (unless the key's bit there is 0): it learns a count at most
     * one lower, never which bins matched. */
    tamper_ctx t = {.what = "u_flip"};
    cf_run x;
    uint64_t n = 0;
    EXPECT_TRUE(run_pair(&x, &rs, &cs, OVL_MODE_CARDINALITY, OVL_REVEAL_BOTH, 0, false, tamper,
                         &t));
    EXPECT_OK(ovl_cpsi_count(x.r, &n));
    EXPECT_TRUE(n == 10u || n == 9u);
    cf_run_free(&x);
    cf_set_free(&rs);
    cf_set_free(&cs);
}

/* Both parties send bulk at once in the share phase (each is COT receiver of
 * one direction and sender of the other). Over a transport that holds little,
 * neither may stop reading while it still has bulk to send, or both wait on
 * each other: at 2^20 identifiers two processes did. The queue mark is scaled
 * down so that 2^13 identifiers with 64 words press on it as 2^20 did. */
static void test_flow_control_both_directions(void)
{
    cf_set rs, cs;
    make_set(&rs, 0, 8192, 0);
    make_set(&cs, 4096, 8192, 64); /* 4096 in common */
    for (int r_connects = 0; r_connects < 2; r_connects++) {
        ovl_role rr = r_connects ? OVL_ROLE_CONNECTOR : OVL_ROLE_LISTENER;
        ovl_role cr = r_connects ? OVL_ROLE_LISTENER : OVL_ROLE_CONNECTOR;
        ovl_cpsi_config a = config(&rs, true, rr, OVL_MODE_AGGREGATE, OVL_REVEAL_BOTH, 64);
        ovl_cpsi_config b = config(&cs, false, cr, OVL_MODE_AGGREGATE, OVL_REVEAL_BOTH, 64);
        a.test_queue_mark = b.test_queue_mark = (size_t)4 << 20;
        cf_run x;
        memset(&x, 0, sizeof x);
        EXPECT_OK(ovl_cpsi_new(&x.r, &a));
        EXPECT_OK(ovl_cpsi_new(&x.c, &b));
        if (x.r == NULL || x.c == NULL)
            break;
        hx_init(&x.side[r_connects ? 1 : 0], &ovl_cpsi_ops, x.r);
        hx_init(&x.side[r_connects ? 0 : 1], &ovl_cpsi_ops, x.c);
        hx_run_bounded(&x.side[0], &x.side[1], (size_t)64 << 10, (size_t)128 << 10);
        bool done = x.side[0].rc == OVL_OK && x.side[1].rc == OVL_OK &&
                    ovl_cpsi_ops.done(x.r) && ovl_cpsi_ops.done(x.c);
        OVL_T_RECORD(done, "the run stalled or failed over a bounded transport (%s | %s)",
                     x.side[0].detail, x.side[1].detail);
        if (done)
            EXPECT_EQ(check_shares(&x, &rs, &cs, 64, false), 4096u);
        cf_run_free(&x);
    }
    /* the mark is a test's knob with a floor: below a frame and the pumps'
     * mark the engine could not keep reading */
    ovl_cpsi_config c = config(&rs, true, OVL_ROLE_LISTENER, OVL_MODE_AGGREGATE,
                               OVL_REVEAL_BOTH, 64);
    c.test_queue_mark = (size_t)1 << 20;
    ovl_cpsi *e = NULL;
    EXPECT_ERR(OVL_ERR_USAGE, ovl_cpsi_new(&e, &c));
    ovl_cpsi_free(e);
    cf_set_free(&rs);
    cf_set_free(&cs);
}

/* What the runner sees of the contributor's spare entries (SPEC.md §6.1):
 * when two cuckoo functions of y give the bin y sits in at R, the later
 * entry's key must not be one R can derive from its own OPRF value there,
 * or decoding it beside the bin's own key would tell R whether y ∈ Y
 * (both decode to the bin's check value exactly when the entry exists). */
typedef struct {
    cf_run *x;
    uint8_t (*f)[OVL_OPRF_OUT]; /* R's OPRF values, copied when the store starts */
    ovl_buf store;
} spare_ctx;

static void spare_hook(void *arg, int side, ovl_buf *fr, bool *drop)
{
    spare_ctx *s = arg;
    const ovl_cpsi *r = s->x->r;
    (void)drop;
    if (side != 1 || fr->data[0] != OVL_CPSI_OKVS)
        return;
    if (s->f == NULL) {
        s->f = malloc((size_t)r->bins * OVL_OPRF_OUT);
        if (s->f == NULL)
            abort();
        memcpy(s->f, r->fval, (size_t)r->bins * OVL_OPRF_OUT);
    }
    if (ovl_buf_put_bytes(&s->store, fr->data + OVL_FRAME_HDR, get32(fr->data + 1)) != OVL_OK)
        abort();
}

/* R's check value decoded under f (store word 0 minus its pad). */
static uint64_t spare_check(const ovl_okvs_view *v, const uint8_t f[OVL_OPRF_OUT], uint32_t sw)
{
    ovl_block key;
    uint64_t pads[4] = {0}, dec[4] = {0};
    EXPECT_OK(cpsi_derive(f, &key, pads, sw));
    EXPECT_OK(ovl_okvs_view_decode(v, dec, &key, 1));
    return dec[0] ^ pads[0];
}

static void test_spare_entry_hidden(void)
{
    size_t tested = 0;
    for (size_t k = 0; k < 32 && tested == 0; k++) {
        cf_set rs, cs;
        make_set(&rs, k, 1, 1);
        make_set(&cs, k, 1, 1); /* the runner's one identifier is in Y */
        cf_run x;
        spare_ctx s = {.x = &x};
        if (ovl_buf_alloc(&s.store, 1024, (size_t)1 << 24) != OVL_OK)
            abort();
        EXPECT_TRUE(run_pair(&x, &rs, &cs, OVL_MODE_AGGREGATE, OVL_REVEAL_BOTH, 1, false,
                             spare_hook, &s));
        const ovl_cpsi *r = x.r;
        ovl_okvs_view v;
        EXPECT_TRUE(s.f != NULL);
        EXPECT_OK(ovl_okvs_view_init(&v, s.store.data, ovl_buf_len(&s.store), 3, r->sw));
        const uint32_t *cand = r->ck.cand;
        uint32_t b = cand[r->ck.func[0]];
        unsigned first = 0;
        while (cand[first] != b)
            first++;
        for (unsigned j = first + 1; s.f != NULL && j < OVL_CUCKOO_HASHES; j++) {
            if (cand[j] != b)
                continue;
            uint8_t in[OVL_OPRF_OUT + 1], f2[OVL_OPRF_OUT];
            memcpy(in, s.f[b], OVL_OPRF_OUT);
            in[OVL_OPRF_OUT] = (uint8_t)j;
            crypto_generichash(f2, sizeof f2, in, sizeof in, NULL, 0);
            uint64_t own = spare_check(&v, s.f[b], r->sw), spare = spare_check(&v, f2, r->sw);
            OVL_T_RECORD(own != spare, "identifier user-%zu: R decodes the spare entry of "
                         "function %u in bin %u to its bin's check value (membership seen)",
                         k, j, b);
            tested++;
        }
        free(s.f);
        ovl_buf_free(&s.store);
        cf_run_free(&x);
        cf_set_free(&rs);
        cf_set_free(&cs);
    }
    EXPECT_TRUE(tested > 0);
}

/* The OPRF's frames (OPRF_BASE both ways, the runner's OPRF_U) weigh what
 * ovl_cpsi_oprf_bytes says (SPEC.md §11), at one frame and at two. */
static size_t oprf_frame_bytes(const hx_side *s)
{
    size_t at = 0, sum = 0;
    while (at + OVL_FRAME_HDR <= ovl_buf_len(&s->log)) {
        const uint8_t *h = s->log.data + at;
        size_t fl = OVL_FRAME_HDR + get32(h + 1);
        if (h[0] == OVL_CPSI_OPRF_BASE || h[0] == OVL_CPSI_OPRF_U)
            sum += fl;
        at += fl;
    }
    return sum;
}

static void test_oprf_bytes(void)
{
    static const size_t sizes[] = {5, 13000};
    for (size_t z = 0; z < sizeof sizes / sizeof *sizes; z++) {
        cf_set rs, cs;
        make_set(&rs, 0, sizes[z], 0);
        make_set(&cs, 0, 3, 1);
        cf_run x;
        EXPECT_TRUE(run_pair(&x, &rs, &cs, OVL_MODE_AGGREGATE, OVL_REVEAL_BOTH, 1, false, NULL,
                             NULL));
        EXPECT_EQ((uint64_t)(oprf_frame_bytes(&x.side[0]) + oprf_frame_bytes(&x.side[1])),
                  ovl_cpsi_oprf_bytes(sizes[z]));
        cf_run_free(&x);
        cf_set_free(&rs);
        cf_set_free(&cs);
    }
}

int main(void)
{
    if (ovl_crypto_init() != OVL_OK)
        return 1;
    RUN(test_payload_shares);
    RUN(test_cardinality_receivers);
    RUN(test_cardinality_contributor_alone_refused);
    RUN(test_count_weighting_attack);
    RUN(test_garbler_inputs_folded);
    RUN(test_edge_sizes);
    RUN(test_hostile_peers);
    RUN(test_flow_control_both_directions);
    RUN(test_spare_entry_hidden);
    RUN(test_oprf_bytes);
    return ovl_t_summary("test_cpsi");
}
