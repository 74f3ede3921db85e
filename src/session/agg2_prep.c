/* An owner's preparation for aggregates version 2 (agg2_prep.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate/agg2.h"
#include "aggregate/release.h"
#include "core/guard.h"
#include "core/mem.h"
#include "session/agg2_prep.h"

ovl_err ovl_agg2_prep_columns(ovl_agg2_prep *p, const ovl_agg2_plan *plan, unsigned side)
{
    ovl_err rc = OVL_OK;
    memset(p, 0, sizeof *p);
    OVL_TRY(ovl_calloc((void **)&p->group_by, plan->ndims + 1u, sizeof *p->group_by));
    OVL_TRY(ovl_calloc((void **)&p->trunc, plan->ndims + 1u, 1));
    OVL_TRY(ovl_calloc((void **)&p->cols, plan->ncols + 1u, sizeof *p->cols));
    OVL_TRY(ovl_calloc((void **)&p->counted_only, plan->ncols + 1u, 1));
    for (unsigned i = 0; i < plan->ndims; i++) {
        if (plan->dims[i].side != side)
            continue;
        OVL_ENSURE((p->group_by[p->ndims] = strdup(plan->dims[i].name)) != NULL, OVL_ERR_NOMEM,
                   "out of memory");
        p->trunc[p->ndims++] = plan->dims[i].trunc;
    }
    for (unsigned i = 0; i < plan->ncols; i++) {
        if (plan->cols[i].side != side)
            continue;
        OVL_ENSURE((p->cols[p->ncols].name = strdup(plan->cols[i].name)) != NULL, OVL_ERR_NOMEM,
                   "out of memory");
        p->counted_only[p->ncols] = !ovl_agg2_plan_col_summed(plan, i);
        p->cols[p->ncols++].decimals = plan->cols[i].decimals;
    }
done:
    return rc;
}

void ovl_agg2_prep_load_spec(const ovl_agg2_prep *p, ovl_load_spec *want)
{
    want->values = p->cols;
    want->nvalues = p->ncols;
    want->empty_is_null = true;
    want->counted_only = p->counted_only;
    want->group_by = p->group_by;
    want->group_trunc = p->trunc;
    want->ngroup_by = p->ndims;
    want->groups = true;
}

/* Group g's label: u16 length || bytes per dimension (§5.2). */
static ovl_err make_label(ovl_agg2_prep *p, const ovl_group_table *t, size_t g, const char *what)
{
    ovl_err rc = OVL_OK;
    size_t total = 0;
    for (size_t c = 0; c < t->ncols; c++)
        total += 2 + strlen(ovl_group_key(t, g, c));
    if (total > OVL_AGG2_LABEL_MAX) {
        char cols[256] = "";
        for (size_t c = 0; c < p->ndims; c++)
            snprintf(cols + strlen(cols), sizeof cols - strlen(cols), "%s%s", c ? "," : "",
                     p->group_by[c]);
        return ovl_err_set(OVL_ERR_INPUT, "%s: a group's values of %s take %zu bytes (at most "
                           "%u together)", what, cols, total, OVL_AGG2_LABEL_MAX);
    }
    OVL_TRY(ovl_calloc((void **)&p->labels[g], total ? total : 1, 1));
    p->label_len[g] = (uint16_t)total;
    for (size_t c = 0, o = 0; c < t->ncols; c++) {
        const char *v = ovl_group_key(t, g, c);
        size_t n = strlen(v);
        p->labels[g][o] = (uint8_t)(n >> 8);
        p->labels[g][o + 1] = (uint8_t)n;
        memcpy(p->labels[g] + o + 2, v, n);
        o += 2 + n;
    }
done:
    return rc;
}

typedef struct {
    const uint8_t *b;
    uint16_t len;
    uint32_t old;
} label_ref;

static int label_ref_cmp(const void *va, const void *vb)
{
    const label_ref *a = va, *b = vb;
    size_t n = a->len < b->len ? a->len : b->len;
    int c = n ? memcmp(a->b, b->b, n) : 0;
    return c != 0 ? c : (a->len > b->len) - (a->len < b->len);
}

/* The loader sorts groups field by field; labels sort by their bytes, with
 * each field's length first: reorder, returning old -> new in map. */
