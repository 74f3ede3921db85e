/* An owner's rows for conditions across parties (session/pair_rows.h). */
#include "session/pair_rows.h"

#include <stdlib.h>
#include <string.h>

#include "aggregate/ident.h"
#include "core/guard.h"
#include "core/mem.h"

size_t ovl_pair_text_cols(const char *cols[static OVL_PAIR_TEXT_COLS], const ovl_agg2_plan *plan,
                          unsigned side)
{
    const ovl_pc_plan *p = &plan->pairs;
    size_t n = 0;
    for (unsigned i = 0; i < p->nconds && i < OVL_PC_MAX_CONDS; i++)
        cols[n++] = side == OVL_AGG2_SIDE_R ? p->conds[i].r_col : p->conds[i].c_col;
    const char *order = side == OVL_AGG2_SIDE_R ? p->r_order : p->c_order;
    if (p->nconds > 0 && order[0] != 0)
        cols[n++] = order;
    return n;
}

/* kept[r]: data row r is among the capped rows (source maps their rows,
 * numbered among the analysis rows, back to data rows). */
static void mark_kept(uint8_t *kept, size_t nrows, const ovl_pc_owner_rows *out,
                      const uint32_t *source)
{
    memset(kept, 0, nrows);
    for (uint32_t i = 0; i < out->first[out->v.nids]; i++)
        kept[source[out->source[i]]] = 1;
}

