/* overlap: reading a party's table from CSV and turning join values into
 * 32-byte identifiers (SHA-256 of the normalised value, or given pre-hashed). */
#ifndef OVERLAP_TABLE_H
#define OVERLAP_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/error.h"

/* ---- CSV (RFC 4180: quotes, embedded commas/quotes/newlines, CRLF or LF, UTF-8) ---- */
typedef struct ovl_csv ovl_csv;

/* Hard caps; a file beyond them is rejected with a clear error. */
#define OVL_CSV_MAX_FIELD (1u << 20)  /* bytes in one field */
#define OVL_CSV_MAX_COLS 4096u
#define OVL_CSV_MAX_RECORD (4u << 20) /* bytes in one record */

/* Opens a file and reads its header row (required, non-empty, unique names).
 * `label` names the file in errors (usually the path). */
ovl_err ovl_csv_open(ovl_csv **out, const char *path) OVL_MUST_USE;
/* Same over bytes in memory (for tests and fuzzing); data must outlive the reader. */
ovl_err ovl_csv_open_mem(ovl_csv **out, const char *label, const uint8_t *data,
                         size_t len) OVL_MUST_USE;
void ovl_csv_close(ovl_csv *c);

size_t ovl_csv_ncols(const ovl_csv *c);
const char *ovl_csv_colname(const ovl_csv *c, size_t i);
/* Index of a column by exact name; OVL_ERR_INPUT naming the file and listing
 * nothing secret if absent. */
ovl_err ovl_csv_col(const ovl_csv *c, const char *name, size_t *idx) OVL_MUST_USE;
/* Reads the next record. *eof is set (and OVL_OK returned) at end of file.
 * A record with a different number of fields than the header is an error
 * naming file and line. A final empty line is not a record. */
ovl_err ovl_csv_next(ovl_csv *c, bool *eof) OVL_MUST_USE;
/* Field i of the current record, unquoted (not NUL-terminated). */
void ovl_csv_field(const ovl_csv *c, size_t i, const char **p, size_t *len);
/* The current record exactly as it appeared in the file (quotes kept),
 * without its line terminator. */
void ovl_csv_raw(const ovl_csv *c, const char **p, size_t *len);
/* The header row as it appeared, without its line terminator. */
void ovl_csv_raw_header(const ovl_csv *c, const char **p, size_t *len);
/* 1-based line number where the current record starts. */
size_t ovl_csv_line(const ovl_csv *c);
const char *ovl_csv_label(const ovl_csv *c);

/* ---- Join values ---- */
typedef enum {
    OVL_NORM_NONE = 0, /* exact bytes */
    OVL_NORM_EMAIL,    /* trim ASCII whitespace, lower-case; must contain one '@' with text on both sides */
    OVL_NORM_PHONE     /* E.164: '+' followed by 8..15 digits after dropping spaces, dots, dashes, parentheses */
} ovl_norm;

#define OVL_ID_LEN 32
#define OVL_NORM_MAX 1024 /* longest normalised value */

ovl_err ovl_norm_parse(ovl_norm *out, const char *name) OVL_MUST_USE;
const char *ovl_norm_name(ovl_norm n);
/* Normalises a value. OVL_ERR_INPUT (detail says why, never the value) when
 * it is empty or invalid for the kind. out must hold OVL_NORM_MAX bytes. */
ovl_err ovl_normalize(ovl_norm kind, const char *in, size_t len, char *out,
                      size_t *out_len) OVL_MUST_USE;
/* The identifier of a join value: SHA-256(normalised), or, when prehashed,
 * the 64 hex digits decoded (whitespace trimmed, either case). */
ovl_err ovl_ident(uint8_t id[OVL_ID_LEN], ovl_norm kind, bool prehashed, const char *in,
                  size_t len) OVL_MUST_USE;

