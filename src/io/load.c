/* overlap: the one pass over a party's table (load.h).
 *
 * Errors keep the order of a reader that first checks the whole table's
 * structure and then its values: a cell that is not a number is remembered
 * (the first one, by row then column) and reported only once the table has
 * been read to its end without a structural error. A value column whose
 * decimals come from the data cannot be scaled before the last row is seen,
 * so its cells are parsed at the places they show and scaled at the end. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/guard.h"
#include "core/mem.h"
#include "io/load.h"

enum { LOAD_INITIAL_ROWS = 1024, LOAD_MSG_MAX = 512 };

/* A row's dimension values, encoded as u32 length + bytes per column so that
 * comparing two keys field by field needs no escaping. */
typedef struct {
    uint8_t *key;
    size_t len;
    uint32_t row;
} row_key;

typedef struct {
    ovl_source *src;
    const ovl_load_spec *w;
    ovl_table_input *in;
    size_t join_col;
    size_t vidx[OVL_VALUE_COLS_MAX], gidx[OVL_GROUP_BY_MAX];
    bool any_auto;
    unsigned most[OVL_VALUE_COLS_MAX]; /* auto columns: places seen so far */
    uint8_t *shown;                    /* auto columns: places each cell was parsed at */
    size_t *pos;                       /* auto columns: each row's position, for errors */
    size_t row_cap;
    row_key *rk;
    size_t nk, key_cap;
    ovl_text_fill text;
    crypto_generichash_state digest; /* the join cells, ids.rows_digest */
    bool deferred; /* a cell error waits for the end of the table */
    size_t def_row, def_col;
    ovl_err def_code;
    char def_msg[LOAD_MSG_MAX];
} load_pass;

static void defer(load_pass *p, size_t row, size_t col, ovl_err code)
{
    p->deferred = true;
    p->def_row = row;
    p->def_col = col;
    p->def_code = code;
    snprintf(p->def_msg, sizeof p->def_msg, "%s", ovl_err_detail());
}

static ovl_err load_bind(load_pass *p)
{
    ovl_err rc = OVL_OK;
    const ovl_load_spec *w = p->w;
    OVL_ENSURE(w->nvalues <= OVL_VALUE_COLS_MAX, OVL_ERR_USAGE, "1..%u value columns expected",
               OVL_VALUE_COLS_MAX);
    OVL_ENSURE(w->ngroup_by <= OVL_GROUP_BY_MAX, OVL_ERR_USAGE, "at most %u group-by columns",
               OVL_GROUP_BY_MAX);
    if (w->filter.keep != NULL && w->filter.bind != NULL)
        OVL_TRY(w->filter.bind(w->filter.arg, p->src));
    OVL_TRY(ovl_source_col(p->src, w->join, &p->join_col));
    for (size_t c = 0; c < w->nvalues; c++) {
        OVL_TRY(ovl_source_col(p->src, w->values[c].name, &p->vidx[c]));
        p->any_auto |= w->values[c].decimals == OVL_DECIMALS_AUTO;
    }
    for (size_t g = 0; g < w->ngroup_by; g++)
        OVL_TRY(ovl_source_col(p->src, w->group_by[g], &p->gidx[g]));
    if (w->ntext_cols > 0)
        OVL_TRY(ovl_text_fill_bind(&p->text, p->src, w->text_cols, w->ntext_cols));
done:
    return rc;
}

