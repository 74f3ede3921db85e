/* The aggregate v2 core (agg2_core.h) as two engines over frames, fed by the
 * test-only dealer's circuit-PSI-shaped shares: PRODUCTS → SHUFFLE1/2 →
 * COMPARE → RELEASE → DONE. The receiver's opened records are exactly the
 * join's cells whose COUNT(DISTINCT) reaches T; both learn only r; frame
 * sizes are the same for different data; hostile frames fail the run. */
#include "agg2_dealer.h"
#include "aggregate/agg2_core.h"
#include "aggregate/agg2.h"
#include "common/transcript.h"
#include "mpc/gc.h"
#include "mpc/shuffle.h"
#include "core/frame.h"
#include "psi_harness.h"
#include "test.h"

typedef struct {
    agg2_core *c[2]; /* 0 runner (listener), 1 contributor (connector) */
    ovl_rng rng[2];
    uint8_t keys[16][OVL_AGG2_KEY_LEN];
    uint8_t transcript[OVL_TRANSCRIPT_LEN];
    hx_side side[2];
} duo;

static ovl_err duo_new(duo *d, const dealt *x, bool runner_receives, uint64_t T)
{
    ovl_err rc = OVL_OK;
    memset(d, 0, sizeof *d);
    randombytes_buf(d->transcript, sizeof d->transcript);
    randombytes_buf(d->keys, sizeof d->keys);
    for (int p = 0; p < 2; p++) {
        ovl_rng_init_system(&d->rng[p]);
        agg2_core_in in = {
            .l = x->l,
            .role = p == 0 ? OVL_ROLE_LISTENER : OVL_ROLE_CONNECTOR,
            .runner = p == 0,
            .receiver = (p == 0) == runner_receives,
            .threshold = T,
            .bins = BINS,
            .nr = p == 0 ? x->nr : NULL,
            .rw = p == 0 ? x->rw : NULL,
            .pay = x->pay[p],
            .payload_words = (uint32_t)ovl_agg2_payload_words(&x->l),
            .beta = x->beta[p],
            .phi = x->phi[p],
            .transcript = d->transcript,
            .rng = &d->rng[p],
        };
        in.keys = in.receiver ? NULL : (const uint8_t(*)[OVL_AGG2_KEY_LEN])d->keys;
        rc = agg2_core_new(&d->c[p], &in);
        if (rc != OVL_OK)
            return rc;
        hx_init(&d->side[p], &agg2_core_ops, d->c[p]);
    }
    return rc;
}

static void duo_free(duo *d)
{
    for (int p = 0; p < 2; p++) {
        agg2_core_free(d->c[p]);
        hx_free(&d->side[p]);
    }
}

typedef struct {
    ovl_agg2_layout l;
    rows_t rr, rc;
    ovl_agg_ident tr, tc;
    dealt d;
    int64_t *want;
    size_t K, P, W;
} world;

/* The contributor's rows cover identifiers [lo, hi) of the runner's NIDS. */
static void world_new_range(world *w, ovl_agg2_layout l, uint32_t lo, uint32_t hi)
{
    memset(w, 0, sizeof *w);
    w->l = l;
    w->d.l = l;
    EXPECT_OK(table(&w->tr, &w->rr, 0, NIDS, l.groups_r, l.bits_r));
    EXPECT_OK(table(&w->tc, &w->rc, lo, hi, l.groups_c, l.bits_c));
    EXPECT_TRUE(deal(&w->d, &w->tr, &w->tc));
    w->K = ovl_agg2_prod_cells(&l);
    w->P = ovl_agg2_prod_words(&l);
    w->W = ovl_agg2_record_width(&l);
    w->want = calloc(w->K * w->P, 8);
    expected(w->want, &l, &w->tr, &w->tc);
}

static void world_new(world *w, ovl_agg2_layout l) { world_new_range(w, l, NIDS / 3, NIDS); }

static void world_free(world *w)
{
    ovl_agg_ident_free(&w->tr);
    ovl_agg_ident_free(&w->tc);
    dealt_free(&w->d);
    free(w->want);
}

