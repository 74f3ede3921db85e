/* The aggregate v2 engine with a condition across parties (CONDITIONS.md):
 * two engines in one process, circuit PSI carrying the contributor's capped
 * rows, PAIRS (the bin circuits) and the pairs products before the shuffle,
 * comparison and release, against an oracle that joins the capped rows pair
 * by pair and keeps only those passing the window: the retailer (runner)'s
 * purchase day BETWEEN the advertiser (contributor)'s impression day AND
 * that day + 30. Caps 1–4, groups of both parties, cells under the
 * threshold, either receiver; frame sizes independent of the data; a plan
 * with conditions but no rows refused; a hostile peer: every frame kind of
 * PAIRS and its products, from either party, truncated, extended, halved,
 * repeated or held back (refused naming the frame, nothing released), and
 * values altered that no MAC catches (the run completes, opening no more than
 * the comparison releases). */
#include "agg2_world.h"
#include "aggregate/pairrows.h"
#include "core/frame.h"
#include "core/guard.h"
#include "mpc/gc.h"
#include "mpc/ot.h"

#define EXPECT_FALSE_DONE(r) EXPECT_TRUE(!ovl_agg2_ops.done((r)->e[0]) || !ovl_agg2_ops.done((r)->e[1]))
#include "psi_harness.h"
#include "test.h"

enum { DAY0 = 46000 };

typedef struct {
    w_party p;
    uint32_t day[W_MAXROWS];
    uint8_t kept[W_MAXROWS];
    uint32_t capped;
    uint32_t first[W_MAXIDS + 1];
    ovl_pp_row row[W_MAXROWS];
    uint64_t words[W_MAXROWS * 2 * W_COLS];
    ovl_pp_rows v;
} pparty;

typedef struct {
    pparty R, C;
    ovl_agg2_plan plan;
    ovl_agg2 *e[2]; /* 0 runner (listener), 1 contributor (connector) */
    hx_side side[2];
} prun;

/* The plan words of one row (agg2_world.h's plan columns of its side). */
static uint32_t row_words(uint64_t *w, const ovl_agg2_plan *pl, const w_party *p, size_t r)
{
    uint32_t j = 0, k = 0;
    unsigned side = p->runner ? 0 : 1;
    for (uint32_t i = 0; i < pl->ncols; i++) {
        if (pl->cols[i].side != side)
            continue;
        bool nul = p->null[r * p->cols + j];
        w[k++] = !nul;
        if (ovl_agg2_plan_col_summed(pl, i))
            w[k++] = nul ? 0 : (uint64_t)p->value[r * p->cols + j];
        j++;
    }
    return k;
}

/* Days, the cap by day (ties by input order), and the kept rows by
 * identifier with their circuit rows: the runner's word its purchase day,
 * the contributor's its impression day + 0 and + 30. */
static ovl_err pparty_make(pparty *q, const ovl_agg2_plan *pl, uint32_t cap)
{
    ovl_err rc = OVL_OK;
    w_party *p = &q->p;
    int64_t key[W_MAXROWS];
    for (size_t r = 0; r < p->rows; r++) {
        q->day[r] = DAY0 + randombytes_uniform(60);
        key[r] = q->day[r];
    }
    ovl_pc_cap_in in = {p->id, key, NULL, p->rows, p->nids, cap};
    OVL_TRY(ovl_pc_cap_rows(q->kept, &q->capped, &in));
    uint32_t n = 0, k = ovl_agg2_plan_words(pl, p->runner ? 0 : 1);
    for (uint32_t x = 0; x < p->nids; x++) {
        q->first[x] = n;
        for (size_t r = 0; r < p->rows; r++) {
            if (p->id[r] != x || !q->kept[r])
                continue;
            ovl_pp_row *o = &q->row[n];
            memset(o, 0, sizeof *o);
            o->valid = true;
            o->group = p->group[r];
            if (p->runner) {
                OVL_TRY(ovl_pc_word_date(&o->word[0][0], q->day[r], 0));
            } else {
                OVL_TRY(ovl_pc_word_date(&o->word[0][0], q->day[r], pl->pairs.conds[0].lo));
                OVL_TRY(ovl_pc_word_date(&o->word[0][1], q->day[r], pl->pairs.conds[0].hi));
            }
            row_words(q->words + (size_t)n * k, pl, p, r);
            n++;
        }
    }
    q->first[p->nids] = n;
    q->v = (ovl_pp_rows){p->nids, q->first, q->row, q->words};
done:
    return rc;
}