/* Room for one more row in the per-row arrays (cells start zeroed). */
static ovl_err load_grow(load_pass *p)
{
    ovl_err rc = OVL_OK;
    size_t rows = p->in->ids.nrows, ncap, cells;
    size_t nv = p->w->nvalues;
    if (rows < p->row_cap)
        goto done;
    ncap = LOAD_INITIAL_ROWS;
    OVL_ENSURE(p->row_cap == 0 || ovl_mul_ok(p->row_cap, 2, &ncap), OVL_ERR_LIMIT,
               "%s: too many rows", ovl_source_label(p->src));
    OVL_ENSURE(ovl_mul_ok(ncap, nv ? nv : 1, &cells), OVL_ERR_LIMIT, "%s: too many rows",
               ovl_source_label(p->src));
    if (nv > 0) {
        OVL_TRY(ovl_reallocarray((void **)&p->in->values.cells, cells, sizeof(int64_t)));
        memset(p->in->values.cells + p->row_cap * nv, 0,
               (ncap - p->row_cap) * nv * sizeof(int64_t));
        OVL_TRY(ovl_reallocarray((void **)&p->in->values.nulls, cells, 1));
        memset(p->in->values.nulls + p->row_cap * nv, 0, (ncap - p->row_cap) * nv);
    }
    if (p->any_auto) {
        OVL_TRY(ovl_reallocarray((void **)&p->shown, cells, 1));
        OVL_TRY(ovl_reallocarray((void **)&p->pos, ncap, sizeof *p->pos));
    }
    p->row_cap = ncap;
done:
    return rc;
}

/* Parses the value cells of kept row `row`. */
static bool blank(const ovl_cell *c)
{
    for (size_t i = 0; i < c->len; i++)
        if (c->text[i] != ' ')
            return false;
    return true;
}

static void load_values(load_pass *p, size_t row)
{
    const ovl_load_spec *w = p->w;
    size_t nv = w->nvalues;
    for (size_t c = 0; c < nv && !p->deferred; c++) {
        ovl_cell cell;
        ovl_source_cell(p->src, p->vidx[c], &cell);
        /* As SUM does in SQL, a NULL value adds nothing (the cell stays 0);
         * an empty CSV cell is NULL only when the analysis says so. */
        bool null = cell.kind == OVL_CELL_NULL || (w->empty_is_null && blank(&cell));
        if (null || (w->counted_only != NULL && w->counted_only[c])) {
            p->in->values.nulls[row * nv + c] = null;
            if (w->values[c].decimals == OVL_DECIMALS_AUTO)
                p->shown[row * nv + c] = 0;
            continue;
        }
        unsigned d = w->values[c].decimals;
        if (d == OVL_DECIMALS_AUTO) {
            d = ovl_decimals_shown(cell.text, cell.len);
            p->shown[row * nv + c] = (uint8_t)d;
        }
        int64_t *v = &p->in->values.cells[row * nv + c];
        if (ovl_decimal_parse(v, cell.text, cell.len, d) != OVL_OK) {
            char at[OVL_SOURCE_WHERE_MAX];
            ovl_source_where(p->src, at);
            /* The scale is the analysis's, agreed before any data, so a cell
             * with more places is a declaration to change, not a value to round. */
            if (ovl_decimals_shown(cell.text, cell.len) > d)
                defer(p, row, c,
                      ovl_err_set(OVL_ERR_INPUT, "%s: column '%s': more than %u decimal places "
                                  "(declare its scale: '-- decimals alias.%s N' in a template, "
                                  "--values %s:N on the command line)", at, w->values[c].name,
                                  d, w->values[c].name, w->values[c].name));
            else
                defer(p, row, c,
                      ovl_err_wrap(OVL_ERR_INPUT, "%s: column '%s': ", at, w->values[c].name));
        }
    }
}

/* Every row counts towards an auto column's places, kept or not. */
static void load_note_places(load_pass *p)
{
    for (size_t c = 0; c < p->w->nvalues; c++) {
        if (p->w->values[c].decimals != OVL_DECIMALS_AUTO)
            continue;
        ovl_cell cell;
        ovl_source_cell(p->src, p->vidx[c], &cell);
        unsigned d = ovl_decimals_shown(cell.text, cell.len);
        if (d > p->most[c])
            p->most[c] = d;
    }
}

/* Group-by cell g of the current row, its date truncated when asked:
 * into buf, which holds OVL_DATE_LEN + 1 bytes. */
