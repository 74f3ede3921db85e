/* Does a table fit the policy written for it? `serve` asks once at start,
 * so that a wrong --table or a stale policy stops the owner with one line
 * instead of failing each partner's session with the owner's details. */
#include <stdio.h>
#include <string.h>

#include "core/guard.h"
#include "io/columns.h"
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

static ovl_err find_columns(const ovl_policy *pol, ovl_csv *csv, size_t *agg_idx,
                            size_t *join_idx)
{
    ovl_err rc = OVL_OK;
    const char *path = ovl_csv_label(csv);
    for (size_t i = 0; i < pol->columns.n; i++) {
        size_t idx;
        OVL_ENSURE(ovl_csv_col(csv, pol->columns.items[i], &idx) == OVL_OK, OVL_ERR_INPUT,
                   "%s does not fit %s: it has no column '%s' (listed in table.columns; is --table the right file?)", path,
                   pol->label, pol->columns.items[i]);
    }
    for (size_t i = 0; i < pol->aggregation.aggregates.n; i++)
        OVL_TRY(ovl_csv_col(csv, pol->aggregation.aggregates.items[i], &agg_idx[i]));
    OVL_TRY(ovl_csv_col(csv, pol->join[0].column, join_idx));
done:
    return rc;
}

ovl_err ovl_policy_check_table(const ovl_policy *pol, const char *path)
{
    ovl_err rc = OVL_OK;
    ovl_csv *csv = NULL;
    size_t agg_idx[OVL_CSV_MAX_COLS], join_idx = 0;
    bool eof = false;
    OVL_ENSURE(pol->aggregation.aggregates.n <= OVL_CSV_MAX_COLS && pol->njoin > 0,
               OVL_ERR_INPUT, "%s: no join column, or too many aggregate columns", pol->label);
    OVL_TRY(ovl_csv_open(&csv, path));
    OVL_TRY(find_columns(pol, csv, agg_idx, &join_idx));
    const ovl_policy_join *j = &pol->join[0];
    for (;;) {
        const char *p;
        size_t len;
        uint8_t id[OVL_ID_LEN];
        int64_t v;
        OVL_TRY(ovl_csv_next(csv, &eof));
        if (eof)
            break;
        /* Rows whose join value is skipped are never read for values either. */
        ovl_csv_field(csv, join_idx, &p, &len);
        if (ovl_ident(id, j->norm, j->prehashed, p, len) != OVL_OK)
            continue;
        for (size_t i = 0; i < pol->aggregation.aggregates.n; i++) {
            ovl_csv_field(csv, agg_idx[i], &p, &len);
            if (ovl_decimal_parse(&v, p, len, cell_decimals(p, len)) != OVL_OK)
                OVL_FAIL(ovl_err_wrap(OVL_ERR_INPUT, "%s does not fit %s: %s:%zu: column '%s' "
                                      "(aggregation.aggregates): ", path, pol->label, path,
                                      ovl_csv_line(csv), pol->aggregation.aggregates.items[i]));
        }
    }
done:
    ovl_csv_close(csv);
    return rc;
}
