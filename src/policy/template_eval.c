/* Analysis templates: parameter values and the WHERE filters evaluated on a
 * party's own cells. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/guard.h"
#include "core/mem.h"
#include "policy/template_impl.h"

const char *ovl_param_type_name(ovl_param_type t)
{
    switch (t) {
    case OVL_PARAM_STRING: return "string";
    case OVL_PARAM_INTEGER: return "integer";
    case OVL_PARAM_DECIMAL: return "decimal";
    case OVL_PARAM_DATE: return "date";
    }
    return "?";
}

static bool digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return n > 0;
}

static bool date_ok(const char *s)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-' || !digits(s, 4) || !digits(s + 5, 2) ||
        !digits(s + 8, 2))
        return false;
    int y = atoi(s), m = (s[5] - '0') * 10 + (s[6] - '0'), d = (s[8] - '0') * 10 + (s[9] - '0');
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return !(m == 2 && d == 29 && !leap);
}

bool ovl_param_value_ok(ovl_param_type type, const char *v)
{
    size_t n = strlen(v);
    const char *dot;
    if (n == 0 || n > OVL_TPL_MAX_LITERAL)
        return false;
    switch (type) {
    case OVL_PARAM_STRING:
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
                return false;
        return true;
    case OVL_PARAM_INTEGER:
        return n <= 19 && digits(v + (v[0] == '-'), n - (v[0] == '-'));
    case OVL_PARAM_DECIMAL:
        if (n > 40)
            return false;
        v += v[0] == '-';
        dot = strchr(v, '.');
        if (!dot)
            return digits(v, strlen(v));
        return digits(v, (size_t)(dot - v)) && digits(dot + 1, strlen(dot + 1));
    case OVL_PARAM_DATE:
        return date_ok(v);
    }
    return false;
}

/* Usage errors: the values come from the command line (--param); the
 * verifier turns a peer's bad values into a policy refusal. */
ovl_err ovl_template_check_params(const ovl_template *t, const ovl_param_value *vals, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const ovl_tpl_param *pr = tpl_find_param(t, vals[i].name);
        if (!pr)
            return ovl_err_set(OVL_ERR_USAGE, "%s: parameter %.64s: the template declares no such "
                               "parameter", t->label, vals[i].name);
        for (size_t k = 0; k < i; k++)
            if (strcmp(vals[k].name, vals[i].name) == 0)
                return ovl_err_set(OVL_ERR_USAGE, "%s: parameter %s: given twice", t->label,
                                   pr->name);
        if (!ovl_param_value_ok(pr->type, vals[i].value))
            return ovl_err_set(OVL_ERR_USAGE, "%s: parameter %s: must be a %s%s", t->label,
                               pr->name, ovl_param_type_name(pr->type),
                               pr->type == OVL_PARAM_DATE ? " (YYYY-MM-DD)" : "");
        bool listed = pr->nallowed == 0;
        for (size_t k = 0; k < pr->nallowed; k++)
            listed = listed || strcmp(pr->allowed[k], vals[i].value) == 0;
        if (!listed)
            return ovl_err_set(OVL_ERR_USAGE, "%s: parameter %s: value is not in its allowed "
                               "list (%zu values)", t->label, pr->name, pr->nallowed);
    }
    for (size_t k = 0; k < t->nparams; k++) {
        bool given = false;
        for (size_t i = 0; i < n; i++)
            given = given || strcmp(vals[i].name, t->params[k].name) == 0;
        if (!given)
            return ovl_err_set(OVL_ERR_USAGE, "%s: parameter %s: no value given (--param %s=...)",
                               t->label, t->params[k].name, t->params[k].name);
    }
    return OVL_OK;
}

/* ---- filter evaluation ---- */

/* Exact comparison of two decimal numbers given as validated text. */
static int cmp_decimal(const char *a, const char *b)
{
    bool na = a[0] == '-', nb = b[0] == '-';
    a += na;
    b += nb;
    while (*a == '0' && a[1] && a[1] != '.')
        a++;
    while (*b == '0' && b[1] && b[1] != '.')
        b++;
    size_t ia = strcspn(a, "."), ib = strcspn(b, ".");
    int r = ia != ib ? (ia < ib ? -1 : 1) : strncmp(a, b, ia);
    if (r == 0) {
        const char *fa = a[ia] ? a + ia + 1 : "", *fb = b[ib] ? b + ib + 1 : "";
        while (r == 0 && (*fa || *fb)) {
            char x = *fa ? *fa++ : '0', y = *fb ? *fb++ : '0';
            r = (x > y) - (x < y);
        }
    }
    if (r == 0)
        return 0; /* -0 == 0 */
    if (na != nb)
        return na ? -1 : 1;
    return na ? -r : r;
}

