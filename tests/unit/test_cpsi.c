/* Tests for circuit PSI (protocols/cpsi/): both engines in one process
 * through the two-engine harness, checked against the ideal functionality
 * (per bin: XOR shares of [bin's identifier ∈ Y], additive shares of that
 * bit × the contributor's payload; in cardinality mode the count, to the
 * receivers only), and hostile peers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpsi/cpsi.h"
#include "crypto/group.h"
#include "psi_harness.h"
#include "test.h"

static const uint8_t seed_r[32] = {1}, seed_c[32] = {2};

typedef struct {
    size_t n;
    uint8_t **ids;
    size_t *len;
    uint64_t *payload;
} set;

/* Identifiers "user-<k>" for k in [from, from + n). */
static void make_set(set *s, size_t from, size_t n, uint32_t words)
{
    s->n = n;
    s->ids = calloc(n + 1, sizeof *s->ids);
    s->len = calloc(n + 1, sizeof *s->len);
    s->payload = calloc((n + 1) * (words ? words : 1), sizeof *s->payload);
    for (size_t i = 0; i < n; i++) {
        char buf[32];
        int l = snprintf(buf, sizeof buf, "user-%zu", from + i);
        s->ids[i] = malloc((size_t)l);
        memcpy(s->ids[i], buf, (size_t)l);
        s->len[i] = (size_t)l;
        for (uint32_t w = 0; w < words; w++)
            s->payload[i * words + w] = (from + i) * 1000u + w - 7u; /* wraps for small k */
    }
}

static void free_set(set *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->ids[i]);
    free(s->ids);
    free(s->len);
    free(s->payload);
}

typedef struct {
    ovl_cpsi *r, *c;
    hx_side side[2]; /* side 0: the listener */
} run;

static ovl_cpsi_config config(const set *s, bool runner, ovl_role role, ovl_mode mode,
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
static bool run_pair(run *x, const set *rs, const set *cs, ovl_mode mode, ovl_reveal reveal,
                     uint32_t words, bool r_connects, hx_tamper t, void *arg)
{
    ovl_role rr = r_connects ? OVL_ROLE_CONNECTOR : OVL_ROLE_LISTENER;
    ovl_role cr = r_connects ? OVL_ROLE_LISTENER : OVL_ROLE_CONNECTOR;
    ovl_cpsi_config a = config(rs, true, rr, mode, reveal, words);
    ovl_cpsi_config b = config(cs, false, cr, mode, reveal, words);
    memset(x, 0, sizeof *x);
    EXPECT_OK(ovl_cpsi_new(&x->r, &a));
    EXPECT_OK(ovl_cpsi_new(&x->c, &b));
    if (x->r == NULL || x->c == NULL)
        return false;
    hx_init(&x->side[r_connects ? 1 : 0], &ovl_cpsi_ops, x->r);
    hx_init(&x->side[r_connects ? 0 : 1], &ovl_cpsi_ops, x->c);
    hx_run(&x->side[0], &x->side[1], t, arg);
    return x->side[0].rc == OVL_OK && x->side[1].rc == OVL_OK &&
           ovl_cpsi_ops.done(x->r) && ovl_cpsi_ops.done(x->c);
}

static void free_run(run *x)
{
    ovl_cpsi_free(x->r);
    ovl_cpsi_free(x->c);
    hx_free(&x->side[0]);
    hx_free(&x->side[1]);
}

/* Index of identifier in the contributor's set, or -1. */
static long find(const set *cs, const uint8_t *id, size_t len)
{
    for (size_t i = 0; i < cs->n; i++)
        if (cs->len[i] == len && memcmp(cs->ids[i], id, len) == 0)
            return (long)i;
    return -1;
}

/* Every bin against the ideal functionality; returns the matches seen. */
static size_t check_shares(const run *x, const set *rs, const set *cs, uint32_t words,
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
        long y = item == UINT32_MAX ? -1 : find(cs, rs->ids[item], rs->len[item]);
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
    set rs, cs;
    make_set(&rs, 0, 60, 0);
    make_set(&cs, 40, 50, 3); /* 20 in common */
    run x;
    EXPECT_TRUE(run_pair(&x, &rs, &cs, OVL_MODE_AGGREGATE, OVL_REVEAL_BOTH, 3, false, NULL, NULL));
    EXPECT_EQ(check_shares(&x, &rs, &cs, 3, false), 20u);
    free_run(&x);
    /* the runner on the connector side: the roles of OT and GC swap */
    EXPECT_TRUE(run_pair(&x, &rs, &cs, OVL_MODE_AGGREGATE, OVL_REVEAL_BOTH, 3, true, NULL, NULL));
    EXPECT_EQ(check_shares(&x, &rs, &cs, 3, false), 20u);
    free_run(&x);
    free_set(&rs);
    free_set(&cs);
}

static void test_cardinality_receivers(void)
{
    set rs, cs;
    make_set(&rs, 0, 33, 0);
    make_set(&cs, 20, 40, 1); /* 13 in common */
    static const ovl_reveal reveals[] = {OVL_REVEAL_BOTH, OVL_REVEAL_LISTENER,
                                         OVL_REVEAL_CONNECTOR};
    for (size_t i = 0; i < 3; i++) {
        run x;
        uint64_t n;
        EXPECT_TRUE(run_pair(&x, &rs, &cs, OVL_MODE_CARDINALITY, reveals[i], 0, false, NULL,
                             NULL));
        bool r_gets = reveals[i] != OVL_REVEAL_CONNECTOR, c_gets = reveals[i] != OVL_REVEAL_LISTENER;
        EXPECT_EQ(ovl_cpsi_receives_count(x.r), r_gets);
        EXPECT_EQ(ovl_cpsi_receives_count(x.c), c_gets);
        if (r_gets) {
            EXPECT_OK(ovl_cpsi_count(x.r, &n));
            EXPECT_EQ(n, 13u);
        } else
            EXPECT_ERR(OVL_ERR_USAGE, ovl_cpsi_count(x.r, &n));
        if (c_gets) {
            EXPECT_OK(ovl_cpsi_count(x.c, &n));
            EXPECT_EQ(n, 13u);
        } else
            EXPECT_ERR(OVL_ERR_USAGE, ovl_cpsi_count(x.c, &n));
        EXPECT_EQ(check_shares(&x, &rs, &cs, 1, true), 13u);
        free_run(&x);
    }
    free_set(&rs);
    free_set(&cs);
}

static void test_edge_sizes(void)
{
    static const size_t sizes[][3] = {{0, 0, 0}, {1, 1, 1}, {1, 0, 0}, {0, 5, 0}, {7, 1, 1}, {3, 9, 2}};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        set rs, cs;
        make_set(&rs, 0, sizes[i][0], 0);
        /* the contributor's set overlaps the runner's in its first `common` */
        make_set(&cs, sizes[i][0] - sizes[i][2], sizes[i][1], 2);
        run x;
        EXPECT_TRUE(run_pair(&x, &rs, &cs, OVL_MODE_AGGREGATE, OVL_REVEAL_BOTH, 2, false, NULL,
                             NULL));
        EXPECT_EQ(check_shares(&x, &rs, &cs, 2, false), sizes[i][2]);
        free_run(&x);
        free_set(&rs);
        free_set(&cs);
    }
}

int main(void)
{
    if (ovl_crypto_init() != OVL_OK)
        return 1;
    RUN(test_payload_shares);
    RUN(test_cardinality_receivers);
    RUN(test_edge_sizes);
    return ovl_t_summary("test_cpsi");
}
