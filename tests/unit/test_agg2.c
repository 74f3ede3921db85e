/* The aggregate v2 engine (agg2.h): two engines in one process, circuit PSI
 * included, against the oracle of agg2_world.h — the join's cells computed
 * row pair by row pair. Covers overlapping groups, both parties' dimensions
 * and sums, negatives, NULL counts, COUNT(*), COUNT(DISTINCT), cells under
 * the threshold, receiver = runner and = contributor, K = 1; what the helper
 * learns; frame sizes independent of the data; the HELLO refusals; hostile
 * frames; and one test per finding of version 1 (SPEC §10.4). */
#include "agg2_dealer.h"
#include "agg2_world.h"
#include "common/hello.h"
#include "mpc/permnet.h"
#include "mpc/shares.h"
#include "mpc/shuffle.h"
#include "core/frame.h"
#include "psi_harness.h"
#include "test.h"

typedef struct {
    w_party R, C;
    ovl_agg2_plan plan;
    ovl_agg2 *e[2]; /* 0 runner (listener), 1 contributor (connector) */
    hx_side side[2];
} run_t;

static void run_free(run_t *r)
{
    for (int i = 0; i < 2; i++) {
        ovl_agg2_free(r->e[i]);
        hx_free(&r->side[i]);
    }
    w_party_free(&r->R);
    w_party_free(&r->C);
}

static ovl_err run_sized(run_t *r, uint32_t n, uint32_t gr, uint32_t gc, uint8_t receiver,
                         bool star, uint64_t min_r, uint64_t min_c, uint32_t cells_r,
                         uint32_t cells_c)
{
    ovl_err rc;
    memset(r, 0, sizeof *r);
    if ((rc = w_party_make(&r->R, true, 0, n, gr, 2, 3, 3 * n)) != OVL_OK ||
        (rc = w_party_make(&r->C, false, 2 * n / 5, 7 * n / 5, gc, 2, 3, 3 * n)) != OVL_OK)
        return rc;
    w_plan(&r->plan, receiver, star, gr > 1, gc > 1);
    ovl_agg2_config a = w_config(&r->R, &r->plan, true, min_r, cells_r);
    ovl_agg2_config b = w_config(&r->C, &r->plan, false, min_c, cells_c);
    if ((rc = ovl_agg2_new(&r->e[0], &a)) != OVL_OK || (rc = ovl_agg2_new(&r->e[1], &b)) != OVL_OK)
        return rc;
    hx_init(&r->side[0], &ovl_agg2_ops, r->e[0]);
    hx_init(&r->side[1], &ovl_agg2_ops, r->e[1]);
    return OVL_OK;
}

static ovl_err run_new(run_t *r, uint32_t gr, uint32_t gc, uint8_t receiver, bool star,
                       uint64_t min_r, uint64_t min_c, uint32_t cells_r, uint32_t cells_c)
{
    return run_sized(r, 40, gr, gc, receiver, star, min_r, min_c, cells_r, cells_c);
}

static void show(const run_t *r)
{
    for (int i = 0; i < 2; i++)
        if (r->side[i].rc != OVL_OK)
            fprintf(stderr, "    side %d: %s\n", i, r->side[i].detail);
}

/* A party's group index by its label (UINT32_MAX: none). */
static uint32_t label_index(const w_party *p, const uint8_t *label, size_t len)
{
    for (uint32_t g = 0; g < p->groups; g++)
        if (len == p->label_len[g] && memcmp(label, p->labels[g], len) == 0)
            return g;
    return UINT32_MAX;
}

