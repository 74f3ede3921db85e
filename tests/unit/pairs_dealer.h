/* A test-only dealer standing in for circuit PSI in the pairs-phase tests
 * (protocols/aggregate/pairs_phase.h): random rows of both parties with
 * groups, value columns with NULLs and condition columns (a date, an
 * integer), each party's WHERE-and-cap preparation (aggregate/pairrows.h),
 * the runner's identifiers placed in bins, and the shares circuit PSI leaves:
 * XOR shares of the contributor's row bits, its validity bits gated by the
 * match bit and the others noise outside a match (cpsi SPEC §6.6), additive
 * shares of its rows' value words. Also the expected cells computed straight
 * from the capped rows, pair by pair. Never part of the product. */
#ifndef OVL_PAIRS_DEALER_H
#define OVL_PAIRS_DEALER_H

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate/pairrows.h"
#include "aggregate/pairs_phase.h"
#include "core/guard.h"

enum { PD_NIDS = 24, PD_BINS = 32, PD_COLS = 1, PD_MAXROWS = 256, PD_DAY0 = 46000 };

/* The condition sets the tests draw from. */
typedef enum {
    PD_WINDOW = 0,   /* the article's: c.day BETWEEN r.day AND r.day + 30 */
    PD_NE,           /* r.n <> c.n over small integers, so equal values are common */
    PD_WINDOW_NE,    /* both */
    PD_GE,           /* r.day >= c.day + 7 */
    PD_NONE          /* no condition: validity and groups only */
} pd_conds;

typedef struct {
    size_t n;
    uint32_t id[PD_MAXROWS], group[PD_MAXROWS];
    uint32_t day[PD_MAXROWS];
    int64_t num[PD_MAXROWS];
    int64_t value[PD_MAXROWS * PD_COLS];
    uint8_t null[PD_MAXROWS * PD_COLS];
    uint8_t kept[PD_MAXROWS];
    uint32_t capped;
} pd_table;

/* An owner's kept rows grouped by identifier, in input order (the product's
 * ovl_pp_rows over identifiers 0 .. PD_NIDS − 1). */
typedef struct {
    uint32_t first[PD_NIDS + 1];
    ovl_pp_row row[PD_MAXROWS];
    uint64_t words[PD_MAXROWS * 2 * PD_COLS];
    ovl_pp_rows v;
} pd_rows_t;

typedef struct {
    ovl_pp_layout l;
    pd_conds conds;
    pd_table r, c;
    pd_rows_t rr, rc;         /* the kept rows of each, by identifier */
    size_t bins;
    uint32_t *slot;           /* the runner identifier of each bin, or UINT32_MAX */
    uint8_t *rrow;            /* R: bins × runner_bits */
    uint64_t *rw;             /* R: bins × cap_R × k_R */
    uint8_t *crow[2];         /* XOR shares (R, C): bins × contrib_bits */
    uint64_t *x[2];           /* additive shares (R, C): bins × cap_C × k_C */
} pd_deal;

static inline void pd_rows(pd_table *t, uint32_t lo, uint32_t hi, uint32_t groups, uint32_t cap)
{
    t->n = 0;
    for (uint32_t id = lo; id < hi; id++) {
        uint32_t rows = randombytes_uniform(cap + 3); /* often over the cap, sometimes none */
        for (uint32_t k = 0; k < rows && t->n < PD_MAXROWS; k++) {
            size_t r = t->n++;
            t->id[r] = id;
            t->group[r] = randombytes_uniform(groups);
            t->day[r] = PD_DAY0 + randombytes_uniform(90);
            t->num[r] = (int64_t)randombytes_uniform(5) - 2;
            for (int s = 0; s < PD_COLS; s++) {
                t->value[r * PD_COLS + s] = (int64_t)randombytes_uniform(2000001) - 1000000;
                t->null[r * PD_COLS + s] = randombytes_uniform(5) == 0;
            }
        }
    }
    /* Input order is not identifier order: shuffle the rows. */
    static pd_table tmp;
    uint32_t perm[PD_MAXROWS];
    tmp = *t;
    for (uint32_t i = 0; i < t->n; i++)
        perm[i] = i;
    for (uint32_t i = (uint32_t)t->n; i > 1; i--) {
        uint32_t j = randombytes_uniform(i), v = perm[i - 1];
        perm[i - 1] = perm[j];
        perm[j] = v;
    }
    for (size_t i = 0; i < t->n; i++) {
        size_t f = perm[i];
        t->id[i] = tmp.id[f], t->group[i] = tmp.group[f];
        t->day[i] = tmp.day[f], t->num[i] = tmp.num[f];
        for (int s = 0; s < PD_COLS; s++) {
            t->value[i * PD_COLS + s] = tmp.value[f * PD_COLS + s];
            t->null[i * PD_COLS + s] = tmp.null[f * PD_COLS + s];
        }
    }
}

