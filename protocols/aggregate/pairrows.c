/* An owner's rows for cross-party conditions (aggregate/pairrows.h,
 * CONDITIONS.md §2.1 and §3). */
#include <stdbool.h>
#include <string.h>

#include "aggregate/pairrows.h"
#include "core/guard.h"
#include "core/mem.h"
#include "core/sort.h"

static bool leap(uint32_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

/* Leap years in 1 .. y. */
static uint32_t leaps_through(uint32_t y) { return y / 4 - y / 100 + y / 400; }

static const uint16_t month_start[12] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};

static uint32_t month_len(uint32_t y, uint32_t m)
{
    static const uint8_t len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return len[m - 1] + (m == 2 && leap(y));
}

/* Days from 1900-01-01 to y-m-d, for a valid date with y >= 1900. */
static uint32_t days_since_epoch(uint32_t y, uint32_t m, uint32_t d)
{
    uint32_t before_year = 365u * (y - 1900) + leaps_through(y - 1) - leaps_through(1899);
    return before_year + month_start[m - 1] + (m > 2 && leap(y)) + d - 1;
}

static bool digits(const char *s, size_t n, uint32_t *v)
{
    *v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        *v = *v * 10 + (uint32_t)(s[i] - '0');
    }
    return true;
}

ovl_err ovl_pc_day_parse(uint32_t *day, const char *s, size_t len)
{
    uint32_t y, m, d;
    if (len != 10 || s[4] != '-' || s[7] != '-' || !digits(s, 4, &y) || !digits(s + 5, 2, &m) ||
        !digits(s + 8, 2, &d))
        return ovl_err_set(OVL_ERR_INPUT, "not a date of the form YYYY-MM-DD");
    if (m < 1 || m > 12 || d < 1 || d > month_len(y, m))
        return ovl_err_set(OVL_ERR_INPUT, "%.10s is not a calendar date", s);
    if (y < 1900 || days_since_epoch(y, m, d) > OVL_PC_LAST_DAY)
        return ovl_err_set(OVL_ERR_INPUT, "%.10s is outside the dates conditions across parties "
                                          "can compare (" OVL_PC_EPOCH " to 2258-11-11)", s);
    *day = days_since_epoch(y, m, d);
    return OVL_OK;
}

void ovl_pc_day_format(char out[static 11], uint32_t day)
{
    uint32_t y = 1900, m = 1;
    while (day >= 365u + leap(y))
        day -= 365u + leap(y++);
    while (day >= month_len(y, m))
        day -= month_len(y, m++);
    uint32_t v[3] = {y % 10000, m, day + 1}, at = 0;
    static const uint8_t width[3] = {4, 2, 2};
    for (int f = 0; f < 3; f++) {
        for (uint32_t i = width[f]; i-- > 0;) {
            out[at + i] = (char)('0' + v[f] % 10);
            v[f] /= 10;
        }
        at += width[f];
        if (f < 2)
            out[at++] = '-';
    }
    out[10] = 0;
}

ovl_err ovl_pc_word_date(uint64_t *word, uint32_t day, int32_t offset_days)
{
    if (day > OVL_PC_LAST_DAY || offset_days > OVL_PC_MAX_OFFSET ||
        offset_days < -OVL_PC_MAX_OFFSET)
        return ovl_err_set(OVL_ERR_USAGE, "day %u or interval %d days out of range", day,
                           offset_days);
    int64_t w = (int64_t)day + offset_days;
    if (w < 0 || w > (int64_t)OVL_PC_LAST_DAY) {
        char d[11];
        ovl_pc_day_format(d, day);
        return ovl_err_set(OVL_ERR_INPUT, "%s %c %d days leaves the dates conditions across "
                                          "parties can compare (" OVL_PC_EPOCH " to 2258-11-11)",
                           d, offset_days < 0 ? '-' : '+',
                           offset_days < 0 ? -offset_days : offset_days);
    }
    *word = (uint64_t)w;
    return OVL_OK;
}

ovl_err ovl_pc_word_int(uint64_t *word, int64_t value, uint32_t width)
{
    if (width < 2 || width > 64)
        return ovl_err_set(OVL_ERR_USAGE, "condition width %u is not 2 to 64", width);
    if (width < 64) {
        int64_t lim = (int64_t)1 << (width - 1);
        if (value < -lim || value >= lim)
            return ovl_err_set(OVL_ERR_INPUT, "value %lld does not fit the %u-bit words of "
                                              "conditions across parties",
                               (long long)value, width);
        *word = (uint64_t)value & (((uint64_t)1 << width) - 1);
    } else {
        *word = (uint64_t)value;
    }
    return OVL_OK;
}

/* Sort record: id, NULL flag, key with its sign flipped, row, all big-endian,
 * so that byte order is cap order (CONDITIONS.md §3.2). */
#define CAP_REC 21u

static void put_be(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static uint64_t get_be(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

static void cap_record(uint8_t *rec, const ovl_pc_cap_in *in, size_t r)
{
    bool null = in->key == NULL || (in->key_null && in->key_null[r]);
    uint64_t key = in->key && !null ? (uint64_t)in->key[r] ^ ((uint64_t)1 << 63) : 0;
    put_be(rec, in->id[r], 4);
    rec[4] = in->key != NULL && null;
    put_be(rec + 5, key, 8);
    put_be(rec + 13, r, 8);
}

ovl_err ovl_pc_cap_rows(uint8_t *kept, uint32_t *capped, const ovl_pc_cap_in *in)
{
    ovl_err rc = OVL_OK;
    uint8_t *recs = NULL;
    size_t bytes = 0;
    *capped = 0;
    OVL_ENSURE(in->cap >= 1 && in->cap <= OVL_PC_MAX_ROW_CAP, OVL_ERR_USAGE,
               "cap rows %u is not 1 to %u", in->cap, OVL_PC_MAX_ROW_CAP);
    OVL_ENSURE(ovl_mul_ok(in->rows ? in->rows : 1, CAP_REC, &bytes), OVL_ERR_LIMIT,
               "cap rows: %zu rows are too many", in->rows);
    for (size_t r = 0; r < in->rows; r++)
        OVL_ENSURE(in->id[r] < in->nids, OVL_ERR_USAGE, "cap rows: row %zu has identifier %u "
                   "of %u", r, in->id[r], in->nids);
    OVL_TRY(ovl_calloc((void **)&recs, bytes, 1));
    for (size_t r = 0; r < in->rows; r++)
        cap_record(recs + r * CAP_REC, in, r);
    OVL_TRY(ovl_sort_fixed(recs, in->rows, CAP_REC));
    uint32_t run = 0;
    for (size_t k = 0; k < in->rows; k++) {
        const uint8_t *rec = recs + k * CAP_REC;
        bool same = k > 0 && memcmp(rec, rec - CAP_REC, 4) == 0;
        run = same ? run + 1 : 0;
        kept[get_be(rec + 13, 8)] = run < in->cap;
        *capped += run == in->cap; /* counted once, at its first dropped row */
    }
done:
    if (recs)
        ovl_free_secret(recs, bytes);
    return rc;
}