/* T between the cells' distinct counts, so that some cells stay under it. */
static uint64_t mid_threshold(const world *w)
{
    uint64_t hi = 0, lo = UINT64_MAX;
    for (size_t i = 0; i < w->K; i++) {
        uint64_t v = (uint64_t)w->want[i * w->P];
        hi = v > hi ? v : hi;
        lo = v < lo ? v : lo;
    }
    uint64_t t = lo + (hi - lo + 1) / 2;
    return t > 2 ? t : 2;
}

static void check_released(world *w, duo *d, int q, uint64_t T)
{
    const uint8_t *ok;
    size_t bad;
    const uint64_t *op = agg2_core_opened(d->c[q], &ok, &bad);
    EXPECT_TRUE(op != NULL);
    EXPECT_TRUE(agg2_core_opened(d->c[1 - q], &ok, &bad) == NULL);
    size_t over = 0, found = 0;
    for (size_t i = 0; i < w->K; i++)
        over += (uint64_t)w->want[i * w->P] >= T;
    EXPECT_EQ(agg2_core_released(d->c[0]), over);
    EXPECT_EQ(agg2_core_released(d->c[1]), over);
    if (op == NULL)
        return;
    op = agg2_core_opened(d->c[q], &ok, &bad);
    EXPECT_EQ(bad, 0);
    for (size_t i = 0; i < over; i++) {
        const uint64_t *x = op + i * w->W;
        if (!ok[i] || x[w->P] >= w->l.groups_r || x[w->P + 1] >= w->l.groups_c)
            continue;
        size_t cell = x[w->P] * w->l.groups_c + x[w->P + 1];
        int same = memcmp(x, w->want + cell * w->P, w->P * 8) == 0;
        /* the helper's key of its group travels in the record */
        uint8_t key[OVL_AGG2_KEY_LEN];
        ovl_agg2_record_key(key, x, &w->l);
        same &= memcmp(key, d->keys[q == 0 ? x[w->P + 1] : x[w->P]], sizeof key) == 0;
        found += same;
    }
    EXPECT_EQ(found, over);
}

static void run_shape(ovl_agg2_layout l, bool runner_receives)
{
    world w;
    duo d;
    l.runner_recv = runner_receives;
    world_new(&w, l);
    uint64_t T = mid_threshold(&w);
    EXPECT_OK(duo_new(&d, &w.d, runner_receives, T));
    hx_run(&d.side[0], &d.side[1], NULL, NULL);
    EXPECT_OK(d.side[0].rc);
    EXPECT_OK(d.side[1].rc);
    if (d.side[0].rc || d.side[1].rc)
        fprintf(stderr, "    %s / %s\n", d.side[0].detail, d.side[1].detail);
    EXPECT_TRUE(agg2_core_ops.done(d.c[0]) && agg2_core_ops.done(d.c[1]));
    check_released(&w, &d, runner_receives ? 0 : 1, T);
    duo_free(&d);
    world_free(&w);
}

static void runner_receives(void) { run_shape((ovl_agg2_layout){3, 2, 4, 4, 3, 3, 1, 0}, true); }
static void contributor_receives(void)
{
    run_shape((ovl_agg2_layout){2, 3, 2, 4, 2, 3, 0, 0}, false);
}
static void one_cell(void) { run_shape((ovl_agg2_layout){1, 1, 4, 4, 2, 2, 1, 0}, true); }
static void no_contributor_words(void)
{
    run_shape((ovl_agg2_layout){2, 2, 4, 0, 3, 3, 1, 0}, false);
}

/* Frame lengths and counts from public parameters only (SPEC §10.1): two
 * different inputs of one shape give the same sequence of (type, length),
 * except RELEASE, whose length is 4 + 8·W·r; with the same r, all of it. */
enum { CF_MAX = 4096 };

typedef struct {
    size_t n[2], nonempty, passing;
    uint8_t t[2][CF_MAX];
    uint32_t len[2][CF_MAX];
} core_frames;

