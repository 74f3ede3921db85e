/* overlap: results into database tables (dbout.h): column types and dispatch. */
#include <stdlib.h>
#include <string.h>

#include "core/guard.h"
#include "core/mem.h"
#include "io/columns.h"
#include "io/dbconn.h"
#include "io/dbout.h"
#include "io/dbout_cols.h"

/* Which types a value allows, as a bit set over ovl_out_type. */
enum { CAN_INT = 1u << OVL_OUT_INT, CAN_NUM = 1u << OVL_OUT_NUMERIC, CAN_DATE = 1u << OVL_OUT_DATE };

static unsigned value_types(const char *p, size_t n)
{
    unsigned t = 0;
    int64_t v;
    if (ovl_db_text_is_decimal(p, n)) {
        t |= CAN_NUM;
        if (memchr(p, '.', n) == NULL && ovl_decimal_parse(&v, p, n, 0) == OVL_OK)
            t |= CAN_INT;
    }
    if (ovl_db_text_is_date(p, n))
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
