/* Multi-party PSI (protocols/mpsi/SPEC.md) with 3, 5 and 10 members in one
 * process against a plain oracle, and hostile members. */
#include <sodium.h>

#include "test.h"
#include "mpsi_harness.h"
#include "mpsi_peer.h"

#define MAXN 64

typedef struct {
    unsigned k;
    ovl_mode mode;
    ovl_reveal reveal;
    size_t n[OVL_MPSI_MAX_MEMBERS];
    uint8_t ids[OVL_MPSI_MAX_MEMBERS][MAXN][32];
    uint8_t pk[OVL_MPSI_MAX_MEMBERS][32], sk[OVL_MPSI_MAX_MEMBERS][64];
    uint8_t rogue_sk[64];
    uint64_t sizes[OVL_MPSI_MAX_MEMBERS];  /* what every member is told */
    int rogue;                             /* member whose KEY is signed by an unlisted key */
    mx_member ms[OVL_MPSI_MAX_MEMBERS];
} world;

static void ident(uint8_t out[32], unsigned v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    crypto_hash_sha256(out, b, 4);
}

/* Identifier v is held by member i when bit i of (v's pattern) is set: the
 * universe holds every pattern, so every partial intersection is non-empty
 * and larger than the full one (which a pairwise leak would show). */
static void world_init(world *w, unsigned k, ovl_mode mode, ovl_reveal reveal)
{
    memset(w, 0, sizeof *w);
    w->k = k;
    w->mode = mode;
    w->reveal = reveal;
    w->rogue = -1;
    for (unsigned i = 0; i < k; i++) {
        uint8_t seed[32] = {(uint8_t)(i + 1)};
        crypto_sign_seed_keypair(w->pk[i], w->sk[i], seed);
    }
    uint8_t rs[32] = {0xee};
    uint8_t rpk[32];
    crypto_sign_seed_keypair(rpk, w->rogue_sk, rs);
    for (unsigned v = 1; v < 400; v++) {
        uint32_t h = (v * 2654435761u) >> 7;
        for (unsigned i = 0; i < k; i++) {
            bool in = (v % 7 == 0) || ((h >> i) & 1u) || (v % 5 == 0 && i != (v / 5) % k);
            if (in && w->n[i] < MAXN)
                ident(w->ids[i][w->n[i]++], v);
        }
    }
    for (unsigned i = 0; i < k; i++)
        w->sizes[i] = w->n[i];
}

static bool held_by(const world *w, unsigned i, const uint8_t id[32])
{
    for (size_t a = 0; a < w->n[i]; a++)
        if (memcmp(w->ids[i][a], id, 32) == 0)
            return true;
    return false;
}

static bool in_all(const world *w, const uint8_t id[32])
{
    for (unsigned i = 0; i < w->k; i++)
        if (!held_by(w, i, id))
            return false;
    return true;
}

static void world_start(world *w)
{
    static const char *names[] = {"hub", "b", "c", "d", "e", "f", "g", "h", "i", "j"};
    uint8_t session[32], seed[32] = {7};
    memset(session, 0x5a, sizeof session);
    for (unsigned i = 0; i < w->k; i++) {
        uint64_t sizes[OVL_MPSI_MAX_MEMBERS];
        memcpy(sizes, w->sizes, sizeof sizes);
        sizes[i] = w->n[i];
        ovl_mpsi_config c = {.members = w->k, .self = i, .mode = w->mode, .reveal = w->reveal,
                             .group = ovl_group_default(),
                             .ids = (const uint8_t(*)[32])w->ids[i], .nids = w->n[i],
                             .set_sizes = sizes, .member_pk = (const uint8_t(*)[32])w->pk,
                             .names = names,
                             .sign_sk = (int)i == w->rogue ? w->rogue_sk : w->sk[i],
                             .session = session, .test_seed = seed};
        ovl_mpsi *m = NULL;
        EXPECT_OK(ovl_mpsi_new(&m, &c));
        mx_init(&w->ms[i], m);
    }
}

static void world_free(world *w)
{
    for (unsigned i = 0; i < w->k; i++)
        mx_free(&w->ms[i]);
}

static uint64_t oracle_count(const world *w)
{
    uint64_t c = 0;
    for (size_t a = 0; a < w->n[0]; a++)
        c += in_all(w, w->ids[0][a]);
    return c;
}