/* The cap, earliest day first, ties by input order (CONDITIONS.md §3.2). */
static inline ovl_err pd_cap(pd_table *t, uint32_t cap)
{
    int64_t key[PD_MAXROWS];
    for (size_t r = 0; r < t->n; r++)
        key[r] = t->day[r];
    ovl_pc_cap_in in = {t->id, key, NULL, t->n, PD_NIDS, cap};
    return ovl_pc_cap_rows(t->kept, &t->capped, &in);
}

static inline ovl_pc_shape pd_shape(pd_conds conds, uint32_t cap, uint32_t gr, uint32_t gc)
{
    ovl_pc_shape s = {.cap_r = cap, .cap_c = cap, .groups_r = gr, .groups_c = gc};
    ovl_pc_cond window = {.op = OVL_PC_BETWEEN, .width = OVL_PC_DATE_BITS};
    ovl_pc_cond ne = {.op = OVL_PC_NE, .width = 20, .is_signed = true};
    ovl_pc_cond ge = {.op = OVL_PC_GE, .width = OVL_PC_DATE_BITS};
    switch (conds) {
    case PD_WINDOW: s.conds[s.nconds++] = window; break;
    case PD_NE: s.conds[s.nconds++] = ne; break;
    case PD_WINDOW_NE: s.conds[s.nconds++] = window, s.conds[s.nconds++] = ne; break;
    case PD_GE: s.conds[s.nconds++] = ge; break;
    default: break;
    }
    return s;
}

/* The plain reference of one pair, on the columns themselves. */
static inline bool pd_pass(pd_conds conds, const pd_table *r, size_t a, const pd_table *c,
                           size_t b)
{
    bool window = c->day[b] >= r->day[a] && c->day[b] <= r->day[a] + 30;
    bool ne = r->num[a] != c->num[b];
    switch (conds) {
    case PD_WINDOW: return window;
    case PD_NE: return ne;
    case PD_WINDOW_NE: return window && ne;
    case PD_GE: return r->day[a] >= c->day[b] + 7;
    default: return true;
    }
}

/* A kept row's circuit row: the runner's words are its own columns; the
 * contributor's carry the offsets of the canonical form, r.day in
 * [c.day − 30, c.day] and r.day >= c.day + 7. */
static inline ovl_err pd_row(ovl_pp_row *o, const pd_deal *d, const pd_table *t, size_t r,
                             bool contrib)
{
    ovl_err rc = OVL_OK;
    memset(o, 0, sizeof *o);
    o->valid = true;
    o->group = t->group[r];
    for (uint32_t k = 0; k < d->l.s.nconds; k++) {
        const ovl_pc_cond *c = &d->l.s.conds[k];
        if (c->op == OVL_PC_NE) {
            OVL_TRY(ovl_pc_word_int(&o->word[k][0], t->num[r], c->width));
        } else if (!contrib) {
            OVL_TRY(ovl_pc_word_date(&o->word[k][0], t->day[r], 0));
        } else if (c->op == OVL_PC_BETWEEN) {
            OVL_TRY(ovl_pc_word_date(&o->word[k][0], t->day[r], -30));
            OVL_TRY(ovl_pc_word_date(&o->word[k][1], t->day[r], 0));
        } else {
            OVL_TRY(ovl_pc_word_date(&o->word[k][0], t->day[r], 7));
        }
    }
done:
    return rc;
}

