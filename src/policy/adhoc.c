/* The columns of an ad-hoc aggregate, of either party (adhoc.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/guard.h"
#include "core/mem.h"
#include "policy/adhoc.h"

static const struct {
    const char *prefix;
    int side;
} sides[] = {
    {"runner:", OVL_ADHOC_SIDE_RUNNER},
    {"contributor:", OVL_ADHOC_SIDE_CONTRIBUTOR},
};

/* Strips a side prefix followed by a non-empty name. */
static const char *side_of(const char *item, int *side)
{
    for (size_t i = 0; i < sizeof sides / sizeof sides[0]; i++) {
        size_t n = strlen(sides[i].prefix);
        if (strncmp(item, sides[i].prefix, n) == 0 && item[n] != '\0') {
            *side = sides[i].side;
            return item + n;
        }
    }
    return item;
}

static ovl_err set_name(char out[static OVL_ADHOC_MAX_NAME + 1], const char *s, size_t n,
                        const char *what, const char *item)
{
    if (n == 0)
        return ovl_err_set(OVL_ERR_USAGE, "%s: empty column name in '%.64s'", what, item);
    if (n > OVL_ADHOC_MAX_NAME)
        return ovl_err_set(OVL_ERR_USAGE, "%s: a column name is longer than %u bytes", what,
                           OVL_ADHOC_MAX_NAME);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return ovl_err_set(OVL_ERR_USAGE, "%s: control character in a column name", what);
    memcpy(out, s, n);
    out[n] = '\0';
    return OVL_OK;
}

ovl_err ovl_adhoc_dim_parse(ovl_adhoc_dim *out, const char *item)
{
    const char *open = strchr(item, '('), *s = item;
    size_t n = strlen(item);
    memset(out, 0, sizeof *out);
    out->side = OVL_ADHOC_SIDE_RUNNER;
    if (open && n > 0 && item[n - 1] == ')') {
        char unit[8];
        size_t ul = (size_t)(open - item);
        snprintf(unit, sizeof unit, "%.*s", (int)(ul < sizeof unit ? ul : 0), item);
        out->trunc = ul < sizeof unit ? ovl_trunc_parse(unit) : OVL_TRUNC_NONE;
        if (out->trunc == OVL_TRUNC_NONE)
            return ovl_err_set(OVL_ERR_USAGE, "--group-by: '%.64s': a date is truncated with "
                               "day(COL), week(COL) or month(COL)", item);
        s = open + 1;
        n = (size_t)(item + n - 1 - s);
    }
    const char *col = side_of(s, &out->side);
    return set_name(out->column, col, n - (size_t)(col - s), "--group-by", item);
}

ovl_err ovl_adhoc_col_parse(ovl_adhoc_col *out, const char *item, bool with_decimals)
{
    memset(out, 0, sizeof *out);
    out->side = OVL_ADHOC_SIDE_CONTRIBUTOR;
    const char *col = side_of(item, &out->side);
    size_t n = strlen(col);
    const char *colon = with_decimals ? strrchr(col, ':') : NULL;
    if (colon) {
        unsigned v = 0;
        const char *d = colon + 1;
        if (*d == '\0')
            return ovl_err_set(OVL_ERR_USAGE, "--values: empty decimal count after ':' in '%.64s'",
                               item);
        for (; *d; d++) {
            if (*d < '0' || *d > '9' || (v = v * 10 + (unsigned)(*d - '0')) > OVL_TPL_MAX_DECIMALS)
                return ovl_err_set(OVL_ERR_USAGE, "--values: decimals must be 0..%u in '%.64s'",
                                   OVL_TPL_MAX_DECIMALS, item);
        }
        out->decimals = v;
        n = (size_t)(colon - col);
    }
    return set_name(out->column, col, n, "--values", item);
}

void ovl_adhoc_items_free(ovl_adhoc_items *l)
{
    for (size_t i = 0; l->items && i < l->n; i++)
        free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

ovl_err ovl_adhoc_split(ovl_adhoc_items *out, const char *option, const char *what)
{
    ovl_err rc = OVL_OK;
    memset(out, 0, sizeof *out);
    if (option == NULL || *option == '\0')
        return OVL_OK;
    OVL_TRY(ovl_calloc((void **)&out->items, OVL_ADHOC_MAX_ITEMS + 1, sizeof *out->items));
    for (const char *p = option;;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        OVL_ENSURE(out->n < OVL_ADHOC_MAX_ITEMS, OVL_ERR_USAGE, "%s: at most %u columns", what,
                   OVL_ADHOC_MAX_ITEMS);
        OVL_ENSURE(len > 0, OVL_ERR_USAGE, "%s: empty column name in '%.64s'", what, option);
        OVL_TRY(ovl_calloc((void **)&out->items[out->n], len + 1, 1));
        memcpy(out->items[out->n], p, len);
        out->n++;
        for (size_t k = 0; k + 1 < out->n; k++)
            OVL_ENSURE(strcmp(out->items[k], out->items[out->n - 1]) != 0, OVL_ERR_USAGE,
                       "%s: '%.64s' is named twice", what, out->items[k]);
        if (e == NULL)
            break;
        p = e + 1;
    }
done:
    if (rc != OVL_OK)
        ovl_adhoc_items_free(out);
    return rc;
}