static void window_plan(ovl_agg2_plan *pl, uint8_t receiver, bool star, bool rdim, bool cdim,
                        uint32_t cap)
{
    w_plan(pl, receiver, star, rdim, cdim);
    ovl_pc_plan *c = &pl->pairs;
    c->nconds = 1;
    c->conds[0] = (ovl_pc_plan_cond){.op = OVL_PC_BETWEEN, .type = OVL_PC_TYPE_DATE,
                                     .width = OVL_PC_DATE_BITS, .lo = 0, .hi = 30};
    strcpy(c->conds[0].r_col, "purchase_date");
    strcpy(c->conds[0].c_col, "impression_date");
    c->cap_rows = (uint8_t)cap;
    strcpy(c->r_order, "purchase_date");
    strcpy(c->c_order, "impression_date");
}

static void prun_free(prun *r)
{
    for (int i = 0; i < 2; i++) {
        ovl_agg2_free(r->e[i]);
        hx_free(&r->side[i]);
    }
    w_party_free(&r->R.p);
    w_party_free(&r->C.p);
}

/* n identifiers per party (the last two thirds of the runner's shared), rows of each. */
static ovl_err prun_sized(prun *r, uint32_t gr, uint32_t gc, uint8_t receiver, bool star,
                          uint32_t cap, uint64_t min_rows, uint32_t n, size_t rows)
{
    ovl_err rc = OVL_OK;
    memset(r, 0, sizeof *r);
    OVL_TRY(w_party_make(&r->R.p, true, 0, n, gr, 2, 3, rows));
    OVL_TRY(w_party_make(&r->C.p, false, n * 2 / 5, n + n * 2 / 5, gc, 2, 3, rows));
    window_plan(&r->plan, receiver, star, gr > 1, gc > 1, cap);
    OVL_TRY(pparty_make(&r->R, &r->plan, cap));
    OVL_TRY(pparty_make(&r->C, &r->plan, cap));
    ovl_agg2_config a = w_config(&r->R.p, &r->plan, true, min_rows, 1000);
    ovl_agg2_config b = w_config(&r->C.p, &r->plan, false, 2, 1000);
    a.pair_rows = &r->R.v;
    b.pair_rows = &r->C.v;
    OVL_TRY(ovl_agg2_new(&r->e[0], &a));
    OVL_TRY(ovl_agg2_new(&r->e[1], &b));
    hx_init(&r->side[0], &ovl_agg2_ops, r->e[0]);
    hx_init(&r->side[1], &ovl_agg2_ops, r->e[1]);
done:
    return rc;
}

static ovl_err prun_new(prun *r, uint32_t gr, uint32_t gc, uint8_t receiver, bool star,
                        uint32_t cap, uint64_t min_rows)
{
    return prun_sized(r, gr, gc, receiver, star, cap, min_rows, 40, 120);
}

/* The oracle: the capped rows joined pair by pair, the window applied. */
static void oracle(int64_t *want, size_t P, const prun *r)
{
    static uint8_t hit[W_MAXG * W_MAXG][W_MAXIDS * 2];
    const pparty *R = &r->R, *C = &r->C;
    bool star = ovl_agg2_plan_star(&r->plan);
    uint32_t kr = ovl_agg2_plan_k_r(&r->plan), kc = ovl_agg2_plan_k_c(&r->plan);
    memset(hit, 0, sizeof hit);
    for (size_t a = 0; a < R->p.rows; a++)
        for (size_t b = 0; b < C->p.rows; b++) {
            uint32_t ga = R->p.gid[R->p.id[a]], gb = C->p.gid[C->p.id[b]];
            if (ga != gb || !R->kept[a] || !C->kept[b] || R->day[a] < C->day[b] ||
                R->day[a] > C->day[b] + 30)
                continue;
            size_t cell = (size_t)R->p.group[a] * C->p.groups + C->p.group[b];
            int64_t *x = want + cell * P;
            uint64_t w[2 * W_COLS * 2];
            if (!hit[cell][ga]) {
                hit[cell][ga] = 1;
                x[0]++;
            }
            size_t k = 1;
            if (star)
                x[k++]++;
            row_words(w, &r->plan, &R->p, a);
            for (uint32_t q = 0; q < kr; q++)
                x[k++] += (int64_t)w[q];
            row_words(w, &r->plan, &C->p, b);
            for (uint32_t q = 0; q < kc; q++)
                x[k++] += (int64_t)w[q];
        }
}