/* The receiver's cells equal the oracle's cells with D >= T, and nothing else. */
static void check_cells(run_t *r, uint64_t T)
{
    int q = r->plan.receiver;
    size_t P = 1 + ovl_agg2_plan_star(&r->plan) + ovl_agg2_plan_k_r(&r->plan) +
               ovl_agg2_plan_k_c(&r->plan);
    size_t K = (size_t)r->R.groups * r->C.groups;
    int64_t *want = calloc(K * P, 8);
    w_oracle(want, P, &r->plan, &r->R, &r->C);
    const ovl_agg2_cell *cells;
    size_t n = 0, over = 0;
    EXPECT_OK(ovl_agg2_released(r->e[q], &cells, &n));
    EXPECT_TRUE(ovl_agg2_released(r->e[1 - q], &cells, &n) != OVL_OK);
    EXPECT_OK(ovl_agg2_released(r->e[q], &cells, &n));
    for (size_t i = 0; i < K; i++)
        over += (uint64_t)want[i * P] >= T;
    EXPECT_EQ(n, over);
    EXPECT_EQ(ovl_agg2_released_count(r->e[0]), over);
    EXPECT_EQ(ovl_agg2_released_count(r->e[1]), over);
    EXPECT_EQ(ovl_agg2_inconsistent(r->e[q]), 0);
    EXPECT_EQ(ovl_agg2_threshold(r->e[0]), T);
    size_t good = 0, tg_prev = 0, tc_prev = 0;
    for (size_t i = 0; i < n; i++) {
        const ovl_agg2_cell *c = &cells[i];
        /* the helper's index in a cell is its published one (SPEC-v2 §4.3):
         * the oracle's cell is found by the helper's label */
        uint32_t tg = q == 0 ? c->g : label_index(&r->R, c->label_r, c->label_r_len);
        uint32_t tc = q == 1 ? c->c : label_index(&r->C, c->label_c, c->label_c_len);
        if (tg >= r->R.groups || tc >= r->C.groups)
            continue;
        size_t cell = (size_t)tg * r->C.groups + tc;
        bool same = memcmp(c->words, want + cell * P, P * 8) == 0;
        same &= c->label_r_len == 4 && memcmp(c->label_r, r->R.labels[tg], 4) == 0;
        same &= c->label_c_len == 4 && memcmp(c->label_c, r->C.labels[tc], 4) == 0;
        /* sorted by (runner label, contributor label) */
        if (i > 0)
            same &= tg_prev < tg || (tg_prev == tg && tc_prev < tc);
        tg_prev = tg, tc_prev = tc;
        good += same;
    }
    EXPECT_EQ(good, n);
    free(want);
}

static void join(uint32_t gr, uint32_t gc, uint8_t receiver, bool star, uint64_t T)
{
    run_t r;
    EXPECT_OK(run_new(&r, gr, gc, receiver, star, T, 2, 1000, 1000));
    hx_run(&r.side[0], &r.side[1], NULL, NULL);
    EXPECT_OK(r.side[0].rc);
    EXPECT_OK(r.side[1].rc);
    show(&r);
    EXPECT_TRUE(ovl_agg2_ops.done(r.e[0]) && ovl_agg2_ops.done(r.e[1]));
    if (r.side[0].rc == OVL_OK && r.side[1].rc == OVL_OK)
        check_cells(&r, T);
    run_free(&r);
}

static void runner_receives(void) { join(3, 2, 0, true, 3); }

/* Products and shuffles over several batches: 16 runner groups make the
 * type-B vectors 64 words wide, so a batch holds a few hundred bins. */
/* Runs a prepared pair, checks both completed and the released cells at
 * threshold 2, and frees it. */
static void run_and_check(run_t *r)
{
    hx_run(&r->side[0], &r->side[1], NULL, NULL);
    EXPECT_OK(r->side[0].rc);
    EXPECT_OK(r->side[1].rc);
    show(r);
    if (r->side[0].rc == OVL_OK && r->side[1].rc == OVL_OK)
        check_cells(r, 2);
    run_free(r);
}

static void many_batches(void)
{
    run_t r;
    EXPECT_OK(run_sized(&r, 320, 16, 2, 0, true, 2, 2, 1000, 1000));
    run_and_check(&r);
}
/* A shuffle pass over several switch batches in flight (SPEC §4.4, §8.1):
 * 32 x 20 cells need more switches than one batch carries (two per pass). */
