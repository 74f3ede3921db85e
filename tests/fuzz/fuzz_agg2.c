/* Fuzzes the aggregate v2 engine (agg2.h) as a hostile peer would: byte 0
 * picks the target (bit 0: the contributor, bit 1: the contributor receives;
 * bit 2: a plan with a condition across parties, CONDITIONS.md, its HELLO
 * carrying the conditions and circuit PSI the contributor's capped rows)
 * and, after a valid HELLO from an honest seeded peer, the rest of the input
 * is fed as frames (LABELS, circuit PSI's, the core's held until circuit PSI
 * ends), with jobs run and output drained between frames. Nothing may crash;
 * every error must be the peer's fault; a failed engine stays failed and has
 * no output. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate/agg2.h"
#include "aggregate/pairrows.h"
#include "core/buf.h"
#include "crypto/group.h"
#include "engine_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t *const ids[] = {(const uint8_t *)"ann", (const uint8_t *)"bob",
                                     (const uint8_t *)"cy", (const uint8_t *)"dee"};
static const size_t lens[] = {3, 3, 2, 3};
static const uint8_t lab0[] = {0, 1, 'a'}, lab1[] = {0, 1, 'b'};
static const uint8_t *const labels[] = {lab0, lab1};
static const uint16_t label_len[] = {3, 3};

/* The released cells of a failed engine: there must be none. */
static bool has_output(void *p)
{
    const ovl_agg2_cell *cells;
    size_t n;
    return ovl_agg2_released(p, &cells, &n) == OVL_OK;
}

static void plan_make(ovl_agg2_plan *p, uint8_t receiver)
{
    memset(p, 0, sizeof *p);
    p->receiver = receiver;
    p->ndims = 2;
    p->dims[0] = (ovl_agg2_dim){.side = 0, .name = "campaign"};
    p->dims[1] = (ovl_agg2_dim){.side = 1, .trunc = 3, .name = "month"};
    p->ncols = 2;
    p->cols[0] = (ovl_agg2_col){.side = 0, .decimals = 2, .name = "spend"};
    p->cols[1] = (ovl_agg2_col){.side = 1, .decimals = 0, .name = "units"};
    p->noutputs = 3;
    static const uint8_t ops[3][2] = {
        {OVL_AGG2_OP_COUNT_DISTINCT, 0}, {OVL_AGG2_OP_SUM, 0}, {OVL_AGG2_OP_AVG, 1}};
    for (int i = 0; i < 3; i++) {
        p->outputs[i].name[0] = (char)('n' + i);
        p->outputs[i].ntok = 1;
        p->outputs[i].tok[0] = (ovl_agg2_token){.op = ops[i][0], .arg = ops[i][1]};
    }
}

/* The 30-day window of the reference article, capped at 2 rows by input order. */
static void pairs_make(ovl_agg2_plan *p)
{
    ovl_pc_plan *c = &p->pairs;
    c->nconds = 1;
    c->conds[0] = (ovl_pc_plan_cond){.op = OVL_PC_BETWEEN, .type = OVL_PC_TYPE_DATE,
                                     .width = OVL_PC_DATE_BITS, .lo = 0, .hi = 30};
    strcpy(c->conds[0].r_col, "day");
    strcpy(c->conds[0].c_col, "seen");
    c->cap_rows = 2;
}

typedef struct {
    uint32_t first[5];
    ovl_pp_row row[6];
    uint64_t words[6 * 4];
    ovl_pp_rows v;
} rows_t;

/* A party's rows for the pairs phase: the ident rows below, by identifier,
 * at most 2 each, with their days (the contributor's window from its day)
 * and value words (a column's non-NULL bit, and its value when summed). */
static void rows_make(rows_t *r, bool runner, const ovl_agg2_plan *plan, const uint32_t *id,
                      const uint32_t *group, const int64_t *value, const uint8_t *null)
{
    uint32_t n = 0, k = 0;
    for (uint32_t x = 0; x < 4; x++) {
        r->first[x] = n;
        for (uint32_t i = 0; i < 6; i++) {
            if (id[i] != x || n - r->first[x] == 2)
                continue;
            ovl_pp_row *o = &r->row[n];
            uint32_t day = 46000 + 9 * i + (runner ? 5 : 0);
            memset(o, 0, sizeof *o);
            o->valid = true;
            o->group = group[i];
            if (ovl_pc_word_date(&o->word[0][0], day, 0) != OVL_OK ||
                (!runner && ovl_pc_word_date(&o->word[0][1], day, 30) != OVL_OK))
                abort();
            for (uint32_t c = 0; c < plan->ncols; c++) {
                if (plan->cols[c].side != (runner ? 0 : 1))
                    continue;
                r->words[k++] = !null[i];
                if (ovl_agg2_plan_col_summed(plan, c))
                    r->words[k++] = null[i] ? 0 : (uint64_t)value[i];
            }
            n++;
        }
    }
    r->first[4] = n;
    r->v = (ovl_pp_rows){4, r->first, r->row, r->words};
}

static ovl_agg2 *make(bool runner, ovl_role role, const uint8_t *seed, const ovl_agg2_plan *plan,
                      ovl_agg_ident *t, rows_t *pr)
{
    static const uint32_t id[] = {0, 1, 1, 2, 3, 3};
    static const uint32_t group[] = {0, 0, 1, 1, 0, 1};
    static const int64_t value[] = {100, -250, 7, 0, 3, 12};
    static const uint8_t null[] = {0, 0, 0, 1, 0, 0};
    ovl_agg_ident_shape sh = {4, 2, 1, 3, 40, 1000};
    ovl_agg_rows rows = {id, group, value, null, 6};
    if (ovl_agg_ident_build(t, &sh, &rows) != OVL_OK)
        abort();
    ovl_agg2_config c = {
        .role = role,
        .runner = runner,
        .plan = plan,
        .domain = "id=sha256 normalize=none",
        .ids = ids,
        .id_len = lens,
        .nids = 4,
        .own = t,
        .labels = labels,
        .label_len = label_len,
        .min_rows = 2,
        .max_cells = 1000,
        .test_seed = seed,
    };
    if (plan->pairs.nconds > 0) {
        rows_make(pr, runner, plan, id, group, value, null);
        c.pair_rows = &pr->v;
    }
    ovl_agg2 *a = NULL;
    if (ovl_agg2_new(&a, &c) != OVL_OK)
        abort();
    return a;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t s1[32] = {1}, s2[32] = {2};
    static ovl_agg2_plan plan;
    ef_crypto_once();
    if (size < 1)
        return 0;
    bool contributor = data[0] & 1u;
    plan_make(&plan, (data[0] >> 1) & 1u);
    if ((data[0] >> 2) & 1u)
        pairs_make(&plan);
    ovl_agg_ident tt, th;
    static rows_t rt, rh;
    ovl_agg2 *t = make(!contributor, OVL_ROLE_LISTENER, s1, &plan, &tt, &rt);
    ovl_agg2 *h = make(contributor, OVL_ROLE_CONNECTOR, s2, &plan, &th, &rh);
    ef_run(&ovl_agg2_ops, t, h, data + 1, size - 1, ef_any_peer_fault, has_output);
    ovl_agg2_free(t);
    ovl_agg2_free(h);
    ovl_agg_ident_free(&tt);
    ovl_agg_ident_free(&th);
    return 0;
}
