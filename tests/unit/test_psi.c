#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/group.h"
#include "core/sort.h"
#include "psi/psi.h"
#include "psi_harness.h"
#include "test.h"

/* Identifier sets: ids[i] = SHA-256("id-<k>") for chosen integers k. */
typedef struct {
    uint8_t (*ids)[32];
    size_t n;
} idset;

static void make_ids(idset *s, const unsigned *keys, size_t n)
{
    s->ids = calloc(n ? n : 1, 32);
    s->n = n;
    for (size_t i = 0; i < n; i++) {
        char v[32];
        int len = snprintf(v, sizeof v, "id-%u", keys[i]);
        crypto_hash_sha256(s->ids[i], (const uint8_t *)v, (unsigned long long)len);
    }
    if (ovl_sort_fixed((uint8_t *)s->ids, n, 32) != OVL_OK)
        abort();
}

static void range_ids(idset *s, unsigned from, unsigned to)
{
    unsigned *k = calloc(to - from + 1, sizeof *k);
    for (unsigned i = from; i < to; i++)
        k[i - from] = i;
    make_ids(s, k, to - from);
    free(k);
}

typedef struct {
    ovl_mode mode;
    ovl_reveal reveal;
    ovl_mode mode_b;     /* connector's mode when it differs */
    ovl_reveal reveal_b; /* connector's reveal when it differs */
    bool differ;
    size_t batch;
    const uint8_t *params_b;
    uint32_t params_b_len;
    uint64_t max_peer_a;
    uint64_t expect_peer_a; /* the listener negotiated this peer set size (0: no negotiation) */
} run_cfg;

typedef struct {
    ovl_psi *a, *b;
    hx_side sa, sb;
} pair;

static void pair_new(pair *p, const idset *x, const idset *y, const run_cfg *rc, const uint8_t *seed)
{
    ovl_psi_config ca = {
        .role = OVL_ROLE_LISTENER,
        .mode = rc->mode,
        .reveal = rc->reveal,
        .group = ovl_group_default(),
        .ids = (const uint8_t(*)[32])x->ids,
        .nids = x->n,
        .batch = rc->batch,
        .max_peer_set = rc->max_peer_a,
        .expect_peer_set = rc->expect_peer_a != 0,
        .peer_set_expected = rc->expect_peer_a,
        .test_seed = seed,
    };
    ovl_psi_config cb = ca;
    cb.expect_peer_set = false;
    cb.role = OVL_ROLE_CONNECTOR;
    cb.ids = (const uint8_t(*)[32])y->ids;
    cb.nids = y->n;
    cb.max_peer_set = 0;
    cb.params = rc->params_b;
    cb.params_len = rc->params_b_len;
    if (rc->differ) {
        cb.mode = rc->mode_b;
        cb.reveal = rc->reveal_b;
    }
    uint8_t seed_b[32];
    if (seed) {
        memcpy(seed_b, seed, 32);
        seed_b[0] ^= 0xff;
        cb.test_seed = seed_b;
    }
    EXPECT_OK(ovl_psi_new(&p->a, &ca));
    EXPECT_OK(ovl_psi_new(&p->b, &cb));
    hx_init(&p->sa, &ovl_psi_ops, p->a);
    hx_init(&p->sb, &ovl_psi_ops, p->b);
}

static void pair_free(pair *p)
{
    ovl_psi_free(p->a);
    ovl_psi_free(p->b);
    hx_free(&p->sa);
    hx_free(&p->sb);
}

static bool in_set(const idset *s, const uint8_t *id)
{
    return ovl_search_fixed((const uint8_t *)s->ids, s->n, 32, id) != SIZE_MAX;
}

/* Checks one party's result against the plain intersection. */
static void check_party(ovl_psi *e, const idset *own, const idset *other, ovl_mode mode, bool gets)
{
    const bool *matched = NULL;
    uint64_t count = 0;
    EXPECT_EQ(ovl_psi_receives_output(e), gets);
    if (!gets) {
        ovl_err r = ovl_psi_result(e, &matched, &count);
        EXPECT_EQ(r, OVL_ERR_POLICY);
        return;
    }
    EXPECT_OK(ovl_psi_result(e, &matched, &count));
    uint64_t want = 0;
    for (size_t i = 0; i < own->n; i++) {
        bool in = in_set(other, own->ids[i]);
        want += in;
        if (mode == OVL_MODE_INTERSECTION && matched != NULL && matched[i] != in) {
            EXPECT_TRUE(matched[i] == in);
            break;
        }
    }
    EXPECT_EQ(count, want);
    EXPECT_TRUE(matched != NULL);
}