static void check_against_oracle(world *w)
{
    uint64_t want = oracle_count(w);
    bool any_empty = false;
    for (unsigned i = 0; i < w->k; i++)
        any_empty |= w->n[i] == 0;
    EXPECT_TRUE(want > 0 || any_empty);
    for (unsigned i = 0; i < w->k; i++) {
        const bool *matched;
        uint64_t count;
        EXPECT_EQ(w->ms[i].rc, OVL_OK);
        if (w->ms[i].rc != OVL_OK)
            fprintf(stderr, "  member %u: %s\n", i, w->ms[i].detail);
        EXPECT_TRUE(ovl_mpsi_done(w->ms[i].m));
        EXPECT_OK(ovl_mpsi_result(w->ms[i].m, &matched, &count));
        bool receives = w->mode == OVL_MODE_CARDINALITY || w->reveal == OVL_REVEAL_BOTH || i == 0;
        EXPECT_EQ(ovl_mpsi_receives(w->ms[i].m), receives);
        if (w->mode == OVL_MODE_CARDINALITY) {
            EXPECT_TRUE(matched == NULL);
            EXPECT_EQ(count, want);
        } else if (!receives) {
            EXPECT_TRUE(matched == NULL);
        } else {
            uint64_t got = 0;
            for (size_t a = 0; a < w->n[i]; a++) {
                EXPECT_EQ(matched[a], in_all(w, w->ids[i][a]));
                got += matched[a];
            }
            EXPECT_EQ(got, want);
        }
    }
}

static void run_ok(unsigned k, ovl_mode mode, ovl_reveal reveal)
{
    world *w = calloc(1, sizeof *w);
    world_init(w, k, mode, reveal);
    /* the oracle's partial intersections are larger than the full one */
    size_t pair = 0;
    for (size_t a = 0; a < w->n[0]; a++)
        pair += held_by(w, 1, w->ids[0][a]);
    EXPECT_TRUE(pair > oracle_count(w));
    world_start(w);
    mx_run(w->ms, k, NULL, NULL);
    check_against_oracle(w);
    world_free(w);
    free(w);
}

static void three_members(void)
{
    run_ok(3, OVL_MODE_INTERSECTION, OVL_REVEAL_BOTH);
    run_ok(3, OVL_MODE_INTERSECTION, OVL_REVEAL_LISTENER);
    run_ok(3, OVL_MODE_CARDINALITY, OVL_REVEAL_BOTH);
}

static void five_members(void)
{
    run_ok(5, OVL_MODE_INTERSECTION, OVL_REVEAL_BOTH);
    run_ok(5, OVL_MODE_CARDINALITY, OVL_REVEAL_LISTENER);
}

static void ten_members(void)
{
    run_ok(10, OVL_MODE_INTERSECTION, OVL_REVEAL_LISTENER);
    run_ok(10, OVL_MODE_CARDINALITY, OVL_REVEAL_BOTH);
}

/* A member with no identifiers: everyone completes and finds nothing. */
static void empty_member(void)
{
    static const ovl_mode modes[] = {OVL_MODE_INTERSECTION, OVL_MODE_CARDINALITY};
    for (unsigned e = 0; e < 3; e++) {
        for (size_t md = 0; md < 2; md++) {
            world *w = calloc(1, sizeof *w);
            world_init(w, 3, modes[md], OVL_REVEAL_BOTH);
            w->n[e] = 0;
            w->sizes[e] = 0;
            world_start(w);
            mx_run(w->ms, 3, NULL, NULL);
            EXPECT_EQ(oracle_count(w), 0u);
            check_against_oracle(w);
            world_free(w);
            free(w);
        }
    }
}

/* Nobody but the failing member holds an error; nobody holds a result. */
static void expect_no_result(world *w)
{
    for (unsigned i = 0; i < w->k; i++)
        EXPECT_TRUE(!ovl_mpsi_done(w->ms[i].m));
}

/* Every member stopped, each with a line naming the culprit. */
static void all_stopped_naming(world *w, const char *culprit)
{
    for (unsigned i = 0; i < w->k; i++) {
        EXPECT_TRUE(w->ms[i].rc != OVL_OK);
        OVL_T_RECORD(strstr(w->ms[i].detail, culprit) != NULL, "member %u: '%s' does not name %s",
                     i, w->ms[i].detail, culprit);
        EXPECT_TRUE(strchr(w->ms[i].detail, '\n') == NULL);
    }
}

