/* The seeded aggregate v2 runs of vectors/aggregate.json
 * (protocols/aggregate/SPEC.md §12): both engines draw from fixed-seed
 * streams and the tables are fixed formulas, so every frame replays. Shared
 * by the generator (tests/tools/gen_vectors.c) and test_agg2_vectors. */
#ifndef OVL_AGG2_VECTORS_H
#define OVL_AGG2_VECTORS_H

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include <sodium.h>

#include "aggregate/agg2.h"
#include "aggregate/pairrows.h"
#include "cpsi_vectors.h"
#include "psi_harness.h"
#include "vectors_json.h"

typedef struct {
    const char *name;
    uint32_t n_r, n_c, common, groups_r, groups_c;
    uint8_t receiver; /* 0 runner, 1 contributor */
    uint64_t min_rows;
    uint32_t cap; /* > 0: the 30-day window across parties with this row cap (CONDITIONS.md) */
} a2v_case;

enum { A2V_MAXIDS = 32, A2V_MAXROWS = 256 };

typedef struct {
    char names[A2V_MAXIDS][16];
    const uint8_t *ids[A2V_MAXIDS];
    size_t lens[A2V_MAXIDS];
    uint32_t id[A2V_MAXROWS], group[A2V_MAXROWS];
    int64_t value[A2V_MAXROWS * 2];
    uint8_t null[A2V_MAXROWS * 2];
    uint8_t lab[8][4];
    const uint8_t *labels[8];
    uint16_t label_len[8];
    ovl_agg_ident t;
    /* conditions across parties: the kept rows by identifier */
    size_t rows;
    uint8_t kept[A2V_MAXROWS];
    uint32_t first[A2V_MAXIDS + 1];
    ovl_pp_row prow[A2V_MAXROWS];
    uint64_t pwords[A2V_MAXROWS * 4];
    ovl_pp_rows pr;
} a2v_party;

/* Identifier v (global) has 1 + (v·7 + g) % 3 rows in group g when
 * (v + g) % 3 != 0; values by formula, negatives and NULLs included. */
static inline void a2v_party_make(a2v_party *p, bool runner, uint32_t first, uint32_t n,
                                  uint32_t groups)
{
    size_t rows = 0;
    memset(p, 0, sizeof *p);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t v = first + i;
        p->lens[i] = (size_t)snprintf(p->names[i], sizeof p->names[i], "cust-%u", v);
        p->ids[i] = (const uint8_t *)p->names[i];
        for (uint32_t g = 0; g < groups; g++) {
            if ((v + g + (runner ? 0 : 1)) % 3 == 0)
                continue;
            for (uint32_t k = 0; k < 1 + (v * 7 + g) % 3 && rows < A2V_MAXROWS; k++, rows++) {
                p->id[rows] = i;
                p->group[rows] = g;
                for (int s = 0; s < 2; s++) {
                    p->value[rows * 2 + s] = (int64_t)((v * 37 + g * 11 + k * 5 + s) % 2001) - 1000;
                    p->null[rows * 2 + s] = (v + k + s) % 5 == 0;
                }
            }
        }
    }
    for (uint32_t g = 0; g < groups; g++) {
        p->lab[g][0] = 0;
        p->lab[g][1] = 2;
        p->lab[g][2] = runner ? 'r' : 'c';
        p->lab[g][3] = (uint8_t)('0' + g);
        p->labels[g] = p->lab[g];
        p->label_len[g] = 4;
    }
    ovl_agg_ident_shape sh = {n, groups, 2, 3, 40, 1000};
    ovl_agg_rows r = {p->id, p->group, p->value, p->null, rows};
    if (ovl_agg_ident_build(&p->t, &sh, &r) != OVL_OK)
        abort();
    p->rows = rows;
}

/* Row k of the table (input order) is dated day 46000 + (k·13 + runner·5) % 45;
 * the cap keeps each identifier's earliest `cap` rows (ties by input order);
 * the runner's word is its day, the contributor's its day + lo and + hi;
 * row words as the plan's (spend: count, sum; impressions: count; amount:
 * count, sum; purchases: count, sum). */