static inline void pd_words(uint64_t *w, const pd_table *t, size_t r)
{
    for (int s = 0; s < PD_COLS; s++) {
        bool null = t->null[r * PD_COLS + s];
        w[2 * s] = !null;
        w[2 * s + 1] = null ? 0 : (uint64_t)t->value[r * PD_COLS + s];
    }
}

static inline ovl_err pd_group(pd_rows_t *o, const pd_deal *d, const pd_table *t, bool contrib)
{
    ovl_err rc = OVL_OK;
    uint32_t n = 0;
    for (uint32_t x = 0; x < PD_NIDS; x++) {
        o->first[x] = n;
        for (size_t r = 0; r < t->n; r++)
            if (t->id[r] == x && t->kept[r]) {
                OVL_TRY(pd_row(&o->row[n], d, t, r, contrib));
                pd_words(o->words + (size_t)n * 2 * PD_COLS, t, r);
                n++;
            }
    }
    o->first[PD_NIDS] = n;
    o->v = (ovl_pp_rows){PD_NIDS, o->first, o->row, o->words};
done:
    return rc;
}

/* Circuit PSI's outputs: C's bit and arithmetic payload of the bin's
 * identifier when it is in C's set (match bit 1); else shares of zero for
 * the validity bits and of noise for the rows' other bits and the words, as
 * the gate stride leaves them; R's rows from its bins. */
static inline ovl_err pd_bins(pd_deal *d)
{
    ovl_err rc = OVL_OK;
    const ovl_pp_layout *l = &d->l;
    size_t nb = ovl_pp_contrib_bits(l), nw = (size_t)l->s.cap_c * l->words_c;
    uint16_t *bits = calloc((size_t)PD_NIDS * nb, 2);
    uint64_t *words = calloc((size_t)PD_NIDS * nw + 1, 8);
    OVL_ENSURE(bits && words, OVL_ERR_NOMEM, "dealer");
    OVL_TRY(ovl_pp_runner_bins(d->rrow, d->rw, l, &d->rr.v, d->slot, d->bins));
    OVL_TRY(ovl_pp_contrib_payload(bits, words, l, &d->rc.v));
    uint32_t gate = ovl_pp_gate_every(l);
    for (size_t b = 0; b < d->bins; b++) {
        uint32_t x = d->slot[b];
        bool match = x != UINT32_MAX && d->rc.first[x + 1] > d->rc.first[x];
        for (size_t i = 0; i < nb; i++) {
            uint8_t m = (uint8_t)randombytes_uniform(2);
            uint8_t noise = i % gate == 0 ? 0u : (uint8_t)randombytes_uniform(2);
            d->crow[1][b * nb + i] = m;
            d->crow[0][b * nb + i] = m ^ (match ? (uint8_t)bits[x * nb + i] : noise);
        }
        for (size_t i = 0; i < nw; i++) {
            uint64_t m;
            randombytes_buf(&m, sizeof m);
            d->x[1][b * nw + i] = m;
            uint64_t noise;
            randombytes_buf(&noise, sizeof noise);
            d->x[0][b * nw + i] = (match ? words[x * nw + i] : noise) - m;
        }
    }
done:
    free(bits);
    free(words);
    return rc;
}

static inline void pd_free(pd_deal *d)
{
    free(d->rrow), free(d->rw), free(d->slot);
    for (int p = 0; p < 2; p++)
        free(d->crow[p]), free(d->x[p]);
    memset(d, 0, sizeof *d);
}

/* Both tables (the runner has identifiers [0, NIDS), the contributor
 * [NIDS/3, NIDS)), their caps and their kept rows by identifier. */