static void frames_of(duo *d, int side, uint8_t *types, uint32_t *lens, size_t *n)
{
    ovl_buf log;
    ovl_buf_reader(&log, d->side[side].log.data, ovl_buf_len(&d->side[side].log));
    *n = 0;
    while (ovl_buf_remaining(&log) >= OVL_FRAME_HDR && *n < CF_MAX) {
        const uint8_t *f = ovl_buf_rptr(&log);
        uint32_t len = ((uint32_t)f[1] << 24) | ((uint32_t)f[2] << 16) |
                       ((uint32_t)f[3] << 8) | f[4];
        types[*n] = f[0];
        lens[*n] = len;
        (*n)++;
        if (ovl_buf_skip(&log, OVL_FRAME_HDR + len) != OVL_OK)
            break;
    }
}

/* One run with the contributor's rows on [lo, hi): how many cells are
 * non-empty and pass T, and both sides' frames. */
static void frames_run(core_frames *o, ovl_agg2_layout l, uint32_t lo, uint32_t hi, uint64_t T)
{
    world w;
    duo d;
    world_new_range(&w, l, lo, hi);
    o->nonempty = o->passing = 0;
    for (size_t i = 0; i < w.K; i++) {
        o->nonempty += w.want[i * w.P] > 0;
        o->passing += (uint64_t)w.want[i * w.P] >= T;
    }
    EXPECT_OK(duo_new(&d, &w.d, true, T));
    hx_run(&d.side[0], &d.side[1], NULL, NULL);
    EXPECT_OK(d.side[0].rc);
    EXPECT_OK(d.side[1].rc);
    check_released(&w, &d, 0, T);
    for (int s = 0; s < 2; s++)
        frames_of(&d, s, o->t[s], o->len[s], &o->n[s]);
    duo_free(&d);
    world_free(&w);
}

static void frames_compare(const core_frames *a, const core_frames *b, size_t W)
{
    for (int s = 0; s < 2; s++) {
        size_t alike = 0;
        EXPECT_TRUE(a->n[s] > 4);
        EXPECT_EQ(a->n[s], b->n[s]);
        for (size_t i = 0; i < a->n[s] && i < b->n[s]; i++) {
            bool rel = a->t[s][i] == OVL_AGG2_RELEASE;
            alike += a->t[s][i] == b->t[s][i] && (rel || a->len[s][i] == b->len[s][i]);
            if (rel && b->t[s][i] == OVL_AGG2_RELEASE) {
                EXPECT_EQ(a->len[s][i], 4 + 8 * W * a->passing);
                EXPECT_EQ(b->len[s][i], 4 + 8 * W * b->passing);
            }
        }
        OVL_T_RECORD(alike == a->n[s] && alike == b->n[s],
                     "side %d: %zu of %zu/%zu frames alike (%zu and %zu cells passing)", s, alike,
                     a->n[s], b->n[s], a->passing, b->passing);
        if (a->passing == b->passing)
            EXPECT_TRUE(memcmp(a->len[s], b->len[s], a->n[s] * 4) == 0);
    }
}

/* The contributor's rows on none, one, 8, 32 and all 48 of the runner's
 * identifiers (the intersection's size and members differ), so from none to
 * all six cells are non-empty and pass; and two runs at T = 1000, where none
 * passes, with different intersections. */
static void frame_sizes_do_not_depend_on_data(void)
{
    static core_frames f[7];
    static const uint32_t range[7][2] = {{0, 0}, {0, 1}, {40, 48}, {16, 48}, {0, 48},
                                         {0, 0}, {0, 48}};
    ovl_agg2_layout l = {3, 2, 4, 4, 3, 3, 1, 0};
    size_t W = ovl_agg2_record_width(&l);
    for (int i = 0; i < 7; i++)
        frames_run(&f[i], l, range[i][0], range[i][1], i < 5 ? 2 : 1000);
    EXPECT_TRUE(f[0].nonempty == 0 && f[1].passing == 0 && f[4].passing == 6);
    EXPECT_TRUE(f[6].nonempty == 6 && f[6].passing == 0);
    for (int i = 1; i < 5; i++)
        frames_compare(&f[0], &f[i], W);
    frames_compare(&f[3], &f[4], W);
    frames_compare(&f[5], &f[6], W);
}