/* A party's group index by its label (UINT32_MAX: none). */
static uint32_t label_index(const w_party *p, const uint8_t *label, size_t len)
{
    for (uint32_t g = 0; g < p->groups; g++)
        if (len == p->label_len[g] && memcmp(label, p->labels[g], len) == 0)
            return g;
    return UINT32_MAX;
}

static void check_cells(prun *r, uint64_t T)
{
    int q = r->plan.receiver;
    size_t P = 1 + ovl_agg2_plan_star(&r->plan) + ovl_agg2_plan_k_r(&r->plan) +
               ovl_agg2_plan_k_c(&r->plan);
    size_t K = (size_t)r->R.p.groups * r->C.p.groups, n = 0, over = 0, good = 0;
    int64_t *want = calloc(K * P, 8);
    oracle(want, P, r);
    const ovl_agg2_cell *cells;
    EXPECT_OK(ovl_agg2_released(r->e[q], &cells, &n));
    for (size_t i = 0; i < K; i++)
        over += (uint64_t)want[i * P] >= T;
    EXPECT_EQ(n, over);
    EXPECT_EQ(ovl_agg2_released_count(r->e[1 - q]), over);
    EXPECT_EQ(ovl_agg2_inconsistent(r->e[q]), 0);
    for (size_t i = 0; i < n; i++) {
        const ovl_agg2_cell *c = &cells[i];
        /* the helper's side carries its published index (SPEC.md §4.3): find its label */
        uint32_t g = q == 0 ? c->g : label_index(&r->R.p, c->label_r, c->label_r_len);
        uint32_t k = q == 1 ? c->c : label_index(&r->C.p, c->label_c, c->label_c_len);
        if (g < r->R.p.groups && k < r->C.p.groups)
            good += memcmp(c->words, want + ((size_t)g * r->C.p.groups + k) * P, P * 8) == 0;
    }
    EXPECT_EQ(good, n);
    int64_t joined = 0, distinct = 0;
    for (size_t i = 0; i < K; i++)
        distinct += want[i * P], joined += ovl_agg2_plan_star(&r->plan) ? want[i * P + 1] : 0;
    printf("agg2 pairs: cap %u, %u x %u groups, T = %llu: %zu of %zu cells released "
           "(%lld distinct, %lld joined rows over all cells; capped %u / %u)\n",
           r->plan.pairs.cap_rows, r->R.p.groups, r->C.p.groups, (unsigned long long)T, n, K,
           (long long)distinct, (long long)joined, r->R.capped, r->C.capped);
    free(want);
}

static void window(uint32_t gr, uint32_t gc, uint8_t receiver, bool star, uint32_t cap,
                   uint64_t T)
{
    prun *r = calloc(1, sizeof *r);
    if (r == NULL)
        return;
    EXPECT_OK(prun_new(r, gr, gc, receiver, star, cap, T));
    if (r->e[0] && r->e[1]) {
        hx_run(&r->side[0], &r->side[1], NULL, NULL);
        EXPECT_OK(r->side[0].rc);
        EXPECT_OK(r->side[1].rc);
        for (int i = 0; i < 2; i++)
            if (r->side[i].rc != OVL_OK)
                fprintf(stderr, "    side %d: %s\n", i, r->side[i].detail);
        if (r->side[0].rc == OVL_OK && r->side[1].rc == OVL_OK)
            check_cells(r, T);
        /* SPEC §11 has no pairs phase: no formula shape is claimed for it */
        ovl_agg2_cost_in in;
        EXPECT_ERR(OVL_ERR_USAGE, ovl_agg2_cost_inputs(&in, r->e[0]));
    }
    prun_free(r);
    free(r);
}

static void caps_and_groups(void)
{
    window(1, 1, 0, true, 1, 2);
    window(2, 3, 0, true, 2, 2);
    window(3, 2, 1, false, 3, 3);
    window(2, 2, 0, true, 4, 4);
    window(2, 3, 1, true, 2, 6); /* several cells under the threshold */
}