static void many_switch_batches(void)
{
    run_t r;
    ovl_permnet net;
    EXPECT_OK(run_sized(&r, 40, 32, 20, 0, true, 2, 2, 1000, 1000));
    size_t P = 1 + ovl_agg2_plan_star(&r.plan) + ovl_agg2_plan_k_r(&r.plan) +
               ovl_agg2_plan_k_c(&r.plan);
    EXPECT_OK(ovl_permnet_new(&net, 32 * 20));
    EXPECT_TRUE(net.switches > ovl_shuffle_batch_max(P + 6)); /* W = P + 6 (§7.4) */
    ovl_permnet_free(&net);
    run_and_check(&r);
}

/* The helper's index in a released record is the published one, a secret
 * permutation of its groups, not the rank of its label among its labels:
 * with ranks the receiver would learn how many suppressed helper groups sort
 * between two released labels (SPEC-v2 §4.3). Seeded: the permutation is
 * fixed; 200 identifiers make every one of the 8 cells pass T = 2. */
static void helper_index_hides_label_rank(void)
{
    run_t r;
    uint8_t seed[2][32] = {{1}, {2}};
    memset(&r, 0, sizeof r);
    EXPECT_OK(w_party_make(&r.R, true, 0, 200, 1, 2, 3, 600));
    EXPECT_OK(w_party_make(&r.C, false, 80, 280, 8, 2, 3, 600));
    w_plan(&r.plan, 0, true, false, true);
    ovl_agg2_config a = w_config(&r.R, &r.plan, true, 2, 1000);
    ovl_agg2_config b = w_config(&r.C, &r.plan, false, 2, 1000);
    a.test_seed = seed[0];
    b.test_seed = seed[1];
    EXPECT_OK(ovl_agg2_new(&r.e[0], &a));
    EXPECT_OK(ovl_agg2_new(&r.e[1], &b));
    hx_init(&r.side[0], &ovl_agg2_ops, r.e[0]);
    hx_init(&r.side[1], &ovl_agg2_ops, r.e[1]);
    hx_run(&r.side[0], &r.side[1], NULL, NULL);
    EXPECT_OK(r.side[0].rc);
    EXPECT_OK(r.side[1].rc);
    check_cells(&r, 2);
    const ovl_agg2_cell *cells;
    size_t n = 0, moved = 0;
    uint8_t seen[8] = {0};
    EXPECT_OK(ovl_agg2_released(r.e[0], &cells, &n));
    EXPECT_EQ(n, 8);
    for (size_t i = 0; i < n; i++) {
        uint32_t rank = label_index(&r.C, cells[i].label_c, cells[i].label_c_len);
        EXPECT_TRUE(cells[i].c < 8 && !seen[cells[i].c % 8]);
        seen[cells[i].c % 8] = 1;
        moved += cells[i].c != rank;
    }
    EXPECT_TRUE(moved > 0);
    run_free(&r);
}

static void contributor_receives(void) { join(2, 3, 1, false, 4); }
static void single_cell(void) { join(1, 1, 0, true, 2); }
static void runner_groups_only(void) { join(4, 1, 1, true, 2); }

/* (type, length) of every frame a side sent; RELEASE's length follows r. */
static size_t frames_of(const hx_side *s, uint8_t *types, uint32_t *lens, size_t cap)
{
    ovl_buf log;
    size_t n = 0;
    ovl_buf_reader(&log, s->log.data, ovl_buf_len(&s->log));
    while (ovl_buf_remaining(&log) >= OVL_FRAME_HDR && n < cap) {
        const uint8_t *f = ovl_buf_rptr(&log);
        uint32_t len = ((uint32_t)f[1] << 24) | ((uint32_t)f[2] << 16) |
                       ((uint32_t)f[3] << 8) | f[4];
        types[n] = f[0];
        lens[n] = len;
        n++;
        if (ovl_buf_skip(&log, OVL_FRAME_HDR + len) != OVL_OK)
            break;
    }
    return n;
}

/* Two different inputs of equal sizes (and equal r: a threshold no cell
 * reaches) give identical frame sizes and counts, both directions. */
