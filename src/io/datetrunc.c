/* overlap: DATE_TRUNC (datetrunc.h). Days are counted on the proleptic
 * Gregorian calendar from 0000-03-01, so that the leap day ends a year and
 * the month lengths follow a fixed pattern from March; years 0000 to 9999. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "io/datetrunc.h"

static bool leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int month_days(int64_t y, int m)
{
    static const int len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return len[m - 1] + (m == 2 && leap(y));
}

static int64_t floor_div(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

/* Days since 0000-03-01 (a Wednesday); negative before it. */
static int64_t day_number(int64_t y, int m, int d)
{
    if (m < 3)
        y--;
    int64_t mp = (m + 9) % 12; /* March = 0 */
    return 365 * y + floor_div(y, 4) - floor_div(y, 100) + floor_div(y, 400) +
           (153 * mp + 2) / 5 + d - 1;
}

static void civil(int64_t n, int64_t *y, int *m, int *d)
{
    int64_t era = n / 146097, doe = n - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = era * 400 + yoe + (*m <= 2);
}

static bool two(const char *s, int *v)
{
    if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
        return false;
    *v = (s[0] - '0') * 10 + (s[1] - '0');
    return true;
}

static bool parse(const char *s, size_t len, int64_t *y, int *m, int *d)
{
    int hi, lo;
    while (len > 0 && (s[0] == ' ' || s[0] == '\t'))
        s++, len--;
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    if (len != OVL_DATE_LEN || s[4] != '-' || s[7] != '-')
        return false;
    if (!two(s, &hi) || !two(s + 2, &lo) || !two(s + 5, m) || !two(s + 8, d))
        return false;
    *y = hi * 100 + lo;
    return *m >= 1 && *m <= 12 && *d >= 1 && *d <= month_days(*y, *m);
}

ovl_err ovl_date_trunc(char out[static OVL_DATE_LEN + 1], ovl_trunc unit, const char *s,
                       size_t len)
{
    int64_t y;
    int m, d;
    if (!parse(s, len, &y, &m, &d))
        return ovl_err_set(OVL_ERR_INPUT, "DATE_TRUNC: not a date (YYYY-MM-DD)");
    if (unit == OVL_TRUNC_MONTH) {
        d = 1;
    } else if (unit == OVL_TRUNC_WEEK) {
        int64_t n = day_number(y, m, d);
        int64_t since_monday = n + 2 - floor_div(n + 2, 7) * 7; /* day 0 is a Wednesday */
        if (n - since_monday < day_number(0, 1, 1))
            return ovl_err_set(OVL_ERR_INPUT, "DATE_TRUNC: the week starts before year 0000");
        n -= since_monday;
        if (n < 0) { /* January or February of year 0 */
            y = 0;
            m = n < -31 ? 1 : 2;
            d = (int)(n - day_number(0, m, 1)) + 1;
        } else {
            civil(n, &y, &m, &d);
        }
    }
    const int v[3] = {(int)y, m, d}, width[3] = {4, 2, 2};
    for (int f = 0, o = 0; f < 3; f++) {
        for (int i = width[f] - 1, x = v[f]; i >= 0; i--, x /= 10)
            out[o + i] = (char)('0' + x % 10);
        o += width[f];
        if (f < 2)
            out[o++] = '-';
    }
    out[OVL_DATE_LEN] = '\0';
    return OVL_OK;
}