static int cmp_typed(ovl_param_type type, const char *cell, const char *v)
{
    if (type == OVL_PARAM_INTEGER || type == OVL_PARAM_DECIMAL)
        return cmp_decimal(cell, v);
    int r = strcmp(cell, v);
    return (r > 0) - (r < 0);
}

static const char *value_text(const ovl_tpl_value *v, const ovl_param_value *vals, size_t n)
{
    if (!v->is_param)
        return v->text;
    for (size_t i = 0; i < n; i++)
        if (strcmp(vals[i].name, v->text) == 0)
            return vals[i].value;
    return NULL;
}

ovl_err ovl_tpl_filter_match(const ovl_tpl_filter *f, const ovl_param_value *vals, size_t n,
                             const char *cell, size_t cell_len, bool *match)
{
    char buf[OVL_TPL_MAX_LITERAL + 1];
    ovl_param_type type = f->values[0].type;
    *match = false;
    if (type != OVL_PARAM_STRING)
        while (cell_len && (cell[0] == ' ' || cell[0] == '\t'))
            cell++, cell_len--;
    if (type != OVL_PARAM_STRING)
        while (cell_len && (cell[cell_len - 1] == ' ' || cell[cell_len - 1] == '\t'))
            cell_len--;
    if (cell_len > OVL_TPL_MAX_LITERAL || memchr(cell, '\0', cell_len))
        return OVL_OK;
    memcpy(buf, cell, cell_len);
    buf[cell_len] = '\0';
    if (type != OVL_PARAM_STRING &&
        !ovl_param_value_ok(type == OVL_PARAM_INTEGER ? OVL_PARAM_DECIMAL : type, buf))
        return OVL_OK;
    int c[OVL_TPL_MAX_ITEMS];
    for (size_t i = 0; i < f->nvalues; i++) {
        const char *v = value_text(&f->values[i], vals, n);
        if (!v)
            return ovl_err_set(OVL_ERR_USAGE, "filter on %s: parameter :%s has no value",
                               f->column, f->values[i].text);
        c[i] = cmp_typed(type, buf, v);
    }
    switch (f->op) {
    case OVL_CMP_EQ: *match = c[0] == 0; break;
    case OVL_CMP_NE: *match = c[0] != 0; break;
    case OVL_CMP_LT: *match = c[0] < 0; break;
    case OVL_CMP_LE: *match = c[0] <= 0; break;
    case OVL_CMP_GT: *match = c[0] > 0; break;
    case OVL_CMP_GE: *match = c[0] >= 0; break;
    case OVL_CMP_BETWEEN: *match = c[0] >= 0 && c[1] <= 0; break;
    case OVL_CMP_IN:
        for (size_t i = 0; i < f->nvalues; i++)
            *match = *match || c[i] == 0;
        break;
    }
    return OVL_OK;
}


/* ---- DATE_TRUNC, computed by the column's owner (SPEC §1, §5.2) ---- */

static const struct {
    ovl_trunc unit;
    const char *name;
} trunc_units[] = {
    {OVL_TRUNC_DAY, "day"},
    {OVL_TRUNC_WEEK, "week"},
    {OVL_TRUNC_MONTH, "month"},
};

ovl_trunc ovl_trunc_parse(const char *unit)
{
    for (size_t i = 0; i < sizeof trunc_units / sizeof trunc_units[0]; i++)
        if (strcasecmp(unit, trunc_units[i].name) == 0)
            return trunc_units[i].unit;
    return OVL_TRUNC_NONE;
}

const char *ovl_trunc_name(ovl_trunc t)
{
    for (size_t i = 0; i < sizeof trunc_units / sizeof trunc_units[0]; i++)
        if (trunc_units[i].unit == t)
            return trunc_units[i].name;
    return "";
}

/* Floor division, for the day counts before 1970. */
static int64_t floor_div(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

/* Day number of a civil date: count in 400-year eras of 146 097 days, with
 * the year starting on March 1 so that the leap day ends it. */
static int64_t days_of(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = floor_div(y, 400), yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468; /* 719 468: days from 0000-03-01 to 1970-01-01 */
}

bool ovl_date_days(int64_t *days, const char *ymd)
{
    if (!date_ok(ymd))
        return false;
    int64_t y = atoi(ymd), m = (ymd[5] - '0') * 10 + (ymd[6] - '0'),
            d = (ymd[8] - '0') * 10 + (ymd[9] - '0');
    *days = days_of(y, m, d);
    return true;
}

void ovl_date_format(char out[static 11], int64_t days)
{
    int64_t z = days + 719468, era = floor_div(z, 146097), doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
    int64_t y = yoe + era * 400 + (m <= 2);
    if (y < 0 || y > 9999) {
        snprintf(out, 11, "%s", y < 0 ? "0000-01-01" : "9999-12-31");
        return;
    }
    snprintf(out, 11, "%04d-%02d-%02d", (int)y, (int)m, (int)d);
}