static void frame_sizes_do_not_depend_on_data(void)
{
    static uint8_t t[2][2][8192];
    static uint32_t l[2][2][8192];
    size_t n[2][2];
    for (int k = 0; k < 2; k++) {
        run_t r;
        EXPECT_OK(run_new(&r, 3, 2, 0, true, 1000, 2, 1000, 1000));
        hx_run(&r.side[0], &r.side[1], NULL, NULL);
        EXPECT_OK(r.side[0].rc);
        EXPECT_OK(r.side[1].rc);
        EXPECT_EQ(ovl_agg2_released_count(r.e[0]), 0);
        for (int s = 0; s < 2; s++)
            n[k][s] = frames_of(&r.side[s], t[k][s], l[k][s], 8192);
        run_free(&r);
    }
    for (int s = 0; s < 2; s++) {
        EXPECT_EQ(n[0][s], n[1][s]);
        EXPECT_TRUE(n[0][s] > 10);
        EXPECT_TRUE(memcmp(t[0][s], t[1][s], n[0][s]) == 0);
        EXPECT_TRUE(memcmp(l[0][s], l[1][s], n[0][s] * 4) == 0);
    }
}

/* ---- HELLO refusals: nothing but HELLO leaves either side ---- */

static void only_hello_sent(const run_t *r)
{
    uint8_t t[16];
    uint32_t l[16];
    for (int s = 0; s < 2; s++) {
        size_t n = frames_of(&r->side[s], t, l, 16);
        EXPECT_EQ(n, 1);
        EXPECT_EQ(t[0], OVL_HELLO_TYPE);
    }
}

static void max_cells_refused_at_hello(void)
{
    run_t r;
    /* 3 × 2 = 6 cells; the contributor allows 5 */
    EXPECT_OK(run_new(&r, 3, 2, 0, true, 2, 2, 1000, 5));
    hx_run(&r.side[0], &r.side[1], NULL, NULL);
    EXPECT_ERR(OVL_ERR_POLICY, r.side[0].rc);
    EXPECT_ERR(OVL_ERR_POLICY, r.side[1].rc);
    EXPECT_TRUE(strstr(r.side[1].detail, "6 cells where the policy allows 5") != NULL);
    only_hello_sent(&r);
    run_free(&r);
}

static void plan_mismatch_refused(void)
{
    run_t r;
    EXPECT_OK(run_new(&r, 2, 2, 0, true, 2, 2, 1000, 1000));
    ovl_agg2_free(r.e[1]);
    ovl_agg2_plan other = r.plan;
    other.having = 5;
    ovl_agg2_config b = w_config(&r.C, &other, false, 2, 1000);
    EXPECT_OK(ovl_agg2_new(&r.e[1], &b));
    r.side[1].proto = r.e[1];
    hx_run(&r.side[0], &r.side[1], NULL, NULL);
    EXPECT_ERR(OVL_ERR_POLICY, r.side[0].rc);
    EXPECT_TRUE(strstr(r.side[0].detail, "another aggregate plan") != NULL);
    only_hello_sent(&r);
    run_free(&r);
}

/* ---- tampering ---- */

typedef struct {
    uint8_t type;
    int side, nth, seen, how; /* how: 0 truncate, 1 extend, 2 drop, 3 flip byte at `at` */
    size_t at;
} tamper;

static void set_len(ovl_buf *f, size_t plen)
{
    f->data[1] = (uint8_t)(plen >> 24);
    f->data[2] = (uint8_t)(plen >> 16);
    f->data[3] = (uint8_t)(plen >> 8);
    f->data[4] = (uint8_t)plen;
}

static void tamper_fn(void *arg, int side, ovl_buf *frame, bool *drop)
{
    tamper *t = arg;
    if (side != t->side || frame->data[0] != t->type || t->seen++ != t->nth)
        return;
    size_t plen = ovl_buf_len(frame) - OVL_FRAME_HDR;
    if (t->how == 0 && plen > 0) {
        frame->wpos--;
        set_len(frame, plen - 1);
    } else if (t->how == 1) {
        if (ovl_buf_put_u8(frame, 0) != OVL_OK)
            abort();
        set_len(frame, plen + 1);
    } else if (t->how == 2) {
        *drop = true;
    } else if (t->how == 3 && t->at < plen) {
        frame->data[OVL_FRAME_HDR + t->at] ^= 1;
    }
}