/* A plan with conditions needs each party's capped rows; rows need a plan
 * with conditions. */
static void rows_required(void)
{
    prun *r = calloc(1, sizeof *r);
    if (r == NULL)
        return;
    EXPECT_OK(w_party_make(&r->R.p, true, 0, 40, 2, 2, 3, 120));
    window_plan(&r->plan, 0, true, true, false, 2);
    EXPECT_OK(pparty_make(&r->R, &r->plan, 2));
    ovl_agg2_config a = w_config(&r->R.p, &r->plan, true, 2, 1000);
    EXPECT_ERR(OVL_ERR_USAGE, ovl_agg2_new(&r->e[0], &a));
    a.pair_rows = &r->R.v;
    EXPECT_OK(ovl_agg2_new(&r->e[0], &a));
    ovl_agg2_free(r->e[0]);
    r->e[0] = NULL;
    ovl_agg2_plan plain;
    w_plan(&plain, 0, true, true, false);
    a.plan = &plain;
    EXPECT_ERR(OVL_ERR_USAGE, ovl_agg2_new(&r->e[0], &a));
    prun_free(r);
    free(r);
}

/* (type, length) of every frame a side sent. */
static size_t frames_of(const hx_side *s, uint8_t *types, uint32_t *lens, size_t cap)
{
    ovl_buf log;
    size_t n = 0;
    ovl_buf_reader(&log, s->log.data, ovl_buf_len(&s->log));
    while (ovl_buf_remaining(&log) >= OVL_FRAME_HDR && n < cap) {
        const uint8_t *f = ovl_buf_rptr(&log);
        uint32_t len = ((uint32_t)f[1] << 24) | ((uint32_t)f[2] << 16) | ((uint32_t)f[3] << 8) | f[4];
        types[n] = f[0];
        lens[n] = len;
        n++;
        if (ovl_buf_skip(&log, OVL_FRAME_HDR + len) != OVL_OK)
            break;
    }
    return n;
}

/* Which pairs pass, and how many rows each identifier has, show in no frame:
 * two different inputs of equal set sizes (and a threshold no cell reaches)
 * give identical frame types and sizes, both directions. */
static void frame_sizes_do_not_depend_on_pairs(void)
{
    static uint8_t t[2][2][16384];
    static uint32_t l[2][2][16384];
    size_t n[2][2];
    for (int k = 0; k < 2; k++) {
        prun *r = calloc(1, sizeof *r);
        if (r == NULL)
            return;
        EXPECT_OK(prun_new(r, 2, 2, 0, true, 3, 1000));
        hx_run(&r->side[0], &r->side[1], NULL, NULL);
        EXPECT_OK(r->side[0].rc);
        EXPECT_OK(r->side[1].rc);
        EXPECT_EQ(ovl_agg2_released_count(r->e[0]), 0);
        for (int s = 0; s < 2; s++)
            n[k][s] = frames_of(&r->side[s], t[k][s], l[k][s], 16384);
        prun_free(r);
        free(r);
    }
    for (int s = 0; s < 2; s++) {
        EXPECT_EQ(n[0][s], n[1][s]);
        EXPECT_TRUE(n[0][s] > 10 && n[0][s] < 16384);
        EXPECT_TRUE(memcmp(t[0][s], t[1][s], n[0][s]) == 0);
        EXPECT_TRUE(memcmp(l[0][s], l[1][s], n[0][s] * 4) == 0);
    }
}

/* A hostile contributor: the garbled tables of a bin circuit altered (the
 * first GC_TABLES frame after the aggregate's own OT base, i.e. of PAIRS,
 * not of circuit PSI's equality). The runner's decoding catches it: the run fails with an error,
 * and no cell is released. */
typedef struct {
    bool base_seen;
    int flipped;
    uint8_t type;
} tamper_t;