static int failed_with(world *w, ovl_err code, const char *needle)
{
    int hits = 0;
    for (unsigned i = 0; i < w->k; i++)
        if (w->ms[i].rc == code && strstr(w->ms[i].detail, needle) != NULL)
            hits++;
    return hits;
}

static void unlisted_key_refused(void)
{
    world *w = calloc(1, sizeof *w);
    world_init(w, 3, OVL_MODE_INTERSECTION, OVL_REVEAL_BOTH);
    w->rogue = 2;
    world_start(w);
    mx_run(w->ms, 3, NULL, NULL);
    EXPECT_TRUE(failed_with(w, OVL_ERR_AUTH, "member 2 (c)'s KEY is not signed") >= 1);
    all_stopped_naming(w, "member 2 (c)");
    expect_no_result(w);
    world_free(w);
    free(w);
}

static void wrong_count_refused(void)
{
    world *w = calloc(1, sizeof *w);
    world_init(w, 3, OVL_MODE_INTERSECTION, OVL_REVEAL_BOTH);
    w->sizes[1] = w->n[1] - 1; /* member 1 holds one identifier more than it announced */
    world_start(w);
    mx_run(w->ms, 3, NULL, NULL);
    EXPECT_TRUE(failed_with(w, OVL_ERR_PROTOCOL, "of member 1 (b)'s set, which announced") >= 1);
    all_stopped_naming(w, "member 1 (b)");
    expect_no_result(w);
    world_free(w);
    free(w);
}

typedef struct {
    unsigned from, to, type, nth, seen;
    bool drop_all;
} tamper_spec;

static void tamper(void *arg, unsigned from, unsigned to, ovl_buf *f, bool *drop)
{
    tamper_spec *t = arg;
    if (t->drop_all && from == t->from) {
        *drop = true;
        return;
    }
    if (from == t->from && to == t->to && f->data[0] == t->type && t->seen++ == t->nth)
        f->data[f->wpos - 20] ^= 1;
}

static void relay_tampering_refused(void)
{
    world *w = calloc(1, sizeof *w);
    world_init(w, 5, OVL_MODE_INTERSECTION, OVL_REVEAL_BOTH);
    world_start(w);
    tamper_spec t = {.from = 3, .to = 4, .type = OVL_MPSI_CHAIN};
    mx_run(w->ms, 5, tamper, &t);
    EXPECT_EQ(failed_with(w, OVL_ERR_AUTH, "a frame from member 3 (d) failed authentication"), 1);
    all_stopped_naming(w, "member 3 (d)");
    expect_no_result(w);
    world_free(w);
    free(w);
}

static void tampered_table_refused(void)
{
    world *w = calloc(1, sizeof *w);
    world_init(w, 3, OVL_MODE_CARDINALITY, OVL_REVEAL_BOTH);
    world_start(w);
    tamper_spec t = {.from = 2, .to = 0, .type = OVL_MPSI_TABLE};
    mx_run(w->ms, 3, tamper, &t);
    EXPECT_EQ(failed_with(w, OVL_ERR_AUTH, "member 2 (c) failed authentication"), 1);
    all_stopped_naming(w, "member 2 (c)");
    expect_no_result(w);
    world_free(w);
    free(w);
}

static void silent_member_blocks_everyone(void)
{
    world *w = calloc(1, sizeof *w);
    world_init(w, 3, OVL_MODE_INTERSECTION, OVL_REVEAL_BOTH);
    world_start(w);
    tamper_spec t = {.from = 1, .drop_all = true};
    mx_run(w->ms, 3, tamper, &t);
    for (unsigned i = 0; i < 3; i++)
        EXPECT_EQ(w->ms[i].rc, OVL_OK);
    expect_no_result(w);
    world_free(w);
    free(w);
}

/* Member 2 is played by the test (§4 computed from the spec): its engine is
 * muted, and what it sends goes straight into the relay queues. */
typedef struct {
    uint8_t eph[3][32];
    bool seen[3];
} capture;

static void capture_keys(void *arg, unsigned from, unsigned to, ovl_buf *f, bool *drop)
{
    capture *c = arg;
    if (from == 2) {
        *drop = true;
        return;
    }
    if (to == 2 && f->data[0] == OVL_MPSI_KEY) {
        memcpy(c->eph[from], f->data + 5, 32);
        c->seen[from] = true;
    }
}

