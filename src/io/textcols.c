/* Named columns as text (io/textcols.h): the cells of each row copied into
 * one arena as the rows go by, then laid out column by column. */
#include "io/textcols.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/guard.h"
#include "core/mem.h"

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

ovl_err ovl_text_fill_bind(ovl_text_fill *f, const ovl_source *src, const char *const *cols,
                           size_t ncols)
{
    ovl_err rc = OVL_OK;
    memset(f, 0, sizeof *f);
    OVL_ENSURE(ncols >= 1 && ncols <= OVL_TEXT_COLS_MAX, OVL_ERR_USAGE,
               "text columns: %zu columns (1 to %u)", ncols, OVL_TEXT_COLS_MAX);
    for (size_t c = 0; c < ncols; c++)
        OVL_TRY(ovl_source_col(src, cols[c], &f->idx[c]));
    f->cols = cols;
    f->ncols = ncols;
done:
    return rc;
}

/* The cell trimmed of ASCII spaces, as the loader trims values; a NULL or
 * blank cell has length 0. */
static void trimmed(const ovl_cell *cell, const char **s, size_t *n)
{
    *s = cell->text;
    *n = cell->kind == OVL_CELL_NULL ? 0 : cell->len;
    while (*n > 0 && **s == ' ')
        (*s)++, (*n)--;
    while (*n > 0 && (*s)[*n - 1] == ' ')
        (*n)--;
}

ovl_err ovl_text_fill_row(ovl_text_fill *f, const ovl_source *src)
{
    ovl_err rc = OVL_OK, over = OVL_OK;
    size_t ncols = f->ncols;
    OVL_ENSURE(ncols > 0, OVL_ERR_INTERNAL, "text columns: not bound");
    OVL_TRY(grow((void **)&f->line, &f->line_cap, f->rows + 1, sizeof *f->line));
    OVL_TRY(grow((void **)&f->off, &f->off_cap, (f->rows + 1) * ncols, sizeof *f->off));
    OVL_TRY(grow((void **)&f->clen, &f->clen_cap, (f->rows + 1) * ncols, sizeof *f->clen));
    f->line[f->rows] = (uint32_t)ovl_source_pos(src);
    for (size_t c = 0; c < ncols; c++) {
        ovl_cell cell;
        const char *s;
        size_t n;
        ovl_source_cell(src, f->idx[c], &cell);
        trimmed(&cell, &s, &n);
        if (n > OVL_TEXT_CELL_MAX) {
            if (over == OVL_OK) {
                char where[OVL_SOURCE_WHERE_MAX];
                ovl_source_where(src, where);
                over = ovl_err_set(OVL_ERR_INPUT, "%s: column %s: a cell of over %u bytes",
                                   where, f->cols[c], OVL_TEXT_CELL_MAX);
            }
            n = 0;
        }
        OVL_TRY(grow((void **)&f->arena, &f->cap, f->len + n + 1, 1));
        memcpy(f->arena + f->len, s, n);
        f->arena[f->len + n] = 0;
        f->off[f->rows * ncols + c] = f->len;
        f->clen[f->rows * ncols + c] = (uint16_t)n;
        f->len += n + 1;
    }
    f->rows++;
    rc = over;
done:
    return rc;
}

ovl_err ovl_text_fill_finish(ovl_text_table *t, ovl_text_fill *f, const ovl_source *src)
{
    ovl_err rc = OVL_OK;
    size_t rows = f->rows, ncols = f->ncols, n = rows * ncols;
    memset(t, 0, sizeof *t);
    t->nrows = rows;
    t->ncols = ncols;
    OVL_TRY(ovl_calloc((void **)&t->cell, n ? n : 1, sizeof *t->cell));
    OVL_TRY(ovl_calloc((void **)&t->len, n ? n : 1, sizeof *t->len));
    t->label = strdup(ovl_source_label(src));
    OVL_ENSURE(t->label != NULL, OVL_ERR_NOMEM, "text columns: out of memory");
    t->line = f->line;
    t->arena = f->arena;
    t->arena_len = f->cap;
    f->line = NULL;
    f->arena = NULL;
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < ncols; c++) {
            t->cell[c * rows + r] = t->arena + f->off[r * ncols + c];
            t->len[c * rows + r] = f->clen[r * ncols + c];
        }
    ovl_text_fill_free(f);
done:
    if (rc != OVL_OK)
        ovl_text_table_free(t);
    return rc;
}

void ovl_text_fill_free(ovl_text_fill *f)
{
    /* the arena holds the owner's compared cells: wiped like its identifiers */
    if (f->arena != NULL)
        sodium_memzero(f->arena, f->cap);
    free(f->arena);
    free(f->off);
    free(f->clen);
    free(f->line);
    memset(f, 0, sizeof *f);
}

ovl_err ovl_text_table_load(ovl_text_table *t, const char *spec, const char *query,
                            const char *const *cols, size_t ncols)
{
    ovl_err rc = OVL_OK;
    ovl_source *src = NULL;
    ovl_text_fill f;
    bool eof = false;
    memset(t, 0, sizeof *t);
    memset(&f, 0, sizeof f);
    OVL_ENSURE(ncols >= 1 && ncols <= OVL_TEXT_COLS_MAX, OVL_ERR_USAGE,
               "text columns: %zu columns (1 to %u)", ncols, OVL_TEXT_COLS_MAX);
    OVL_TRY(ovl_source_open(&src, spec, query));
    OVL_TRY(ovl_text_fill_bind(&f, src, cols, ncols));
    for (;;) {
        OVL_TRY(ovl_source_next(src, &eof));
        if (eof)
            break;
        OVL_TRY(ovl_text_fill_row(&f, src));
    }
    OVL_TRY(ovl_text_fill_finish(t, &f, src));
done:
    ovl_source_close(src);
    ovl_text_fill_free(&f);
    return rc;
}

void ovl_text_table_free(ovl_text_table *t)
{
    free(t->cell);
    free(t->len);
    free(t->line);
    free(t->label);
    if (t->arena != NULL)
        sodium_memzero(t->arena, t->arena_len);
    free(t->arena);
    memset(t, 0, sizeof *t);
}