static ovl_err sort_groups(ovl_agg2_prep *p, uint32_t *map)
{
    ovl_err rc = OVL_OK;
    label_ref *r = NULL;
    uint8_t **labels = NULL;
    uint16_t *lens = NULL;
    size_t n = p->ngroups;
    OVL_TRY(ovl_calloc((void **)&r, n, sizeof *r));
    OVL_TRY(ovl_calloc((void **)&labels, n, sizeof *labels));
    OVL_TRY(ovl_calloc((void **)&lens, n, sizeof *lens));
    for (size_t g = 0; g < n; g++)
        r[g] = (label_ref){p->labels[g], p->label_len[g], (uint32_t)g};
    qsort(r, n, sizeof *r, label_ref_cmp);
    for (size_t g = 0; g < n; g++) {
        labels[g] = p->labels[r[g].old];
        lens[g] = r[g].len;
        map[r[g].old] = (uint32_t)g;
    }
    free(p->labels);
    free(p->label_len);
    p->labels = labels;
    p->label_len = lens;
    labels = NULL;
    lens = NULL;
done:
    free(r);
    free(labels);
    free(lens);
    return rc;
}

/* The rows of the analysis (a valid identifier, a group) and, with kept,
 * among those kept, as ident.h reads them. */
static ovl_err fill_rows(ovl_agg_rows *rows, uint32_t **id, uint32_t **group, int64_t **value,
                         uint8_t **null, size_t *cells, const ovl_agg2_prep *p,
                         const ovl_table_input *in, const uint8_t *kept)
{
    ovl_err rc = OVL_OK;
    const ovl_idtable *ids = &in->ids;
    size_t n = 0, ncols = p->ncols;
    OVL_ENSURE(ids->nrows == p->nrows, OVL_ERR_INTERNAL,
               "aggregate: the groups were formed over another table");
    OVL_ENSURE(ids->nrows <= OVL_AGG2_MAX_ROWS, OVL_ERR_LIMIT, "aggregate: more than %u rows",
               OVL_AGG2_MAX_ROWS);
    OVL_ENSURE(ovl_mul_ok(ids->nrows + 1, ncols + 1, cells), OVL_ERR_LIMIT, "too many rows");
    OVL_TRY(ovl_calloc((void **)id, ids->nrows + 1, sizeof **id));
    OVL_TRY(ovl_calloc((void **)group, ids->nrows + 1, sizeof **group));
    OVL_TRY(ovl_calloc((void **)value, *cells, sizeof **value));
    OVL_TRY(ovl_calloc((void **)null, *cells, 1));
    for (size_t r = 0; r < ids->nrows; r++) {
        if (p->row_group[r] == UINT32_MAX || (kept != NULL && !kept[r]))
            continue;
        (*id)[n] = (uint32_t)ovl_idtable_find(ids, ids->row_ids[r]);
        (*group)[n] = p->row_group[r];
        for (size_t c = 0; c < ncols; c++) {
            (*value)[n * ncols + c] = in->values.cells[r * ncols + c];
            (*null)[n * ncols + c] = in->values.nulls[r * ncols + c];
        }
        n++;
    }
    *rows = (ovl_agg_rows){.id = *id, .group = *group, .value = *value, .null = *null, .rows = n};
done:
    return rc;
}

/* ident.h names a value column by its index: the owner reads its name. */
static ovl_err name_column(ovl_err rc, const ovl_agg2_prep *p, const char *what)
{
    char detail[512];
    unsigned col;
    int used = 0;
    snprintf(detail, sizeof detail, "%s", ovl_err_detail());
    const char *at = strstr(detail, "column ");
    if (at != NULL && sscanf(at, "column %u%n", &col, &used) == 1 && col < p->ncols) {
        size_t head = (size_t)(at - detail);
        return ovl_err_set(rc, "%s: %.*scolumn '%s'%s", what, (int)head, detail,
                           p->cols[col].name, at + used);
    }
    return ovl_err_wrap(rc, "%s: ", what);
}

