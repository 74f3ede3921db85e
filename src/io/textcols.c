/* Named columns as text (io/textcols.h): one pass over the table, the cells
 * copied into one arena, then laid out column by column. */
#include "io/textcols.h"

#include <stdlib.h>
#include <string.h>

#include "core/guard.h"
#include "core/mem.h"
#include "io/source.h"

typedef struct {
    char *arena;
    size_t len, cap;
    size_t *off;   /* rows × ncols offsets into the arena, row-major while reading */
    uint16_t *clen;
    uint32_t *line;
    size_t rows, line_cap, off_cap, clen_cap;
} text_pass;

static ovl_err grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return OVL_OK;
    size_t n = *cap ? *cap : 1024;
    while (n < need) {
        if (n > SIZE_MAX / 2 / size)
            return ovl_err_set(OVL_ERR_LIMIT, "text columns: too many rows");
        n *= 2;
    }
    void *q = realloc(*p, n * size);
    if (q == NULL)
        return ovl_err_set(OVL_ERR_NOMEM, "text columns: out of memory");
    *p = q;
    *cap = n;
    return OVL_OK;
}

static bool blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ')
            return false;
    return true;
}

static ovl_err read_row(text_pass *p, ovl_source *src, const size_t *idx, size_t ncols,
                        const char *const *cols)
{
    ovl_err rc = OVL_OK;
    OVL_TRY(grow((void **)&p->line, &p->line_cap, p->rows + 1, sizeof *p->line));
    OVL_TRY(grow((void **)&p->off, &p->off_cap, (p->rows + 1) * ncols, sizeof *p->off));
    OVL_TRY(grow((void **)&p->clen, &p->clen_cap, (p->rows + 1) * ncols, sizeof *p->clen));
    p->line[p->rows] = (uint32_t)ovl_source_pos(src);
    for (size_t c = 0; c < ncols; c++) {
        ovl_cell cell;
        ovl_source_cell(src, idx[c], &cell);
        const char *s = cell.text;
        size_t n = cell.kind == OVL_CELL_NULL || blank(cell.text, cell.len) ? 0 : cell.len;
        /* trim ASCII spaces around the cell, as the loader does for values */
        while (n > 0 && *s == ' ')
            s++, n--;
        while (n > 0 && s[n - 1] == ' ')
            n--;
        if (n > OVL_TEXT_CELL_MAX) {
            char where[OVL_SOURCE_WHERE_MAX];
            ovl_source_where(src, where);
            OVL_FAIL(ovl_err_set(OVL_ERR_INPUT, "%s: column %s: a cell of over %u bytes", where,
                                 cols[c], OVL_TEXT_CELL_MAX));
        }
        OVL_TRY(grow((void **)&p->arena, &p->cap, p->len + n + 1, 1));
        memcpy(p->arena + p->len, s, n);
        p->arena[p->len + n] = 0;
        p->off[p->rows * ncols + c] = p->len;
        p->clen[p->rows * ncols + c] = (uint16_t)n;
        p->len += n + 1;
    }
    p->rows++;
done:
    return rc;
}

ovl_err ovl_text_table_load(ovl_text_table *t, const char *spec, const char *query,
                            const char *const *cols, size_t ncols)
{
    ovl_err rc = OVL_OK;
    ovl_source *src = NULL;
    text_pass p;
    size_t idx[OVL_TEXT_COLS_MAX];
    bool eof = false;
    memset(t, 0, sizeof *t);
    memset(&p, 0, sizeof p);
    OVL_ENSURE(ncols >= 1 && ncols <= OVL_TEXT_COLS_MAX, OVL_ERR_USAGE,
               "text columns: %zu columns (1 to %u)", ncols, OVL_TEXT_COLS_MAX);
    OVL_TRY(ovl_source_open(&src, spec, query));
    for (size_t c = 0; c < ncols; c++)
        OVL_TRY(ovl_source_col(src, cols[c], &idx[c]));
    for (;;) {
        OVL_TRY(ovl_source_next(src, &eof));
        if (eof)
            break;
        OVL_TRY(read_row(&p, src, idx, ncols, cols));
    }
    size_t n = p.rows * ncols;
    t->nrows = p.rows;
    t->ncols = ncols;
    OVL_TRY(ovl_calloc((void **)&t->cell, n ? n : 1, sizeof *t->cell));
    OVL_TRY(ovl_calloc((void **)&t->len, n ? n : 1, sizeof *t->len));
    t->label = strdup(ovl_source_label(src));
    OVL_ENSURE(t->label != NULL, OVL_ERR_NOMEM, "text columns: out of memory");
    t->arena = p.arena;
    t->line = p.line;
    p.arena = NULL;
    p.line = NULL;
    for (size_t r = 0; r < p.rows; r++)
        for (size_t c = 0; c < ncols; c++) {
            t->cell[c * p.rows + r] = t->arena + p.off[r * ncols + c];
            t->len[c * p.rows + r] = p.clen[r * ncols + c];
        }
done:
    ovl_source_close(src);
    free(p.arena);
    free(p.off);
    free(p.clen);
    free(p.line);
    if (rc != OVL_OK)
        ovl_text_table_free(t);
    return rc;
}

void ovl_text_table_free(ovl_text_table *t)
{
    free(t->cell);
    free(t->len);
    free(t->line);
    free(t->label);
    free(t->arena);
    memset(t, 0, sizeof *t);
}