/* ---- A loaded join column ---- */
typedef struct {
    uint8_t (*row_ids)[OVL_ID_LEN]; /* per data row, in file order */
    bool *row_valid;                /* false: empty/invalid value, row skipped */
    size_t nrows;                   /* data rows (header excluded) */
    size_t skipped;                 /* rows with an empty or invalid join value */
    size_t filtered;                /* rows a row filter left out (also !row_valid) */
    uint8_t (*ids)[OVL_ID_LEN];     /* distinct identifiers, sorted ascending */
    size_t nids;
    size_t row_cap;                 /* rows allocated while loading */
    /* The loader's digest of every data row's join cell as read, in table
     * order, and the join column's index: a second read of the table
     * (ovl_table_write_matched) must see the same cells in the same order. */
    uint8_t rows_digest[OVL_ID_LEN];
    size_t join_col;
    bool has_digest;
} ovl_idtable;

/* Reads the table `spec` (io/source.h) in one pass, finds column `join`, and
 * computes every row's identifier: ovl_table_load (io/load.h) asking for
 * identifiers only. */
ovl_err ovl_idtable_load(ovl_idtable *t, const char *spec, const char *join, ovl_norm kind,
                         bool prehashed) OVL_MUST_USE;
void ovl_idtable_free(ovl_idtable *t);
/* Building one row at a time (the loader's pass): a filtered row counts in
 * `filtered`, an empty or invalid value in `skipped`; *valid says whether the
 * row takes part. finish sorts and dedupes the identifiers. */
ovl_err ovl_idtable_add(ovl_idtable *t, const char *value, size_t len, ovl_norm kind,
                        bool prehashed, bool filtered, bool *valid) OVL_MUST_USE;
ovl_err ovl_idtable_finish(ovl_idtable *t) OVL_MUST_USE;
/* Index of id in t->ids (binary search), or SIZE_MAX. */
size_t ovl_idtable_find(const ovl_idtable *t, const uint8_t id[OVL_ID_LEN]);

/* ---- Atomic output files ---- */
typedef struct ovl_outfile ovl_outfile;
/* Creates a temporary file beside `path` (same directory, mode 0600 then
 * 0644 on commit). Nothing appears at `path` until commit. */
ovl_err ovl_outfile_open(ovl_outfile **out, const char *path) OVL_MUST_USE;
/* Like ovl_outfile_open, or for a database spec (dbout.h) a table: the
 * database is checked now, before any peer is contacted, and the table is
 * created and filled at commit. An existing table is an error unless
 * `replace` (a CSV path is always replaced, atomically). */
ovl_err ovl_output_open(ovl_outfile **out, const char *target, bool replace) OVL_MUST_USE;
/* The whole atomic write of a result: opens `target` (ovl_output_open),
 * tells `writing` the temporary path (may be NULL), lets `body` fill it,
 * commits, or on any error removes it; `writing` is told NULL either way. */
ovl_err ovl_output_write_with(const char *target, bool replace,
                              void (*writing)(const char *temp_path),
                              ovl_err (*body)(ovl_outfile *out, void *arg),
                              void *arg) OVL_MUST_USE;
/* Whether the output is a database table (which needs a header row). */
bool ovl_outfile_is_db(const ovl_outfile *f);
ovl_err ovl_outfile_write(ovl_outfile *f, const void *p, size_t n) OVL_MUST_USE;
/* Flushes, fsyncs and renames over `path`; frees f either way. */
ovl_err ovl_outfile_commit(ovl_outfile *f) OVL_MUST_USE;
/* The temporary file as a stream, for a writer handed a FILE * (the session's
 * frame dump); a failed write there is caught at commit. Not for a database. */
FILE *ovl_outfile_stream(ovl_outfile *f);
/* The temporary file's path (so a signal handler can unlink it). */
const char *ovl_outfile_temp_path(const ovl_outfile *f);
/* Removes the temporary file; frees f. NULL is fine. */
void ovl_outfile_abort(ovl_outfile *f);

#endif
