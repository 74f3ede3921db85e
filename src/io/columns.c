/* overlap: group-by and value columns of an aggregate (columns.h). */
#include <stdlib.h>
#include <string.h>

#include "core/guard.h"
#include "io/columns.h"
#include "core/mem.h"

/* ---- option syntax ---- */

static ovl_err dup_range(char **out, const char *s, size_t len)
{
    ovl_err rc = ovl_calloc((void **)out, len + 1, 1);
    if (rc == OVL_OK)
        memcpy(*out, s, len);
    return rc;
}

/* Splits arg at commas into at most cap non-empty pieces. */
static ovl_err split_list(char ***out, size_t *n, const char *arg, size_t cap, const char *what)
{
    ovl_err rc = OVL_OK;
    char **v = NULL;
    size_t k = 0;
    *out = NULL;
    *n = 0;
    if (*arg == '\0')
        return OVL_OK;
    OVL_TRY(ovl_calloc((void **)&v, cap, sizeof *v));
    for (const char *p = arg;;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        OVL_ENSURE(k < cap, OVL_ERR_USAGE, "%s: at most %zu columns", what, cap);
        OVL_ENSURE(len > 0, OVL_ERR_USAGE, "%s: empty column name in '%s'", what, arg);
        OVL_TRY(dup_range(&v[k++], p, len));
        if (e == NULL)
            break;
        p = e + 1;
    }
    *out = v;
    *n = k;
    v = NULL;
done:
    ovl_col_names_free(v, k);
    return rc;
}

static ovl_err check_distinct(char *const *names, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++) {
        if (strlen(names[i]) > OVL_COL_NAME_MAX)
            return ovl_err_set(OVL_ERR_USAGE, "%s: a column name is longer than %u bytes", what,
                               OVL_COL_NAME_MAX);
        for (size_t j = 0; j < i; j++)
            if (strcmp(names[i], names[j]) == 0)
                return ovl_err_set(OVL_ERR_USAGE, "%s: column '%s' is named twice", what,
                                   names[i]);
    }
    return OVL_OK;
}

ovl_err ovl_col_names_parse(char ***names, size_t *n, const char *arg)
{
    ovl_err rc = split_list(names, n, arg, OVL_GROUP_BY_MAX, "--group-by");
    if (rc == OVL_OK && (rc = check_distinct(*names, *n, "--group-by")) != OVL_OK) {
        ovl_col_names_free(*names, *n);
        *names = NULL;
        *n = 0;
    }
    return rc;
}

void ovl_col_names_free(char **names, size_t n)
{
    if (names == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static ovl_err parse_decimals(unsigned *out, const char *s)
{
    unsigned v = 0;
    if (*s == '\0')
        return ovl_err_set(OVL_ERR_USAGE, "--values: empty decimal count after ':'");
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > OVL_DECIMALS_MAX)
            return ovl_err_set(OVL_ERR_USAGE, "--values: decimals must be 0..%u", OVL_DECIMALS_MAX);
        v = v * 10 + (unsigned)(*s - '0');
    }
    if (v > OVL_DECIMALS_MAX)
        return ovl_err_set(OVL_ERR_USAGE, "--values: decimals must be 0..%u", OVL_DECIMALS_MAX);
    *out = v;
    return OVL_OK;
}

ovl_err ovl_value_cols_parse(ovl_value_col **cols, size_t *n, const char *arg)
{
    ovl_err rc = OVL_OK;
    char **parts = NULL;
    size_t k = 0;
    ovl_value_col *v = NULL;
    *cols = NULL;
    *n = 0;
    OVL_TRY(split_list(&parts, &k, arg, OVL_VALUE_COLS_MAX, "--values"));
    OVL_ENSURE(k > 0, OVL_ERR_USAGE, "--values needs at least one column");
    OVL_TRY(ovl_calloc((void **)&v, k, sizeof *v));
    for (size_t i = 0; i < k; i++) {
        char *colon = strrchr(parts[i], ':');
        if (colon != NULL) {
            OVL_TRY(parse_decimals(&v[i].decimals, colon + 1));
            *colon = '\0';
            OVL_ENSURE(colon != parts[i], OVL_ERR_USAGE, "--values: empty column name in '%s'",
                       arg);
        }
        v[i].name = parts[i];
        parts[i] = NULL;
    }
    {
        char *names[OVL_VALUE_COLS_MAX];
        for (size_t i = 0; i < k; i++)
            names[i] = v[i].name;
        OVL_TRY(check_distinct(names, k, "--values"));
    }
    *cols = v;
    *n = k;
    v = NULL;
done:
    ovl_value_cols_free(v, k);
    ovl_col_names_free(parts, k);
    return rc;
}