static void hostile_chain(bool duplicates)
{
    world *w = calloc(1, sizeof *w);
    world_init(w, 3, OVL_MODE_INTERSECTION, OVL_REVEAL_BOTH);
    world_start(w);
    capture cap = {0};
    mx_run(w->ms, 3, capture_keys, &cap);
    EXPECT_TRUE(cap.seen[0] && cap.seen[1]);
    uint8_t sid[32], esk[32], epk[32], kp[96], key0[32];
    memset(sid, 0x5a, sizeof sid);
    memset(esk, 0x77, sizeof esk);
    crypto_scalarmult_base(epk, esk);
    mp_key_payload(kp, sid, 2, epk, w->sk[2]);
    mp_put_frame(&w->ms[0].in[2], OVL_MPSI_KEY, kp, sizeof kp);
    mp_put_frame(&w->ms[1].in[2], OVL_MPSI_KEY, kp, sizeof kp);
    mp_pair_key(key0, sid, 2, esk, epk, 0, cap.eph[0]);
    /* duplicates: member 0's set returned (origin 0, hop 2) as n copies of one
     * valid point; else: our own chain's first batch with an invalid element */
    size_t n0 = w->n[0], blen, clen;
    uint8_t *elems = calloc(n0, 32);
    static const uint8_t base[32] = {0xe2, 0xf2, 0xae, 0x0a, 0x6a, 0xbc, 0x4e, 0x71,
                                     0xa8, 0x84, 0xa9, 0x61, 0xc5, 0x00, 0x51, 0x5f,
                                     0x58, 0xe3, 0x0b, 0x6a, 0xa5, 0x82, 0xdd, 0x8d,
                                     0xb6, 0xa6, 0x59, 0x45, 0xe0, 0x8d, 0x2d, 0x76};
    for (size_t a = 0; a < n0; a++)
        memcpy(elems + a * 32, base, 32);
    if (!duplicates)
        memset(elems, 0xff, 32);
    uint8_t *body = duplicates ? mp_chain_body(&blen, 0, 2, 0, elems, (uint32_t)n0)
                               : mp_chain_body(&blen, 2, 0, 0, elems, 1);
    uint8_t *ct = mp_seal(&clen, OVL_MPSI_CHAIN, 2, 0, 0, key0, body, blen);
    mp_put_frame(&w->ms[0].in[2], OVL_MPSI_CHAIN, ct, clen);
    mx_run(w->ms, 3, capture_keys, &cap);
    EXPECT_EQ(w->ms[0].rc, OVL_ERR_PROTOCOL);
    EXPECT_TRUE(strstr(w->ms[0].detail, duplicates ? "came back from member 2 (c) with repeated"
                                                   : "member 2 (c) sent an invalid group element") != NULL);
    all_stopped_naming(w, "member 2 (c)");
    expect_no_result(w);
    free(elems);
    free(body);
    free(ct);
    world_free(w);
    free(w);
}

static void hostile_invalid_element(void) { hostile_chain(false); }
static void hostile_returns_duplicates(void) { hostile_chain(true); }

static void cut_after(void *arg, unsigned from, unsigned to, ovl_buf *f, bool *drop)
{
    (void)to;
    (void)f;
    unsigned *sent = arg;
    if (from == 2 && (*sent)++ >= 4)
        *drop = true;
}

/* Member 2 vanishes mid-run (its chain half relayed): the hub's session sees
 * the connection close and tells the others; each stops naming member 2. */
static void disconnect_mid_run(void)
{
    world *w = calloc(1, sizeof *w);
    world_init(w, 3, OVL_MODE_INTERSECTION, OVL_REVEAL_BOTH);
    world_start(w);
    unsigned sent = 0;
    mx_run(w->ms, 3, cut_after, &sent);
    EXPECT_TRUE(sent > 4);
    for (unsigned i = 0; i < 3; i++)
        EXPECT_EQ(w->ms[i].rc, OVL_OK);
    expect_no_result(w);
    ovl_buf f;
    EXPECT_OK(ovl_buf_alloc(&f, 64, 1024));
    EXPECT_OK(ovl_frame_abort(&f, OVL_ERR_PEER_CLOSED, "member 2 (c) disconnected"));
    EXPECT_OK(ovl_buf_put_bytes(&w->ms[1].in[0], f.data, f.wpos));
    ovl_buf_free(&f);
    mx_run(w->ms, 3, cut_after, &sent);
    EXPECT_TRUE(w->ms[1].rc != OVL_OK && strstr(w->ms[1].detail, "member 2 (c) disconnected"));
    EXPECT_TRUE(!ovl_mpsi_done(w->ms[1].m));
    const bool *matched;
    uint64_t count;
    EXPECT_ERR(OVL_ERR_INTERNAL, ovl_mpsi_result(w->ms[1].m, &matched, &count));
    world_free(w);
    free(w);
}

