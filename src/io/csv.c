/* overlap: streaming RFC 4180 CSV reader.
 *
 * Each record is read in two steps. First a quick scan finds the line feed
 * that ends it (one outside quotes, judged by quote parity), refilling the
 * stream window until the whole record is contiguous, so ovl_csv_raw can hand
 * out its exact bytes without copying. Then a strict parse of those bytes
 * splits the fields and reports the first violation with the physical line on
 * which it occurs. Only the record being read is held in memory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>

#include "core/guard.h"
#include "core/buf.h"
#include "core/mem.h"
#include "io/table.h"

enum { CSV_CHUNK = 64 * 1024, CSV_NAME_SHOWN = 64 };

/* Room for the longest record, its CRLF, and one more chunk past it. */
#define CSV_STREAM_MAX ((size_t)OVL_CSV_MAX_RECORD + 2 + 2 * (size_t)CSV_CHUNK)

typedef struct {
    const char *p;
    size_t len;
} csv_span;

struct ovl_csv {
    char *label;
    FILE *fp;             /* NULL when reading from memory */
    bool input_end;       /* nothing more will arrive in `in` */
    bool done;            /* end of file was reported */
    ovl_err failed;       /* a reader that failed stays failed */
    ovl_buf in;           /* stream window; rpos is where the next record starts */
    ovl_buf vals;         /* unescaped quoted fields of the current record */
    csv_span *fields;     /* OVL_CSV_MAX_COLS entries */
    size_t nfields;
    csv_span raw;
    size_t line;          /* where the current record starts */
    size_t next_line;     /* where the next record starts */
    size_t pending_blank; /* 1-column files: blank lines still to hand out */
    size_t ncols;         /* 0 until the header is read */
    char **names;
    char *header;
    size_t header_len;
};

/* Bytes that need no attention inside an unquoted field. */
static bool csv_plain(uint8_t b)
{
    return b >= 0x20 ? (b < 0x80 && b != ',' && b != '"') : (b != 0 && b != '\r' && b != '\n');
}

