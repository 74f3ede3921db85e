/* overlap: an owner's per-identifier counts and sums (SPEC.md §5.1). */
#include "aggregate/ident.h"

#include <string.h>

#include <sodium.h>

#include "core/guard.h"
#include "core/mem.h"
#include "core/sort.h"

/* Sort record: identifier, group, row, big-endian, so that memcmp order is
 * (identifier, group, input order). */
#define REC_LEN 12u

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static ovl_err check_shape(const ovl_agg_ident_shape *s, const ovl_agg_rows *rows)
{
    if (s->groups < 1 || s->groups > OVL_AGG2_MAX_GROUPS || s->cols > OVL_AGG2_MAX_COLS)
        return ovl_err_set(OVL_ERR_USAGE, "aggregate: %u groups and %u value columns (caps %u, %u)",
                           s->groups, s->cols, OVL_AGG2_MAX_GROUPS, OVL_AGG2_MAX_COLS);
    if (s->count_bits < 1 || s->count_bits > OVL_AGG2_MAX_COUNT_BITS ||
        s->value_bits < OVL_AGG2_MIN_VALUE_BITS || s->value_bits > OVL_AGG2_MAX_VALUE_BITS)
        return ovl_err_set(OVL_ERR_USAGE, "aggregate: count width %u, value width %u bits",
                           s->count_bits, s->value_bits);
    if (rows->rows > OVL_AGG2_MAX_ROWS || (rows->rows > 0 && (!rows->id || !rows->group)) ||
        (rows->rows > 0 && s->cols > 0 && !rows->value))
        return ovl_err_set(OVL_ERR_USAGE, "aggregate: %zu rows without their columns", rows->rows);
    /* G alone is a lower bound of the cells (the peer has at least one group). */
    if (s->groups > s->max_cells)
        return ovl_err_set(OVL_ERR_POLICY,
                           "aggregate: %u groups where aggregation.max_cells allows %u cells",
                           s->groups, s->max_cells);
    return OVL_OK;
}

static ovl_err sorted_records(uint8_t **out, const ovl_agg_ident_shape *s, const ovl_agg_rows *rows)
{
    ovl_err rc = OVL_OK;
    uint8_t *rec = NULL;
    OVL_TRY(ovl_calloc((void **)&rec, rows->rows ? rows->rows : 1, REC_LEN));
    for (size_t r = 0; r < rows->rows; r++) {
        OVL_ENSURE(rows->id[r] < s->nids && rows->group[r] < s->groups, OVL_ERR_USAGE,
                   "aggregate: row %zu has identifier index %u of %u, group %u of %u", r,
                   rows->id[r], s->nids, rows->group[r], s->groups);
        put32(rec + r * REC_LEN, rows->id[r]);
        put32(rec + r * REC_LEN + 4, rows->group[r]);
        put32(rec + r * REC_LEN + 8, (uint32_t)r);
    }
    OVL_TRY(ovl_sort_fixed(rec, rows->rows, REC_LEN));
    *out = rec;
    rec = NULL;
done:
    ovl_free_secret(rec, rows->rows * REC_LEN);
    return rc;
}

static size_t count_entries(const uint8_t *rec, size_t n)
{
    size_t e = 0;
    for (size_t r = 0; r < n; r++)
        if (r == 0 || memcmp(rec + r * REC_LEN, rec + (r - 1) * REC_LEN, 8) != 0)
            e++;
    return e;
}

static ovl_err alloc_table(ovl_agg_ident *t)
{
    ovl_err rc = OVL_OK;
    size_t e = t->entries ? t->entries : 1;
    OVL_TRY(ovl_calloc((void **)&t->first, (size_t)t->shape.nids + 1, sizeof *t->first));
    OVL_TRY(ovl_calloc((void **)&t->group, e, sizeof *t->group));
    OVL_TRY(ovl_calloc((void **)&t->count, e, sizeof *t->count));
    OVL_TRY(ovl_calloc((void **)&t->words, e, (size_t)2 * (t->shape.cols ? t->shape.cols : 1) *
                                                  sizeof *t->words));
done:
    return rc;
}

/* Adds row r to entry e: one more row, and its non-NULL values. */
static ovl_err add_row(ovl_agg_ident *t, size_t e, const ovl_agg_rows *rows, size_t r)
{
    uint32_t cols = t->shape.cols;
    if (t->count[e] + 1 >= (1u << t->shape.count_bits))
        return ovl_err_set(OVL_ERR_INPUT,
                           "aggregate: an identifier has %u or more rows in group %u, over "
                           "aggregation.max_rows_per_identifier = %u",
                           1u << t->shape.count_bits, t->group[e],
                           (1u << t->shape.count_bits) - 1);
    t->count[e]++;
    for (uint32_t s = 0; s < cols; s++) {
        if (rows->null && rows->null[r * cols + s])
            continue;
        int64_t *w = t->words + e * 2 * cols + 2 * s;
        w[0]++;
        if (__builtin_add_overflow(w[1], rows->value[r * cols + s], &w[1]))
            return ovl_err_set(OVL_ERR_INPUT,
                               "aggregate: column %u: one identifier's sum in group %u leaves "
                               "the 64-bit range", s, t->group[e]);
    }
    return OVL_OK;
}