static inline void a2v_pair_rows(a2v_party *p, bool runner, uint32_t n, uint32_t cap,
                                 const ovl_agg2_plan *pl)
{
    int64_t key[A2V_MAXROWS];
    uint32_t capped, at = 0, k = ovl_agg2_plan_words(pl, runner ? 0 : 1);
    if (k > 4)
        abort();
    for (size_t r = 0; r < p->rows; r++)
        key[r] = 46000 + (int64_t)((r * 13 + (runner ? 5 : 0)) % 45);
    ovl_pc_cap_in in = {p->id, key, NULL, p->rows, n, cap};
    if (ovl_pc_cap_rows(p->kept, &capped, &in) != OVL_OK)
        abort();
    for (uint32_t x = 0; x < n; x++) {
        p->first[x] = at;
        for (size_t r = 0; r < p->rows; r++) {
            if (p->id[r] != x || !p->kept[r])
                continue;
            ovl_pp_row *o = &p->prow[at];
            const ovl_pc_plan_cond *c = &pl->pairs.conds[0];
            memset(o, 0, sizeof *o);
            o->valid = true;
            o->group = p->group[r];
            if ((runner ? ovl_pc_word_date(&o->word[0][0], (uint32_t)key[r], 0)
                        : ovl_pc_word_date(&o->word[0][0], (uint32_t)key[r], c->lo)) != OVL_OK ||
                (!runner && ovl_pc_word_date(&o->word[0][1], (uint32_t)key[r], c->hi) != OVL_OK))
                abort();
            uint64_t *w = p->pwords + (size_t)at * k;
            uint32_t q = 0, j = 0;
            for (uint32_t i = 0; i < pl->ncols; i++) {
                if (pl->cols[i].side != (runner ? 0 : 1))
                    continue;
                bool nul = p->null[r * 2 + j];
                w[q++] = !nul;
                if (ovl_agg2_plan_col_summed(pl, i))
                    w[q++] = nul ? 0 : (uint64_t)p->value[r * 2 + j];
                j++;
            }
            at++;
        }
    }
    p->first[n] = at;
    p->pr = (ovl_pp_rows){n, p->first, p->prow, p->pwords};
}

static inline void a2v_plan(ovl_agg2_plan *pl, uint8_t receiver, bool rdim, bool cdim)
{
    memset(pl, 0, sizeof *pl);
    pl->receiver = receiver;
    if (rdim)
        pl->dims[pl->ndims++] = (ovl_agg2_dim){.side = 0, .name = "campaign"};
    if (cdim)
        pl->dims[pl->ndims++] = (ovl_agg2_dim){.side = 1, .trunc = 2, .name = "week"};
    const char *names[4] = {"spend", "impressions", "amount", "purchases"};
    for (uint8_t i = 0; i < 4; i++) {
        pl->cols[i].side = i >= 2;
        pl->cols[i].decimals = i % 2 ? 0 : 2;
        snprintf(pl->cols[i].name, sizeof pl->cols[i].name, "%s", names[i]);
    }
    pl->ncols = 4;
    static const struct {
        const char *name;
        uint8_t op, arg;
    } outs[] = {{"customers", OVL_AGG2_OP_COUNT_DISTINCT, 0}, {"rows", OVL_AGG2_OP_COUNT_STAR, 0},
                {"spend", OVL_AGG2_OP_SUM, 0},            {"impressions", OVL_AGG2_OP_COUNT, 1},
                {"amount", OVL_AGG2_OP_SUM, 2},           {"avg_purchases", OVL_AGG2_OP_AVG, 3}};
    for (size_t i = 0; i < sizeof outs / sizeof *outs; i++) {
        ovl_agg2_output *o = &pl->outputs[pl->noutputs++];
        snprintf(o->name, sizeof o->name, "%s", outs[i].name);
        o->ntok = 1;
        o->tok[0] = (ovl_agg2_token){.op = outs[i].op, .arg = outs[i].arg};
    }
}