static void group_cell(load_pass *p, size_t row, size_t g, ovl_cell *cell, char *buf)
{
    ovl_source_cell(p->src, p->gidx[g], cell);
    ovl_trunc unit = p->w->group_trunc ? (ovl_trunc)p->w->group_trunc[g] : OVL_TRUNC_NONE;
    if (unit == OVL_TRUNC_NONE)
        return;
    if (ovl_date_trunc(buf, unit, cell->text, cell->len) != OVL_OK) {
        if (!p->deferred) {
            char at[OVL_SOURCE_WHERE_MAX];
            ovl_source_where(p->src, at);
            defer(p, row, p->w->nvalues + g,
                  ovl_err_set(OVL_ERR_INPUT, "%s: column '%s': not a date (YYYY-MM-DD)", at,
                              p->w->group_by[g]));
        }
        buf[0] = '\0';
    }
    cell->text = buf;
    cell->len = strlen(buf);
}

static ovl_err load_key(load_pass *p, size_t row)
{
    ovl_err rc = OVL_OK;
    size_t total = 0;
    char day[OVL_DATE_LEN + 1];
    row_key *k;
    if (p->nk == p->key_cap) {
        size_t ncap = p->key_cap ? 2 * p->key_cap : LOAD_INITIAL_ROWS;
        OVL_TRY(ovl_reallocarray((void **)&p->rk, ncap, sizeof *p->rk));
        p->key_cap = ncap;
    }
    k = &p->rk[p->nk];
    for (size_t g = 0; g < p->w->ngroup_by; g++) {
        ovl_cell cell;
        group_cell(p, row, g, &cell, day);
        if (memchr(cell.text, '\0', cell.len) != NULL && !p->deferred) {
            char at[OVL_SOURCE_WHERE_MAX];
            ovl_source_where(p->src, at);
            defer(p, row, p->w->nvalues + g,
                  ovl_err_set(OVL_ERR_INPUT, "%s: a group-by value contains a NUL byte", at));
        }
        total += 4 + cell.len; /* cells are capped by the source's record cap */
    }
    OVL_TRY(ovl_calloc((void **)&k->key, total ? total : 1, 1));
    k->len = total;
    k->row = (uint32_t)row;
    p->nk++;
    for (size_t g = 0, o = 0; g < p->w->ngroup_by; g++) {
        ovl_cell cell;
        group_cell(p, row, g, &cell, day);
        for (int s = 0; s < 4; s++)
            k->key[o + (size_t)s] = (uint8_t)((uint32_t)cell.len >> (24 - 8 * s));
        memcpy(k->key + o + 4, cell.text, cell.len);
        o += 4 + cell.len;
    }
done:
    return rc;
}

/* The text columns of every data row; an overlong cell waits for the end of
 * the table like any other cell error (it comes after the row's values and
 * keys). */
static ovl_err load_text(load_pass *p, size_t row)
{
    ovl_err rc = ovl_text_fill_row(&p->text, p->src);
    if (rc != OVL_ERR_INPUT)
        return rc;
    if (!p->deferred)
        defer(p, row, p->w->nvalues + p->w->ngroup_by, rc);
    return OVL_OK;
}

static ovl_err load_row(load_pass *p)
{
    ovl_err rc = OVL_OK;
    const ovl_load_spec *w = p->w;
    ovl_idtable *ids = &p->in->ids;
    size_t row = ids->nrows;
    bool keep = true, valid;
    ovl_cell join = {OVL_CELL_NULL, "", 0}, cell;
    if (w->groups)
        OVL_ENSURE(row < UINT32_MAX - 1, OVL_ERR_LIMIT, "%s: too many rows",
                   ovl_source_label(p->src));
    OVL_TRY(load_grow(p));
    if (p->any_auto) {
        p->pos[row] = ovl_source_pos(p->src);
        load_note_places(p);
    }
    ovl_source_cell(p->src, p->join_col, &cell);
    if (w->rows_digest)
        ovl_rows_digest_add(&p->digest, &cell); /* every row's, as a second read sees it */
    if (w->filter.keep != NULL)
        OVL_TRY(w->filter.keep(w->filter.arg, p->src, &keep));
    if (keep)
        join = cell;
    OVL_TRY(ovl_idtable_add(ids, join.text, join.len, w->norm, w->prehashed, !keep, &valid));
    if (valid)
        load_values(p, row);
    if (valid && w->groups)
        OVL_TRY(load_key(p, row));
    if (w->ntext_cols > 0)
        OVL_TRY(load_text(p, row));
done:
    return rc;
}