/* ---- hostile frames ---- */

typedef struct {
    uint8_t type;
    int side;   /* the side whose frame is tampered */
    int nth;    /* which frame of that type */
    int seen;
    int how;    /* 0 truncate, 1 extend, 2 drop, 4 flip a count, 5 flip a batch's n */
} tamper;

static void tamper_fn(void *arg, int side, ovl_buf *frame, bool *drop)
{
    tamper *t = arg;
    if (side != t->side || frame->data[0] != t->type || t->seen++ != t->nth)
        return;
    size_t len = ovl_buf_len(frame);
    uint32_t plen = (uint32_t)(len - OVL_FRAME_HDR);
    switch (t->how) {
    case 0:
        if (plen > 0) {
            frame->wpos = len - 1;
            plen--;
        }
        break;
    case 1:
        if (ovl_buf_put_u8(frame, 0) != OVL_OK)
            abort();
        plen++;
        break;
    case 2:
        *drop = true;
        return;
    case 4:
        if (plen >= 4)
            frame->data[OVL_FRAME_HDR + 3] ^= 1;
        break;
    case 5: /* an OT batch message's n (kind, seq u32, n u32) */
        if (plen >= 9)
            frame->data[OVL_FRAME_HDR + 8] ^= 1;
        break;
    default:
        break;
    }
    frame->data[1] = (uint8_t)(plen >> 24);
    frame->data[2] = (uint8_t)(plen >> 16);
    frame->data[3] = (uint8_t)(plen >> 8);
    frame->data[4] = (uint8_t)plen;
}

static void hostile_one(uint8_t type, int side, int nth, int how, bool runner_receives)
{
    world w;
    duo d;
    world_new(&w, (ovl_agg2_layout){3, 2, 4, 4, 3, 3, 1, 0});
    tamper t = {type, side, nth, 0, how};
    EXPECT_OK(duo_new(&d, &w.d, runner_receives, 2));
    hx_run(&d.side[0], &d.side[1], tamper_fn, &t);
    /* the tampered frame's receiver fails, or (dropped) the run stalls */
    bool failed = d.side[1 - side].rc != OVL_OK;
    bool stalled = !agg2_core_ops.done(d.c[1 - side]);
    EXPECT_TRUE(t.seen > nth);
    EXPECT_TRUE(failed || (how == 2 && stalled));
    duo_free(&d);
    world_free(&w);
}

static void hostile_masked(void)
{
    /* pass 1's helper is the contributor (side 1), pass 2's the runner */
    hostile_one(OVL_AGG2_MASKED, 1, 0, 0, true);
    hostile_one(OVL_AGG2_MASKED, 1, 0, 1, true);
    hostile_one(OVL_AGG2_MASKED, 0, 0, 4, true);
    hostile_one(OVL_AGG2_MASKED, 0, 0, 2, true);
}

static void hostile_release(void)
{
    /* the contributor helps: its RELEASE, truncated, extended, its count changed */
    hostile_one(OVL_AGG2_RELEASE, 1, 0, 0, true);
    hostile_one(OVL_AGG2_RELEASE, 1, 0, 1, true);
    hostile_one(OVL_AGG2_RELEASE, 1, 0, 4, true);
    hostile_one(OVL_AGG2_RELEASE, 0, 0, 4, false);
}

static void hostile_ot(void)
{
    hostile_one(OVL_AGG2_OT, 0, 3, 0, true);
    hostile_one(OVL_AGG2_OT, 1, 5, 1, true);
    hostile_one(OVL_AGG2_OT, 1, 2, 4, false);
    /* a batch of another size: the runner's first EXT_U (type A), the
     * contributor's first (type B), a shuffle batch's */
    hostile_one(OVL_AGG2_OT, 0, 1, 5, true);
    hostile_one(OVL_AGG2_OT, 1, 3, 5, true);
    hostile_one(OVL_AGG2_OT, 0, 7, 5, false);
}

