/* One owner's rows for the pairs phase (aggregate/pairrows.h, CONDITIONS.md
 * §2.1, §3): the NULL rule, condition words, the cap and the rows grouped by
 * identifier. Local; nothing here is sent. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate/pairrows.h"
#include "core/guard.h"
#include "core/mem.h"
#include "io/columns.h"

static size_t line_of(const ovl_pc_owner_in *in, size_t r)
{
    return in->line ? in->line[r] : r + 1;
}

static bool null_cell(const char *const *cells, const uint16_t *len, size_t r)
{
    return cells[r] == NULL || len[r] == 0;
}

/* The column condition i reads on this side. */
static const char *own_col(const ovl_pc_plan *p, unsigned i, bool runner)
{
    return runner ? p->conds[i].r_col : p->conds[i].c_col;
}

/* A condition's value of one cell as an integer: a day number, or the
 * number scaled by 10^decimals. */
static ovl_err cell_value(int64_t *v, const ovl_pc_plan_cond *c, const char *s, size_t len)
{
    ovl_err rc = OVL_OK;
    if (c->type == OVL_PC_TYPE_DATE) {
        uint32_t day;
        OVL_TRY(ovl_pc_day_parse(&day, s, len));
        *v = day;
    } else {
        OVL_TRY(ovl_decimal_parse(v, s, len, c->type == OVL_PC_TYPE_DECIMAL ? c->decimals : 0));
    }
done:
    return rc;
}

/* A plan column as the template names it: alias.col (no alias: a plan
 * not built from a template). */
static void qualified(char *out, size_t cap, const char *alias, const char *col)
{
    snprintf(out, cap, "%s%s%s", alias, alias[0] ? "." : "", col);
}

static void offset_text(char *out, size_t cap, int32_t days)
{
    if (days == 0)
        out[0] = '\0';
    else
        snprintf(out, cap, " %c INTERVAL '%ld days'", days < 0 ? '-' : '+',
                 days < 0 ? -(long)days : (long)days);
}

/* Condition i as this run's plan holds it: the runner's column first, the
 * contributor's offsets in days. */
static void cond_text(char *out, size_t cap, const ovl_pc_plan *p, unsigned i)
{
    static const char *const ops[] = {"=", "<>", "<", "<=", ">", ">="};
    const ovl_pc_plan_cond *c = &p->conds[i];
    char r[2 * OVL_PC_PLAN_MAX_NAME + 2], x[2 * OVL_PC_PLAN_MAX_NAME + 2], lo[40], hi[40];
    qualified(r, sizeof r, p->r_alias, c->r_col);
    qualified(x, sizeof x, p->c_alias, c->c_col);
    offset_text(lo, sizeof lo, c->type == OVL_PC_TYPE_DATE ? c->lo : 0);
    offset_text(hi, sizeof hi, c->type == OVL_PC_TYPE_DATE ? c->hi : 0);
    if (c->op == OVL_PC_BETWEEN)
        snprintf(out, cap, "%s BETWEEN %s%s AND %s%s", r, x, lo, x, hi);
    else
        snprintf(out, cap, "%s %s %s%s", r, c->op < 6 ? ops[c->op] : "?", x, lo);
}