static ovl_err load_scale_error(load_pass *p, size_t row, size_t c)
{
    char at[OVL_SOURCE_WHERE_MAX];
    ovl_source_where_at(p->src, p->pos[row], at);
    return ovl_err_set(OVL_ERR_INPUT, "%s: column '%s': number out of range", at,
                       p->w->values[c].name);
}

/* Scales the auto columns to their places; the first failure in table order,
 * a deferred cell error included, is the one reported. */
static ovl_err load_finish_values(load_pass *p)
{
    static const int64_t pow10[OVL_DECIMALS_MAX + 1] = {
        1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000,
        10000000000, 100000000000, 1000000000000, 10000000000000, 100000000000000,
        1000000000000000, 10000000000000000, 100000000000000000, 1000000000000000000};
    const ovl_idtable *ids = &p->in->ids;
    size_t nv = p->w->nvalues;
    for (size_t r = 0; p->any_auto && r < ids->nrows; r++) {
        for (size_t c = 0; c < nv; c++) {
            if (p->deferred && (r > p->def_row || (r == p->def_row && c >= p->def_col)))
                goto deferred;
            if (p->w->values[c].decimals != OVL_DECIMALS_AUTO || !ids->row_valid[r])
                continue;
            int64_t *v = &p->in->values.cells[r * nv + c];
            if (__builtin_mul_overflow(*v, pow10[p->most[c] - p->shown[r * nv + c]], v))
                return load_scale_error(p, r, c);
        }
    }
deferred:
    if (p->deferred)
        return ovl_err_set(p->def_code, "%s", p->def_msg);
    for (size_t c = 0; c < nv; c++)
        if (p->w->values[c].decimals == OVL_DECIMALS_AUTO)
            p->w->values[c].decimals = p->most[c];
    return OVL_OK;
}

