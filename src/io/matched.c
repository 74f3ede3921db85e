/* overlap: a PSI result's matched rows, copied from the party's own table
 * (load.h). Rows are not kept in memory during the run, so this is the one
 * second pass over a table, checked against the first: the same number of
 * rows with the same join cells in the same order (their digest), since a
 * database query without ORDER BY may return its rows in another order and a
 * file may be edited in between, and either would copy other rows than the
 * matched ones. */
#include <string.h>

#include "core/guard.h"
#include "io/load.h"

static void digest_len(crypto_generichash_state *st, uint8_t kind, size_t len)
{
    uint8_t head[5] = {kind, (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
                       (uint8_t)len};
    crypto_generichash_update(st, head, sizeof head);
}

void ovl_rows_digest_init(crypto_generichash_state *st, const ovl_source *src, size_t join_col)
{
    const char *name = ovl_source_colname(src, join_col);
    crypto_generichash_init(st, NULL, 0, OVL_ID_LEN);
    digest_len(st, 0xff, strlen(name));
    crypto_generichash_update(st, (const uint8_t *)name, strlen(name));
}

void ovl_rows_digest_add(crypto_generichash_state *st, const ovl_cell *join)
{
    digest_len(st, (uint8_t)join->kind, join->len);
    crypto_generichash_update(st, (const uint8_t *)join->text, join->len);
}

static ovl_err matched_changed(const ovl_source *src)
{
    return ovl_err_set(OVL_ERR_INPUT, "%s: changed between its two reads (rows in another order "
                       "or edited); for a database query add ORDER BY",
                       ovl_source_label(src));
}

static ovl_err matched_line(ovl_outfile *out, const char *p, size_t len)
{
    ovl_err rc = ovl_outfile_write(out, p, len);
    return rc == OVL_OK ? ovl_outfile_write(out, "\n", 1) : rc;
}

/* The row's join cell into the digest, then the row itself when matched. */
static ovl_err matched_row(ovl_outfile *out, ovl_source *src, crypto_generichash_state *st,
                           const ovl_idtable *ids, const bool *matched, size_t row)
{
    ovl_err rc = OVL_OK;
    ovl_cell join;
    const char *p;
    size_t len;
    if (row >= ids->nrows)
        OVL_FAIL(matched_changed(src));
    ovl_source_cell(src, ids->join_col, &join);
    ovl_rows_digest_add(st, &join);
    if (ids->row_valid[row]) {
        size_t k = ovl_idtable_find(ids, ids->row_ids[row]);
        if (k != SIZE_MAX && matched[k]) {
            OVL_TRY(ovl_source_row_csv(src, &p, &len));
            OVL_TRY(matched_line(out, p, len));
        }
    }
done:
    return rc;
}

ovl_err ovl_table_write_matched(ovl_outfile *out, const char *spec, const char *query,
                                const ovl_idtable *ids, const bool *matched)
{
    ovl_err rc = OVL_OK;
    ovl_source *src = NULL;
    crypto_generichash_state st;
    uint8_t digest[sizeof ids->rows_digest];
    const char *p;
    size_t len, row = 0;
    bool eof = false;
    memset(&st, 0, sizeof st);
    OVL_ENSURE(ids->has_digest, OVL_ERR_INTERNAL, "matched rows: the table was not loaded");
    OVL_TRY(ovl_source_open(&src, spec, query));
    if (ids->join_col >= ovl_source_ncols(src))
        OVL_FAIL(matched_changed(src));
    ovl_rows_digest_init(&st, src, ids->join_col);
    OVL_TRY(ovl_source_header_csv(src, &p, &len));
    OVL_TRY(matched_line(out, p, len));
    for (;; row++) {
        OVL_TRY(ovl_source_next(src, &eof));
        if (eof)
            break;
        OVL_TRY(matched_row(out, src, &st, ids, matched, row));
    }
    crypto_generichash_final(&st, digest, sizeof digest);
    if (row != ids->nrows || sodium_memcmp(digest, ids->rows_digest, sizeof digest) != 0)
        OVL_FAIL(matched_changed(src));
done:
    sodium_memzero(&st, sizeof st);
    sodium_memzero(digest, sizeof digest);
    ovl_source_close(src);
    return rc;
}