void ovl_value_cols_free(ovl_value_col *cols, size_t n)
{
    if (cols == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        free(cols[i].name);
    free(cols);
}

/* ---- exact decimals ---- */

ovl_err ovl_decimal_parse(int64_t *out, const char *s, size_t len, unsigned decimals)
{
    const char *e = s + len;
    bool neg = false, any = false;
    unsigned frac = 0;
    uint64_t mag = 0;
    const uint64_t limit = (uint64_t)INT64_MAX + 1;
    while (s < e && *s == ' ')
        s++;
    while (e > s && e[-1] == ' ')
        e--;
    if (s < e && (*s == '-' || *s == '+'))
        neg = *s++ == '-';
    for (; s < e && *s >= '0' && *s <= '9'; s++) {
        any = true;
        if (mag > (limit - (uint64_t)(*s - '0')) / 10)
            return ovl_err_set(OVL_ERR_INPUT, "number out of range");
        mag = mag * 10 + (uint64_t)(*s - '0');
    }
    if (!any)
        return ovl_err_set(OVL_ERR_INPUT, "not a number");
    if (s < e && *s == '.') {
        s++;
        if (s == e)
            return ovl_err_set(OVL_ERR_INPUT, "not a number (no digit after '.')");
        for (; s < e && *s >= '0' && *s <= '9'; s++) {
            if (frac == decimals) {
                if (*s != '0')
                    return ovl_err_set(OVL_ERR_INPUT, "more than %u decimal places", decimals);
                continue;
            }
            if (mag > (limit - (uint64_t)(*s - '0')) / 10)
                return ovl_err_set(OVL_ERR_INPUT, "number out of range");
            mag = mag * 10 + (uint64_t)(*s - '0');
            frac++;
        }
    }
    if (s != e)
        return ovl_err_set(OVL_ERR_INPUT, "not a number");
    for (; frac < decimals; frac++) {
        if (mag > limit / 10)
            return ovl_err_set(OVL_ERR_INPUT, "number out of range");
        mag *= 10;
    }
    if (mag > (neg ? limit : limit - 1))
        return ovl_err_set(OVL_ERR_INPUT, "number out of range");
    *out = neg ? (int64_t)(0 - mag) : (int64_t)mag;
    return OVL_OK;
}

/* |v| / 10^decimals with `decimals` fractional digits, from a magnitude. */
static void format_mag(char *out, bool neg, unsigned __int128 mag, unsigned decimals)
{
    char digits[48];
    size_t nd = 0;
    do {
        digits[nd++] = (char)('0' + (unsigned)(mag % 10));
        mag /= 10;
    } while (mag > 0);
    while (nd <= decimals)
        digits[nd++] = '0';
    size_t o = 0;
    if (neg)
        out[o++] = '-';
    for (size_t i = nd; i-- > 0;) {
        out[o++] = digits[i];
        if (i == decimals && decimals > 0)
            out[o++] = '.';
    }
    out[o] = '\0';
}

void ovl_decimal_format(char *out, int64_t v, unsigned decimals)
{
    unsigned __int128 mag = v < 0 ? (unsigned __int128)(0 - (uint64_t)v) : (unsigned __int128)v;
    format_mag(out, v < 0, mag, decimals);
}

void ovl_decimal_format_ratio(char *out, int64_t num, uint64_t den, unsigned decimals,
                              unsigned extra)
{
    unsigned __int128 mag = num < 0 ? (unsigned __int128)(0 - (uint64_t)num)
                                    : (unsigned __int128)num;
    for (unsigned i = 0; i < extra; i++)
        mag *= 10; /* |num| < 2^63 and extra <= 18 keeps this below 2^123 */
    unsigned __int128 q = mag / den, r = mag % den;
    /* Half to even: round up when r > den/2, or r == den/2 and q is odd. */
    unsigned __int128 twice = r * 2;
    if (twice > den || (twice == den && (q & 1)))
        q++;
    format_mag(out, num < 0 && q > 0, q, decimals + extra);
}

/* ---- per-row columns (filled by the one pass, load.c) ---- */

unsigned ovl_decimals_shown(const char *p, size_t len)
{
    const char *dot = memchr(p, '.', len);
    if (dot == NULL)
        return 0;
    size_t d = len - (size_t)(dot - p) - 1;
    while (d > 0 && (dot[d] == ' ' || dot[d] == '\t'))
        d--;
    return d > OVL_DECIMALS_MAX ? OVL_DECIMALS_MAX : (unsigned)d;
}

void ovl_value_table_free(ovl_value_table *t)
{
    free(t->cells);
    free(t->nulls);
    memset(t, 0, sizeof *t);
}

void ovl_group_table_free(ovl_group_table *t)
{
    if (t->keys != NULL)
        for (size_t i = 0; i < t->ngroups * t->ncols; i++)
            free(t->keys[i]);
    free(t->keys);
    free(t->row_group);
    memset(t, 0, sizeof *t);
}

ovl_err ovl_value_vectors(int64_t **out, const ovl_value_table *vt, const ovl_value_col *cols,
                          const ovl_idtable *ids)
{
    ovl_err rc = OVL_OK;
    int64_t *vec = NULL;
    size_t ncols = vt->ncols, w = 1 + ncols;
    OVL_ENSURE(vt->nrows == ids->nrows, OVL_ERR_INTERNAL, "value table and identifiers disagree");
    OVL_TRY(ovl_calloc((void **)&vec, (ids->nids ? ids->nids : 1) * w, sizeof *vec));
    for (size_t r = 0; r < ids->nrows; r++) {
        if (!ids->row_valid[r])
            continue;
        int64_t *v = vec + ovl_idtable_find(ids, ids->row_ids[r]) * w;
        v[0]++;
        for (size_t c = 0; c < ncols; c++)
            OVL_ENSURE(!__builtin_add_overflow(v[1 + c], vt->cells[r * ncols + c], &v[1 + c]),
                       OVL_ERR_LIMIT,
                       "value column '%s': the sum for one identifier overflows 64 bits; "
                       "aggregates this large cannot be computed exactly, refusing",
                       cols[c].name);
    }
    *out = vec;
    vec = NULL;
done:
    free(vec);
    return rc;
}