/* Frames of another phase or role: each core refuses them. */
static void frames_out_of_phase(void)
{
    world w;
    duo d;
    world_new(&w, (ovl_agg2_layout){3, 2, 4, 4, 3, 3, 1, 0});
    EXPECT_OK(duo_new(&d, &w.d, true, 2));
    uint8_t body[64] = {0};
    /* DONE before RELEASE, at the helper */
    EXPECT_ERR(OVL_ERR_PROTOCOL, agg2_core_ops.feed(d.c[1], OVL_AGG2_DONE, NULL, 0));
    EXPECT_ERR(OVL_ERR_PROTOCOL, agg2_core_ops.feed(d.c[1], OVL_AGG2_OT, body, 9));
    duo_free(&d);
    EXPECT_OK(duo_new(&d, &w.d, true, 2));
    /* RELEASE at the receiver before the comparisons */
    EXPECT_ERR(OVL_ERR_PROTOCOL, agg2_core_ops.feed(d.c[0], OVL_AGG2_RELEASE, body, 4));
    duo_free(&d);
    EXPECT_OK(duo_new(&d, &w.d, true, 2));
    EXPECT_ERR(OVL_ERR_PROTOCOL, agg2_core_ops.feed(d.c[0], OVL_AGG2_MASKED, body, 9));
    duo_free(&d);
    EXPECT_OK(duo_new(&d, &w.d, true, 2));
    EXPECT_ERR(OVL_ERR_PROTOCOL, agg2_core_ops.feed(d.c[0], OVL_GC_SETUP, body, 8));
    /* a failed core stays failed */
    EXPECT_ERR(OVL_ERR_PROTOCOL, agg2_core_ops.feed(d.c[0], OVL_AGG2_OT, body, 9));
    duo_free(&d);
    world_free(&w);
}

/* ---- the window of batches in flight (SPEC §4.4) ---- */

/* Several batches per kind: 16 x 8 groups with 7 count bits give two type-A
 * batches (the runner receives), three type-B COUNT and one FLAG batch (the
 * contributor receives). */
static const ovl_agg2_layout wide = {16, 8, 4, 4, 7, 7, 1, 0};

/* The OT kinds of the AGG_OT frames a side sent, in order. */
static size_t ot_kinds_of(const duo *d, int side, uint8_t *kinds, size_t most)
{
    ovl_buf log;
    size_t n = 0;
    ovl_buf_reader(&log, d->side[side].log.data, ovl_buf_len(&d->side[side].log));
    while (ovl_buf_remaining(&log) >= OVL_FRAME_HDR && n < most) {
        const uint8_t *f = ovl_buf_rptr(&log);
        uint32_t len = ((uint32_t)f[1] << 24) | ((uint32_t)f[2] << 16) |
                       ((uint32_t)f[3] << 8) | f[4];
        if (f[0] == OVL_AGG2_OT && len > 0)
            kinds[n++] = f[OVL_FRAME_HDR];
        if (ovl_buf_skip(&log, OVL_FRAME_HDR + len) != OVL_OK)
            break;
    }
    return n;
}

/* Batches of both directions are in flight at once: each party starts its
 * first batch (the runner's type A, the contributor's type B) and then
 * answers the peer's while its own is open. */
static void batches_overlap(void)
{
    world w;
    duo d;
    uint8_t k[2][256];
    world_new(&w, wide);
    uint64_t T = mid_threshold(&w);
    EXPECT_OK(duo_new(&d, &w.d, true, T));
    hx_run(&d.side[0], &d.side[1], NULL, NULL);
    EXPECT_OK(d.side[0].rc);
    EXPECT_OK(d.side[1].rc);
    check_released(&w, &d, 0, T);
    for (int s = 0; s < 2; s++) {
        size_t n = ot_kinds_of(&d, s, k[s], sizeof k[s]);
        EXPECT_TRUE(n > 4);
        /* the party's own first batch is open when it answers the peer's */
        EXPECT_EQ(k[s][0], OVL_OTMSG_BASE);
        EXPECT_EQ(k[s][1], OVL_OTMSG_EXT_U);
        EXPECT_EQ(k[s][2], OVL_OTMSG_EXT_CHAL);
        /* one EXT_U per batch: 2 + 4 products, one switch batch per pass */
        size_t us = 0;
        for (size_t i = 0; i < n; i++)
            us += k[s][i] == OVL_OTMSG_EXT_U;
        EXPECT_EQ(us, s == 0 ? 2u + 1u : 4u + 1u);
    }
    duo_free(&d);
    world_free(&w);
}