static void run_case(size_t nx, size_t ny, size_t overlap, ovl_mode mode, ovl_reveal reveal,
                     size_t batch)
{
    idset x, y;
    range_ids(&x, 0, (unsigned)nx);
    range_ids(&y, (unsigned)(nx - overlap), (unsigned)(nx - overlap + ny));
    run_cfg rc = {.mode = mode, .reveal = reveal, .batch = batch};
    pair p;
    pair_new(&p, &x, &y, &rc, NULL);
    hx_run(&p.sa, &p.sb, NULL, NULL);
    EXPECT_OK(p.sa.rc);
    EXPECT_OK(p.sb.rc);
    EXPECT_TRUE(ovl_psi_ops.done(p.a) && ovl_psi_ops.done(p.b));
    if (p.sa.rc == OVL_OK && p.sb.rc == OVL_OK) {
        check_party(p.a, &x, &y, mode, reveal != OVL_REVEAL_CONNECTOR);
        check_party(p.b, &y, &x, mode, reveal != OVL_REVEAL_LISTENER);
        EXPECT_EQ(ovl_psi_peer_set_size(p.a), ny);
        EXPECT_EQ(ovl_psi_peer_set_size(p.b), nx);
        EXPECT_BYTES_EQ(ovl_psi_transcript(p.a), ovl_psi_transcript(p.b), 64);
    }
    pair_free(&p);
    free(x.ids);
    free(y.ids);
}

static void intersections_all_modes(void)
{
    static const ovl_reveal reveals[] = {OVL_REVEAL_BOTH, OVL_REVEAL_LISTENER, OVL_REVEAL_CONNECTOR};
    for (size_t r = 0; r < 3; r++) {
        run_case(300, 200, 50, OVL_MODE_INTERSECTION, reveals[r], 64);
    }
    run_case(0, 0, 0, OVL_MODE_INTERSECTION, OVL_REVEAL_BOTH, 0);
    run_case(0, 5, 0, OVL_MODE_INTERSECTION, OVL_REVEAL_BOTH, 0);
    run_case(7, 0, 0, OVL_MODE_INTERSECTION, OVL_REVEAL_BOTH, 0);
    run_case(1, 1, 1, OVL_MODE_INTERSECTION, OVL_REVEAL_BOTH, 0);
    run_case(1, 1, 0, OVL_MODE_INTERSECTION, OVL_REVEAL_BOTH, 0);
    run_case(100, 100, 100, OVL_MODE_INTERSECTION, OVL_REVEAL_BOTH, 7);
    run_case(5000, 3000, 1500, OVL_MODE_INTERSECTION, OVL_REVEAL_BOTH, 0);
    /* More batches than the engine's ring holds, to exercise flow control. */
    run_case(2000, 2000, 1000, OVL_MODE_INTERSECTION, OVL_REVEAL_LISTENER, 16);
    run_case(2000, 2000, 1000, OVL_MODE_INTERSECTION, OVL_REVEAL_CONNECTOR, 16);
}

static void tag_length_rule(void)
{
    EXPECT_EQ(ovl_psi_tag_len_for(0, 0), 5);
    EXPECT_EQ(ovl_psi_tag_len_for(1, 1), 5);
    EXPECT_EQ(ovl_psi_tag_len_for(1u << 20, 1u << 20), 10);
    EXPECT_EQ(ovl_psi_tag_len_for((1u << 20) + 1, 1u << 20), 11);
    EXPECT_EQ(ovl_psi_tag_len_for(1ull << 40, 1ull << 40), 15);
}

