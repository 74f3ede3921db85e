/* The aggregate engine, two parties in one process (protocols/aggregate/SPEC.md). */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate/aggregate.h"
#include "crypto/group.h"
#include "core/sort.h"
#include "psi_harness.h"
#include "test.h"

#define MAXG 8
#define MAXV 3

static ovl_paillier_sk *key2048;

/* Runner rows: identifier number and group; contributor rows: identifier
 * number and values. Identifier k is SHA-256("id-<k>"). */
typedef struct {
    unsigned id;
    unsigned group;
} rrow;
typedef struct {
    unsigned id;
    int64_t v[MAXV];
} crow;

typedef struct {
    size_t ngroups, nvalues;
    const rrow *r;
    size_t nr;
    const crow *c;
    size_t nc;
    uint64_t min_r, min_c;
    /* mismatch knobs */
    bool both_contrib, both_runner;
    const char *domain_c;
    unsigned bits_r;
    /* negotiated set sizes each side expects of its peer (0: not negotiated) */
    uint64_t expect_r, expect_c;
} scenario;

static void ident(uint8_t out[32], unsigned k)
{
    char v[32];
    int len = snprintf(v, sizeof v, "id-%u", k);
    crypto_hash_sha256(out, (const uint8_t *)v, (unsigned long long)len);
}

typedef struct {
    uint8_t (*memb)[32];
    size_t gstart[MAXG + 1];
    uint8_t (*ids)[32];
    int64_t *vec;
    size_t nids;
    ovl_value_col cols[MAXV];
    ovl_agg *r, *c;
    hx_side sr, sc;
    bool hx;
} world;

static int cmp32(const void *a, const void *b) { return memcmp(a, b, 32); }

static void build_runner(world *w, const scenario *s)
{
    size_t k = 0;
    w->memb = calloc(s->nr + 1, 32);
    for (size_t g = 0; g < s->ngroups; g++) {
        w->gstart[g] = k;
        for (size_t i = 0; i < s->nr; i++) {
            if (s->r[i].group != g)
                continue;
            uint8_t id[32];
            ident(id, s->r[i].id);
            bool dup = false;
            for (size_t j = w->gstart[g]; j < k; j++)
                dup |= memcmp(w->memb[j], id, 32) == 0;
            if (!dup)
                memcpy(w->memb[k++], id, 32);
        }
    }
    w->gstart[s->ngroups] = k;
}

static void build_contributor(world *w, const scenario *s)
{
    size_t wd = 1 + s->nvalues;
    w->ids = calloc(s->nc + 1, 32);
    w->vec = calloc((s->nc + 1) * wd, sizeof *w->vec);
    w->nids = 0;
    for (size_t i = 0; i < s->nc; i++) {
        uint8_t id[32];
        ident(id, s->c[i].id);
        bool seen = false;
        for (size_t j = 0; j < w->nids; j++)
            seen |= memcmp(w->ids[j], id, 32) == 0;
        if (!seen)
            memcpy(w->ids[w->nids++], id, 32);
    }
    qsort(w->ids, w->nids, 32, cmp32);
    for (size_t i = 0; i < s->nc; i++) {
        uint8_t id[32];
        ident(id, s->c[i].id);
        size_t k = ovl_search_fixed((const uint8_t *)w->ids, w->nids, 32, id);
        w->vec[k * wd] += 1;
        for (size_t c = 0; c < s->nvalues; c++)
            w->vec[k * wd + 1 + c] += s->c[i].v[c];
    }
    static char *names[MAXV] = {"amount", "count", "score"};
    for (size_t c = 0; c < MAXV; c++)
        w->cols[c] = (ovl_value_col){names[c], (unsigned)c};
}