static uint64_t add_sat(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

/* Each kept row's summed values within +-2^(v-1), exclusive: the engine
 * encodes rows one by one. And each summed column's cell totals inside the
 * signed 64-bit range whatever passes (CONDITIONS.md §3.2): a cell sums one
 * value per passing pair, and each kept row is in at most cap pairs (one per
 * partner row of its identifier), so the sum of |value| over the kept rows,
 * times the cap, bounds every cell's total of this column. Both are this
 * owner's own data and the public cap: checked before the peer is
 * contacted. line[] is per analysis row, as out->source numbers them. */
static ovl_err check_values(const ovl_pc_owner_rows *out, const ovl_agg2_plan *plan,
                            unsigned side, uint32_t k, uint32_t value_bits, const uint32_t *line,
                            const char *what)
{
    int64_t lim = (int64_t)1 << (value_bits - 1);
    uint64_t total[OVL_AGG2_PLAN_MAX_COLS] = {0};
    uint32_t cap = plan->pairs.cap_rows ? plan->pairs.cap_rows : 1;
    for (uint32_t r = 0; k > 0 && r < out->first[out->v.nids]; r++) {
        const uint64_t *w = out->words + (size_t)r * k;
        uint32_t q = 0;
        for (uint32_t i = 0; i < plan->ncols; i++) {
            if (plan->cols[i].side != side)
                continue;
            q++; /* [not NULL] */
            if (!ovl_agg2_plan_col_summed(plan, i))
                continue;
            int64_t v = (int64_t)w[q++];
            if (v >= lim || v <= -lim)
                return ovl_err_set(OVL_ERR_INPUT,
                                   "%s:%u: column '%s': a value outside +-2^%u (the column's "
                                   "value width, aggregation.value_bits): with conditions across "
                                   "parties every row the cap keeps must fit it",
                                   what, line[out->source[r]], plan->cols[i].name,
                                   value_bits - 1);
            total[i] = add_sat(total[i], v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v);
        }
    }
    for (uint32_t i = 0; i < plan->ncols; i++)
        if (total[i] > (uint64_t)INT64_MAX / cap)
            return ovl_err_set(OVL_ERR_INPUT,
                               "%s: column '%s': its values, each summed in up to %u pairs (-- cap "
                               "rows %u), could leave the signed 64-bit range in a cell; use fewer "
                               "decimals or a smaller cap", what, plan->cols[i].name, cap, cap);
    return OVL_OK;
}

ovl_err ovl_pair_rows_build(ovl_pc_owner_rows *out, uint8_t *kept, const ovl_agg2_plan *plan,
                            unsigned side, const ovl_table_input *in, const ovl_text_table *text,
                            const uint32_t *row_group, uint32_t value_bits)
{
    ovl_err rc = OVL_OK;
    const ovl_idtable *ids = &in->ids;
    const ovl_value_table *vt = &in->values;
    const char *cols[OVL_PAIR_TEXT_COLS];
    size_t ntext = ovl_pair_text_cols(cols, plan, side), n = 0;
    uint32_t k = ovl_agg2_plan_words(plan, side), *id = NULL, *group = NULL, *line = NULL;
    uint32_t *source = NULL;
    uint64_t *words = NULL;
    const char **cell = NULL;
    uint16_t *len = NULL;
    size_t rows = ids->nrows ? ids->nrows : 1;
    memset(out, 0, sizeof *out);
    OVL_ENSURE(value_bits >= OVL_AGG2_MIN_VALUE_BITS && value_bits <= OVL_AGG2_MAX_VALUE_BITS,
               OVL_ERR_USAGE, "pair rows: a value width of %u bits", value_bits);
    OVL_ENSURE(plan->pairs.nconds > 0 && text->ncols == ntext && text->nrows == ids->nrows &&
                   vt->ncols == ovl_agg2_plan_cols_of(plan, side) &&
                   (vt->ncols == 0 || vt->nrows == ids->nrows),
               OVL_ERR_INTERNAL, "pair rows: the loaded table does not match the plan's columns");
    OVL_TRY(ovl_calloc((void **)&id, rows, sizeof *id));
    OVL_TRY(ovl_calloc((void **)&group, rows, sizeof *group));
    OVL_TRY(ovl_calloc((void **)&line, rows, sizeof *line));
    OVL_TRY(ovl_calloc((void **)&source, rows, sizeof *source));
    OVL_TRY(ovl_calloc((void **)&words, rows * (k ? k : 1), sizeof *words));
    OVL_TRY(ovl_calloc((void **)&cell, rows * ntext, sizeof *cell));
    OVL_TRY(ovl_calloc((void **)&len, rows * ntext, sizeof *len));
    for (size_t r = 0; r < ids->nrows; r++) {
        if (!ids->row_valid[r] || row_group[r] == UINT32_MAX)
            continue;
        id[n] = (uint32_t)ovl_idtable_find(ids, ids->row_ids[r]);
        group[n] = row_group[r];
        line[n] = text->line[r];
        source[n] = (uint32_t)r;
        for (size_t c = 0; c < ntext; c++) {
            cell[c * rows + n] = text->cell[c * text->nrows + r];
            len[c * rows + n] = text->len[c * text->nrows + r];
        }
        /* this side's plan columns: [not NULL] and, when summed, the value */
        uint64_t *w = words + n * k;
        uint32_t q = 0, j = 0;
        for (uint32_t i = 0; i < plan->ncols; i++) {
            if (plan->cols[i].side != side)
                continue;
            bool nul = vt->nulls[r * vt->ncols + j];
            w[q++] = !nul;
            if (ovl_agg2_plan_col_summed(plan, i))
                w[q++] = nul ? 0 : (uint64_t)vt->cells[r * vt->ncols + j];
            j++;
        }
        n++;
    }
    ovl_pc_owner_in oi = {.runner = side == OVL_AGG2_SIDE_R, .what = text->label, .rows = n,
                          .nids = (uint32_t)ids->nids, .id = id, .group = group, .line = line,
                          .words = words, .k = k};
    for (unsigned i = 0; i < plan->pairs.nconds; i++) {
        oi.cell[i] = cell + (size_t)i * rows;
        oi.cell_len[i] = len + (size_t)i * rows;
    }
    if (ntext > plan->pairs.nconds) {
        oi.order = cell + (size_t)plan->pairs.nconds * rows;
        oi.order_len = len + (size_t)plan->pairs.nconds * rows;
    }
    OVL_TRY(ovl_pc_owner_rows_build(out, &plan->pairs, &oi));
    OVL_TRY(check_values(out, plan, side, k, value_bits, line, text->label));
    if (kept != NULL)
        mark_kept(kept, ids->nrows, out, source);
done:
    if (rc != OVL_OK)
        ovl_pc_owner_rows_free(out);
    free(id);
    free(source);
    free(group);
    free(line);
    ovl_free_secret(words, rows * (k ? k : 1) * sizeof *words);
    free(cell);
    free(len);
    return rc;
}
