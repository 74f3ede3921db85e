#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/mem.h"
#include "core/sort.h"

ovl_err ovl_sort_fixed(uint8_t *base, size_t n, size_t width)
{
    if (width == 0 || width > 64)
        return ovl_err_set(OVL_ERR_INTERNAL, "sort width %zu out of range", width);
    if (n < 2)
        return OVL_OK;
    uint8_t *tmp = NULL;
    ovl_err rc = ovl_calloc((void **)&tmp, n, width);
    if (rc != OVL_OK)
        return rc;
    uint8_t *src = base, *dst = tmp;
    size_t count[256];
    /* Least significant byte first; each pass is stable, so the result is
     * ordered by the whole record. */
    for (size_t byte = width; byte-- > 0;) {
        memset(count, 0, sizeof count);
        for (size_t i = 0; i < n; i++)
            count[src[i * width + byte]]++;
        if (count[src[byte]] == n)
            continue; /* every record has the same byte here */
        size_t sum = 0;
        for (size_t v = 0; v < 256; v++) {
            size_t c = count[v];
            count[v] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            memcpy(dst + count[src[i * width + byte]]++ * width, src + i * width, width);
        uint8_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != base)
        memcpy(base, src, n * width);
    /* Sorted records may be identifiers derived from personal data. */
    ovl_free_secret(tmp, n * width);
    return OVL_OK;
}

size_t ovl_search_fixed(const uint8_t *base, size_t n, size_t width, const uint8_t *key)
{
    return ovl_search_prefix(base, n, width, key, width);
}

size_t ovl_search_prefix(const uint8_t *base, size_t n, size_t width, const uint8_t *key,
                         size_t key_len)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = memcmp(base + mid * width, key, key_len);
        if (c == 0)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return SIZE_MAX;
}

size_t ovl_find_adjacent_dup(const uint8_t *base, size_t n, size_t width)
{
    for (size_t i = 1; i < n; i++)
        if (memcmp(base + (i - 1) * width, base + i * width, width) == 0)
            return i - 1;
    return SIZE_MAX;
}