static void flip_pairs_tables(void *arg, int side, ovl_buf *frame, bool *drop)
{
    tamper_t *t = arg;
    (void)drop;
    const uint8_t *f = frame->data;
    if (side != 1 || ovl_buf_len(frame) < OVL_FRAME_HDR + 16)
        return;
    if (f[0] == OVL_AGG2_OT && f[OVL_FRAME_HDR] == OVL_OTMSG_BASE)
        t->base_seen = true;
    else if (t->base_seen && !t->flipped && f[0] == t->type) {
        /* A half-gate table is used only for some labels: alter every table
         * of the frame, both halves. */
        for (size_t at = OVL_FRAME_HDR + 8; at + 32 <= ovl_buf_len(frame); at += 32)
            frame->data[at] ^= 0x10, frame->data[at + 16] ^= 0x10;
        t->flipped = 1;
    }
}

static void hostile_tables(uint8_t type)
{
    prun *r = calloc(1, sizeof *r);
    tamper_t t = {.type = type};
    if (r == NULL)
        return;
    EXPECT_OK(prun_new(r, 2, 2, 0, true, 2, 2));
    hx_run(&r->side[0], &r->side[1], flip_pairs_tables, &t);
    EXPECT_EQ(t.flipped, 1);
    EXPECT_TRUE(r->side[0].rc != OVL_OK || r->side[1].rc != OVL_OK);
    EXPECT_FALSE_DONE(r);
    const ovl_agg2_cell *cells;
    size_t n = 0;
    EXPECT_TRUE(ovl_agg2_released(r->e[0], &cells, &n) != OVL_OK && n == 0);
    printf("agg2 pairs: a flipped bit in frame 0x%02x of PAIRS: %s\n", type,
           r->side[0].rc != OVL_OK ? r->side[0].detail : r->side[1].detail);
    prun_free(r);
    free(r);
}

static void hostile_contributor(void)
{
    /* (A flipped permute bit in GC_DECODE is not caught, nor need it be: it
     * flips an output the contributor masks anyway, i.e. its own share.) */
    hostile_tables(OVL_GC_TABLES);
}

/* ---- the frames of the pairs phase reshaped by a hostile peer (CONDITIONS.md §4.3, §5,
 * §7): the bin circuits' garbled-circuit frames each side sends after its own AGG_OT BASE
 * (the contributor garbles: SETUP, OT_BASE, OT_CHAL, INPUTS, TABLES, DECODE; the runner
 * evaluates: SETUP, OT_BASE, OT_U, OT_PROOF) and the products' AGG_OT frames (EXT_U,
 * EXT_CHAL, EXT_PROOF and SHARE_COT of ROWS, FLAG and CONTRIB) up to the shuffle's first
 * MASKED. Each is truncated, extended, halved, repeated or held back behind the sender's
 * next frame: the run must stop with an error on one side, neither side done and nothing
 * released on either (ASan and UBSan watching). ---- */

typedef enum { MUT_TRUNCATE, MUT_EXTEND, MUT_HALVE, MUT_REPEAT, MUT_REORDER, MUT_FLIP } mut_kind;

static const char *const mut_name[] = {"truncated by a byte", "extended by a byte", "halved",
                                       "repeated", "sent after the next", "with a bit flipped"};

typedef struct {
    int side;           /* the sender: 0 the runner, 1 the contributor */
    uint8_t type, kind; /* the frame's type and, for AGG_OT, its kind byte */
    int nth;            /* which of its matches in the window (0: the first) */
    mut_kind mut;
    int flip_at;        /* MUT_FLIP: the payload byte (negative: the middle one) */
    bool base_seen[2], masked_seen;
    int seen, hit;
    uint8_t *held;      /* MUT_REORDER: the frame held back */
    size_t held_len;
} fmut;

static void frame_resize(ovl_buf *frame, size_t plen)
{
    frame->wpos = OVL_FRAME_HDR + plen;
    frame->data[1] = (uint8_t)(plen >> 24), frame->data[2] = (uint8_t)(plen >> 16);
    frame->data[3] = (uint8_t)(plen >> 8), frame->data[4] = (uint8_t)plen;
}