/* A driver that pulls one frame per turn (as src/session/drive.c stops at
 * its OUT_HIGH after a large frame) and feeds everything it has: the run
 * ends with the same cells, never waiting on a frame pull still owes. */
static void one_frame_per_turn(void)
{
    world w;
    duo d;
    world_new(&w, wide);
    uint64_t T = mid_threshold(&w);
    EXPECT_OK(duo_new(&d, &w.d, false, T));
    ovl_buf f;
    EXPECT_OK(ovl_buf_alloc(&f, 64, OVL_FRAME_HDR + OVL_FRAME_MAX_PAYLOAD));
    int idle = 0;
    for (int turn = 0; turn < 1000000 && idle < 4; turn++) {
        bool moved = false;
        for (int s = 0; s < 2 && d.side[0].rc == OVL_OK && d.side[1].rc == OVL_OK; s++) {
            ovl_job *j = NULL;
            bool have = false;
            hx_fail(&d.side[s], agg2_core_ops.job_take(d.c[s], &j));
            if (j != NULL) { /* COMPARE's garbling */
                j->rc = OVL_OK;
                j->run(j);
                hx_fail(&d.side[s], agg2_core_ops.job_finish(d.c[s], j));
                moved = true;
            }
            ovl_buf_clear(&f);
            hx_fail(&d.side[s], agg2_core_ops.pull(d.c[s], &f, &have));
            if (have && ovl_buf_put_bytes(&d.side[s].wire, f.data, f.wpos) != OVL_OK)
                abort();
            moved |= have;
            moved |= hx_deliver(&d.side[s], &d.side[1 - s]);
        }
        idle = moved ? 0 : idle + 1;
        if (agg2_core_ops.done(d.c[0]) && agg2_core_ops.done(d.c[1]))
            break;
    }
    EXPECT_OK(d.side[0].rc);
    EXPECT_OK(d.side[1].rc);
    EXPECT_TRUE(agg2_core_ops.done(d.c[0]) && agg2_core_ops.done(d.c[1]));
    check_released(&w, &d, 1, T);
    ovl_buf_free(&f);
    duo_free(&d);
    world_free(&w);
}

/* A peer's batch frame duplicated, re-kinded or swapped with the next one of
 * its kind: the other party fails with a one-line protocol error. */
typedef struct {
    int side;
    uint8_t kind; /* OT kind of the frame to tamper */
    int nth, seen;
    int how;      /* 0 send again `copies` times (each the next batch's sequence
                   * number), 1 re-kind as `to`, 2 swap with the next of its kind */
    int copies;
    uint8_t to;
    ovl_buf stash;
} win_tamper;

static void win_tamper_fn(void *arg, int side, ovl_buf *frame, bool *drop)
{
    win_tamper *t = arg;
    if (side != t->side || frame->data[0] != OVL_AGG2_OT ||
        ovl_buf_len(frame) <= OVL_FRAME_HDR || frame->data[OVL_FRAME_HDR] != t->kind)
        return;
    int i = t->seen++;
    if (t->how == 0 && i == t->nth) {
        size_t len = ovl_buf_len(frame);
        uint8_t *one = malloc(len);
        if (one == NULL)
            abort();
        memcpy(one, frame->data, len);
        for (int k = 1; k <= t->copies; k++) {
            if (ovl_buf_put_bytes(frame, one, len) != OVL_OK)
                abort();
            frame->data[k * len + OVL_FRAME_HDR + 4] += (uint8_t)k; /* seq's low byte */
        }
        free(one);
    } else if (t->how == 1 && i == t->nth) {
        frame->data[OVL_FRAME_HDR] = t->to;
    } else if (t->how == 2 && i == t->nth) {
        if (ovl_buf_put_bytes(&t->stash, frame->data, ovl_buf_len(frame)) != OVL_OK)
            abort();
        *drop = true;
    } else if (t->how == 2 && i == t->nth + 1) {
        if (ovl_buf_put_bytes(frame, t->stash.data, ovl_buf_len(&t->stash)) != OVL_OK)
            abort();
    }
}