static void tampered(tamper t, uint8_t receiver, ovl_err want)
{
    run_t r;
    EXPECT_OK(run_new(&r, 3, 2, receiver, true, 2, 2, 1000, 1000));
    hx_run(&r.side[0], &r.side[1], tamper_fn, &t);
    EXPECT_TRUE(t.seen > t.nth);
    ovl_err got = r.side[1 - t.side].rc;
    OVL_T_RECORD(got == want, "frame 0x%02x tampered (%d): got %d (%s), want %d", t.type, t.how,
                 (int)got, r.side[1 - t.side].detail, (int)want);
    run_free(&r);
}

static void hostile_labels(void)
{
    /* the runner receives: the contributor's LABELS */
    tampered((tamper){OVL_AGG2_LABELS, 1, 0, 0, 0, 0}, 0, OVL_ERR_MALFORMED);
    tampered((tamper){OVL_AGG2_LABELS, 1, 0, 0, 1, 0}, 0, OVL_ERR_MALFORMED);
    tampered((tamper){OVL_AGG2_LABELS, 1, 0, 0, 2, 0}, 0, OVL_ERR_PROTOCOL);
    tampered((tamper){OVL_AGG2_LABELS, 1, 0, 0, 3, 3}, 0, OVL_ERR_PROTOCOL);
}

static void hostile_release_and_masked(void)
{
    /* RELEASE with another count */
    tampered((tamper){OVL_AGG2_RELEASE, 1, 0, 0, 3, 3}, 0, OVL_ERR_PROTOCOL);
    tampered((tamper){OVL_AGG2_RELEASE, 0, 0, 0, 0, 0}, 1, OVL_ERR_MALFORMED);
    /* MASKED truncated, oversized, out of order (first), of another pass */
    tampered((tamper){OVL_AGG2_MASKED, 1, 0, 0, 0, 0}, 0, OVL_ERR_MALFORMED);
    tampered((tamper){OVL_AGG2_MASKED, 1, 0, 0, 1, 0}, 0, OVL_ERR_MALFORMED);
    tampered((tamper){OVL_AGG2_MASKED, 0, 0, 0, 3, 4}, 0, OVL_ERR_PROTOCOL);
    tampered((tamper){OVL_AGG2_MASKED, 0, 0, 0, 3, 0}, 0, OVL_ERR_PROTOCOL);
    /* DONE with a payload */
    tampered((tamper){OVL_AGG2_DONE, 0, 0, 0, 1, 0}, 0, OVL_ERR_MALFORMED);
}

/* Early DONE (a receiver's frame, during circuit PSI) fails the helper. */
static void early_done(void)
{
    run_t r;
    EXPECT_OK(run_new(&r, 2, 2, 0, true, 2, 2, 1000, 1000));
    /* the helper (contributor) gets DONE before HELLO, then a fresh one during CPSI */
    EXPECT_ERR(OVL_ERR_PROTOCOL, ovl_agg2_ops.feed(r.e[1], OVL_AGG2_DONE, NULL, 0));
    run_free(&r);
    EXPECT_OK(run_new(&r, 2, 2, 0, true, 2, 2, 1000, 1000));
    /* deliver only the HELLOs */
    for (int s = 0; s < 2; s++) {
        ovl_buf f;
        bool have;
        EXPECT_OK(ovl_buf_alloc(&f, 64, 1 << 21));
        EXPECT_OK(ovl_agg2_ops.pull(r.e[s], &f, &have));
        EXPECT_TRUE(have);
        EXPECT_OK(ovl_agg2_ops.feed(r.e[1 - s], f.data[0], f.data + OVL_FRAME_HDR,
                                    ovl_buf_len(&f) - OVL_FRAME_HDR));
        ovl_buf_free(&f);
    }
    /* held until circuit PSI ends, then refused by the core */
    EXPECT_OK(ovl_agg2_ops.feed(r.e[1], OVL_AGG2_DONE, NULL, 0));
    hx_run(&r.side[0], &r.side[1], NULL, NULL);
    EXPECT_ERR(OVL_ERR_PROTOCOL, r.side[1].rc);
    EXPECT_TRUE(strstr(r.side[1].detail, "DONE before RELEASE") != NULL);
    /* LABELS at the helper: a receiver's frame is refused too */
    run_free(&r);
}

