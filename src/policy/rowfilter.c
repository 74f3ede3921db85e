/* overlap: template WHERE filters as a loader row filter (rowfilter.h). */
#include <string.h>

#include "core/guard.h"
#include "policy/rowfilter.h"

ovl_err ovl_tpl_rowfilter_init(ovl_tpl_rowfilter *f, const ovl_template *tpl, int party,
                               const ovl_param_value *params, size_t nparams)
{
    ovl_err rc = OVL_OK;
    memset(f, 0, sizeof *f);
    f->tpl = tpl;
    f->party = party;
    f->params = params;
    f->nparams = nparams;
    for (size_t i = 0; tpl != NULL && i < tpl->nfilters; i++) {
        if (tpl->filters[i].party != party)
            continue;
        OVL_ENSURE(f->n < OVL_TPL_ROWFILTER_MAX, OVL_ERR_LIMIT, "too many filters on one table");
        f->filters[f->n++] = &tpl->filters[i];
    }
done:
    return rc;
}

static ovl_err rowfilter_bind(void *arg, const ovl_source *src)
{
    ovl_err rc = OVL_OK;
    ovl_tpl_rowfilter *f = arg;
    for (size_t i = 0; i < f->n; i++)
        OVL_TRY(ovl_source_col(src, f->filters[i]->column, &f->cols[i]));
done:
    return rc;
}

static ovl_err rowfilter_keep(void *arg, const ovl_source *src, bool *keep)
{
    const ovl_tpl_rowfilter *f = arg;
    *keep = true;
    for (size_t i = 0; i < f->n && *keep; i++) {
        ovl_cell cell;
        ovl_source_cell(src, f->cols[i], &cell);
        /* As in SQL: a comparison with NULL is not true, and the filters are
         * all ANDed (templates have no OR, NOT or IS NULL), so the row goes. */
        if (cell.kind == OVL_CELL_NULL) {
            *keep = false;
            break;
        }
        ovl_err rc = ovl_tpl_filter_match(f->filters[i], f->params, f->nparams, cell.text,
                                          cell.len, keep);
        if (rc != OVL_OK)
            return rc;
    }
    return OVL_OK;
}

ovl_row_filter ovl_tpl_rowfilter_ops(ovl_tpl_rowfilter *f)
{
    if (f->n == 0)
        return (ovl_row_filter){NULL, NULL, NULL};
    return (ovl_row_filter){rowfilter_bind, rowfilter_keep, f};
}
