/* overlap: where a party's table comes from.
 *
 * A table source yields a header (column names) and then data rows, one at a
 * time, as typed cells. Every cell also carries its canonical text form, so
 * the value parsers (join normalisers, decimals, template filters) read the
 * same bytes whichever backend produced them and results do not depend on the
 * source. Nothing here holds more than the current row.
 *
 * A spec names the table: "purchases.csv" (any spec no backend claims is a
 * CSV file path). Backends are rows of the table in source.c keyed by the
 * spec's prefix, so adding one is that row plus the file implementing
 * ovl_source_backend. Errors name the location ("purchases.csv:12") and never
 * a credential a spec may carry. */
#ifndef OVERLAP_SOURCE_H
#define OVERLAP_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define OVL_SOURCE_SPEC_MAX 4096u   /* bytes in a spec */
#define OVL_SOURCE_QUERY_MAX 65536u /* bytes in a backend query */
#define OVL_SOURCE_WHERE_MAX 512u   /* a location string, NUL included */

typedef enum {
    OVL_CELL_NULL = 0, /* no value (databases); text is "" */
    OVL_CELL_TEXT,     /* CSV has only these */
    OVL_CELL_INT,      /* text: optional '-' then digits, no leading zeros */
    OVL_CELL_NUMERIC,  /* text: as INT with an optional '.' and fraction */
    OVL_CELL_DATE      /* text: YYYY-MM-DD */
} ovl_cell_kind;

/* One cell of the current row. text is not NUL-terminated and stays valid
 * until the next ovl_source_next or ovl_source_close. */
typedef struct {
    ovl_cell_kind kind;
    const char *text;
    size_t len;
} ovl_cell;

typedef struct ovl_source ovl_source;

/* Opens `spec` and reads its header. `query` selects the rows of a database
 * backend; a file backend takes none (NULL) and refuses one with
 * OVL_ERR_USAGE. OVL_ERR_IO when it cannot be opened, OVL_ERR_INPUT when its
 * header is unusable. */
ovl_err ovl_source_open(ovl_source **out, const char *spec, const char *query) OVL_MUST_USE;
/* A CSV table held in memory (tests and fuzzing); data must outlive it. */
ovl_err ovl_source_open_csv_mem(ovl_source **out, const char *label, const uint8_t *data,
                                size_t len) OVL_MUST_USE;
/* NULL is fine. */
void ovl_source_close(ovl_source *s);

size_t ovl_source_ncols(const ovl_source *s);
/* NUL-terminated column name, or NULL past the last column. */
const char *ovl_source_colname(const ovl_source *s, size_t i);
/* Index of a column by exact name; OVL_ERR_INPUT naming the table if absent. */
ovl_err ovl_source_col(const ovl_source *s, const char *name, size_t *idx) OVL_MUST_USE;

/* Advances to the next data row; *eof (with OVL_OK) after the last one. A
 * source that failed stays failed. */
ovl_err ovl_source_next(ovl_source *s, bool *eof) OVL_MUST_USE;
/* Cell i of the current row (a NULL cell past the last column). */
void ovl_source_cell(const ovl_source *s, size_t i, ovl_cell *out);

/* The table as errors name it: the path, or a spec without its credentials. */
const char *ovl_source_label(const ovl_source *s);
/* Position of the current row (a CSV's physical line; 1 is the header), to be
 * kept for ovl_source_where_at when an error is found later. */
size_t ovl_source_pos(const ovl_source *s);
/* "purchases.csv:12" for the current row, or for a kept position. */
void ovl_source_where(const ovl_source *s, char out[static OVL_SOURCE_WHERE_MAX]);
void ovl_source_where_at(const ovl_source *s, size_t pos, char out[static OVL_SOURCE_WHERE_MAX]);

/* The header or the current row as one CSV record without its line ending:
 * a CSV source's exact bytes, otherwise the cells quoted where needed (RFC
 * 4180). Valid until the next call on s. */
ovl_err ovl_source_header_csv(ovl_source *s, const char **p, size_t *len) OVL_MUST_USE;
ovl_err ovl_source_row_csv(ovl_source *s, const char **p, size_t *len) OVL_MUST_USE;

/* ---- For backends ----
 * impl is the backend's own state. open gets the whole spec (prefix
 * included) and keeps what it needs; every string it returns stays valid as
 * the calls above say. raw is optional: a backend that stores rows as CSV
 * text returns them as they are stored. */
typedef struct {
    const char *name; /* "CSV", for messages */
    ovl_err (*open)(void **impl, const char *spec, const char *query);
    void (*close)(void *impl);
    size_t (*ncols)(const void *impl);
    const char *(*colname)(const void *impl, size_t i);
    ovl_err (*next)(void *impl, bool *eof);
    void (*cell)(const void *impl, size_t i, ovl_cell *out);
    const char *(*label)(const void *impl);
    size_t (*pos)(const void *impl);
    void (*where_at)(const void *impl, size_t pos, char *out, size_t cap);
    bool (*raw)(const void *impl, bool header, const char **p, size_t *len);
} ovl_source_backend;

/* A source over a backend's opened state (which it takes over, closing it
 * on failure): for backends opened by other means, and tests. */
ovl_err ovl_source_wrap(ovl_source **out, const ovl_source_backend *be, void *impl) OVL_MUST_USE;

extern const ovl_source_backend ovl_source_csv;
/* sqlite:PATH?table=NAME and postgresql://...?table=NAME (io/dbspec.h). */
extern const ovl_source_backend ovl_source_sqlite;
extern const ovl_source_backend ovl_source_postgres;
/* The CSV backend's state over bytes in memory. */
ovl_err ovl_source_csv_mem(void **impl, const char *label, const uint8_t *data,
                           size_t len) OVL_MUST_USE;

#endif
