/* Does a table fit the policy written for it? `serve` asks once at start,
 * so that a wrong --table or a stale policy stops the owner with one line
 * instead of failing each partner's session with the owner's details. */
#include <stdio.h>
#include <string.h>

#include "core/guard.h"
#include "io/columns.h"
#include "io/source.h"
#include "io/table.h"
#include "policy/policy.h"

/* Decimal places a cell states ("12.50" has 2), so any valid number parses. */
static unsigned cell_decimals(const char *p, size_t len)
{
    const char *dot = memchr(p, '.', len);
    if (dot == NULL)
        return 0;
    size_t n = 0;
    for (const char *q = dot + 1; q < p + len && *q >= '0' && *q <= '9'; q++)
        n++;
    return n > 18 ? 18 : (unsigned)n;
}

static ovl_err find_columns(const ovl_policy *pol, ovl_source *src, size_t *agg_idx,
                            size_t *join_idx)
{
    ovl_err rc = OVL_OK;
    const char *label = ovl_source_label(src);
    for (size_t i = 0; i < pol->columns.n; i++) {
        size_t idx;
        OVL_ENSURE(ovl_source_col(src, pol->columns.items[i], &idx) == OVL_OK, OVL_ERR_INPUT,
                   "%s does not fit %s: it has no column '%s' (listed in table.columns; is "
                   "--table the right table?)",
                   label, pol->label, pol->columns.items[i]);
    }
    for (size_t i = 0; i < pol->aggregation.aggregates.n; i++)
        OVL_TRY(ovl_source_col(src, pol->aggregation.aggregates.items[i], &agg_idx[i]));
    OVL_TRY(ovl_source_col(src, pol->join[0].column, join_idx));
done:
    return rc;
}

ovl_err ovl_policy_check_table(const ovl_policy *pol, const char *spec, const char *query)
{
    ovl_err rc = OVL_OK;
    ovl_source *src = NULL;
    size_t agg_idx[OVL_CSV_MAX_COLS], join_idx = 0;
    bool eof = false;
    OVL_ENSURE(pol->aggregation.aggregates.n <= OVL_CSV_MAX_COLS && pol->njoin > 0,
               OVL_ERR_INPUT, "%s: no join column, or too many aggregate columns", pol->label);
    OVL_TRY(ovl_source_open(&src, spec, query));
    OVL_TRY(find_columns(pol, src, agg_idx, &join_idx));
    const ovl_policy_join *j = &pol->join[0];
    const char *label = ovl_source_label(src);
    for (;;) {
        ovl_cell c;
        uint8_t id[OVL_ID_LEN];
        int64_t v;
        OVL_TRY(ovl_source_next(src, &eof));
        if (eof)
            break;
        /* Rows whose join value is skipped are never read for values either. */
        ovl_source_cell(src, join_idx, &c);
        if (c.kind == OVL_CELL_NULL || ovl_ident(id, j->norm, j->prehashed, c.text, c.len) != OVL_OK)
            continue;
        for (size_t i = 0; i < pol->aggregation.aggregates.n; i++) {
            ovl_source_cell(src, agg_idx[i], &c);
            if (c.kind == OVL_CELL_NULL) /* SQL: a NULL adds nothing */
                continue;
            if (ovl_decimal_parse(&v, c.text, c.len, cell_decimals(c.text, c.len)) != OVL_OK) {
                char where[OVL_SOURCE_WHERE_MAX];
                ovl_source_where(src, where);
                OVL_FAIL(ovl_err_wrap(OVL_ERR_INPUT, "%s does not fit %s: %s: column '%s' "
                                      "(aggregation.aggregates): ", label, pol->label, where,
                                      pol->aggregation.aggregates.items[i]));
            }
        }
    }
done:
    ovl_source_close(src);
    return rc;
}