static ovl_err route_case(const uint8_t *p, size_t len, unsigned from, unsigned *to)
{
    uint8_t type;
    ovl_buf inner;
    return ovl_mpsi_route_hub(p, len, 4, from, to, &type, &inner);
}

static void route_framing(void)
{
    ovl_buf f, w;
    unsigned to = 99;
    uint8_t type = 0;
    ovl_buf inner;
    EXPECT_OK(ovl_buf_alloc(&f, 64, 1024));
    EXPECT_OK(ovl_buf_alloc(&w, 64, 1024));
    EXPECT_OK(ovl_frame_abort(&f, OVL_ERR_PROTOCOL, "x"));
    EXPECT_OK(ovl_mpsi_route_wrap(&w, 2, f.data, f.wpos));
    const uint8_t *p = w.data + OVL_FRAME_HDR;
    size_t len = w.wpos - OVL_FRAME_HDR;
    EXPECT_EQ(w.data[0], OVL_MPSI_ROUTE);
    EXPECT_OK(route_case(p, len, 1, &to));
    EXPECT_EQ(to, 2u);
    EXPECT_OK(ovl_mpsi_route_open(p, len, 4, &to, &type, &inner));
    EXPECT_EQ(type, OVL_FRAME_ABORT);
    EXPECT_EQ(ovl_buf_remaining(&inner), f.wpos - OVL_FRAME_HDR);
    EXPECT_ERR(OVL_ERR_PROTOCOL, route_case(p, len, 2, &to)); /* to itself */
    EXPECT_ERR(OVL_ERR_PROTOCOL, ovl_mpsi_route_open(p, len, 2, &to, &type, &inner));
    EXPECT_ERR(OVL_ERR_MALFORMED, route_case(p, len - 1, 1, &to)); /* truncated */
    EXPECT_ERR(OVL_ERR_MALFORMED, route_case(p, 0, 1, &to));
    ovl_buf_clear(&w);
    EXPECT_OK(ovl_mpsi_route_wrap(&w, 0, f.data, f.wpos));
    EXPECT_ERR(OVL_ERR_PROTOCOL, route_case(w.data + 5, w.wpos - 5, 1, &to)); /* to the hub */
    ovl_buf_clear(&w);
    EXPECT_OK(ovl_mpsi_route_wrap(&w, 3, f.data, f.wpos));
    EXPECT_OK(ovl_buf_put_u8(&w, 0)); /* a trailing byte */
    EXPECT_ERR(OVL_ERR_MALFORMED, route_case(w.data + 5, w.wpos - 5, 1, &to));
    ovl_buf n;
    EXPECT_OK(ovl_buf_alloc(&n, 64, 1024));
    ovl_buf_clear(&w);
    EXPECT_OK(ovl_mpsi_route_wrap(&w, 3, f.data, f.wpos));
    EXPECT_OK(ovl_mpsi_route_wrap(&n, 2, w.data, w.wpos));
    EXPECT_ERR(OVL_ERR_PROTOCOL, route_case(n.data + 5, n.wpos - 5, 1, &to)); /* nested */
    ovl_buf_free(&n);
    ovl_buf_free(&f);
    ovl_buf_free(&w);
}

static void bad_configs_refused(void)
{
    ovl_mpsi *m = NULL;
    uint8_t session[32] = {0}, sk[64] = {0}, pk[10][32] = {{0}};
    uint64_t sizes[10] = {0};
    ovl_mpsi_config c = {.members = 2, .self = 0, .mode = OVL_MODE_INTERSECTION,
                         .group = ovl_group_default(), .set_sizes = sizes,
                         .member_pk = (const uint8_t(*)[32])pk, .sign_sk = sk,
                         .session = session};
    EXPECT_ERR(OVL_ERR_USAGE, ovl_mpsi_new(&m, &c));
    c.members = 11;
    EXPECT_ERR(OVL_ERR_USAGE, ovl_mpsi_new(&m, &c));
    c.members = 3;
    c.mode = OVL_MODE_AGGREGATE;
    EXPECT_ERR(OVL_ERR_USAGE, ovl_mpsi_new(&m, &c));
    c.mode = OVL_MODE_INTERSECTION;
    sizes[2] = (uint64_t)OVL_MPSI_MAX_SET + 1;
    EXPECT_ERR(OVL_ERR_LIMIT, ovl_mpsi_new(&m, &c));
    sizes[2] = 0;
    EXPECT_OK(ovl_mpsi_new(&m, &c));
    ovl_mpsi_free(m);
}