static uint32_t rd32(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static int key_cmp(const void *va, const void *vb)
{
    const row_key *a = va, *b = vb;
    size_t i = 0, j = 0;
    while (i < a->len && j < b->len) {
        uint32_t la = rd32(a->key + i), lb = rd32(b->key + j);
        uint32_t l = la < lb ? la : lb;
        int c = memcmp(a->key + i + 4, b->key + j + 4, l);
        if (c != 0)
            return c;
        if (la != lb)
            return la < lb ? -1 : 1;
        i += 4 + la;
        j += 4 + lb;
    }
    return (i < a->len) - (j < b->len);
}

static ovl_err keys_store(ovl_group_table *t, size_t g, const row_key *k)
{
    ovl_err rc = OVL_OK;
    for (size_t c = 0, o = 0; c < t->ncols; c++) {
        uint32_t len = rd32(k->key + o);
        char **dst = &t->keys[g * t->ncols + c];
        OVL_TRY(ovl_calloc((void **)dst, (size_t)len + 1, 1));
        memcpy(*dst, k->key + o + 4, len);
        o += 4 + len;
    }
done:
    return rc;
}

static ovl_err load_finish_groups(load_pass *p)
{
    ovl_err rc = OVL_OK;
    ovl_group_table *t = &p->in->groups;
    size_t nrows = p->in->ids.nrows, ng = 0;
    t->ncols = p->w->ngroup_by;
    t->nrows = nrows;
    OVL_TRY(ovl_calloc((void **)&t->row_group, nrows ? nrows : 1, sizeof *t->row_group));
    for (size_t r = 0; r < nrows; r++)
        t->row_group[r] = UINT32_MAX;
    if (p->nk > 0)
        qsort(p->rk, p->nk, sizeof *p->rk, key_cmp);
    for (size_t i = 0; i < p->nk; i++)
        ng += i == 0 || key_cmp(&p->rk[i - 1], &p->rk[i]) != 0;
    OVL_TRY(ovl_calloc((void **)&t->keys, (ng ? ng : 1) * (t->ncols ? t->ncols : 1),
                       sizeof *t->keys));
    t->ngroups = ng;
    for (size_t i = 0, g = 0; i < p->nk; i++) {
        bool first = i == 0 || key_cmp(&p->rk[i - 1], &p->rk[i]) != 0;
        g += i > 0 && first;
        if (first)
            OVL_TRY(keys_store(t, g, &p->rk[i]));
        t->row_group[p->rk[i].row] = (uint32_t)g;
    }
done:
    return rc;
}

static ovl_err load_pass_run(load_pass *p, const char *spec)
{
    ovl_err rc = OVL_OK;
    bool eof = false;
    OVL_ENSURE(p->w->join != NULL, OVL_ERR_USAGE, "no join column given");
    OVL_TRY(ovl_source_open(&p->src, spec, p->w->query));
    OVL_TRY(load_bind(p));
    if (p->w->rows_digest)
        ovl_rows_digest_init(&p->digest, p->src, p->join_col);
    for (;;) {
        OVL_TRY(ovl_source_next(p->src, &eof));
        if (eof)
            break;
        OVL_TRY(load_row(p));
    }
    if (p->w->rows_digest)
        crypto_generichash_final(&p->digest, p->in->ids.rows_digest,
                                 sizeof p->in->ids.rows_digest);
    p->in->ids.join_col = p->join_col;
    p->in->ids.has_digest = p->w->rows_digest;
    p->in->values.nrows = p->in->ids.nrows;
    p->in->values.ncols = p->w->nvalues;
    if (p->w->nvalues > 0 && p->in->values.cells == NULL) {
        OVL_TRY(ovl_calloc((void **)&p->in->values.cells, p->w->nvalues, sizeof(int64_t)));
        OVL_TRY(ovl_calloc((void **)&p->in->values.nulls, p->w->nvalues, 1));
    }
    OVL_TRY(load_finish_values(p));
    OVL_TRY(ovl_idtable_finish(&p->in->ids));
    if (p->w->groups)
        OVL_TRY(load_finish_groups(p));
    if (p->w->ntext_cols > 0)
        OVL_TRY(ovl_text_fill_finish(&p->in->text, &p->text, p->src));
done:
    return rc;
}

ovl_err ovl_table_load(ovl_table_input *in, const char *spec, const ovl_load_spec *want)
{
    ovl_err rc = OVL_OK;
    load_pass p;
    memset(in, 0, sizeof *in);
    memset(&p, 0, sizeof p);
    p.w = want;
    p.in = in;
    OVL_ENSURE(sodium_init() >= 0, OVL_ERR_CRYPTO, "libsodium failed to initialise");
    rc = load_pass_run(&p, spec);
done:
    for (size_t i = 0; i < p.nk; i++)
        free(p.rk[i].key);
    free(p.rk);
    free(p.shown);
    free(p.pos);
    ovl_text_fill_free(&p.text);
    sodium_memzero(&p.digest, sizeof p.digest);
    ovl_source_close(p.src);
    if (rc != OVL_OK)
        ovl_table_input_free(in);
    return rc;
}

void ovl_table_input_free(ovl_table_input *in)
{
    ovl_idtable_free(&in->ids);
    ovl_value_table_free(&in->values);
    ovl_group_table_free(&in->groups);
    ovl_text_table_free(&in->text);
}

ovl_err ovl_idtable_load(ovl_idtable *t, const char *spec, const char *join, ovl_norm kind,
                         bool prehashed)
{
    ovl_table_input in;
    ovl_load_spec want = {.join = join, .norm = kind, .prehashed = prehashed};
    ovl_err rc = ovl_table_load(&in, spec, &want);
    *t = in.ids;
    return rc;
}