static ovl_err world_new(world *w, const scenario *s, const uint8_t *seed, bool contributor_listens)
{
    memset(w, 0, sizeof *w);
    build_runner(w, s);
    build_contributor(w, s);
    ovl_agg_config rc = {
        .role = contributor_listens ? OVL_ROLE_CONNECTOR : OVL_ROLE_LISTENER,
        .contributor = s->both_contrib,
        .group = ovl_group_default(),
        .domain = "id=sha256 normalize=email",
        .min_rows = s->min_r ? s->min_r : 1,
        .paillier_bits = s->bits_r ? s->bits_r : 2048,
        .memb = (const uint8_t(*)[32])w->memb,
        .group_start = w->gstart,
        .ngroups = s->ngroups,
        .group_by_cols = 1,
        .test_seed = seed,
        .test_key = key2048,
        .expect_peer_set = s->expect_r != 0,
        .peer_set_expected = s->expect_r,
    };
    ovl_agg_config cc = {
        .role = contributor_listens ? OVL_ROLE_LISTENER : OVL_ROLE_CONNECTOR,
        .contributor = !s->both_runner,
        .group = ovl_group_default(),
        .domain = s->domain_c ? s->domain_c : "id=sha256 normalize=email",
        .min_rows = s->min_c ? s->min_c : 1,
        .paillier_bits = 2048,
        .memb = (const uint8_t(*)[32])w->memb,
        .group_start = w->gstart,
        .ngroups = s->ngroups,
        .ids = (const uint8_t(*)[32])w->ids,
        .nids = w->nids,
        .vectors = w->vec,
        .values = w->cols,
        .nvalues = s->nvalues,
        .test_key = key2048,
        .expect_peer_set = s->expect_c != 0,
        .peer_set_expected = s->expect_c,
    };
    if (s->both_contrib) {
        rc.ids = cc.ids;
        rc.nids = cc.nids;
        rc.vectors = cc.vectors;
        rc.values = cc.values;
        rc.nvalues = cc.nvalues;
    }
    uint8_t seed_c[32];
    if (seed) {
        memcpy(seed_c, seed, 32);
        seed_c[0] ^= 0xff;
        cc.test_seed = seed_c;
    }
    ovl_err e = ovl_agg_new(&w->r, &rc);
    if (e == OVL_OK)
        e = ovl_agg_new(&w->c, &cc);
    if (e != OVL_OK)
        return e;
    hx_init(&w->sr, &ovl_agg_ops, w->r);
    hx_init(&w->sc, &ovl_agg_ops, w->c);
    w->hx = true;
    return OVL_OK;
}

static void world_free(world *w)
{
    if (w->hx) {
        hx_free(&w->sr);
        hx_free(&w->sc);
    }
    ovl_agg_free(w->r);
    ovl_agg_free(w->c);
    free(w->memb);
    free(w->ids);
    free(w->vec);
}

/* The plaintext answer for group g. */
static void expected(const scenario *s, size_t g, uint64_t *matched, int64_t *sums)
{
    memset(sums, 0, sizeof(int64_t) * (1 + MAXV));
    *matched = 0;
    unsigned seen[256];
    size_t ns = 0;
    for (size_t i = 0; i < s->nr; i++) {
        if (s->r[i].group != g)
            continue;
        bool dup = false;
        for (size_t j = 0; j < ns; j++)
            dup |= seen[j] == s->r[i].id;
        if (dup)
            continue;
        seen[ns++] = s->r[i].id;
        bool hit = false;
        for (size_t k = 0; k < s->nc; k++) {
            if (s->c[k].id != s->r[i].id)
                continue;
            hit = true;
            sums[0]++;
            for (size_t c = 0; c < s->nvalues; c++)
                sums[1 + c] += s->c[k].v[c];
        }
        *matched += hit;
    }
}

static void check_results(world *w, const scenario *s)
{
    uint64_t thr = s->min_r > s->min_c ? s->min_r : s->min_c;
    if (thr == 0)
        thr = 1;
    EXPECT_EQ(ovl_agg_threshold(w->r), thr);
    EXPECT_EQ(ovl_agg_threshold(w->c), thr);
    EXPECT_EQ(ovl_agg_value_count(w->r), s->nvalues);
    size_t released = 0;
    for (size_t g = 0; g < s->ngroups; g++) {
        uint64_t matched, want_m;
        bool rel;
        const int64_t *sums;
        int64_t want[1 + MAXV];
        expected(s, g, &want_m, want);
        EXPECT_OK(ovl_agg_group_result(w->r, g, &matched, &rel, &sums));
        EXPECT_EQ(matched, want_m);
        EXPECT_EQ(rel, want_m >= thr);
        if (rel && sums) {
            released++;
            for (size_t c = 0; c < 1 + s->nvalues; c++)
                EXPECT_EQ(sums[c], want[c]);
        } else {
            EXPECT_TRUE(sums == NULL);
        }
    }
    EXPECT_EQ(ovl_agg_groups_released(w->r), released);
    uint64_t m;
    bool rel;
    const int64_t *sums;
    EXPECT_ERR(OVL_ERR_POLICY, ovl_agg_group_result(w->c, 0, &m, &rel, &sums));
}