/* Length of the valid UTF-8 sequence at p (Unicode 15, table 3-7), or 0. */
static size_t utf8_len(const uint8_t *p, size_t n)
{
    uint8_t b = p[0];
    size_t len;
    uint8_t lo = 0x80, hi = 0xbf;
    if (b < 0x80)
        return 1;
    if (b >= 0xc2 && b <= 0xdf)
        len = 2;
    else if (b >= 0xe0 && b <= 0xef)
        len = 3;
    else if (b >= 0xf0 && b <= 0xf4)
        len = 4;
    else
        return 0;
    if (b == 0xe0)
        lo = 0xa0;
    else if (b == 0xed)
        hi = 0x9f; /* no UTF-16 surrogates */
    else if (b == 0xf0)
        lo = 0x90;
    else if (b == 0xf4)
        hi = 0x8f; /* nothing past U+10FFFF */
    if (n < len || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return len;
}

/* Physical line of byte `off` of the record at p (computed only on error). */
static size_t csv_line_at(const ovl_csv *c, const uint8_t *p, size_t off)
{
    size_t line = c->line;
    for (size_t i = 0; i < off; i++)
        line += p[i] == '\n';
    return line;
}

static ovl_err csv_err_at(const ovl_csv *c, const uint8_t *p, size_t off, const char *what)
{
    return ovl_err_set(OVL_ERR_INPUT, "%s:%zu: %s", c->label, csv_line_at(c, p, off), what);
}

static ovl_err csv_err_byte(const ovl_csv *c, const uint8_t *p, size_t off)
{
    switch (p[off]) {
    case 0:
        return csv_err_at(c, p, off, "NUL byte (this is not a text file)");
    case '\r':
        return csv_err_at(c, p, off, "carriage return outside quotes and not before a line feed");
    case '\n':
        return csv_err_at(c, p, off, "line feed inside an unquoted field");
    case '"':
        return csv_err_at(c, p, off,
                          "quote inside an unquoted field (quote the whole field and double "
                          "the quote)");
    default:
        return csv_err_at(c, p, off, "invalid UTF-8 (save the file as UTF-8)");
    }
}

static ovl_err csv_err_too_long(const ovl_csv *c)
{
    return ovl_err_set(OVL_ERR_LIMIT, "%s:%zu: record longer than %u bytes", c->label, c->line,
                       OVL_CSV_MAX_RECORD);
}

/* Moves the unread bytes to the front and appends up to one chunk from the file. */
static ovl_err csv_fill(ovl_csv *c)
{
    ovl_err rc = OVL_OK;
    ovl_buf_compact(&c->in);
    OVL_TRY(ovl_buf_ensure(&c->in, CSV_CHUNK));
    size_t got = fread(c->in.data + c->in.wpos, 1, CSV_CHUNK, c->fp);
    c->in.wpos += got;
    if (got < CSV_CHUNK) {
        OVL_ENSURE(!ferror(c->fp), OVL_ERR_IO, "%s: read failed: %s", c->label, strerror(errno));
        c->input_end = true;
    }
done:
    return rc;
}

/* Makes at least `want` unread bytes available unless the input ends first. */
static ovl_err csv_want(ovl_csv *c, size_t want)
{
    ovl_err rc = OVL_OK;
    while (ovl_buf_remaining(&c->in) < want && !c->input_end)
        OVL_TRY(csv_fill(c));
done:
    return rc;
}

/* Finds the end of the record at rpos: *len bytes of record, then *term bytes
 * of line terminator (0 at end of input). Stops once the record is known to
 * exceed the cap, with *len past it. */
static ovl_err csv_find_end(ovl_csv *c, size_t *len, size_t *term)
{
    ovl_err rc = OVL_OK;
    size_t i = 0;
    bool inq = false;
    for (;;) {
        const uint8_t *p = ovl_buf_rptr(&c->in);
        size_t avail = ovl_buf_remaining(&c->in);
        for (; i < avail; i++) {
            if (p[i] == '"') {
                inq = !inq;
            } else if (p[i] == '\n' && !inq) {
                bool crlf = i > 0 && p[i - 1] == '\r';
                *len = i - crlf;
                *term = 1u + crlf;
                goto done;
            }
        }
        if (c->input_end || avail > (size_t)OVL_CSV_MAX_RECORD + 1) {
            *len = avail;
            *term = 0;
            goto done;
        }
        OVL_TRY(csv_fill(c));
    }
done:
    return rc;
}

static ovl_err csv_unquoted(const ovl_csv *c, const uint8_t *p, size_t n, size_t *pos,
                            csv_span *f)
{
    size_t i = *pos;
    while (i < n && p[i] != ',') {
        if (csv_plain(p[i])) {
            i++;
            continue;
        }
        size_t k = p[i] >= 0x80 ? utf8_len(p + i, n - i) : 0;
        if (k == 0)
            return csv_err_byte(c, p, i);
        i += k;
    }
    f->p = (const char *)p + *pos;
    f->len = i - *pos;
    *pos = i;
    return OVL_OK;
}

/* A quoted field starting at p[*pos] == '"'; its unescaped bytes go to vals,
 * which has room for the whole record. `cut`: p holds only the start of an
 * over-long record, so running out of bytes means the cap was exceeded. */
static ovl_err csv_quoted(ovl_csv *c, const uint8_t *p, size_t n, bool cut, size_t *pos,
                          size_t *newlines, csv_span *f)
{
    size_t open = *pos, i = open + 1;
    uint8_t *out = c->vals.data + c->vals.wpos;
    size_t k = 0;
    for (;;) {
        if (i >= n)
            return cut ? csv_err_too_long(c)
                       : csv_err_at(c, p, open, "unterminated quoted field (it opens here)");
        uint8_t b = p[i];
        if (b == '"') {
            if (i + 1 < n && p[i + 1] == '"') {
                out[k++] = '"';
                i += 2;
                continue;
            }
            i++;
            break;
        }
        size_t len = b >= 0x80 ? utf8_len(p + i, n - i) : (b != 0);
        if (len == 0)
            return csv_err_byte(c, p, i);
        *newlines += b == '\n';
        memcpy(out + k, p + i, len);
        k += len;
        i += len;
    }
    if (i < n && p[i] != ',')
        return csv_err_at(c, p, i, "text after a closing quote (a quote inside a quoted field "
                                   "must be doubled)");
    f->p = (const char *)out;
    f->len = k;
    c->vals.wpos += k;
    *pos = i;
    return OVL_OK;
}

/* Splits the record p[0..n) into c->fields. */
static ovl_err csv_parse(ovl_csv *c, const uint8_t *p, size_t n, bool cut, size_t *newlines)
{
    ovl_err rc = OVL_OK;
    size_t i = 0, nf = 0;
    *newlines = 0;
    ovl_buf_clear(&c->vals);
    OVL_TRY(ovl_buf_ensure(&c->vals, n));
    for (;;) {
        csv_span f;
        OVL_ENSURE(nf < OVL_CSV_MAX_COLS, OVL_ERR_LIMIT, "%s:%zu: more than %u fields", c->label,
                   c->line, OVL_CSV_MAX_COLS);
        if (i < n && p[i] == '"')
            OVL_TRY(csv_quoted(c, p, n, cut, &i, newlines, &f));
        else
            OVL_TRY(csv_unquoted(c, p, n, &i, &f));
        OVL_ENSURE(f.len <= OVL_CSV_MAX_FIELD, OVL_ERR_LIMIT,
                   "%s:%zu: field %zu is longer than %u bytes", c->label, c->line, nf + 1,
                   OVL_CSV_MAX_FIELD);
        c->fields[nf++] = f;
        if (i >= n)
            break;
        i++; /* the comma */
    }
    if (cut)
        OVL_FAIL(csv_err_too_long(c));
    c->nfields = nf;
done:
    return rc;
}

/* Reads the record at rpos (which must not be at end of input). */
static ovl_err csv_read_record(ovl_csv *c)
{
    ovl_err rc = OVL_OK;
    size_t len, term, newlines;
    c->line = c->next_line;
    OVL_TRY(csv_find_end(c, &len, &term));
    const uint8_t *p = ovl_buf_rptr(&c->in);
    bool cut = len > OVL_CSV_MAX_RECORD;
    OVL_TRY(csv_parse(c, p, cut ? (size_t)OVL_CSV_MAX_RECORD + 1 : len, cut, &newlines));
    c->raw.p = (const char *)p;
    c->raw.len = len;
    c->in.rpos += len + term;
    c->next_line += newlines + 1;
done:
    return rc;
}

/* Consumes blank lines ("\n" or "\r\n") at rpos and counts them. */
static ovl_err csv_skip_blank(ovl_csv *c, size_t *count)
{
    ovl_err rc = OVL_OK;
    *count = 0;
    for (;;) {
        OVL_TRY(csv_want(c, 2));
        const uint8_t *p = ovl_buf_rptr(&c->in);
        size_t avail = ovl_buf_remaining(&c->in);
        size_t skip = avail >= 1 && p[0] == '\n' ? 1 : avail >= 2 && p[0] == '\r' && p[1] == '\n' ? 2 : 0;
        if (skip == 0)
            break;
        c->in.rpos += skip;
        (*count)++;
    }
done:
    return rc;
}

static void csv_set_blank_record(ovl_csv *c)
{
    static const char empty[1];
    c->line = c->next_line - c->pending_blank;
    c->pending_blank--;
    c->fields[0] = (csv_span){empty, 0};
    c->nfields = 1;
    c->raw = (csv_span){empty, 0};
}

/* Blank lines before the next record: not records when only blank lines
 * follow them; records with one empty field in a 1-column file; otherwise an
 * error. Returns with *eof or with a blank record set, or with neither. */
static ovl_err csv_blank_lines(ovl_csv *c, bool *eof, bool *blank)
{
    ovl_err rc = OVL_OK;
    size_t count;
    *blank = false;
    OVL_TRY(csv_skip_blank(c, &count));
    if (count == 0)
        goto done;
    size_t first = c->next_line;
    c->next_line += count;
    if (ovl_buf_remaining(&c->in) == 0) {
        *eof = true;
        goto done;
    }
    OVL_ENSURE(c->ncols == 1, OVL_ERR_INPUT, "%s:%zu: blank line, header has %zu fields",
               c->label, first, c->ncols);
    c->pending_blank = count;
    csv_set_blank_record(c);
    *blank = true;
done:
    return rc;
}

static ovl_err csv_next_inner(ovl_csv *c, bool *eof)
{
    ovl_err rc = OVL_OK;
    bool blank;
    *eof = false;
    if (c->pending_blank > 0) {
        csv_set_blank_record(c);
        goto done;
    }
    OVL_TRY(csv_blank_lines(c, eof, &blank));
    if (*eof || blank)
        goto done;
    if (ovl_buf_remaining(&c->in) == 0) {
        *eof = true;
        goto done;
    }
    OVL_TRY(csv_read_record(c));
    OVL_ENSURE(c->nfields == c->ncols, OVL_ERR_INPUT, "%s:%zu: %zu field%s, header has %zu",
               c->label, c->line, c->nfields, c->nfields == 1 ? "" : "s", c->ncols);
done:
    return rc;
}

ovl_err ovl_csv_next(ovl_csv *c, bool *eof)
{
    *eof = false;
    if (c->failed != OVL_OK)
        return ovl_err_set(c->failed, "%s: reading stopped at an earlier error", c->label);
    if (c->done) {
        *eof = true;
        return OVL_OK;
    }
    ovl_err rc = csv_next_inner(c, eof);
    if (rc != OVL_OK) {
        c->failed = rc;
        c->nfields = 0;
        c->raw = (csv_span){"", 0};
        *eof = false;
    }
    c->done = *eof;
    return rc;
}

/* Copies a header name for an error message: at most CSV_NAME_SHOWN bytes,
 * control characters replaced, so the message stays on one line. */
static void csv_shown_name(char out[CSV_NAME_SHOWN + 1], const char *name)
{
    size_t i = 0;
    for (; i < CSV_NAME_SHOWN && name[i] != '\0'; i++)
        out[i] = (unsigned char)name[i] < 0x20 ? '?' : name[i];
    out[i] = '\0';
}

static int csv_cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static ovl_err csv_check_unique(const ovl_csv *c)
{
    ovl_err rc = OVL_OK;
    char **sorted = NULL;
    char shown[CSV_NAME_SHOWN + 1];
    OVL_TRY(ovl_calloc((void **)&sorted, c->ncols, sizeof *sorted));
    memcpy(sorted, c->names, c->ncols * sizeof *sorted);
    qsort(sorted, c->ncols, sizeof *sorted, csv_cmp_names);
    for (size_t i = 1; i < c->ncols; i++) {
        if (strcmp(sorted[i - 1], sorted[i]) == 0) {
            csv_shown_name(shown, sorted[i]);
            OVL_FAIL(ovl_err_set(OVL_ERR_INPUT, "%s:1: column \"%s\" appears twice in the header",
                                 c->label, shown));
        }
    }
done:
    free(sorted);
    return rc;
}

/* Keeps the header's names and raw bytes, which must outlive the stream window. */
static ovl_err csv_keep_header(ovl_csv *c)
{
    ovl_err rc = OVL_OK;
    c->ncols = c->nfields;
    OVL_TRY(ovl_calloc((void **)&c->names, c->ncols, sizeof *c->names));
    for (size_t i = 0; i < c->ncols; i++) {
        OVL_ENSURE(c->fields[i].len > 0, OVL_ERR_INPUT, "%s:1: column %zu of the header has no name",
                   c->label, i + 1);
        c->names[i] = strndup(c->fields[i].p, c->fields[i].len);
        OVL_ENSURE(c->names[i] != NULL, OVL_ERR_NOMEM, "%s: out of memory", c->label);
    }
    OVL_TRY(csv_check_unique(c));
    OVL_TRY(ovl_calloc((void **)&c->header, c->raw.len + 1, 1));
    memcpy(c->header, c->raw.p, c->raw.len);
    c->header_len = c->raw.len;
done:
    return rc;
}

static ovl_err csv_read_header(ovl_csv *c)
{
    ovl_err rc = OVL_OK;
    static const uint8_t bom[3] = {0xef, 0xbb, 0xbf};
    OVL_TRY(csv_want(c, 3));
    if (ovl_buf_remaining(&c->in) >= 3 && memcmp(ovl_buf_rptr(&c->in), bom, 3) == 0)
        c->in.rpos += 3;
    OVL_TRY(csv_want(c, 2));
    const uint8_t *p = ovl_buf_rptr(&c->in);
    size_t avail = ovl_buf_remaining(&c->in);
    OVL_ENSURE(avail > 0, OVL_ERR_INPUT, "%s: empty file, a header row is required", c->label);
    OVL_ENSURE(p[0] != '\n' && !(avail >= 2 && p[0] == '\r' && p[1] == '\n'), OVL_ERR_INPUT,
               "%s:1: blank first line, a header row is required", c->label);
    OVL_TRY(csv_read_record(c));
    OVL_TRY(csv_keep_header(c));
    c->nfields = 0;
    c->raw = (csv_span){"", 0};
done:
    return rc;
}

static ovl_err csv_new(ovl_csv **out, const char *label)
{
    ovl_err rc = OVL_OK;
    ovl_csv *c = NULL;
    OVL_TRY(ovl_calloc((void **)&c, 1, sizeof *c));
    c->label = strdup(label);
    OVL_ENSURE(c->label != NULL, OVL_ERR_NOMEM, "%s: out of memory", label);
    OVL_TRY(ovl_calloc((void **)&c->fields, OVL_CSV_MAX_COLS, sizeof *c->fields));
    /* Table rows are personal data: wipe these buffers whenever they are released. */
    OVL_TRY(ovl_buf_alloc_secret(&c->vals, 4096, (size_t)OVL_CSV_MAX_RECORD + 1));
    c->next_line = 1;
    c->raw = (csv_span){"", 0};
done:
    if (rc != OVL_OK) {
        ovl_csv_close(c);
        c = NULL;
    }
    *out = c;
    return rc;
}

static ovl_err csv_start(ovl_csv **out, ovl_csv *c)
{
    ovl_err rc = csv_read_header(c);
    if (rc != OVL_OK) {
        ovl_csv_close(c);
        c = NULL;
    }
    *out = c;
    return rc;
}

ovl_err ovl_csv_open(ovl_csv **out, const char *path)
{
    ovl_err rc = OVL_OK;
    ovl_csv *c = NULL;
    *out = NULL;
    OVL_TRY(csv_new(&c, path));
    OVL_TRY(ovl_buf_alloc_secret(&c->in, 2 * CSV_CHUNK, CSV_STREAM_MAX));
    c->fp = fopen(path, "rb");
    OVL_ENSURE(c->fp != NULL, OVL_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    /* The window already buffers; stdio's own buffer would only add a copy. */
    setvbuf(c->fp, NULL, _IONBF, 0);
    rc = csv_start(out, c);
    c = NULL;
done:
    ovl_csv_close(c);
    return rc;
}

ovl_err ovl_csv_open_mem(ovl_csv **out, const char *label, const uint8_t *data, size_t len)
{
    ovl_err rc = OVL_OK;
    ovl_csv *c = NULL;
    *out = NULL;
    OVL_TRY(csv_new(&c, label));
    ovl_buf_reader(&c->in, data, len);
    c->input_end = true;
    rc = csv_start(out, c);
done:
    return rc;
}

void ovl_csv_close(ovl_csv *c)
{
    if (c == NULL)
        return;
    if (c->fp != NULL)
        fclose(c->fp);
    ovl_buf_free(&c->in);
    ovl_buf_free(&c->vals);
    for (size_t i = 0; c->names != NULL && i < c->ncols; i++)
        free(c->names[i]);
    free(c->names);
    free(c->header);
    free(c->fields);
    free(c->label);
    free(c);
}

size_t ovl_csv_ncols(const ovl_csv *c) { return c->ncols; }

const char *ovl_csv_colname(const ovl_csv *c, size_t i)
{
    return i < c->ncols ? c->names[i] : NULL;
}

ovl_err ovl_csv_col(const ovl_csv *c, const char *name, size_t *idx)
{
    for (size_t i = 0; i < c->ncols; i++) {
        if (strcmp(c->names[i], name) == 0) {
            *idx = i;
            return OVL_OK;
        }
    }
    return ovl_err_set(OVL_ERR_INPUT, "%s: no column \"%s\" in the header", c->label, name);
}

void ovl_csv_field(const ovl_csv *c, size_t i, const char **p, size_t *len)
{
    if (i >= c->nfields) {
        *p = "";
        *len = 0;
        return;
    }
    *p = c->fields[i].p;
    *len = c->fields[i].len;
}

void ovl_csv_raw(const ovl_csv *c, const char **p, size_t *len)
{
    *p = c->raw.p;
    *len = c->raw.len;
}

void ovl_csv_raw_header(const ovl_csv *c, const char **p, size_t *len)
{
    *p = c->header;
    *len = c->header_len;
}

size_t ovl_csv_line(const ovl_csv *c) { return c->line; }

const char *ovl_csv_label(const ovl_csv *c) { return c->label; }