static void window_hostile(win_tamper t, const char *why)
{
    world w;
    duo d;
    world_new(&w, wide);
    EXPECT_OK(ovl_buf_alloc(&t.stash, 64, (size_t)2 << 20));
    EXPECT_OK(duo_new(&d, &w.d, true, 2));
    hx_run(&d.side[0], &d.side[1], win_tamper_fn, &t);
    const hx_side *got = &d.side[1 - t.side];
    EXPECT_TRUE(t.seen > t.nth);
    EXPECT_ERR(OVL_ERR_PROTOCOL, got->rc);
    OVL_T_RECORD(strstr(got->detail, why) != NULL && strchr(got->detail, '\n') == NULL,
                 "wanted \"%s\", got \"%s\"", why, got->detail);
    ovl_buf_free(&t.stash);
    duo_free(&d);
    world_free(&w);
}

static void hostile_window(void)
{
    /* the contributor starts its first three type-B batches (2, 3, 4) at
     * once: batch 4 is a fifth in flight while the runner's first is open */
    window_hostile((win_tamper){.side = 1, .kind = OVL_OTMSG_EXT_U, .nth = 0, .how = 0,
                                .copies = 2},
                   "beyond the window");
    /* the runner's last type-A EXT_U again: no further batch is the runner's */
    window_hostile((win_tamper){.side = 0, .kind = OVL_OTMSG_EXT_U, .nth = 1, .how = 0,
                                .copies = 1},
                   "EXT_U after the last batch");
    /* EXT_PROOF for a batch not started, EXT_CHAL and SHARE_COT where none is due */
    window_hostile((win_tamper){.side = 1, .kind = OVL_OTMSG_EXT_U, .nth = 0, .how = 1,
                                .to = OVL_OTMSG_EXT_PROOF},
                   "EXT_PROOF where none was due");
    /* (in pass 1, whose batches are all the runner's) */
    window_hostile((win_tamper){.side = 0, .kind = OVL_OTMSG_EXT_U, .nth = 2, .how = 1,
                                .to = OVL_OTMSG_EXT_CHAL},
                   "EXT_CHAL where none was due");
    window_hostile((win_tamper){.side = 0, .kind = OVL_OTMSG_EXT_CHAL, .nth = 0, .how = 1,
                                .to = OVL_OTMSG_SHARE},
                   "SHARE_COT where none was due");
    /* the contributor's challenges of the runner's two batches swapped */
    window_hostile((win_tamper){.side = 1, .kind = OVL_OTMSG_EXT_CHAL, .nth = 0, .how = 2},
                   "EXT_CHAL for batch 1, expected batch 0");
    /* CHOSEN_FIX in the products; a shuffle's SHARE_COT not followed by it */
    window_hostile((win_tamper){.side = 1, .kind = OVL_OTMSG_SHARE, .nth = 0, .how = 1,
                                .to = OVL_OTMSG_CHOSEN_FIX},
                   "CHOSEN_FIX where none was due");
    window_hostile((win_tamper){.side = 1, .kind = OVL_OTMSG_CHOSEN_FIX, .nth = 0, .how = 1,
                                .to = OVL_OTMSG_EXT_U},
                   "CHOSEN_FIX was due");
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    RUN(runner_receives);
    RUN(contributor_receives);
    RUN(one_cell);
    RUN(no_contributor_words);
    RUN(frame_sizes_do_not_depend_on_data);
    RUN(hostile_masked);
    RUN(hostile_release);
    RUN(hostile_ot);
    RUN(frames_out_of_phase);
    RUN(batches_overlap);
    RUN(one_frame_per_turn);
    RUN(hostile_window);
    return ovl_t_summary("test_agg2_core");
}