/* ---- the findings of version 1 (SPEC §10.4) ---- */

/* "overlapping groups refused" and "mixed-party dimensions refused": one
 * identifier in several groups of both parties, dimensions of both, and the
 * cells equal the join's (runner_receives covers the values). */
static void finding_overlap_and_mixed_dims(void)
{
    run_t r;
    EXPECT_OK(run_new(&r, 3, 3, 0, true, 2, 2, 1000, 1000));
    size_t multi = 0;
    for (uint32_t i = 0; i < r.R.nids; i++)
        multi += r.R.t.first[i + 1] - r.R.t.first[i] > 1;
    EXPECT_TRUE(multi > 0);
    EXPECT_TRUE(ovl_agg2_plan_dims_of(&r.plan, 0) == 1 && ovl_agg2_plan_dims_of(&r.plan, 1) == 1);
    hx_run(&r.side[0], &r.side[1], NULL, NULL);
    EXPECT_OK(r.side[0].rc);
    EXPECT_OK(r.side[1].rc);
    if (r.side[0].rc == OVL_OK && r.side[1].rc == OVL_OK)
        check_cells(&r, 2);
    run_free(&r);
}

/* "the runner sees every group's match count and decides suppression": as
 * helper the runner has no cells, only r, and no frame it receives carries
 * anything but shares (LABELS and RELEASE never travel to it). */
static void finding_runner_learns_only_r(void)
{
    run_t r;
    EXPECT_OK(run_new(&r, 2, 2, 1, true, 3, 2, 1000, 1000));
    hx_run(&r.side[0], &r.side[1], NULL, NULL);
    EXPECT_OK(r.side[0].rc);
    EXPECT_OK(r.side[1].rc);
    const ovl_agg2_cell *cells;
    size_t n;
    EXPECT_ERR(OVL_ERR_USAGE, ovl_agg2_released(r.e[0], &cells, &n));
    EXPECT_TRUE(!ovl_agg2_is_receiver(r.e[0]) && ovl_agg2_is_receiver(r.e[1]));
    static uint8_t t[8192];
    static uint32_t l[8192];
    size_t m = frames_of(&r.side[1], t, l, 8192);
    for (size_t i = 0; i < m; i++)
        EXPECT_TRUE(t[i] != OVL_AGG2_LABELS && t[i] != OVL_AGG2_RELEASE);
    run_free(&r);
}

/* "the contributor decrypts whatever the runner sends (dummy partitions)":
 * nothing is opened but passing shuffled records, and a runner announcing
 * more groups than the contributor's max_cells allows is refused at HELLO. */
static void finding_dummy_partitions_refused(void)
{
    run_t r;
    EXPECT_OK(run_new(&r, 8, 1, 0, true, 2, 2, 1000, 4));
    hx_run(&r.side[0], &r.side[1], NULL, NULL);
    EXPECT_ERR(OVL_ERR_POLICY, r.side[1].rc);
    only_hello_sent(&r);
    run_free(&r);
}

/* "a tampered share made the abort message carry a count": a corrupted
 * RELEASE (its D, its indices) is counted as inconsistent, never an abort,
 * and DONE is sent as in every run. */
