/* Test-only inputs for the aggregate v2 engine tests: two parties' rows
 * (identifier, group, values with NULLs), their identifier tables, labels
 * and a plan, and the oracle: the join's cells computed row pair by row
 * pair as SQL would. Never part of the product. */
#ifndef OVL_AGG2_WORLD_H
#define OVL_AGG2_WORLD_H

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate/agg2.h"
#include "aggregate/ident.h"
#include "aggregate/plan.h"

enum { W_MAXIDS = 512, W_MAXROWS = 1024, W_COLS = 2, W_MAXG = 32 };

typedef struct {
    bool runner;
    uint32_t nids, groups, cols;
    char idbuf[W_MAXIDS][16];
    const uint8_t *ids[W_MAXIDS];
    size_t id_len[W_MAXIDS];
    uint32_t gid[W_MAXIDS]; /* global identifier number of each local one */
    uint32_t id[W_MAXROWS], group[W_MAXROWS];
    int64_t value[W_MAXROWS * W_COLS];
    uint8_t null[W_MAXROWS * W_COLS];
    size_t rows;
    ovl_agg_ident t;
    uint8_t labbuf[W_MAXG][8];
    const uint8_t *labels[W_MAXG];
    uint16_t label_len[W_MAXG];
} w_party;

/* Identifiers lo..hi-1 (global numbers) and group labels; no rows yet. */
static inline ovl_err w_party_ids(w_party *p, bool runner, uint32_t lo, uint32_t hi,
                                  uint32_t groups, uint32_t cols)
{
    if (groups < 1 || groups > W_MAXG || hi - lo > W_MAXIDS)
        return ovl_err_set(OVL_ERR_USAGE, "test world: %u groups, %u identifiers", groups, hi - lo);
    memset(p, 0, sizeof *p);
    p->runner = runner;
    p->nids = hi - lo;
    p->groups = groups;
    p->cols = cols;
    for (uint32_t i = 0; i < p->nids; i++) {
        p->gid[i] = lo + i;
        p->id_len[i] = (size_t)snprintf(p->idbuf[i], sizeof p->idbuf[i], "cust-%u", lo + i);
        p->ids[i] = (const uint8_t *)p->idbuf[i];
    }
    for (uint32_t g = 0; g < groups; g++) {
        /* label: u16 length || "r<g>" or "c<g>": sorted by bytes as g grows */
        p->labbuf[g][0] = 0;
        p->labbuf[g][1] = 2;
        p->labbuf[g][2] = runner ? 'r' : 'c';
        p->labbuf[g][3] = (uint8_t)('0' + g);
        p->labels[g] = p->labbuf[g];
        p->label_len[g] = 4;
    }
    return OVL_OK;
}

/* Row `r`: local identifier i in group g, random values, a fifth NULL. */
static inline void w_party_row(w_party *p, size_t r, uint32_t i, uint32_t g)
{
    p->id[r] = i;
    p->group[r] = g;
    for (uint32_t s = 0; s < p->cols; s++) {
        p->value[r * p->cols + s] = (int64_t)randombytes_uniform(200001) - 100000;
        p->null[r * p->cols + s] = randombytes_uniform(5) == 0;
    }
    p->rows = r + 1;
}

static inline ovl_err w_party_build(w_party *p, uint32_t bits)
{
    ovl_agg_ident_shape sh = {p->nids, p->groups, p->cols, bits, 40, 1000};
    ovl_agg_rows v = {p->id, p->group, p->value, p->null, p->rows};
    return ovl_agg_ident_build(&p->t, &sh, &v);
}

/* Identifiers lo..hi-1 (global numbers), rows drawn at random with at most
 * 2^bits - 1 rows per identifier and group (groups overlap: one identifier
 * has rows in several groups). cols value columns. */
static inline ovl_err w_party_make(w_party *p, bool runner, uint32_t lo, uint32_t hi,
                                   uint32_t groups, uint32_t cols, uint32_t bits, size_t rows)
{
    static uint8_t seen[W_MAXIDS][W_MAXG];
    ovl_err rc = w_party_ids(p, runner, lo, hi, groups, cols);
    if (rc != OVL_OK)
        return rc;
    memset(seen, 0, sizeof seen);
    for (size_t r = 0; r < rows && r < W_MAXROWS; r++) {
        uint32_t i, g;
        do {
            i = randombytes_uniform(p->nids);
            g = randombytes_uniform(groups);
        } while (seen[i][g] + 1u >= (1u << bits));
        seen[i][g]++;
        w_party_row(p, r, i, g);
    }
    return w_party_build(p, bits);
}

/* Like w_party_make, but exactly one row per identifier and group: every
 * matched identifier is in every cell, so each cell's COUNT(DISTINCT) is
 * the intersection size, known to the test (nids * groups rows). */
