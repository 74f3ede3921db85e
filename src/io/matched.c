/* overlap: a PSI result's matched rows, copied from the party's own table
 * (load.h). Rows are not kept in memory during the run, so this is the one
 * second pass over a table, checked against the first. */
#include "core/guard.h"
#include "io/load.h"

static ovl_err matched_changed(const ovl_source *src)
{
    return ovl_err_set(OVL_ERR_INPUT, "%s changed while the run was in progress",
                       ovl_source_label(src));
}

static ovl_err matched_line(ovl_outfile *out, const char *p, size_t len)
{
    ovl_err rc = ovl_outfile_write(out, p, len);
    return rc == OVL_OK ? ovl_outfile_write(out, "\n", 1) : rc;
}

ovl_err ovl_table_write_matched(ovl_outfile *out, const char *spec, const char *query,
                                const ovl_idtable *ids, const bool *matched)
{
    ovl_err rc = OVL_OK;
    ovl_source *src = NULL;
    const char *p;
    size_t len, row = 0;
    bool eof = false;
    OVL_TRY(ovl_source_open(&src, spec, query));
    OVL_TRY(ovl_source_header_csv(src, &p, &len));
    OVL_TRY(matched_line(out, p, len));
    for (;;) {
        OVL_TRY(ovl_source_next(src, &eof));
        if (eof)
            break;
        if (row >= ids->nrows)
            OVL_FAIL(matched_changed(src));
        if (ids->row_valid[row]) {
            size_t k = ovl_idtable_find(ids, ids->row_ids[row]);
            if (k != SIZE_MAX && matched[k]) {
                OVL_TRY(ovl_source_row_csv(src, &p, &len));
                OVL_TRY(matched_line(out, p, len));
            }
        }
        row++;
    }
    if (row != ids->nrows)
        OVL_FAIL(matched_changed(src));
done:
    ovl_source_close(src);
    return rc;
}
