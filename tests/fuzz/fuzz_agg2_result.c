/* Fuzzes the receiver's output rows of aggregates v2 (protocols/aggregate/
 * result.h) on what a modified helper controls after a release: its labels
 * (the dimension values) and every released word. The first byte picks the
 * number of cells (1-4); each cell then takes a runner label, a contributor
 * label (u8 length, then bytes) and its words. Building the rows must never
 * crash; it either succeeds with one row per cell or fails with a
 * protocol or limit error, never another. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate/result.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The article's shape: runner campaign, contributor week; spend summed,
 * amount summed and averaged, pid counted; ROAS and an expression with * and +. */
static void plan_init(ovl_agg2_plan *p)
{
    static const struct { uint8_t op, arg; } toks[][5] = {
        {{OVL_AGG2_OP_DIM, 0}}, {{OVL_AGG2_OP_DIM, 1}}, {{OVL_AGG2_OP_COUNT_DISTINCT, 0}},
        {{OVL_AGG2_OP_COUNT_STAR, 0}}, {{OVL_AGG2_OP_SUM, 0}}, {{OVL_AGG2_OP_COUNT, 2}},
        {{OVL_AGG2_OP_AVG, 1}},
        {{OVL_AGG2_OP_SUM, 1}, {OVL_AGG2_OP_SUM, 0}, {OVL_AGG2_OP_NULLIF0, 0},
         {OVL_AGG2_OP_DIV, 0}},
        {{OVL_AGG2_OP_SUM, 1}, {OVL_AGG2_OP_SUM, 0}, {OVL_AGG2_OP_MUL, 0},
         {OVL_AGG2_OP_COUNT_STAR, 0}, {OVL_AGG2_OP_ADD, 0}},
    };
    static const uint8_t ntok[] = {1, 1, 1, 1, 1, 1, 1, 4, 5};
    memset(p, 0, sizeof *p);
    p->ndims = 2;
    p->dims[0] = (ovl_agg2_dim){.side = OVL_AGG2_SIDE_R, .name = "campaign"};
    p->dims[1] = (ovl_agg2_dim){.side = OVL_AGG2_SIDE_C, .trunc = OVL_AGG2_TRUNC_WEEK,
                                .name = "day"};
    p->ncols = 3;
    p->cols[0] = (ovl_agg2_col){.side = OVL_AGG2_SIDE_R, .decimals = 2, .name = "spend"};
    p->cols[1] = (ovl_agg2_col){.side = OVL_AGG2_SIDE_C, .decimals = 18, .name = "amount"};
    p->cols[2] = (ovl_agg2_col){.side = OVL_AGG2_SIDE_C, .name = "pid"};
    p->noutputs = sizeof ntok;
    for (unsigned i = 0; i < p->noutputs; i++) {
        ovl_agg2_output *o = &p->outputs[i];
        o->name[0] = (char)('a' + i);
        o->ntok = ntok[i];
        for (unsigned t = 0; t < ntok[i]; t++)
            o->tok[t] = (ovl_agg2_token){.op = toks[i][t].op, .arg = toks[i][t].arg};
    }
}

/* n bytes from the input, or false when it is used up. */
static bool take(const uint8_t **d, size_t *left, const uint8_t **out, size_t n)
{
    if (*left < n)
        return false;
    *out = *d;
    *d += n;
    *left -= n;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    enum { WORDS = 7 }; /* D, N, spend (count, sum), amount (count, sum), pid (count) */
    static ovl_agg2_plan plan;
    static bool ready;
    if (!ready) {
        plan_init(&plan);
        if (ovl_agg2_plan_check(&plan) != OVL_OK)
            abort();
        ready = true;
    }
    if (size < 1)
        return 0;
    size_t n = 1u + data[0] % 4u, left = size - 1;
    const uint8_t *d = data + 1, *len;
    ovl_agg2_cell cells[4];
    int64_t words[4][WORDS];
    for (size_t i = 0; i < n; i++) {
        const uint8_t *lr, *lc, *w;
        if (!take(&d, &left, &len, 1) || !take(&d, &left, &lr, len[0]))
            return 0;
        size_t rl = len[0];
        if (!take(&d, &left, &len, 1) || !take(&d, &left, &lc, len[0]) ||
            !take(&d, &left, &w, sizeof words[i]))
            return 0;
        memcpy(words[i], w, sizeof words[i]);
        cells[i] = (ovl_agg2_cell){.g = (uint32_t)i, .c = (uint32_t)i, .label_r = lr,
                                   .label_r_len = (uint16_t)rl, .label_c = lc,
                                   .label_c_len = len[0], .words = words[i]};
    }
    ovl_agg2_result r;
    ovl_err rc = ovl_agg2_result_build(&r, &plan, cells, n);
    if (rc == OVL_OK && (r.nrows != n || r.ncols != plan.noutputs))
        abort();
    if (rc != OVL_OK && rc != OVL_ERR_PROTOCOL && rc != OVL_ERR_LIMIT && rc != OVL_ERR_NOMEM)
        abort();
    if (rc == OVL_OK)
        ovl_agg2_result_free(&r);
    return 0;
}