static inline json_t *a2v_run(const a2v_case *k)
{
    static a2v_party R, C;
    ovl_agg2_plan plan;
    uint8_t seed_r[32], seed_c[32];
    a2v_party_make(&R, true, 0, k->n_r, k->groups_r);
    a2v_party_make(&C, false, k->n_r - k->common, k->n_c, k->groups_c);
    a2v_plan(&plan, k->receiver, k->groups_r > 1, k->groups_c > 1);
    if (k->cap > 0) {
        /* the retailer's purchase BETWEEN the impression AND 30 days after */
        ovl_pc_plan *c = &plan.pairs;
        c->nconds = 1;
        c->conds[0] = (ovl_pc_plan_cond){.op = OVL_PC_BETWEEN, .type = OVL_PC_TYPE_DATE,
                                         .width = OVL_PC_DATE_BITS, .lo = 0, .hi = 30};
        strcpy(c->conds[0].r_col, "purchase_date");
        strcpy(c->conds[0].c_col, "impression_date");
        c->cap_rows = (uint8_t)k->cap;
        strcpy(c->r_order, "purchase_date");
        strcpy(c->c_order, "impression_date");
        a2v_pair_rows(&R, true, k->n_r, k->cap, &plan);
        a2v_pair_rows(&C, false, k->n_c, k->cap, &plan);
    }
    crypto_hash_sha256(seed_r, (const uint8_t *)k->name, strlen(k->name));
    memcpy(seed_c, seed_r, 32);
    seed_c[0] ^= 1;
    ovl_agg2_config cr = {.role = OVL_ROLE_LISTENER, .runner = true, .plan = &plan,
                          .domain = "id=sha256 normalize=none", .ids = R.ids, .id_len = R.lens,
                          .nids = k->n_r, .own = &R.t, .labels = R.labels,
                          .label_len = R.label_len, .min_rows = k->min_rows, .max_cells = 1000,
                          .test_seed = seed_r};
    ovl_agg2_config cc = cr;
    cc.role = OVL_ROLE_CONNECTOR, cc.runner = false, cc.ids = C.ids, cc.id_len = C.lens;
    cc.nids = k->n_c, cc.own = &C.t, cc.labels = C.labels, cc.label_len = C.label_len;
    cc.min_rows = 2, cc.test_seed = seed_c;
    cr.pair_rows = k->cap ? &R.pr : NULL;
    cc.pair_rows = k->cap ? &C.pr : NULL;
    ovl_agg2 *e[2] = {NULL, NULL};
    hx_side s[2];
    if (ovl_agg2_new(&e[0], &cr) != OVL_OK || ovl_agg2_new(&e[1], &cc) != OVL_OK)
        abort();
    hx_init(&s[0], &ovl_agg2_ops, e[0]);
    hx_init(&s[1], &ovl_agg2_ops, e[1]);
    hx_run(&s[0], &s[1], NULL, NULL);
    json_t *run = json_object();
    json_object_set_new(run, "name", json_string(k->name));
    json_object_set_new(run, "n_runner", json_integer(k->n_r));
    json_object_set_new(run, "n_contributor", json_integer(k->n_c));
    json_object_set_new(run, "common", json_integer(k->common));
    json_object_set_new(run, "groups_runner", json_integer(k->groups_r));
    json_object_set_new(run, "groups_contributor", json_integer(k->groups_c));
    json_object_set_new(run, "receiver", json_string(k->receiver ? "contributor" : "runner"));
    if (k->cap > 0) {
        json_object_set_new(run, "cap_rows", json_integer(k->cap));
        json_object_set_new(run, "condition",
                            json_string("r.purchase_date BETWEEN c.impression_date AND "
                                        "c.impression_date + 30 days"));
    }
    json_object_set_new(run, "seed_runner", vj_hex(seed_r, 32));
    json_object_set_new(run, "seed_contributor", vj_hex(seed_c, 32));
    bool ok = s[0].rc == OVL_OK && s[1].rc == OVL_OK && ovl_agg2_ops.done(e[0]) &&
              ovl_agg2_ops.done(e[1]);
    json_object_set_new(run, "completed", json_boolean(ok));
    json_object_set_new(run, "threshold", json_integer((json_int_t)ovl_agg2_threshold(e[0])));
    json_object_set_new(run, "released", json_integer((json_int_t)ovl_agg2_released_count(e[0])));
    const ovl_agg2_cell *cells;
    size_t n = 0;
    json_t *rows = json_array();
    if (ok && ovl_agg2_released(e[k->receiver], &cells, &n) == OVL_OK) {
        for (size_t i = 0; i < n; i++) {
            json_t *row = json_array();
            json_array_append_new(row, vj_hex(cells[i].label_r, cells[i].label_r_len));
            json_array_append_new(row, vj_hex(cells[i].label_c, cells[i].label_c_len));
            /* D, N, SUM(spend) with its count, COUNT(impressions), amount and purchases */
            for (size_t w = 0; w < 1 + 1 + 3 + 4; w++)
                json_array_append_new(row, json_integer((json_int_t)cells[i].words[w]));
            json_array_append_new(rows, row);
        }
    }
    json_object_set_new(run, "released_rows", rows);
    json_object_set_new(run, "runner_bytes", json_integer((json_int_t)ovl_agg2_bytes_sent(e[0])));
    json_object_set_new(run, "contributor_bytes",
                        json_integer((json_int_t)ovl_agg2_bytes_sent(e[1])));
    json_object_set_new(run, "runner_frames", cv_frames(&s[0].log, 2));
    json_object_set_new(run, "contributor_frames", cv_frames(&s[1].log, 3));
    hx_free(&s[0]);
    hx_free(&s[1]);
    ovl_agg2_free(e[0]);
    ovl_agg2_free(e[1]);
    ovl_agg_ident_free(&R.t);
    ovl_agg_ident_free(&C.t);
    return run;
}