static void expect_refused(const run_cfg *rc, ovl_err want_a, const char *needle)
{
    idset x, y;
    range_ids(&x, 0, 10);
    range_ids(&y, 5, 15);
    pair p;
    pair_new(&p, &x, &y, rc, NULL);
    hx_run(&p.sa, &p.sb, NULL, NULL);
    EXPECT_EQ(p.sa.rc, want_a);
    EXPECT_TRUE(strstr(p.sa.detail, needle) != NULL);
    if (strstr(p.sa.detail, needle) == NULL)
        fprintf(stderr, "    detail was: %s\n", p.sa.detail);
    /* Nothing but HELLO may have flowed in either direction. */
    EXPECT_EQ(p.sb.log.wpos, p.sb.log.data[0] == OVL_HELLO_TYPE ? p.sb.log.wpos : 0);
    EXPECT_TRUE(memchr(p.sa.log.data, OVL_PSI_ELEMENTS, 1) == NULL);
    pair_free(&p);
    free(x.ids);
    free(y.ids);
}

static void setup_mismatches_refused(void)
{
    /* (a mode mismatch in HELLO is the common layer's test: this engine runs
     * one mode, and refuses cardinality outright) */
    ovl_psi *e = NULL;
    ovl_psi_config card = {.role = OVL_ROLE_LISTENER, .mode = OVL_MODE_CARDINALITY,
                           .group = ovl_group_default()};
    EXPECT_ERR(OVL_ERR_USAGE, ovl_psi_new(&e, &card));
    EXPECT_TRUE(e == NULL && strstr(ovl_err_detail(), "circuit PSI") != NULL);
    run_cfg rc = {.mode = OVL_MODE_INTERSECTION, .reveal = OVL_REVEAL_BOTH, .differ = true,
                  .mode_b = OVL_MODE_INTERSECTION, .reveal_b = OVL_REVEAL_LISTENER};
    expect_refused(&rc, OVL_ERR_POLICY, "reveal mismatch");
    run_cfg rp = {.mode = OVL_MODE_INTERSECTION, .params_b = (const uint8_t *)"x", .params_b_len = 1};
    expect_refused(&rp, OVL_ERR_POLICY, "different analyses: listener '', connector 'x'");
    run_cfg cap = {.mode = OVL_MODE_INTERSECTION, .max_peer_a = 9};
    expect_refused(&cap, OVL_ERR_LIMIT, "over this party's cap");
    /* The connector holds 10 identifiers but negotiated 9. */
    run_cfg neg = {.mode = OVL_MODE_INTERSECTION, .expect_peer_a = 9};
    expect_refused(&neg, OVL_ERR_PROTOCOL, "announced 10 identifiers after negotiating 9");
    idset x, y;
    range_ids(&x, 0, 10);
    range_ids(&y, 5, 15);
    pair p;
    neg.expect_peer_a = 10;
    pair_new(&p, &x, &y, &neg, NULL);
    hx_run(&p.sa, &p.sb, NULL, NULL);
    EXPECT_OK(p.sa.rc);
    EXPECT_OK(p.sb.rc);
    pair_free(&p);
    free(x.ids);
    free(y.ids);
}

/* ---- hostile peers: the connector's frames are rewritten in flight ---- */

typedef struct {
    int what;
    bool done_once;
    ovl_buf replay;
} tamper_ctx;

enum {
    T_IDENTITY = 1,
    T_NONCANON,
    T_DUP,
    T_EXTRA,
    T_DROP_LAST,
    T_BAD_TYPE,
    T_VERSION,
    T_SUITE,
    T_BIG_COUNT,
    T_EARLY_FINISH,
    T_TRAILING
};