static void mutate_pairs_frame(void *arg, int side, ovl_buf *frame, bool *drop)
{
    fmut *m = arg;
    const uint8_t *f = frame->data;
    size_t plen = ovl_buf_len(frame) - OVL_FRAME_HDR;
    bool ot = f[0] == OVL_AGG2_OT && plen >= 1;
    if (f[0] == OVL_AGG2_MASKED)
        m->masked_seen = true;
    if (side != m->side)
        return;
    if (m->held != NULL) { /* the sender's next frame: the held one follows it */
        if (ovl_buf_put_bytes(frame, m->held, m->held_len) != OVL_OK)
            abort();
        free(m->held);
        m->held = NULL;
        return;
    }
    if (ot && f[OVL_FRAME_HDR] == OVL_OTMSG_BASE && !m->base_seen[side]) {
        m->base_seen[side] = true;
        return;
    }
    if (!m->base_seen[side] || m->masked_seen || m->hit || f[0] != m->type ||
        (ot && f[OVL_FRAME_HDR] != m->kind) || m->seen++ != m->nth)
        return;
    m->hit = 1;
    switch (m->mut) {
    case MUT_TRUNCATE:
        frame_resize(frame, plen - 1);
        break;
    case MUT_EXTEND:
        if (ovl_buf_put_bytes(frame, (const uint8_t *)"", 1) != OVL_OK)
            abort();
        frame_resize(frame, plen + 1);
        break;
    case MUT_HALVE:
        frame_resize(frame, plen / 2);
        break;
    case MUT_REPEAT: {
        size_t n = ovl_buf_len(frame);
        uint8_t *copy = malloc(n);
        if (copy == NULL)
            abort();
        memcpy(copy, frame->data, n);
        if (ovl_buf_put_bytes(frame, copy, n) != OVL_OK)
            abort();
        free(copy);
        break;
    }
    case MUT_REORDER:
        m->held_len = ovl_buf_len(frame);
        m->held = malloc(m->held_len);
        if (m->held == NULL)
            abort();
        memcpy(m->held, frame->data, m->held_len);
        *drop = true;
        break;
    case MUT_FLIP:
        frame->data[OVL_FRAME_HDR + (m->flip_at < 0 ? plen / 2 : (size_t)m->flip_at)] ^= 0x01;
        break;
    }
}

static const char *frame_name(uint8_t type, uint8_t kind)
{
    static char name[32];
    static const char *const gc[] = {"SETUP", "OT_BASE", "OT_U", "OT_CHAL", "OT_PROOF",
                                     "INPUTS", "TABLES", "DECODE", "OUTPUT"};
    static const char *const otk[] = {"?", "BASE", "EXT_U", "EXT_CHAL", "EXT_PROOF",
                                      "CHOSEN", "SHARE_COT"};
    if (type >= OVL_GC_SETUP && type <= OVL_GC_OUTPUT)
        snprintf(name, sizeof name, "GC_%s", gc[type - OVL_GC_SETUP]);
    else
        snprintf(name, sizeof name, "AGG_OT %s", kind <= OVL_OTMSG_SHARE ? otk[kind] : "?");
    return name;
}

typedef enum { OUT_REFUSED, OUT_STALLED, OUT_COMPLETED } outcome;

/* Whether an error names the frame it refused (by name or type) or the step of the
 * garbled circuit that failed. */
static bool names_a_frame(const char *detail)
{
    static const char *const names[] = {"SETUP", "OT_BASE", "EXT_U", "EXT_CHAL", "EXT_PROOF",
                                        "SHARE_COT", "INPUTS", "TABLES", "DECODE", "OT batch",
                                        "OT challenge", "frame 0x"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strstr(detail, names[i]) != NULL)
            return true;
    return false;
}

/* One reshaped frame in a run: refused (an error on one side, neither done, nothing
 * released on either), stalled (a frame held back for good: the session's timeout ends
 * it; nothing released), or, for a frame held behind one of another batch (frames carry
 * their batch; the OT layer takes the kinds interleaved), the run completes with the
 * cells of the oracle. */