static void run_ok(const scenario *s, bool contributor_listens)
{
    world w;
    EXPECT_OK(world_new(&w, s, NULL, contributor_listens));
    hx_run(&w.sr, &w.sc, NULL, NULL);
    EXPECT_OK(w.sr.rc);
    EXPECT_OK(w.sc.rc);
    if (w.sr.rc != OVL_OK || w.sc.rc != OVL_OK)
        fprintf(stderr, "  runner: %s\n  contributor: %s\n", w.sr.detail, w.sc.detail);
    EXPECT_TRUE(ovl_agg_ops.done(w.r) && ovl_agg_ops.done(w.c));
    if (ovl_agg_ops.done(w.r) && ovl_agg_ops.done(w.c)) {
        check_results(&w, s);
        EXPECT_BYTES_EQ(ovl_agg_transcript(w.r), ovl_agg_transcript(w.c), 64);
    }
    world_free(&w);
}

static const rrow R1[] = {{1, 0}, {2, 0}, {3, 0}, {4, 0}, {5, 1}, {6, 1}, {7, 1}, {40, 1},
                          {8, 2}, {9, 2}, {41, 2}, {12, 2}, {30, 2}, {31, 2}, {2, 0}};
static const crow C1[] = {{1, {1050, 2, -3}}, {2, {-250, 1, 0}}, {3, {7, 0, 1}}, {3, {993, 5, 1}},
                          {5, {100, 1, 1}},   {6, {0, 0, 0}},    {8, {44, 4, 4}}, {9, {1, 1, 1}},
                          {30, {-5, -5, -5}}, {40, {9, 9, 9}},   {41, {1, 1, 1}}};

static void groups_with_threshold(void)
{
    /* group 0 matches {1,2,3}: 3; group 1 {5,6,40}: 3; group 2 {8,9,41,30}: 4 */
    scenario s = {.ngroups = 3, .nvalues = 3, .r = R1, .nr = 15, .c = C1, .nc = 11, .min_r = 3,
                  .min_c = 1};
    run_ok(&s, true);
    s.min_r = 4; /* groups 0 and 1 suppressed, group 2 passes */
    run_ok(&s, false);
    s.min_r = 1;
    s.min_c = 4; /* the contributor's threshold wins: only group 2, exactly at it */
    run_ok(&s, true);
    s.min_c = 5; /* everything suppressed */
    run_ok(&s, true);
}

static void no_groups_and_empty(void)
{
    static const rrow r[] = {{1, 0}, {2, 0}, {3, 0}, {99, 0}};
    scenario s = {.ngroups = 1, .nvalues = 1, .r = r, .nr = 4, .c = C1, .nc = 11, .min_r = 1};
    run_ok(&s, true);
    static const rrow none[] = {{500, 0}, {501, 1}};
    scenario e = {.ngroups = 2, .nvalues = 2, .r = none, .nr = 2, .c = C1, .nc = 11, .min_r = 1};
    run_ok(&e, false);
    scenario empty_c = {.ngroups = 3, .nvalues = 1, .r = R1, .nr = 15, .c = C1, .nc = 0, .min_r = 1};
    run_ok(&empty_c, true);
    scenario empty_r = {.ngroups = 0, .nvalues = 1, .r = R1, .nr = 0, .c = C1, .nc = 11, .min_r = 1};
    run_ok(&empty_r, true);
}

static void larger_partitions(void)
{
    enum { NR = 300, NC = 260 };
    rrow *r = calloc(NR, sizeof *r);
    crow *c = calloc(NC, sizeof *c);
    for (unsigned i = 0; i < NR; i++)
        r[i] = (rrow){i, i % 5};
    for (unsigned i = 0; i < NC; i++)
        c[i] = (crow){i * 2 % 400, {(int64_t)i * 1000003 - 77777, -(int64_t)i, 1}};
    scenario s = {.ngroups = 5, .nvalues = 3, .r = r, .nr = NR, .c = c, .nc = NC, .min_r = 25};
    run_ok(&s, true);
    free(r);
    free(c);
}