/* Batches split over a worker pool (ovl_mpsi_config.pool) give the same
 * run: the same results and, with seeded secrets, the same bytes. */
static void pooled_run(ovl_pool *pool, size_t n, uint64_t counts[3], uint64_t bytes[3],
                       bool *matched0)
{
    enum { K = 3 };
    static const char *names[] = {"hub", "b", "c"};
    uint8_t(*ids)[32] = malloc(K * n * 32), pk[K][32], sk[K][64], session[32] = {3};
    uint8_t seed[32] = {11};
    uint64_t sizes[OVL_MPSI_MAX_MEMBERS] = {n, n, n};
    mx_member ms[K];
    for (unsigned i = 0; i < K; i++) {
        uint8_t ks[32] = {(uint8_t)(40 + i)};
        crypto_sign_seed_keypair(pk[i], sk[i], ks);
        for (size_t a = 0; a < n; a++)
            ident(ids[i * n + a], (unsigned)(i * (n / 6) + a));
    }
    for (unsigned i = 0; i < K; i++) {
        ovl_mpsi_config c = {.members = K, .self = i, .mode = OVL_MODE_INTERSECTION,
                             .reveal = OVL_REVEAL_BOTH, .group = ovl_group_default(),
                             .ids = (const uint8_t(*)[32])(ids + i * n), .nids = n,
                             .set_sizes = sizes, .member_pk = (const uint8_t(*)[32])pk,
                             .names = names, .sign_sk = sk[i], .session = session,
                             .test_seed = seed, .pool = pool};
        ovl_mpsi *m = NULL;
        EXPECT_OK(ovl_mpsi_new(&m, &c));
        mx_init(&ms[i], m);
    }
    mx_run(ms, K, NULL, NULL);
    for (unsigned i = 0; i < K; i++) {
        const bool *matched = NULL;
        EXPECT_EQ(ms[i].rc, OVL_OK);
        EXPECT_OK(ovl_mpsi_result(ms[i].m, &matched, &counts[i]));
        bytes[i] = ovl_mpsi_bytes_sent(ms[i].m);
        if (i == 0 && matched)
            memcpy(matched0, matched, n * sizeof *matched);
        mx_free(&ms[i]);
    }
    free(ids);
}

static void pooled_batches(void)
{
    enum { N = 900 };
    ovl_pool *pool = NULL;
    uint64_t c1[3], c2[3], b1[3], b2[3];
    bool *m1 = calloc(N, sizeof *m1), *m2 = calloc(N, sizeof *m2);
    EXPECT_OK(ovl_pool_new(&pool, 3));
    pooled_run(NULL, N, c1, b1, m1);
    pooled_run(pool, N, c2, b2, m2);
    for (unsigned i = 0; i < 3; i++) {
        EXPECT_EQ(c1[i], (uint64_t)(N - 2 * (N / 6)));
        EXPECT_EQ(c2[i], c1[i]);
        EXPECT_EQ(b2[i], b1[i]);
    }
    EXPECT_TRUE(memcmp(m1, m2, N * sizeof *m1) == 0);
    ovl_pool_free(pool);
    free(m1);
    free(m2);
}

int main(void)
{
    if (ovl_crypto_init() != OVL_OK)
        return 1;
    RUN(three_members);
    RUN(pooled_batches);
    RUN(five_members);
    RUN(ten_members);
    RUN(empty_member);
    RUN(unlisted_key_refused);
    RUN(wrong_count_refused);
    RUN(relay_tampering_refused);
    RUN(tampered_table_refused);
    RUN(silent_member_blocks_everyone);
    RUN(hostile_invalid_element);
    RUN(hostile_returns_duplicates);
    RUN(disconnect_mid_run);
    RUN(route_framing);
    RUN(bad_configs_refused);
    return ovl_t_summary("test_mpsi");
}
