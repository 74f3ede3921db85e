/* overlap: results into database tables (dbout.h): column types and dispatch. */
#include <stdlib.h>
#include <string.h>

#include "core/guard.h"
#include "core/mem.h"
#include "io/columns.h"
#include "io/dbout.h"
#include "io/dbout_cols.h"

/* Which types a value allows, as a bit set over ovl_out_type. */
enum { CAN_INT = 1u << OVL_OUT_INT, CAN_NUM = 1u << OVL_OUT_NUMERIC, CAN_DATE = 1u << OVL_OUT_DATE };

static bool all_digits(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] < '0' || p[i] > '9')
            return false;
    return n > 0;
}

/* -?D+(.D+)? as both databases write a NUMERIC back: no leading zero, so a
 * code such as "01234" stays text and keeps its zero. */
static bool is_decimal(const char *p, size_t n)
{
    if (n > 0 && p[0] == '-') {
        p++;
        n--;
    }
    const char *dot = memchr(p, '.', n);
    size_t k = dot != NULL ? (size_t)(dot - p) : n;
    if (!all_digits(p, k) || (k > 1 && p[0] == '0'))
        return false;
    return dot == NULL || all_digits(dot + 1, n - k - 1);
}

static unsigned num2(const char *p) { return (unsigned)(p[0] - '0') * 10 + (unsigned)(p[1] - '0'); }

/* YYYY-MM-DD naming a real day of the Gregorian calendar. */
static bool is_date(const char *p, size_t n)
{
    static const unsigned mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (n != 10 || p[4] != '-' || p[7] != '-' || !all_digits(p, 4) || !all_digits(p + 5, 2) ||
        !all_digits(p + 8, 2))
        return false;
    unsigned y = num2(p) * 100 + num2(p + 2), m = num2(p + 5), d = num2(p + 8);
    if (y == 0 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return !(m == 2 && d == 29 && !leap);
}

static unsigned value_types(const char *p, size_t n)
{
    unsigned t = 0;
    int64_t v;
    if (is_decimal(p, n)) {
        t |= CAN_NUM;
        if (memchr(p, '.', n) == NULL && ovl_decimal_parse(&v, p, n, 0) == OVL_OK)
            t |= CAN_INT;
    }
    if (is_date(p, n))
        t |= CAN_DATE;
    return t;
}

static ovl_out_type pick_type(unsigned can, bool any)
{
    if (!any)
        return OVL_OUT_TEXT;
    if (can & CAN_INT)
        return OVL_OUT_INT;
    if (can & CAN_NUM)
        return OVL_OUT_NUMERIC;
    if (can & CAN_DATE)
        return OVL_OUT_DATE;
    return OVL_OUT_TEXT;
}

static ovl_err cols_header(ovl_out_cols *c, const ovl_csv *csv)
{
    ovl_err rc = OVL_OK;
    c->ncols = ovl_csv_ncols(csv);
    OVL_TRY(ovl_calloc((void **)&c->names, c->ncols, sizeof *c->names));
    OVL_TRY(ovl_calloc((void **)&c->types, c->ncols, sizeof *c->types));
    for (size_t i = 0; i < c->ncols; i++) {
        c->names[i] = strdup(ovl_csv_colname(csv, i));
        OVL_ENSURE(c->names[i] != NULL, OVL_ERR_NOMEM, "out of memory");
    }
done:
    return rc;
}

ovl_err ovl_out_cols_scan(ovl_out_cols *c, const char *csv_path)
{
    ovl_err rc = OVL_OK;
    ovl_csv *csv = NULL;
    unsigned *can = NULL;
    bool *any = NULL, eof = false;
    memset(c, 0, sizeof *c);
    OVL_TRY(ovl_csv_open(&csv, csv_path));
    OVL_TRY(cols_header(c, csv));
    OVL_TRY(ovl_calloc((void **)&can, c->ncols, sizeof *can));
    OVL_TRY(ovl_calloc((void **)&any, c->ncols, sizeof *any));
    for (size_t i = 0; i < c->ncols; i++)
        can[i] = CAN_INT | CAN_NUM | CAN_DATE;
    for (;;) {
        OVL_TRY(ovl_csv_next(csv, &eof));
        if (eof)
            break;
        for (size_t i = 0; i < c->ncols; i++) {
            const char *p;
            size_t n;
            ovl_csv_field(csv, i, &p, &n);
            if (n == 0)
                continue;
            any[i] = true;
            can[i] &= value_types(p, n);
        }
    }
    for (size_t i = 0; i < c->ncols; i++)
        c->types[i] = pick_type(can[i], any[i]);
done:
    free(can);
    free(any);
    ovl_csv_close(csv);
    if (rc != OVL_OK)
        ovl_out_cols_free(c);
    return rc;
}

void ovl_out_cols_free(ovl_out_cols *c)
{
    for (size_t i = 0; c->names != NULL && i < c->ncols; i++)
        free(c->names[i]);
    free(c->names);
    free(c->types);
    memset(c, 0, sizeof *c);
}

ovl_err ovl_dbout_check(const ovl_dbspec *s, bool replace)
{
    switch (s->kind) {
    case OVL_DB_SQLITE:
        return ovl_dbout_sqlite_check(s, replace);
    case OVL_DB_POSTGRES:
        return ovl_dbout_pg_check(s, replace);
    default:
        return ovl_err_set(OVL_ERR_INTERNAL, "%s: not a database", s->shown);
    }
}

ovl_err ovl_dbout_load(const ovl_dbspec *s, bool replace, const char *csv_path)
{
    ovl_err rc = OVL_OK;
    ovl_out_cols cols;
    OVL_TRY(ovl_out_cols_scan(&cols, csv_path));
    if (s->kind == OVL_DB_SQLITE)
        rc = ovl_dbout_sqlite_load(s, replace, &cols, csv_path);
    else if (s->kind == OVL_DB_POSTGRES)
        rc = ovl_dbout_pg_load(s, replace, &cols, csv_path);
    else
        rc = ovl_err_set(OVL_ERR_INTERNAL, "%s: not a database", s->shown);
    ovl_out_cols_free(&cols);
done:
    return rc;
}