static void finding_no_abort_on_combined_shares(void)
{
    for (size_t at = 4; at <= 4 + 8 * 8; at += 8 * 4) {
        run_t r;
        tamper t = {OVL_AGG2_RELEASE, 1, 0, 0, 3, at + 7};
        EXPECT_OK(run_new(&r, 3, 2, 0, true, 2, 2, 1000, 1000));
        hx_run(&r.side[0], &r.side[1], tamper_fn, &t);
        EXPECT_OK(r.side[0].rc);
        EXPECT_OK(r.side[1].rc);
        EXPECT_TRUE(ovl_agg2_ops.done(r.e[0]) && ovl_agg2_ops.done(r.e[1]));
        const ovl_agg2_cell *cells;
        size_t n = 0;
        EXPECT_OK(ovl_agg2_released(r.e[0], &cells, &n));
        EXPECT_EQ(n + ovl_agg2_inconsistent(r.e[0]) >= ovl_agg2_released_count(r.e[0]), 1);
        run_free(&r);
    }
}

/* "h_s of order 2 / Paillier": no Paillier — the peer's HELLO of version 1
 * (or anything but AGG2 params) is refused before any data-derived frame. */
static void finding_version1_peer_refused(void)
{
    run_t r;
    tamper t = {OVL_HELLO_TYPE, 1, 0, 0, 3, 0};
    EXPECT_OK(run_new(&r, 2, 2, 0, true, 2, 2, 1000, 1000));
    /* the params start after the magic, version, suite, mode, reveal, role, set
     * size, nonce and length */
    t.at = 4 + 2 + 2 + 1 + 1 + 1 + 8 + 32 + 4 + 3;
    hx_run(&r.side[0], &r.side[1], tamper_fn, &t);
    EXPECT_ERR(OVL_ERR_POLICY, r.side[0].rc);
    EXPECT_TRUE(strstr(r.side[0].detail, "version 1") != NULL);
    run_free(&r);
}

/* SPEC §10.3 (weighting, fixed): with the runner receiving, COUNT(DISTINCT)
 * is its flag fR as one COT choice bit against the contributor's shares of
 * the flags [nC > 0] in the payload. A modified runner that weights bin i by
 * 2^i (what u = 2^i did in the old type B, packing 64 bins' membership bits
 * into one opened D) can scale only what it holds: its COT outputs and its
 * own shares. The contributor's pads do not scale with them, so the opened
 * word is not Σ 2^i·fR·φ_i, while the honest D is exact. The deviation lives
 * here, on the products' API and the OT layer, never in the product. */
static void modified_runner_weighting_fails(void)
{
    static rows_t rr, rc_;
    ovl_agg_ident tr, tc;
    ovl_agg2_layout l = {1, 2, 0, 0, 3, 3, 0, 1};
    const ovl_agg2_prod_kind k = OVL_AGG2_PROD_B_FLAG;
    dealt d = {.l = l};
    ot_pair pair;
    ovl_buf msg = {0};
    ovl_cot *bs = NULL, *br = NULL;
    uint8_t choices[BINS / 8 + 1];
    uint64_t honest[2][2] = {{0}}, cellc[2] = {0}, share[BINS * 2];
    int64_t want[2];
    EXPECT_TRUE(ovl_agg2_prod_runner_chooses(&l, k));
    EXPECT_OK(table(&tr, &rr, 0, NIDS, 1, 3));
    EXPECT_OK(table(&tc, &rc_, NIDS / 3, NIDS, 2, 3));
    EXPECT_TRUE(deal(&d, &tr, &tc));
    EXPECT_OK(ot_pair_new(&pair, NULL, NULL, NULL, NULL, NULL));
    /* honest: D exact */
    uint64_t *hc[2] = {honest[0], honest[1]};
    EXPECT_OK(run_kind(&pair, &d, k, hc));
    expected(want, &l, &tr, &tc);
    for (int c = 0; c < 2; c++)
        EXPECT_EQ((int64_t)(honest[0][c] + honest[1][c]), want[c]);
    /* the readout the weighting aims at: Σ_i 2^i·fR_i·φ_{i,c} */
    size_t PW = ovl_agg2_payload_words(&l), off = PW - l.groups_c;
    uint64_t target[2] = {0, 0}, opened[2];
    int members = 0;
    for (size_t i = 0; i < BINS; i++)
        for (int c = 0; c < 2; c++) {
            uint64_t phi = d.pay[0][i * PW + off + c] + d.pay[1][i * PW + off + c];
            target[c] += ((uint64_t)1 << i) * (uint64_t)(d.nr[i] > 0) * phi;
            members += d.nr[i] > 0 && phi == 1;
        }
    EXPECT_TRUE(members > 0);
    /* the modified runner: honest choices (bits), weighted outputs and local terms */
    EXPECT_OK(ovl_agg2_prod_a_choices(choices, k, &l, d.nr, BINS));
    EXPECT_OK(ot_cot_run(&pair, 1, choices, BINS, &bs, &br, NULL, NULL));
    EXPECT_OK(ovl_buf_alloc(&msg, 256, 2u << 20));
    EXPECT_OK(ovl_agg2_prod_a_send(bs, k, &l, d.pay[1], BINS, &msg, cellc));
    EXPECT_OK(ovl_share_mul_recv(br, 64, l.groups_c, 1, &msg, share));
    for (int c = 0; c < 2; c++) {
        opened[c] = cellc[c];
        for (size_t i = 0; i < BINS; i++)
            opened[c] += ((uint64_t)1 << i) *
                         (share[i * 2 + c] + (uint64_t)(d.nr[i] > 0) * d.pay[0][i * PW + off + c]);
        EXPECT_TRUE(opened[c] != target[c]);
    }
    ovl_cot_free(bs);
    ovl_cot_free(br);
    ovl_buf_free(&msg);
    ot_pair_free(&pair);
    ovl_agg_ident_free(&tr);
    ovl_agg_ident_free(&tc);
    dealt_free(&d);
}