/* Both parties stop at setup and neither sends anything but its HELLO. */
static void expect_setup_stop(const scenario *s)
{
    world w;
    ovl_err e = world_new(&w, s, NULL, true);
    EXPECT_OK(e);
    if (e != OVL_OK)
        return;
    hx_run(&w.sr, &w.sc, NULL, NULL);
    EXPECT_EQ(w.sr.rc, OVL_ERR_POLICY);
    EXPECT_EQ(w.sc.rc, OVL_ERR_POLICY);
    uint8_t type;
    ovl_buf payload, r;
    bool complete;
    ovl_buf_reader(&r, w.sr.log.data, w.sr.log.wpos);
    EXPECT_OK(ovl_frame_parse(&r, OVL_FRAME_MAX_PAYLOAD, &type, &payload, &complete));
    EXPECT_EQ(type, OVL_HELLO_TYPE);
    EXPECT_EQ(ovl_buf_remaining(&r), 0);
    ovl_buf_reader(&r, w.sc.log.data, w.sc.log.wpos);
    EXPECT_OK(ovl_frame_parse(&r, OVL_FRAME_MAX_PAYLOAD, &type, &payload, &complete));
    EXPECT_EQ(type, OVL_HELLO_TYPE);
    EXPECT_EQ(ovl_buf_remaining(&r), 0);
    world_free(&w);
}

static void setup_mismatches(void)
{
    scenario base = {.ngroups = 3, .nvalues = 2, .r = R1, .nr = 15, .c = C1, .nc = 11, .min_r = 1};
    scenario s = base;
    s.both_contrib = true;
    expect_setup_stop(&s);
    s = base;
    s.both_runner = true;
    expect_setup_stop(&s);
    s = base;
    s.domain_c = "id=sha256 normalize=phone";
    expect_setup_stop(&s);
    s = base;
    s.bits_r = 3072;
    expect_setup_stop(&s);
}

static void sum_bound_refused(void)
{
    static const crow big[] = {{1, {INT64_C(3000000000000000000), 0, 0}},
                               {2, {INT64_C(-2000000000000000000), 0, 0}}};
    scenario s = {.ngroups = 1, .nvalues = 1, .r = R1, .nr = 4, .c = big, .nc = 2, .min_r = 1};
    world w;
    EXPECT_ERR(OVL_ERR_LIMIT, world_new(&w, &s, NULL, true));
    EXPECT_TRUE(strstr(ovl_err_detail(), "amount") != NULL);
    world_free(&w);
    static const crow ok[] = {{1, {INT64_C(2000000000000000000), 0, 0}},
                              {2, {INT64_C(-2000000000000000000), 0, 0}}};
    s.c = ok;
    EXPECT_OK(world_new(&w, &s, NULL, true));
    world_free(&w);
}

/* ---- tampering ---- */

typedef struct {
    uint8_t type;
    int side; /* 0 runner, 1 contributor */
    int what; /* 0 flip a ciphertext to 0, 1 ciphertext >= n^2, 2 duplicate element in its
               * group, 3 the first group's first element again in the second group */
    bool done;
} tamper;

static void tamper_hook(void *arg, int side, ovl_buf *frame, bool *drop)
{
    tamper *t = arg;
    (void)drop;
    if (t->done || side != t->side || frame->data[0] != t->type)
        return;
    uint8_t *body = frame->data + OVL_FRAME_HDR + 4;
    size_t ct_len = 512;
    t->done = true;
    if (t->type == OVL_AGG_VALUES) {
        uint8_t *ct = body + 32; /* first entry: element, then ciphertext */
        if (t->what == 0)
            memset(ct, 0, ct_len);
        else
            memset(ct, 0xff, ct_len);
    } else if (t->type == OVL_AGG_SUMS) {
        if (t->what == 0)
            memset(body, 0, ct_len);
        else
            memset(body, 0xff, ct_len);
    } else if (t->type == OVL_AGG_ELEMENTS) {
        /* Both groups of run_tampered pad to 16 elements. */
        memcpy(body + (t->what == 3 ? 16 : 1) * 32, body, 32);
    } else if (t->type == OVL_AGG_LAYOUT) {
        body[3] ^= 1; /* a size that is not a power of two */
    }
}

