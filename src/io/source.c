/* overlap: the table-source seam (source.h): the backends keyed by the
 * spec's prefix, and what every source offers whatever its backend. */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/guard.h"
#include "core/mem.h"
#include "io/source.h"

/* First match wins; the empty prefix (a file path) must stay last. */
static const struct {
    const char *prefix;
    const ovl_source_backend *backend;
} source_backends[] = {
    {"sqlite:", &ovl_source_sqlite},
    {"postgresql://", &ovl_source_postgres},
    {"postgres://", &ovl_source_postgres},
    {"", &ovl_source_csv},
};

enum { SOURCE_LINE_INITIAL = 4096, SOURCE_LINE_MAX = 16u << 20 };

struct ovl_source {
    const ovl_source_backend *be;
    void *impl;
    ovl_buf line; /* a row encoded as CSV; personal data, wiped when released */
};

static const ovl_source_backend *source_backend_for(const char *spec)
{
    for (size_t i = 0; i < sizeof source_backends / sizeof source_backends[0]; i++) {
        const char *p = source_backends[i].prefix;
        if (strncmp(spec, p, strlen(p)) == 0)
            return source_backends[i].backend;
    }
    return NULL;
}

ovl_err ovl_source_wrap(ovl_source **out, const ovl_source_backend *be, void *impl)
{
    ovl_err rc = OVL_OK;
    ovl_source *s = NULL;
    OVL_TRY(ovl_calloc((void **)&s, 1, sizeof *s));
    s->be = be;
    s->impl = impl;
    *out = s;
done:
    if (rc != OVL_OK)
        be->close(impl);
    return rc;
}

ovl_err ovl_source_open(ovl_source **out, const char *spec, const char *query)
{
    ovl_err rc = OVL_OK;
    void *impl = NULL;
    *out = NULL;
    OVL_ENSURE(spec != NULL && spec[0] != '\0', OVL_ERR_USAGE, "no table given");
    OVL_ENSURE(strlen(spec) < OVL_SOURCE_SPEC_MAX, OVL_ERR_USAGE,
               "the table's name is longer than %u bytes", OVL_SOURCE_SPEC_MAX - 1);
    OVL_ENSURE(query == NULL || strlen(query) < OVL_SOURCE_QUERY_MAX, OVL_ERR_USAGE,
               "the query is longer than %u bytes", OVL_SOURCE_QUERY_MAX - 1);
    const ovl_source_backend *be = source_backend_for(spec);
    OVL_ENSURE(be != NULL, OVL_ERR_INTERNAL, "no table backend for this name");
    OVL_TRY(be->open(&impl, spec, query));
    rc = ovl_source_wrap(out, be, impl);
done:
    return rc;
}

ovl_err ovl_source_open_csv_mem(ovl_source **out, const char *label, const uint8_t *data,
                                size_t len)
{
    void *impl = NULL;
    *out = NULL;
    ovl_err rc = ovl_source_csv_mem(&impl, label, data, len);
    return rc == OVL_OK ? ovl_source_wrap(out, &ovl_source_csv, impl) : rc;
}

void ovl_source_close(ovl_source *s)
{
    if (s == NULL)
        return;
    s->be->close(s->impl);
    ovl_buf_free(&s->line);
    free(s);
}

size_t ovl_source_ncols(const ovl_source *s) { return s->be->ncols(s->impl); }

const char *ovl_source_colname(const ovl_source *s, size_t i)
{
    return i < ovl_source_ncols(s) ? s->be->colname(s->impl, i) : NULL;
}

ovl_err ovl_source_col(const ovl_source *s, const char *name, size_t *idx)
{
    size_t n = ovl_source_ncols(s);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(s->be->colname(s->impl, i), name) == 0) {
            *idx = i;
            return OVL_OK;
        }
    }
    return ovl_err_set(OVL_ERR_INPUT, "%s: no column \"%s\" in the header", ovl_source_label(s),
                       name);
}

ovl_err ovl_source_next(ovl_source *s, bool *eof) { return s->be->next(s->impl, eof); }

void ovl_source_cell(const ovl_source *s, size_t i, ovl_cell *out)
{
    if (i >= ovl_source_ncols(s)) {
        *out = (ovl_cell){OVL_CELL_NULL, "", 0};
        return;
    }
    s->be->cell(s->impl, i, out);
}

const char *ovl_source_label(const ovl_source *s) { return s->be->label(s->impl); }

size_t ovl_source_pos(const ovl_source *s) { return s->be->pos(s->impl); }

void ovl_source_where(const ovl_source *s, char out[static OVL_SOURCE_WHERE_MAX])
{
    ovl_source_where_at(s, ovl_source_pos(s), out);
}

void ovl_source_where_at(const ovl_source *s, size_t pos, char out[static OVL_SOURCE_WHERE_MAX])
{
    s->be->where_at(s->impl, pos, out, OVL_SOURCE_WHERE_MAX);
}

static bool source_needs_quotes(const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (p[i] == ',' || p[i] == '"' || p[i] == '\r' || p[i] == '\n')
            return true;
    return false;
}

static ovl_err source_put_field(ovl_buf *b, const char *p, size_t len)
{
    ovl_err rc = OVL_OK;
    if (!source_needs_quotes(p, len))
        return ovl_buf_put_bytes(b, p, len);
    OVL_TRY(ovl_buf_put_u8(b, '"'));
    for (size_t i = 0; i < len; i++) {
        if (p[i] == '"')
            OVL_TRY(ovl_buf_put_u8(b, '"'));
        OVL_TRY(ovl_buf_put_u8(b, (uint8_t)p[i]));
    }
    OVL_TRY(ovl_buf_put_u8(b, '"'));
done:
    return rc;
}

/* Encodes the header (names) or the current row (cells) as one CSV record. */
static ovl_err source_encode(ovl_source *s, bool header, const char **p, size_t *len)
{
    ovl_err rc = OVL_OK;
    size_t n = ovl_source_ncols(s);
    if (s->line.data == NULL)
        OVL_TRY(ovl_buf_alloc_secret(&s->line, SOURCE_LINE_INITIAL, SOURCE_LINE_MAX));
    ovl_buf_clear(&s->line);
    for (size_t i = 0; i < n; i++) {
        ovl_cell c;
        if (header) {
            const char *name = ovl_source_colname(s, i);
            c = (ovl_cell){OVL_CELL_TEXT, name, strlen(name)};
        } else {
            ovl_source_cell(s, i, &c);
        }
        if (i > 0)
            OVL_TRY(ovl_buf_put_u8(&s->line, ','));
        OVL_TRY(source_put_field(&s->line, c.text, c.len));
    }
    *p = (const char *)s->line.data;
    *len = s->line.wpos;
done:
    if (rc == OVL_ERR_LIMIT)
        rc = ovl_err_set(rc, "%s: a row is longer than %u bytes as CSV", ovl_source_label(s),
                         SOURCE_LINE_MAX);
    return rc;
}

ovl_err ovl_source_header_csv(ovl_source *s, const char **p, size_t *len)
{
    if (s->be->raw != NULL && s->be->raw(s->impl, true, p, len))
        return OVL_OK;
    return source_encode(s, true, p, len);
}

ovl_err ovl_source_row_csv(ovl_source *s, const char **p, size_t *len)
{
    if (s->be->raw != NULL && s->be->raw(s->impl, false, p, len))
        return OVL_OK;
    return source_encode(s, false, p, len);
}
