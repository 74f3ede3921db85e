/* overlap: CSV files as a table source (source.h), over the streaming
 * reader of csv.c. CSV has no types and no NULL: every cell is TEXT. */
#include <stdio.h>

#include "io/source.h"
#include "io/table.h"

static ovl_err csv_src_open(void **impl, const char *spec, const char *query)
{
    ovl_csv *c = NULL;
    *impl = NULL;
    if (query != NULL)
        return ovl_err_set(OVL_ERR_USAGE, "%s: a CSV file takes no query (the query selects rows "
                                          "of a database table)", spec);
    ovl_err rc = ovl_csv_open(&c, spec);
    *impl = c;
    return rc;
}

ovl_err ovl_source_csv_mem(void **impl, const char *label, const uint8_t *data, size_t len)
{
    ovl_csv *c = NULL;
    ovl_err rc = ovl_csv_open_mem(&c, label, data, len);
    *impl = c;
    return rc;
}

static void csv_src_close(void *impl) { ovl_csv_close(impl); }

static size_t csv_src_ncols(const void *impl) { return ovl_csv_ncols(impl); }

static const char *csv_src_colname(const void *impl, size_t i)
{
    return ovl_csv_colname(impl, i);
}

static ovl_err csv_src_next(void *impl, bool *eof) { return ovl_csv_next(impl, eof); }

static void csv_src_cell(const void *impl, size_t i, ovl_cell *out)
{
    out->kind = OVL_CELL_TEXT;
    ovl_csv_field(impl, i, &out->text, &out->len);
}

static const char *csv_src_label(const void *impl) { return ovl_csv_label(impl); }

static size_t csv_src_pos(const void *impl) { return ovl_csv_line(impl); }

static void csv_src_where_at(const void *impl, size_t pos, char *out, size_t cap)
{
    snprintf(out, cap, "%s:%zu", ovl_csv_label(impl), pos);
}

static bool csv_src_raw(const void *impl, bool header, const char **p, size_t *len)
{
    if (header)
        ovl_csv_raw_header(impl, p, len);
    else
        ovl_csv_raw(impl, p, len);
    return true;
}

const ovl_source_backend ovl_source_csv = {
    .name = "CSV",
    .open = csv_src_open,
    .close = csv_src_close,
    .ncols = csv_src_ncols,
    .colname = csv_src_colname,
    .next = csv_src_next,
    .cell = csv_src_cell,
    .label = csv_src_label,
    .pos = csv_src_pos,
    .where_at = csv_src_where_at,
    .raw = csv_src_raw,
};