static size_t count_frames(const ovl_buf *log, uint8_t type)
{
    size_t n = 0;
    for (size_t off = 0; off + OVL_FRAME_HDR <= log->wpos;) {
        const uint8_t *f = log->data + off;
        uint32_t len = (uint32_t)f[1] << 24 | (uint32_t)f[2] << 16 | (uint32_t)f[3] << 8 | f[4];
        n += f[0] == type;
        off += OVL_FRAME_HDR + len;
    }
    return n;
}

static void run_tampered(uint8_t type, int side, int what, ovl_err want_r, ovl_err want_c)
{
    static const rrow r[] = {{1, 0}, {2, 0}, {3, 0}, {5, 1}, {8, 1}};
    scenario s = {.ngroups = 2, .nvalues = 1, .r = r, .nr = 5, .c = C1, .nc = 11, .min_r = 1};
    world w;
    tamper t = {.type = type, .side = side, .what = what};
    EXPECT_OK(world_new(&w, &s, NULL, true));
    hx_run(&w.sr, &w.sc, tamper_hook, &t);
    EXPECT_TRUE(t.done);
    if (want_r != OVL_OK)
        EXPECT_EQ(w.sr.rc, want_r);
    if (want_c != OVL_OK)
        EXPECT_EQ(w.sc.rc, want_c);
    EXPECT_TRUE(!ovl_agg_ops.done(w.r));
    if (type == OVL_AGG_ELEMENTS) /* refused before any tag left */
        EXPECT_EQ(count_frames(&w.sc.log, OVL_AGG_TAGS), 0);
    world_free(&w);
}

static void tampering_detected(void)
{
    run_tampered(OVL_AGG_VALUES, 1, 0, OVL_ERR_PROTOCOL, OVL_OK);
    run_tampered(OVL_AGG_VALUES, 1, 1, OVL_ERR_PROTOCOL, OVL_OK);
    run_tampered(OVL_AGG_SUMS, 0, 0, OVL_OK, OVL_ERR_PROTOCOL);
    run_tampered(OVL_AGG_SUMS, 0, 1, OVL_OK, OVL_ERR_PROTOCOL);
    run_tampered(OVL_AGG_ELEMENTS, 0, 2, OVL_OK, OVL_ERR_PROTOCOL);
    run_tampered(OVL_AGG_ELEMENTS, 0, 3, OVL_OK, OVL_ERR_PROTOCOL);
    run_tampered(OVL_AGG_LAYOUT, 0, 0, OVL_OK, OVL_ERR_PROTOCOL);
}

/* SPEC.md §5.1, §7: an identifier in several groups would tell the runner
 * which of its identifiers matched, so the runner refuses such a layout
 * locally (and the contributor refuses it on the wire: tampering_detected). */
/* A negotiated set size binds the run: the runner checks the contributor's
 * HELLO, the contributor the least memberships the runner's LAYOUT can pad. */
static void negotiated_sizes_bound(void)
{
    enum { NR = 300, NC = 200 };
    rrow *r = calloc(NR, sizeof *r);
    crow *c = calloc(NC, sizeof *c);
    for (unsigned i = 0; i < NR; i++)
        r[i] = (rrow){i, i % 5}; /* 5 groups of 60: padded to 64, so at least 5 x 33 */
    for (unsigned i = 0; i < NC; i++)
        c[i] = (crow){i * 3, {(int64_t)i, 0, 0}};
    scenario s = {.ngroups = 5, .nvalues = 1, .r = r, .nr = NR, .c = c, .nc = NC, .min_r = 1,
                  .expect_r = NC, .expect_c = NR};
    run_ok(&s, true);
    s.expect_c = 165;
    run_ok(&s, false);
    for (int side = 0; side < 2; side++) {
        scenario bad = s;
        if (side == 0)
            bad.expect_r = NC - 1;
        else
            bad.expect_c = 164;
        world w;
        EXPECT_OK(world_new(&w, &bad, NULL, true));
        hx_run(&w.sr, &w.sc, NULL, NULL);
        EXPECT_EQ(side == 0 ? w.sr.rc : w.sc.rc, OVL_ERR_PROTOCOL);
        EXPECT_TRUE(strstr(side == 0 ? w.sr.detail : w.sc.detail, "negotiat") != NULL);
        EXPECT_TRUE(!ovl_agg_ops.done(w.r));
        EXPECT_EQ(count_frames(&w.sc.log, OVL_AGG_TAGS), 0);
        world_free(&w);
    }
    free(r);
    free(c);
}