static outcome hostile_frame(int side, uint8_t type, uint8_t kind, int nth, mut_kind mut)
{
    prun *r = calloc(1, sizeof *r);
    fmut m = {.side = side, .type = type, .kind = kind, .nth = nth, .mut = mut};
    outcome o = OUT_REFUSED;
    if (r == NULL)
        return o;
    EXPECT_OK(prun_sized(r, 2, 2, 0, true, 2, 2, 12, 30));
    if (r->e[0] && r->e[1]) {
        hx_run(&r->side[0], &r->side[1], mutate_pairs_frame, &m);
        EXPECT_EQ(m.hit, 1);
        bool failed = r->side[0].rc != OVL_OK || r->side[1].rc != OVL_OK;
        bool done = ovl_agg2_ops.done(r->e[0]) && ovl_agg2_ops.done(r->e[1]);
        o = failed ? OUT_REFUSED : done ? OUT_COMPLETED : OUT_STALLED;
        EXPECT_TRUE(o == OUT_REFUSED || mut == MUT_REORDER);
        EXPECT_TRUE(o != OUT_STALLED || m.held != NULL);
        if (o == OUT_COMPLETED) {
            check_cells(r, 2);
        } else {
            EXPECT_FALSE_DONE(r);
            for (int i = 0; i < 2; i++) {
                const ovl_agg2_cell *cells;
                size_t n = 0;
                EXPECT_TRUE(ovl_agg2_released(r->e[i], &cells, &n) != OVL_OK && n == 0);
                EXPECT_EQ(ovl_agg2_released_count(r->e[i]), 0);
            }
        }
        /* the refusal names the frame or the step that failed */
        const char *why = r->side[0].rc != OVL_OK   ? r->side[0].detail
                          : r->side[1].rc != OVL_OK ? r->side[1].detail
                          : o == OUT_STALLED        ? "stalled (the peer waits for it)"
                                                    : "completed with the oracle's cells";
        EXPECT_TRUE(o != OUT_REFUSED || names_a_frame(why));
        printf("agg2 pairs: the %s's %s #%d %s: %s\n", side == 0 ? "runner" : "contributor",
               frame_name(type, kind), nth, mut_name[mut], why);
    }
    free(m.held);
    prun_free(r);
    free(r);
    return o;
}

typedef struct {
    int side;
    uint8_t type, kind;
    int nth;
    mut_kind mut;
} frame_at;

/* Every frame kind of PAIRS from its sender, each reshaped one way (every way on
 * several kinds: each run costs a whole engine pair, so not every pairing is run). */
static void hostile_pairs_frames(void)
{
    static const frame_at at[] = {
        /* the bin circuits: the contributor garbles */
        {1, OVL_GC_SETUP, 0, 0, MUT_HALVE},
        {1, OVL_GC_OT_BASE, 0, 0, MUT_REPEAT},
        {1, OVL_GC_OT_CHAL, 0, 0, MUT_TRUNCATE},
        {1, OVL_GC_INPUTS, 0, 0, MUT_REORDER},
        {1, OVL_GC_TABLES, 0, 0, MUT_EXTEND},
        {1, OVL_GC_TABLES, 0, 3, MUT_TRUNCATE},
        {1, OVL_GC_DECODE, 0, 0, MUT_REPEAT},
        /* the runner evaluates */
        {0, OVL_GC_SETUP, 0, 0, MUT_REORDER},
        {0, OVL_GC_OT_BASE, 0, 0, MUT_EXTEND},
        {0, OVL_GC_OT_U, 0, 0, MUT_HALVE},
        {0, OVL_GC_OT_PROOF, 0, 0, MUT_REPEAT},
        /* the products: ROWS and FLAG (the contributor receives), CONTRIB (the runner) */
        {1, OVL_AGG2_OT, OVL_OTMSG_EXT_U, 0, MUT_REORDER},
        {1, OVL_AGG2_OT, OVL_OTMSG_EXT_U, 1, MUT_REORDER},
        {0, OVL_AGG2_OT, OVL_OTMSG_EXT_CHAL, 0, MUT_EXTEND},
        {1, OVL_AGG2_OT, OVL_OTMSG_EXT_PROOF, 0, MUT_REPEAT},
        {0, OVL_AGG2_OT, OVL_OTMSG_SHARE, 0, MUT_HALVE},
        {0, OVL_AGG2_OT, OVL_OTMSG_SHARE, 1, MUT_REPEAT},
        {0, OVL_AGG2_OT, OVL_OTMSG_EXT_U, 0, MUT_TRUNCATE},
        {1, OVL_AGG2_OT, OVL_OTMSG_EXT_CHAL, 0, MUT_REORDER},
        {0, OVL_AGG2_OT, OVL_OTMSG_EXT_PROOF, 0, MUT_HALVE},
        {1, OVL_AGG2_OT, OVL_OTMSG_SHARE, 0, MUT_EXTEND},
    };
    size_t n[3] = {0};
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++)
        n[hostile_frame(at[i].side, at[i].type, at[i].kind, at[i].nth, at[i].mut)]++;
    EXPECT_TRUE(n[OUT_REFUSED] >= 16);
    printf("agg2 pairs: %zu reshaped frames: %zu refused, %zu stalled, %zu completed\n",
           sizeof at / sizeof at[0], n[OUT_REFUSED], n[OUT_STALLED], n[OUT_COMPLETED]);
}