ovl_err ovl_agg2_prep_groups(ovl_agg2_prep *p, const ovl_table_input *in, const char *what)
{
    ovl_err rc = OVL_OK;
    const ovl_group_table *t = &in->groups;
    uint32_t *map = NULL;
    OVL_ENSURE(t->ngroups <= OVL_AGG2_MAX_GROUPS, OVL_ERR_INPUT,
               "%s: %zu groups (at most %u)", what, t->ngroups, OVL_AGG2_MAX_GROUPS);
    /* A party without rows still has one (empty) group: G >= 1. */
    p->ngroups = t->ngroups ? t->ngroups : 1;
    OVL_TRY(ovl_calloc((void **)&p->labels, p->ngroups, sizeof *p->labels));
    OVL_TRY(ovl_calloc((void **)&p->label_len, p->ngroups, sizeof *p->label_len));
    OVL_TRY(ovl_calloc((void **)&map, p->ngroups, sizeof *map));
    for (size_t g = 0; g < t->ngroups; g++)
        OVL_TRY(make_label(p, t, g, what));
    if (t->ngroups == 0)
        OVL_TRY(ovl_calloc((void **)&p->labels[0], 1, 1));
    OVL_TRY(sort_groups(p, map));
    p->nrows = in->ids.nrows;
    OVL_TRY(ovl_calloc((void **)&p->row_group, p->nrows + 1, sizeof *p->row_group));
    for (size_t r = 0; r < p->nrows; r++)
        p->row_group[r] = !in->ids.row_valid[r] || in->groups.row_group[r] == UINT32_MAX
                              ? UINT32_MAX
                              : map[in->groups.row_group[r]];
done:
    free(map);
    return rc;
}

ovl_err ovl_agg2_prep_ident(ovl_agg2_prep *p, const ovl_table_input *in, const uint8_t *kept,
                            uint32_t count_bits, uint32_t value_bits, uint32_t max_cells,
                            const char *what)
{
    ovl_err rc = OVL_OK;
    uint32_t *id = NULL, *group = NULL;
    int64_t *value = NULL;
    uint8_t *null = NULL;
    size_t cells = 0;
    ovl_agg_rows rows;
    OVL_ENSURE(p->row_group != NULL, OVL_ERR_INTERNAL, "aggregate: groups not formed");
    OVL_TRY(fill_rows(&rows, &id, &group, &value, &null, &cells, p, in, kept));
    ovl_agg_ident_shape shape = {.nids = (uint32_t)in->ids.nids, .groups = (uint32_t)p->ngroups,
                                 .cols = (uint32_t)p->ncols, .count_bits = count_bits,
                                 .value_bits = value_bits, .max_cells = max_cells};
    OVL_ENSURE(in->ids.nids <= UINT32_MAX, OVL_ERR_LIMIT, "%s: too many identifiers", what);
    rc = ovl_agg_ident_build(&p->ident, &shape, &rows);
    if (rc == OVL_ERR_INPUT || rc == OVL_ERR_POLICY)
        rc = name_column(rc, p, what);
done:
    free(id);
    free(group);
    if (value)
        ovl_free_secret(value, cells * sizeof *value);
    free(null);
    return rc;
}

ovl_err ovl_agg2_prep_build(ovl_agg2_prep *p, const ovl_table_input *in, uint32_t count_bits,
                            uint32_t value_bits, uint32_t max_cells, const char *what)
{
    ovl_err rc = OVL_OK;
    OVL_TRY(ovl_agg2_prep_groups(p, in, what));
    OVL_TRY(ovl_agg2_prep_ident(p, in, NULL, count_bits, value_bits, max_cells, what));
done:
    return rc;
}

ovl_err ovl_agg2_prep_check(const ovl_agg2_prep *p, const ovl_agg2_plan *plan, bool runner,
                            const char *what)
{
    ovl_err rc = ovl_agg2_check_own(plan, runner, &p->ident);
    return rc == OVL_OK ? rc : ovl_err_wrap(rc, "%s: ", what);
}

void ovl_agg2_prep_free(ovl_agg2_prep *p)
{
    ovl_col_names_free(p->group_by, p->ndims);
    free(p->trunc);
    ovl_value_cols_free(p->cols, p->ncols);
    free(p->counted_only);
    for (size_t g = 0; p->labels && g < p->ngroups; g++)
        free(p->labels[g]);
    free(p->labels);
    free(p->label_len);
    ovl_agg_ident_free(&p->ident);
    free(p->row_group);
    memset(p, 0, sizeof *p);
}