static void tamper(void *arg, int side, ovl_buf *f, bool *drop)
{
    tamper_ctx *t = arg;
    if (side != 1)
        return;
    uint8_t type = f->data[0];
    uint8_t *pl = f->data + OVL_FRAME_HDR;
    size_t plen = f->wpos - OVL_FRAME_HDR;
    switch (t->what) {
    case T_IDENTITY:
        if (type == OVL_PSI_ELEMENTS && !t->done_once) {
            memset(pl + 4, 0, 32);
            t->done_once = true;
        }
        break;
    case T_NONCANON:
        if (type == OVL_PSI_ELEMENTS && !t->done_once) {
            pl[4 + 31] |= 0x80;
            t->done_once = true;
        }
        break;
    case T_DUP:
        if (type == OVL_PSI_ELEMENTS && !t->done_once && plen >= 4 + 64) {
            memcpy(pl + 4 + 32, pl + 4, 32);
            t->done_once = true;
        }
        break;
    case T_EXTRA:
        if (type == OVL_PSI_ELEMENTS && !t->done_once) {
            if (ovl_buf_put_bytes(f, pl + 4, 32) != OVL_OK)
                abort();
            pl = f->data + OVL_FRAME_HDR;
            uint32_t c = (uint32_t)pl[0] << 24 | (uint32_t)pl[1] << 16 | (uint32_t)pl[2] << 8 | pl[3];
            c++;
            pl[0] = (uint8_t)(c >> 24), pl[1] = (uint8_t)(c >> 16), pl[2] = (uint8_t)(c >> 8);
            pl[3] = (uint8_t)c;
            size_t len = f->wpos - OVL_FRAME_HDR;
            f->data[1] = (uint8_t)(len >> 24), f->data[2] = (uint8_t)(len >> 16);
            f->data[3] = (uint8_t)(len >> 8), f->data[4] = (uint8_t)len;
            t->done_once = true;
        }
        break;
    case T_DROP_LAST:
        if (type == OVL_PSI_ELEMENTS && !t->done_once) {
            *drop = true;
            t->done_once = true;
        }
        break;
    case T_BAD_TYPE:
        if (type == OVL_PSI_ELEMENTS)
            f->data[0] = 0x42;
        break;
    case T_VERSION:
        if (type == OVL_HELLO_TYPE)
            pl[5] = 2;
        break;
    case T_SUITE:
        if (type == OVL_HELLO_TYPE)
            pl[7] = 2;
        break;
    case T_BIG_COUNT:
        if (type == OVL_PSI_ELEMENTS) {
            pl[0] = 0xff;
        }
        break;
    case T_EARLY_FINISH:
        if (type == OVL_PSI_ELEMENTS) {
            f->data[0] = OVL_PSI_FINISH;
            f->wpos = OVL_FRAME_HDR;
            memset(f->data + 1, 0, 4);
        }
        break;
    case T_TRAILING:
        if (type == OVL_HELLO_TYPE) {
            if (ovl_buf_put_u8(f, 0) != OVL_OK)
                abort();
            size_t len = f->wpos - OVL_FRAME_HDR;
            f->data[1] = (uint8_t)(len >> 24), f->data[2] = (uint8_t)(len >> 16);
            f->data[3] = (uint8_t)(len >> 8), f->data[4] = (uint8_t)len;
        }
        break;
    }
}

static void expect_hostile(int what, ovl_err want, const char *needle)
{
    idset x, y;
    range_ids(&x, 0, 40);
    range_ids(&y, 20, 60);
    run_cfg rc = {.mode = OVL_MODE_INTERSECTION, .reveal = OVL_REVEAL_BOTH, .batch = 16};
    pair p;
    pair_new(&p, &x, &y, &rc, NULL);
    tamper_ctx t = {.what = what};
    hx_run(&p.sa, &p.sb, tamper, &t);
    EXPECT_EQ(p.sa.rc, want);
    EXPECT_TRUE(!ovl_psi_ops.done(p.a));
    if (strstr(p.sa.detail, needle) == NULL) {
        EXPECT_TRUE(strstr(p.sa.detail, needle) != NULL);
        fprintf(stderr, "    case %d detail was: %s\n", what, p.sa.detail);
    }
    pair_free(&p);
    free(x.ids);
    free(y.ids);
}

static void hostile_peers_rejected(void)
{
    expect_hostile(T_IDENTITY, OVL_ERR_PROTOCOL, "invalid group element");
    expect_hostile(T_NONCANON, OVL_ERR_PROTOCOL, "invalid group element");
    expect_hostile(T_DUP, OVL_ERR_PROTOCOL, "same element twice");
    expect_hostile(T_EXTRA, OVL_ERR_PROTOCOL, "more elements than");
    expect_hostile(T_BAD_TYPE, OVL_ERR_PROTOCOL, "unknown frame type");
    expect_hostile(T_VERSION, OVL_ERR_PROTOCOL, "protocol version 2");
    expect_hostile(T_SUITE, OVL_ERR_POLICY, "suite mismatch");
    expect_hostile(T_BIG_COUNT, OVL_ERR_PROTOCOL, "entries");
    expect_hostile(T_EARLY_FINISH, OVL_ERR_PROTOCOL, "finished after sending");
    expect_hostile(T_TRAILING, OVL_ERR_PROTOCOL, "malformed HELLO");
}