static void overlapping_groups_refused(void)
{
    static const rrow r[] = {{1, 0}, {2, 0}, {3, 0}, {1, 1}, {5, 1}, {6, 1},
                             {1, 2}, {8, 2}, {2, 0}};
    scenario s = {.ngroups = 3, .nvalues = 1, .r = r, .nr = 9, .c = C1, .nc = 11, .min_r = 3};
    world w;
    EXPECT_ERR(OVL_ERR_INPUT, world_new(&w, &s, NULL, true));
    EXPECT_TRUE(strstr(ovl_err_detail(), "more than one group") != NULL);
    EXPECT_TRUE(w.r == NULL && w.c == NULL);
    world_free(&w);
    /* The same rows without the second and third membership of identifier 1
     * run: a repeated row within one group is no overlap. */
    static const rrow d[] = {{1, 0}, {2, 0}, {3, 0}, {5, 1}, {6, 1}, {8, 2}, {2, 0}};
    scenario ok = {.ngroups = 3, .nvalues = 1, .r = d, .nr = 7, .c = C1, .nc = 11, .min_r = 2};
    run_ok(&ok, true);
}

static void deterministic_with_seed(void)
{
    scenario s = {.ngroups = 3, .nvalues = 2, .r = R1, .nr = 15, .c = C1, .nc = 11, .min_r = 3};
    uint8_t seed[32] = {7};
    world a, b;
    EXPECT_OK(world_new(&a, &s, seed, true));
    EXPECT_OK(world_new(&b, &s, seed, true));
    hx_run(&a.sr, &a.sc, NULL, NULL);
    hx_run(&b.sr, &b.sc, NULL, NULL);
    EXPECT_OK(a.sr.rc);
    EXPECT_OK(b.sc.rc);
    EXPECT_EQ(a.sr.log.wpos, b.sr.log.wpos);
    EXPECT_EQ(a.sc.log.wpos, b.sc.log.wpos);
    if (a.sr.log.wpos == b.sr.log.wpos && a.sc.log.wpos == b.sc.log.wpos) {
        EXPECT_BYTES_EQ(a.sr.log.data, b.sr.log.data, a.sr.log.wpos);
        EXPECT_BYTES_EQ(a.sc.log.data, b.sc.log.data, a.sc.log.wpos);
    }
    check_results(&a, &s);
    world_free(&a);
    world_free(&b);
    /* A different seed changes the frames. */
    uint8_t seed2[32] = {8};
    EXPECT_OK(world_new(&a, &s, seed, true));
    EXPECT_OK(world_new(&b, &s, seed2, true));
    hx_run(&a.sr, &a.sc, NULL, NULL);
    hx_run(&b.sr, &b.sc, NULL, NULL);
    EXPECT_TRUE(a.sr.log.wpos != b.sr.log.wpos ||
                memcmp(a.sr.log.data, b.sr.log.data, a.sr.log.wpos) != 0);
    world_free(&a);
    world_free(&b);
}

int main(void)
{
    uint8_t seed[OVL_PAILLIER_SEED_BYTES] = {42};
    if (ovl_crypto_init() != OVL_OK || ovl_paillier_init() != OVL_OK ||
        ovl_paillier_keygen_from_seed_for_tests(&key2048, 2048, seed) != OVL_OK)
        return 1;
    RUN(groups_with_threshold);
    RUN(no_groups_and_empty);
    RUN(larger_partitions);
    RUN(setup_mismatches);
    RUN(sum_bound_refused);
    RUN(negotiated_sizes_bound);
    RUN(tampering_detected);
    RUN(overlapping_groups_refused);
    RUN(deterministic_with_seed);
    ovl_paillier_sk_free(key2048);
    return ovl_t_summary("test_aggregate");
}