static inline ovl_err w_party_make_full(w_party *p, bool runner, uint32_t lo, uint32_t hi,
                                        uint32_t groups, uint32_t cols, uint32_t bits)
{
    ovl_err rc = w_party_ids(p, runner, lo, hi, groups, cols);
    if (rc != OVL_OK)
        return rc;
    if ((size_t)p->nids * groups > W_MAXROWS)
        return ovl_err_set(OVL_ERR_USAGE, "test world: %u x %u rows", p->nids, groups);
    for (uint32_t i = 0; i < p->nids; i++)
        for (uint32_t g = 0; g < groups; g++)
            w_party_row(p, (size_t)i * groups + g, i, g);
    return w_party_build(p, bits);
}

static inline void w_party_free(w_party *p) { ovl_agg_ident_free(&p->t); }

static inline void w_add_output(ovl_agg2_plan *pl, const char *name, uint8_t op, uint8_t arg)
{
    ovl_agg2_output *o = &pl->outputs[pl->noutputs++];
    snprintf(o->name, sizeof o->name, "%s", name);
    o->ntok = 1;
    o->tok[0] = (ovl_agg2_token){.op = op, .arg = arg};
}

/* One dimension per party (when it has more than one group), value columns
 * r.v0, r.v1 (runner) and c.v0, c.v1 (contributor) in that plan order, and
 * outputs COUNT(DISTINCT), [COUNT(*)], SUM(r.v0), COUNT(r.v1), SUM(c.v0),
 * AVG(c.v1). */
static inline void w_plan(ovl_agg2_plan *pl, uint8_t receiver, bool star, bool rdim, bool cdim)
{
    memset(pl, 0, sizeof *pl);
    pl->receiver = receiver;
    if (rdim)
        pl->dims[pl->ndims++] = (ovl_agg2_dim){.side = 0, .trunc = 0, .name = "campaign"};
    if (cdim)
        pl->dims[pl->ndims++] = (ovl_agg2_dim){.side = 1, .trunc = 2, .name = "week"};
    const char *names[4] = {"spend", "impressions", "amount", "purchases"};
    for (uint8_t i = 0; i < 4; i++) {
        pl->cols[i].side = i >= 2;
        pl->cols[i].decimals = i % 2 ? 0 : 2;
        snprintf(pl->cols[i].name, sizeof pl->cols[i].name, "%s", names[i]);
    }
    pl->ncols = 4;
    w_add_output(pl, "customers", OVL_AGG2_OP_COUNT_DISTINCT, 0);
    if (star)
        w_add_output(pl, "rows", OVL_AGG2_OP_COUNT_STAR, 0);
    w_add_output(pl, "spend", OVL_AGG2_OP_SUM, 0);
    w_add_output(pl, "impressions", OVL_AGG2_OP_COUNT, 1);
    w_add_output(pl, "amount", OVL_AGG2_OP_SUM, 2);
    w_add_output(pl, "avg_purchases", OVL_AGG2_OP_AVG, 3);
}

/* The oracle: cell (g, c) words D, [N], then per plan column COUNT [, SUM]
 * — runner columns first, then contributor columns — over every pair of one
 * runner row and one contributor row with the same identifier. */
static inline void w_oracle(int64_t *want, size_t P, const ovl_agg2_plan *pl, const w_party *R,
                            const w_party *C)
{
    static uint8_t hit[W_MAXG * W_MAXG][W_MAXIDS * 2];
    memset(hit, 0, sizeof hit);
    bool star = ovl_agg2_plan_star(pl);
    for (size_t a = 0; a < R->rows; a++)
        for (size_t b = 0; b < C->rows; b++) {
            uint32_t ga = R->gid[R->id[a]], gb = C->gid[C->id[b]];
            if (ga != gb)
                continue;
            size_t cell = (size_t)R->group[a] * C->groups + C->group[b];
            int64_t *x = want + cell * P;
            if (!hit[cell][ga]) {
                hit[cell][ga] = 1;
                x[0]++;
            }
            size_t k = 1;
            if (star)
                x[k++]++;
            for (unsigned side = 0; side < 2; side++) {
                const w_party *p = side == 0 ? R : C;
                size_t row = side == 0 ? a : b;
                uint32_t j = 0;
                for (uint32_t i = 0; i < pl->ncols; i++) {
                    if (pl->cols[i].side != side)
                        continue;
                    bool nul = p->null[row * p->cols + j];
                    x[k++] += !nul;
                    if (ovl_agg2_plan_col_summed(pl, i))
                        x[k++] += nul ? 0 : p->value[row * p->cols + j];
                    j++;
                }
            }
        }
}

static inline ovl_agg2_config w_config(const w_party *p, const ovl_agg2_plan *pl, bool listener,
                                       uint64_t min_rows, uint32_t max_cells)
{
    ovl_agg2_config c = {
        .role = listener ? OVL_ROLE_LISTENER : OVL_ROLE_CONNECTOR,
        .runner = p->runner,
        .plan = pl,
        .domain = "id=sha256 normalize=none",
        .ids = p->ids,
        .id_len = p->id_len,
        .nids = p->nids,
        .own = &p->t,
        .labels = p->labels,
        .label_len = p->label_len,
        .min_rows = min_rows,
        .max_cells = max_cells,
    };
    return c;
}

#endif