/* SPEC §5.1 (review finding O5): the totals are checked with the widest count
 * width a peer may state (16) when the engine is created, so data whose
 * totals fit only narrower peers is refused before any peer is heard, and the
 * check after HELLO can never refuse an honest owner's data. */
static void totals_checked_before_connecting(void)
{
    static w_party p;
    ovl_agg2_plan plan;
    ovl_agg2 *e = NULL;
    EXPECT_OK(w_party_make(&p, false, 0, 40, 2, 2, 3, 120));
    w_plan(&plan, 0, true, false, true);
    ovl_agg2_config c = w_config(&p, &plan, false, 3, 1000);
    EXPECT_OK(ovl_agg2_new(&e, &c));
    ovl_agg2_free(e);
    e = NULL;
    /* two sums of 10^14 (within 48-bit values): times 7 they fit, times 2^16 − 1 not */
    size_t stride = 2 * p.t.shape.cols;
    p.t.words[1] = 100000000000000;
    p.t.words[stride + 1] = 100000000000000;
    EXPECT_OK(ovl_agg_ident_check_totals(&p.t, 3));
    EXPECT_ERR(OVL_ERR_INPUT, ovl_agg_ident_check_totals(&p.t, 16));
    EXPECT_ERR(OVL_ERR_INPUT, ovl_agg2_new(&e, &c));
    EXPECT_TRUE(e == NULL);
    w_party_free(&p);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    RUN(runner_receives);
    RUN(many_batches);
    RUN(many_switch_batches);
    RUN(contributor_receives);
    RUN(helper_index_hides_label_rank);
    RUN(single_cell);
    RUN(runner_groups_only);
    RUN(frame_sizes_do_not_depend_on_data);
    RUN(max_cells_refused_at_hello);
    RUN(plan_mismatch_refused);
    RUN(hostile_labels);
    RUN(hostile_release_and_masked);
    RUN(early_done);
    RUN(finding_overlap_and_mixed_dims);
    RUN(finding_runner_learns_only_r);
    RUN(finding_dummy_partitions_refused);
    RUN(finding_no_abort_on_combined_shares);
    RUN(finding_version1_peer_refused);
    RUN(modified_runner_weighting_fails);
    RUN(totals_checked_before_connecting);
    return ovl_t_summary("test_agg2");
}