static inline json_t *a2v_document(void)
{
    static const a2v_case cases[] = {
        {"agg2 runner receives, 3 x 2 groups, 24 x 20 ids, 12 common", 24, 20, 12, 3, 2, 0, 3, 0},
        {"agg2 contributor receives, 2 x 3 groups, 16 x 16 ids, 10 common", 16, 16, 10, 2, 3, 1, 2, 0},
        {"agg2 one cell, 12 x 10 ids, 6 common", 12, 10, 6, 1, 1, 0, 2, 0},
        {"agg2 30-day window across parties, cap 2, 2 x 2 groups, 16 x 14 ids, 10 common", 16,
         14, 10, 2, 2, 0, 2, 2},
    };
    json_t *doc = json_object(), *runs = json_array();
    json_object_set_new(doc, "title", json_string("overlap aggregates version 2 seeded runs, "
                                                  "protocols/aggregate/SPEC.md"));
    json_object_set_new(doc, "generator", json_string("tests/tools/gen_vectors.c"));
    json_object_set_new(doc, "note",
                        json_string("runner = listener, contributor = connector; plan: "
                                    "COUNT(DISTINCT), COUNT(*), SUM(r.spend), "
                                    "COUNT(r.impressions), "
                                    "SUM(c.amount), AVG(c.purchases); released_rows: runner label, "
                                    "contributor label (hex), then D, N, COUNT and SUM of spend, "
                                    "COUNT of impressions, COUNT and SUM of amount, COUNT and SUM "
                                    "of purchases; frames: the first few in hex, then sha256; "
                                    "a run with cap_rows joins only the capped rows passing its "
                                    "condition (protocols/aggregate/CONDITIONS.md): rows dated "
                                    "46000 + (k*13 + 5 [runner]) % 45 by input position k"));
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        json_array_append_new(runs, a2v_run(&cases[i]));
    json_object_set_new(doc, "runs", runs);
    return doc;
}

#endif