/* A value altered, not a shape. Shares carry no MACs (SPEC.md §10.3: "a party that
 * deviates can add any offset to its shares at any point without detection"), so neither
 * of these is detected; what is asserted is that the run then completes normally and
 * opens no more than the comparison releases:
 * - the runner flips a bit of its first ROWS correction word (the SHARE_COT of COUNT(*),
 *   its own words and its share of the contributor's; D comes from FLAG): the released
 *   cells and their D are exactly the oracle's, and at most one other word differs;
 * - the contributor flips a bit of a bin circuit's DECODE: that flips the runner's share
 *   of one output bit, the same as the contributor changing its own mask; both parties
 *   agree on the number of cells released, at most the K of the group space. */
static void hostile_values(void)
{
    for (int k = 0; k < 2; k++) {
        prun *r = calloc(1, sizeof *r);
        fmut m = {.side = k == 0 ? 0 : 1, .type = k == 0 ? OVL_AGG2_OT : OVL_GC_DECODE,
                  .kind = k == 0 ? OVL_OTMSG_SHARE : 0, .mut = MUT_FLIP,
                  .flip_at = k == 0 ? -1 : 4};
        if (r == NULL)
            return;
        EXPECT_OK(prun_sized(r, 2, 2, 0, true, 2, 2, 12, 30));
        hx_run(&r->side[0], &r->side[1], mutate_pairs_frame, &m);
        EXPECT_EQ(m.hit, 1);
        EXPECT_OK(r->side[0].rc);
        EXPECT_OK(r->side[1].rc);
        EXPECT_TRUE(ovl_agg2_ops.done(r->e[0]) && ovl_agg2_ops.done(r->e[1]));
        const ovl_agg2_cell *cells;
        size_t n = 0, P = 1 + ovl_agg2_plan_star(&r->plan) + ovl_agg2_plan_k_r(&r->plan) +
                          ovl_agg2_plan_k_c(&r->plan);
        EXPECT_OK(ovl_agg2_released(r->e[0], &cells, &n));
        EXPECT_EQ(ovl_agg2_released_count(r->e[1]), n);
        EXPECT_TRUE(n <= (size_t)r->R.p.groups * r->C.p.groups);
        size_t differ = 0, d_equal = 0, over = 0;
        int64_t *want = calloc((size_t)r->R.p.groups * r->C.p.groups * P, 8);
        if (k == 0 && want != NULL) {
            oracle(want, P, r);
            for (size_t i = 0; i < (size_t)r->R.p.groups * r->C.p.groups; i++)
                over += want[i * P] >= 2;
            EXPECT_EQ(n, over);
            for (size_t i = 0; i < n; i++) {
                uint32_t c = label_index(&r->C.p, cells[i].label_c, cells[i].label_c_len);
                const int64_t *w = want + ((size_t)cells[i].g * r->C.p.groups + c) * P;
                d_equal += c < r->C.p.groups && cells[i].words[0] == w[0];
                for (size_t q = 1; c < r->C.p.groups && q < P; q++)
                    differ += cells[i].words[q] != w[q];
            }
            EXPECT_EQ(d_equal, n);
            EXPECT_TRUE(differ <= 1);
        }
        printf("agg2 pairs: %s: not detected (no MACs), the run completes, %zu cells released%s\n",
               k == 0 ? "the runner flips a bit of a ROWS correction" :
                        "the contributor flips a bit of a bin circuit's DECODE",
               n, k == 0 ? (differ ? ", their D exact, one word off" : ", their D exact, "
                                     "no word off (the bit met a 0 choice)") : "");
        free(want);
        prun_free(r);
        free(r);
    }
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    RUN(caps_and_groups);
    RUN(rows_required);
    RUN(frame_sizes_do_not_depend_on_pairs);
    RUN(hostile_contributor);
    RUN(hostile_pairs_frames);
    RUN(hostile_values);
    return ovl_t_summary("test_agg2_pairs");
}
