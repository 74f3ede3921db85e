#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/mem.h"

bool ovl_mul_ok(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a)
        return false;
    *out = a * b;
    return true;
}

bool ovl_add_ok(size_t a, size_t b, size_t *out)
{
    if (b > SIZE_MAX - a)
        return false;
    *out = a + b;
    return true;
}

ovl_err ovl_calloc(void **out, size_t n, size_t size)
{
    size_t total;
    if (!ovl_mul_ok(n, size, &total))
        return ovl_err_set(OVL_ERR_LIMIT, "allocation of %zu x %zu bytes overflows", n, size);
    void *p = calloc(total ? total : 1, 1);
    if (p == NULL)
        return ovl_err_set(OVL_ERR_NOMEM, "out of memory allocating %zu bytes", total);
    *out = p;
    return OVL_OK;
}

ovl_err ovl_reallocarray(void **p, size_t n, size_t size)
{
    size_t total;
    if (!ovl_mul_ok(n, size, &total))
        return ovl_err_set(OVL_ERR_LIMIT, "allocation of %zu x %zu bytes overflows", n, size);
    void *q = realloc(*p, total ? total : 1);
    if (q == NULL)
        return ovl_err_set(OVL_ERR_NOMEM, "out of memory allocating %zu bytes", total);
    *p = q;
    return OVL_OK;
}

void ovl_free_secret(void *p, size_t len)
{
    if (p == NULL)
        return;
    sodium_memzero(p, len);
    free(p);
}

void ovl_hex_encode(char *out, const uint8_t *in, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

int ovl_hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

ovl_err ovl_hex_decode(uint8_t *out, size_t n, const char *hex, size_t hexlen)
{
    if (hexlen != 2 * n)
        return ovl_err_set(OVL_ERR_MALFORMED, "expected %zu hex digits, got %zu", 2 * n, hexlen);
    for (size_t i = 0; i < n; i++) {
        int hi = ovl_hex_digit(hex[2 * i]);
        int lo = ovl_hex_digit(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return ovl_err_set(OVL_ERR_MALFORMED, "invalid hex digit at position %zu",
                               hi < 0 ? 2 * i : 2 * i + 1);
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return OVL_OK;
}
