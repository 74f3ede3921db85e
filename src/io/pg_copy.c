/* overlap: one row of PostgreSQL's COPY text format into typed cells
 * (dbconn.h), kept apart from the connection so it can be fuzzed. */
#include <string.h>

#include "io/dbconn.h"

/* Decodes one field in place (backslash escapes; the server never sends
 * octal or hex ones, but they are valid, so honour octal). */
static size_t copy_unescape(char *p, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = p[i];
        if (ch == '\\' && i + 1 < n) {
            char e = p[++i];
            ch = e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e == 'b' ? '\b'
               : e == 'f' ? '\f' : e == 'v' ? '\v' : e;
            if (e >= '0' && e <= '7') {
                unsigned v = (unsigned)(e - '0');
                for (int k = 0; k < 2 && i + 1 < n && p[i + 1] >= '0' && p[i + 1] <= '7'; k++)
                    v = v * 8 + (unsigned)(p[++i] - '0');
                ch = (char)v;
            }
        }
        p[o++] = ch;
    }
    return o;
}

static void copy_cell(ovl_cell *c, ovl_cell_kind k, char *p, size_t n)
{
    if (n == 2 && p[0] == '\\' && p[1] == 'N') {
        *c = (ovl_cell){OVL_CELL_NULL, "", 0};
        return;
    }
    n = memchr(p, '\\', n) != NULL ? copy_unescape(p, n) : n;
    /* NaN, Infinity, 1e+30 or a BC date stay text: no parser would take them. */
    if ((k == OVL_CELL_NUMERIC && !ovl_db_text_is_decimal(p, n)) ||
        (k == OVL_CELL_DATE && !ovl_db_text_is_date(p, n)) ||
        (k == OVL_CELL_INT && !ovl_db_text_is_decimal(p, n)))
        k = OVL_CELL_TEXT;
    *c = (ovl_cell){k, p, n};
}

bool ovl_pg_copy_row(ovl_cell *cells, const ovl_cell_kind *kinds, size_t ncols, char *line,
                     size_t n)
{
    size_t i = 0, start = 0;
    if (n == 0 || line[n - 1] != '\n')
        return false;
    n--;
    for (size_t pos = 0; pos <= n; pos++) {
        if (pos < n && line[pos] != '\t')
            continue;
        if (i == ncols)
            return false;
        copy_cell(&cells[i], kinds[i], line + start, pos - start);
        i++;
        start = pos + 1;
    }
    return i == ncols;
}