/* Every sum within ±2^(v-1), exclusive (§5.1). */
static ovl_err check_sums(const ovl_agg_ident *t)
{
    uint32_t cols = t->shape.cols;
    int64_t lim = (int64_t)1 << (t->shape.value_bits - 1);
    for (size_t e = 0; e < t->entries; e++)
        for (uint32_t s = 0; s < cols; s++) {
            int64_t v = t->words[e * 2 * cols + 2 * s + 1];
            if (v >= lim || v <= -lim)
                return ovl_err_set(OVL_ERR_INPUT,
                                   "aggregate: column %u: one identifier's sum in group %u is "
                                   "outside +-2^%u (the column's value width)",
                                   s, t->group[e], t->shape.value_bits - 1);
        }
    return OVL_OK;
}

static ovl_err fill(ovl_agg_ident *t, const uint8_t *rec, const ovl_agg_rows *rows)
{
    ovl_err rc = OVL_OK;
    size_t e = 0;
    for (size_t r = 0; r < rows->rows; r++) {
        const uint8_t *p = rec + r * REC_LEN;
        if (r > 0 && memcmp(p, p - REC_LEN, 8) != 0)
            e++;
        uint32_t id = get32(p);
        t->group[e] = get32(p + 4);
        t->first[id + 1] = (uint32_t)(e + 1);
        OVL_TRY(add_row(t, e, rows, get32(p + 8)));
    }
    /* Identifiers without rows start where the previous one ended. */
    for (uint32_t i = 1; i <= t->shape.nids; i++)
        if (t->first[i] < t->first[i - 1])
            t->first[i] = t->first[i - 1];
    OVL_TRY(check_sums(t));
done:
    return rc;
}

ovl_err ovl_agg_ident_build(ovl_agg_ident *out, const ovl_agg_ident_shape *shape,
                            const ovl_agg_rows *rows)
{
    ovl_err rc = OVL_OK;
    uint8_t *rec = NULL;
    memset(out, 0, sizeof *out);
    OVL_TRY(check_shape(shape, rows));
    out->shape = *shape;
    OVL_TRY(sorted_records(&rec, shape, rows));
    out->entries = count_entries(rec, rows->rows);
    OVL_TRY(alloc_table(out));
    OVL_TRY(fill(out, rec, rows));
done:
    ovl_free_secret(rec, rows->rows * REC_LEN);
    if (rc != OVL_OK)
        ovl_agg_ident_free(out);
    return rc;
}

/* Σ x_e · mult < 2^63 for the given per-entry magnitudes, without overflow. */
static int fits(uint64_t total, uint64_t mult)
{
    return total <= (uint64_t)INT64_MAX / mult;
}

ovl_err ovl_agg_ident_check_totals_named(const ovl_agg_ident *t, uint32_t peer_count_bits,
                                         const char *const *names)
{
    if (peer_count_bits < 1 || peer_count_bits > OVL_AGG2_MAX_COUNT_BITS)
        return ovl_err_set(OVL_ERR_PROTOCOL, "aggregate: the peer states a count width of %u bits",
                           peer_count_bits);
    uint64_t mult = ((uint64_t)1 << peer_count_bits) - 1;
    uint64_t rows = 0;
    for (size_t e = 0; e < t->entries; e++)
        rows += t->count[e]; /* < 2^32 rows of < 2^16 each: no overflow */
    if (!fits(rows, mult))
        return ovl_err_set(OVL_ERR_INPUT, "aggregate: %llu rows, times the up to %llu rows per "
                           "identifier a peer may have, could leave the signed 64-bit range",
                           (unsigned long long)rows, (unsigned long long)mult);
    for (uint32_t s = 0; s < t->shape.cols; s++) {
        uint64_t mag = 0;
        for (size_t e = 0; e < t->entries && fits(mag, mult); e++) {
            int64_t v = t->words[e * 2 * t->shape.cols + 2 * s + 1];
            mag += v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v; /* < 2^47 each */
        }
        if (fits(mag, mult))
            continue;
        char col[300];
        if (names != NULL)
            snprintf(col, sizeof col, "column '%s'", names[s]);
        else
            snprintf(col, sizeof col, "column %u", s);
        /* never the total itself: it is the owner's data */
        return ovl_err_set(OVL_ERR_INPUT,
                           "aggregate: %s: its sums, times the up to %llu rows per identifier "
                           "a peer may have, could leave the signed 64-bit range (SPEC.md "
                           "§5.1); use fewer decimals or fewer rows",
                           col, (unsigned long long)mult);
    }
    return OVL_OK;
}

ovl_err ovl_agg_ident_check_totals(const ovl_agg_ident *t, uint32_t peer_count_bits)
{
    return ovl_agg_ident_check_totals_named(t, peer_count_bits, NULL);
}

void ovl_agg_ident_free(ovl_agg_ident *t)
{
    if (!t)
        return;
    size_t e = t->entries ? t->entries : 1;
    size_t words = e * 2 * (t->shape.cols ? t->shape.cols : 1);
    ovl_free_secret(t->first, ((size_t)t->shape.nids + 1) * sizeof *t->first);
    ovl_free_secret(t->group, e * sizeof *t->group);
    ovl_free_secret(t->count, e * sizeof *t->count);
    ovl_free_secret(t->words, words * sizeof *t->words);
    sodium_memzero(t, sizeof *t);
}