static inline ovl_err pd_tables(pd_deal *d, pd_conds conds, uint32_t cap, uint32_t gr,
                                uint32_t gc)
{
    ovl_err rc = OVL_OK;
    memset(d, 0, sizeof *d);
    d->conds = conds;
    d->l = (ovl_pp_layout){.s = pd_shape(conds, cap, gr, gc), .words_r = 2 * PD_COLS,
                           .words_c = 2 * PD_COLS, .star = 1};
    OVL_TRY(ovl_pp_layout_check(&d->l));
    pd_rows(&d->r, 0, PD_NIDS, gr, cap);
    pd_rows(&d->c, PD_NIDS / 3, PD_NIDS, gc, cap);
    OVL_TRY(pd_cap(&d->r, cap));
    OVL_TRY(pd_cap(&d->c, cap));
    OVL_TRY(pd_group(&d->rr, d, &d->r, false));
    OVL_TRY(pd_group(&d->rc, d, &d->c, true));
done:
    return rc;
}

/* The per-bin arrays for d->bins bins. */
static inline ovl_err pd_alloc(pd_deal *d)
{
    ovl_err rc = OVL_OK;
    size_t bins = d->bins, cap = d->l.s.cap_r;
    d->rrow = calloc(bins * ovl_pp_runner_bits(&d->l), 1);
    d->rw = calloc(bins * cap * d->l.words_r + 1, 8);
    d->slot = calloc(bins + 1, sizeof *d->slot);
    for (int p = 0; p < 2; p++) {
        d->crow[p] = calloc(bins * ovl_pp_contrib_bits(&d->l), 1);
        d->x[p] = calloc(bins * d->l.s.cap_c * d->l.words_c + 1, 8);
        OVL_ENSURE(d->crow[p] && d->x[p], OVL_ERR_NOMEM, "dealer");
    }
    OVL_ENSURE(d->rrow && d->rw && d->slot, OVL_ERR_NOMEM, "dealer");
done:
    return rc;
}

/* The tables and the dealer's bins: every runner identifier in one of
 * PD_BINS bins, the others empty. */
static inline ovl_err pd_make(pd_deal *d, pd_conds conds, uint32_t cap, uint32_t gr,
                              uint32_t gc)
{
    ovl_err rc = OVL_OK;
    OVL_TRY(pd_tables(d, conds, cap, gr, gc));
    d->bins = PD_BINS;
    OVL_TRY(pd_alloc(d));
    for (uint32_t i = 0; i < PD_BINS; i++)
        d->slot[i] = i < PD_NIDS ? i : UINT32_MAX;
    for (uint32_t i = PD_BINS; i > 1; i--) {
        uint32_t j = randombytes_uniform(i), t = d->slot[i - 1];
        d->slot[i - 1] = d->slot[j];
        d->slot[j] = t;
    }
    OVL_TRY(pd_bins(d));
done:
    return rc;
}

/* The cells of CONDITIONS.md §1 from the capped rows, pair by pair: D, N,
 * the runner's (COUNT, SUM) per column, the contributor's. */
static inline void pd_expected(int64_t *want, const pd_deal *d)
{
    const ovl_pp_layout *l = &d->l;
    size_t K = (size_t)l->s.groups_r * l->s.groups_c, P = 1u + l->star + l->words_r + l->words_c;
    memset(want, 0, K * P * 8);
    for (uint32_t id = 0; id < PD_NIDS; id++) {
        uint8_t any[64 * 64] = {0};
        for (size_t a = 0; a < d->r.n; a++) {
            if (d->r.id[a] != id || !d->r.kept[a])
                continue;
            for (size_t b = 0; b < d->c.n; b++) {
                if (d->c.id[b] != id || !d->c.kept[b] || !pd_pass(d->conds, &d->r, a, &d->c, b))
                    continue;
                size_t cell = (size_t)d->r.group[a] * l->s.groups_c + d->c.group[b];
                int64_t *x = want + cell * P;
                uint64_t wr[2 * PD_COLS], wc[2 * PD_COLS];
                pd_words(wr, &d->r, a);
                pd_words(wc, &d->c, b);
                any[cell] = 1;
                x[1] += 1;
                for (uint32_t q = 0; q < l->words_r; q++)
                    x[2 + q] += (int64_t)wr[q];
                for (uint32_t s = 0; s < l->words_c; s++)
                    x[2 + l->words_r + s] += (int64_t)wc[s];
            }
        }
        for (size_t cell = 0; cell < K; cell++)
            want[cell * P] += any[cell];
    }
}

#endif