/* Whether a cell is spelled YYYY-MM-DD (a calendar date or not). */
static bool date_shaped(const char *s, size_t len)
{
    if (len != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (size_t i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return false;
    return true;
}

/* Why a cell does not fit condition i, and the fix (CONDITIONS.md §2.1):
 * the type comes from the template, so the hint names the declaration that
 * sets it. A mismatch says the cell's kind, not its value; a range or
 * calendar error keeps the parser's words, which show the owner's own cell
 * (this owner's stderr only: nothing here is sent). */
static ovl_err cell_refused(ovl_err rc, const ovl_pc_plan *p, const ovl_pc_owner_in *in,
                            size_t r, unsigned i, bool ranged)
{
    const ovl_pc_plan_cond *c = &p->conds[i];
    const char *s = in->cell[i][r], *col = own_col(p, i, in->runner), *what = in->what;
    size_t len = in->cell_len[i][r], line = line_of(in, r);
    char cond[1024], rq[2 * OVL_PC_PLAN_MAX_NAME + 2], cq[2 * OVL_PC_PLAN_MAX_NAME + 2];
    char detail[256];
    int64_t v;
    snprintf(detail, sizeof detail, "%s", ovl_err_detail()); /* the parse below replaces it */
    cond_text(cond, sizeof cond, p, i);
    qualified(rq, sizeof rq, p->r_alias, c->r_col);
    qualified(cq, sizeof cq, p->c_alias, c->c_col);
    if (ranged)
        return ovl_err_set(rc, "%s:%zu: column %s: %s, in the condition %s", what, line, col,
                           detail, cond);
    if (c->type != OVL_PC_TYPE_DATE && date_shaped(s, len))
        return ovl_err_set(rc, "%s:%zu: column %s: a date, but the condition %s compares "
                           "numbers (declare the dates in the template: -- dates %s, %s)", what,
                           line, col, cond, rq, cq);
    if (c->type == OVL_PC_TYPE_DATE &&
        ovl_decimal_parse(&v, s, len, ovl_decimals_shown(s, len)) == OVL_OK)
        return ovl_err_set(rc, "%s:%zu: column %s: a number, but the condition %s compares "
                           "dates YYYY-MM-DD (it has an INTERVAL or a column in -- dates; "
                           "without either it compares numbers)", what, line, col, cond);
    if (c->type == OVL_PC_TYPE_DATE)
        return ovl_err_set(rc, "%s:%zu: column %s: %s (the condition %s compares dates)", what,
                           line, col, detail, cond);
    if (c->type == OVL_PC_TYPE_DECIMAL)
        return ovl_err_set(rc, "%s:%zu: column %s: %s (the condition %s compares numbers with "
                           "%u decimal places, -- decimals)", what, line, col, detail, cond,
                           c->decimals);
    return ovl_err_set(rc, "%s:%zu: column %s: %s (the condition %s compares integers; a "
                       "column with decimal places needs -- decimals)", what, line, col, detail,
                       cond);
}

/* Row r's circuit row: validity, group, and every condition's word(s). */
static ovl_err circuit_row(ovl_pp_row *o, const ovl_pc_plan *p, const ovl_pc_owner_in *in,
                           size_t r)
{
    ovl_err rc = OVL_OK;
    memset(o, 0, sizeof *o);
    o->valid = true;
    o->group = in->group[r];
    for (unsigned i = 0; i < p->nconds; i++) {
        const ovl_pc_plan_cond *c = &p->conds[i];
        int64_t v;
        rc = cell_value(&v, c, in->cell[i][r], in->cell_len[i][r]);
        if (rc != OVL_OK)
            return cell_refused(rc, p, in, r, i, false);
        if (c->type == OVL_PC_TYPE_DATE) {
            /* the contributor applies the offsets: c + lo [and c + hi] */
            rc = ovl_pc_word_date(&o->word[i][0], (uint32_t)v, in->runner ? 0 : c->lo);
            if (rc == OVL_OK && !in->runner && c->op == OVL_PC_BETWEEN)
                rc = ovl_pc_word_date(&o->word[i][1], (uint32_t)v, c->hi);
        } else {
            rc = ovl_pc_word_int(&o->word[i][0], v, c->width);
            if (rc == OVL_OK && !in->runner && c->op == OVL_PC_BETWEEN)
                o->word[i][1] = o->word[i][0];
        }
        if (rc != OVL_OK)
            return cell_refused(rc, p, in, r, i, true);
    }
    return OVL_OK;
}

/* The ordering column's keys: day numbers when its first non-NULL cell is a
 * date (every other must be one too), else numbers at the most decimals any
 * cell shows. */
static ovl_err order_keys(int64_t *key, uint8_t *key_null, const ovl_pc_plan *p,
                          const ovl_pc_owner_in *in, const uint8_t *dropped)
{
    ovl_err rc = OVL_OK;
    const char *col = in->runner ? p->r_order : p->c_order;
    int dates = -1;
    unsigned decimals = 0;
    for (size_t r = 0; r < in->rows; r++) {
        key_null[r] = dropped[r] || null_cell(in->order, in->order_len, r);
        if (key_null[r])
            continue;
        uint32_t day;
        if (dates < 0)
            dates = ovl_pc_day_parse(&day, in->order[r], in->order_len[r]) == OVL_OK;
        if (!dates) {
            unsigned d = ovl_decimals_shown(in->order[r], in->order_len[r]);
            decimals = d > decimals ? d : decimals;
        }
    }
    for (size_t r = 0; r < in->rows; r++) {
        if (key_null[r])
            continue;
        if (dates == 1) {
            uint32_t day;
            rc = ovl_pc_day_parse(&day, in->order[r], in->order_len[r]);
            key[r] = day;
        } else {
            rc = ovl_decimal_parse(&key[r], in->order[r], in->order_len[r], decimals);
        }
        if (rc != OVL_OK)
            return ovl_err_set(rc, "%s:%zu: column %s (the cap's ordering column, %s): %s",
                               in->what, line_of(in, r), col, dates == 1 ? "dates" : "numbers",
                               ovl_err_detail());
    }
    return OVL_OK;
}

ovl_err ovl_pc_owner_rows_build(ovl_pc_owner_rows *out, const ovl_pc_plan *plan,
                                const ovl_pc_owner_in *in)
{
    ovl_err rc = OVL_OK;
    uint8_t *drop = NULL, *kept = NULL, *key_null = NULL;
    int64_t *key = NULL;
    uint32_t *kept_id = NULL, *fill = NULL;
    size_t n = in->rows ? in->rows : 1;
    memset(out, 0, sizeof *out);
    OVL_TRY(ovl_pc_plan_check(plan));
    OVL_ENSURE(plan->nconds > 0 && in->k <= 2 * 32 && in->rows <= UINT32_MAX, OVL_ERR_USAGE,
               "pair rows: no condition across parties, %u words per row or %zu rows", in->k,
               in->rows);
    OVL_TRY(ovl_calloc((void **)&drop, n, 1));
    OVL_TRY(ovl_calloc((void **)&kept, n, 1));
    OVL_TRY(ovl_calloc((void **)&key, n, sizeof *key));
    OVL_TRY(ovl_calloc((void **)&key_null, n, 1));
    for (size_t r = 0; r < in->rows; r++) {
        OVL_ENSURE(in->id[r] < in->nids, OVL_ERR_USAGE, "pair rows: row %zu's identifier %u of %u",
                   r, in->id[r], in->nids);
        for (unsigned i = 0; i < plan->nconds; i++)
            drop[r] |= null_cell(in->cell[i], in->cell_len[i], r);
        out->dropped += drop[r];
    }
    if (in->order != NULL)
        OVL_TRY(order_keys(key, key_null, plan, in, drop));
    /* dropped rows take no place in the cap: they are not rows of the join */
    OVL_TRY(ovl_calloc((void **)&kept_id, n, sizeof *kept_id));
    size_t live = 0;
    for (size_t r = 0; r < in->rows; r++)
        if (!drop[r]) {
            kept_id[live] = in->id[r];
            key[live] = key[r];
            key_null[live] = key_null[r];
            live++;
        }
    ovl_pc_cap_in cap = {kept_id, in->order ? key : NULL, in->order ? key_null : NULL, live,
                         in->nids, plan->cap_rows};
    OVL_TRY(ovl_pc_cap_rows(kept, &out->capped, &cap));
    /* kept[] is over the live rows; map back to the input rows */
    size_t nk = 0;
    for (size_t r = 0, l = 0; r < in->rows; r++) {
        uint8_t k = 0;
        if (!drop[r])
            k = kept[l++];
        drop[r] = !k;
        nk += k;
    }
    OVL_TRY(ovl_calloc((void **)&out->first, (size_t)in->nids + 1, sizeof *out->first));
    out->v.nids = in->nids;
    OVL_TRY(ovl_calloc((void **)&out->row, nk ? nk : 1, sizeof *out->row));
    OVL_TRY(ovl_calloc((void **)&out->source, nk ? nk : 1, sizeof *out->source));
    OVL_TRY(ovl_calloc((void **)&out->words, (nk ? nk : 1) * (in->k ? in->k : 1),
                       sizeof *out->words));
    /* counting sort by identifier, input order kept within one */
    for (size_t r = 0; r < in->rows; r++)
        if (!drop[r])
            out->first[in->id[r] + 1]++;
    for (uint32_t x = 0; x < in->nids; x++)
        out->first[x + 1] += out->first[x];
    OVL_TRY(ovl_calloc((void **)&fill, (size_t)in->nids + 1, sizeof *fill));
    for (size_t r = 0; r < in->rows; r++) {
        if (drop[r])
            continue;
        uint32_t at = out->first[in->id[r]] + fill[in->id[r]]++;
        out->source[at] = (uint32_t)r;
        OVL_TRY(circuit_row(&out->row[at], plan, in, r));
        if (in->k)
            memcpy(out->words + (size_t)at * in->k, in->words + r * in->k,
                   in->k * sizeof *out->words);
    }
    out->v = (ovl_pp_rows){in->nids, out->first, out->row, out->words};
done:
    free(drop);
    free(kept);
    ovl_free_secret(key, n * sizeof *key);
    free(key_null);
    free(kept_id);
    free(fill);
    if (rc != OVL_OK)
        ovl_pc_owner_rows_free(out);
    return rc;
}

void ovl_pc_owner_rows_free(ovl_pc_owner_rows *o)
{
    size_t nk = o->first ? o->first[o->v.nids] : 0;
    free(o->first);
    ovl_free_secret(o->row, (nk ? nk : 1) * sizeof *o->row);
    free(o->words);
    free(o->source);
    memset(o, 0, sizeof *o);
}