static void dropped_frame_stalls_without_result(void)
{
    /* Fewer elements than announced: the honest side never completes (the
     * driver's timeout ends it) and has no result to give. */
    idset x, y;
    range_ids(&x, 0, 40);
    range_ids(&y, 20, 60);
    run_cfg rc = {.mode = OVL_MODE_INTERSECTION, .batch = 16};
    pair p;
    pair_new(&p, &x, &y, &rc, NULL);
    tamper_ctx t = {.what = T_DROP_LAST};
    hx_run(&p.sa, &p.sb, tamper, &t);
    EXPECT_TRUE(!ovl_psi_ops.done(p.a));
    const bool *m;
    uint64_t c;
    ovl_err r = ovl_psi_result(p.a, &m, &c);
    EXPECT_EQ(r, OVL_ERR_INTERNAL);
    pair_free(&p);
    free(x.ids);
    free(y.ids);
}

static bool contains(const ovl_buf *b, const uint8_t *needle, size_t n)
{
    for (size_t i = 0; i + n <= b->wpos; i++)
        if (memcmp(b->data + i, needle, n) == 0)
            return true;
    return false;
}

static void transcript_hides_identifiers(void)
{
    unsigned keys[200];
    for (unsigned i = 0; i < 200; i++)
        keys[i] = i;
    idset x, y;
    make_ids(&x, keys, 150);
    make_ids(&y, keys + 50, 150);
    run_cfg rc = {.mode = OVL_MODE_INTERSECTION, .reveal = OVL_REVEAL_BOTH};
    pair p;
    pair_new(&p, &x, &y, &rc, NULL);
    hx_run(&p.sa, &p.sb, NULL, NULL);
    EXPECT_OK(p.sa.rc);
    bool leak = false;
    for (unsigned i = 0; i < 200; i++) {
        char v[32];
        int len = snprintf(v, sizeof v, "id-%u", i);
        uint8_t id[32];
        crypto_hash_sha256(id, (const uint8_t *)v, (unsigned long long)len);
        /* Neither the value, nor its hash, nor an 8-byte prefix of the hash. */
        leak |= contains(&p.sa.log, (const uint8_t *)v, (size_t)len) && len > 5;
        leak |= contains(&p.sb.log, (const uint8_t *)v, (size_t)len) && len > 5;
        leak |= contains(&p.sa.log, id, 8) || contains(&p.sb.log, id, 8);
    }
    EXPECT_TRUE(!leak);
    EXPECT_TRUE(p.sa.log.wpos > 150 * 32);
    pair_free(&p);
    free(x.ids);
    free(y.ids);
}

static void seeded_runs_are_reproducible(void)
{
    idset x, y;
    range_ids(&x, 0, 30);
    range_ids(&y, 10, 50);
    uint8_t seed[32] = {1, 2, 3};
    run_cfg rc = {.mode = OVL_MODE_INTERSECTION};
    pair p, q;
    pair_new(&p, &x, &y, &rc, seed);
    pair_new(&q, &x, &y, &rc, seed);
    hx_run(&p.sa, &p.sb, NULL, NULL);
    hx_run(&q.sa, &q.sb, NULL, NULL);
    EXPECT_EQ(p.sa.log.wpos, q.sa.log.wpos);
    EXPECT_BYTES_EQ(p.sa.log.data, q.sa.log.data, p.sa.log.wpos);
    /* Unseeded runs use fresh scalars: the blinded elements differ. */
    pair r;
    pair_new(&r, &x, &y, &rc, NULL);
    hx_run(&r.sa, &r.sb, NULL, NULL);
    EXPECT_TRUE(r.sa.log.wpos == p.sa.log.wpos &&
                memcmp(r.sa.log.data + 100, p.sa.log.data + 100, p.sa.log.wpos - 100) != 0);
    pair_free(&p);
    pair_free(&q);
    pair_free(&r);
    free(x.ids);
    free(y.ids);
}

int main(void)
{
    if (ovl_crypto_init() != OVL_OK)
        return 1;
    RUN(tag_length_rule);
    RUN(intersections_all_modes);
    RUN(setup_mismatches_refused);
    RUN(hostile_peers_rejected);
    RUN(dropped_frame_stalls_without_result);
    RUN(transcript_hides_identifiers);
    RUN(seeded_runs_are_reproducible);
    return ovl_t_summary("test_psi");
}
