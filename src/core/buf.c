#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/buf.h"
#include "core/mem.h"

static ovl_err buf_alloc(ovl_buf *b, size_t initial, size_t max, bool secret)
{
    memset(b, 0, sizeof *b);
    if (initial > max)
        initial = max;
    b->data = malloc(initial ? initial : 1);
    if (b->data == NULL)
        return ovl_err_set(OVL_ERR_NOMEM, "out of memory allocating a %zu-byte buffer", initial);
    b->cap = initial;
    b->max = max;
    b->owned = true;
    b->secret = secret;
    return OVL_OK;
}

ovl_err ovl_buf_alloc(ovl_buf *b, size_t initial, size_t max)
{
    return buf_alloc(b, initial, max, false);
}

ovl_err ovl_buf_alloc_secret(ovl_buf *b, size_t initial, size_t max)
{
    return buf_alloc(b, initial, max, true);
}

void ovl_buf_reader(ovl_buf *b, const uint8_t *p, size_t n)
{
    memset(b, 0, sizeof *b);
    /* Readers never write through data; the cast keeps one struct for both roles. */
    b->data = (uint8_t *)(uintptr_t)p;
    b->cap = b->max = b->wpos = n;
}

void ovl_buf_writer(ovl_buf *b, uint8_t *p, size_t n)
{
    memset(b, 0, sizeof *b);
    b->data = p;
    b->cap = b->max = n;
}

void ovl_buf_free(ovl_buf *b)
{
    if (b->owned && b->data != NULL) {
        if (b->secret)
            sodium_memzero(b->data, b->cap);
        free(b->data);
    }
    memset(b, 0, sizeof *b);
}

void ovl_buf_clear(ovl_buf *b)
{
    if (b->secret)
        sodium_memzero(b->data, b->wpos);
    b->rpos = b->wpos = 0;
}

void ovl_buf_compact(ovl_buf *b)
{
    size_t left = b->wpos - b->rpos;
    if (b->rpos == 0)
        return;
    memmove(b->data, b->data + b->rpos, left);
    if (b->secret)
        sodium_memzero(b->data + left, b->wpos - left);
    b->rpos = 0;
    b->wpos = left;
}

ovl_err ovl_buf_ensure(ovl_buf *b, size_t n)
{
    size_t need;
    if (!ovl_add_ok(b->wpos, n, &need) || need > b->max)
        return ovl_err_set(OVL_ERR_LIMIT, "buffer limit of %zu bytes exceeded", b->max);
    if (need <= b->cap)
        return OVL_OK;
    if (!b->owned)
        return ovl_err_set(OVL_ERR_INTERNAL, "fixed buffer of %zu bytes is full", b->cap);
    size_t ncap = b->cap < 64 ? 64 : b->cap;
    while (ncap < need)
        ncap = ncap > b->max / 2 ? b->max : ncap * 2;
    uint8_t *p = malloc(ncap);
    if (p == NULL)
        return ovl_err_set(OVL_ERR_NOMEM, "out of memory growing a buffer to %zu bytes", ncap);
    memcpy(p, b->data, b->wpos);
    if (b->secret)
        sodium_memzero(b->data, b->cap);
    free(b->data);
    b->data = p;
    b->cap = ncap;
    return OVL_OK;
}

ovl_err ovl_buf_reserve(ovl_buf *b, size_t n, uint8_t **out)
{
    ovl_err rc = ovl_buf_ensure(b, n);
    if (rc != OVL_OK)
        return rc;
    *out = b->data + b->wpos;
    b->wpos += n;
    return OVL_OK;
}

ovl_err ovl_buf_put_bytes(ovl_buf *b, const void *p, size_t n)
{
    uint8_t *dst = NULL;
    ovl_err rc = ovl_buf_reserve(b, n, &dst);
    if (rc == OVL_OK && n > 0)
        memcpy(dst, p, n);
    return rc;
}

static ovl_err put_be(ovl_buf *b, uint64_t v, size_t width)
{
    uint8_t *dst = NULL;
    ovl_err rc = ovl_buf_reserve(b, width, &dst);
    if (rc != OVL_OK)
        return rc;
    for (size_t i = 0; i < width; i++)
        dst[i] = (uint8_t)(v >> (8 * (width - 1 - i)));
    return OVL_OK;
}

ovl_err ovl_buf_put_u8(ovl_buf *b, uint8_t v) { return put_be(b, v, 1); }
ovl_err ovl_buf_put_u16(ovl_buf *b, uint16_t v) { return put_be(b, v, 2); }
ovl_err ovl_buf_put_u32(ovl_buf *b, uint32_t v) { return put_be(b, v, 4); }
ovl_err ovl_buf_put_u64(ovl_buf *b, uint64_t v) { return put_be(b, v, 8); }

static ovl_err begin_len(ovl_buf *b, size_t *mark, size_t width)
{
    *mark = b->wpos;
    return put_be(b, 0, width);
}

static ovl_err end_len(ovl_buf *b, size_t mark, size_t width, uint64_t limit)
{
    if (mark + width > b->wpos)
        return ovl_err_set(OVL_ERR_INTERNAL, "length mark beyond the written data");
    size_t body = b->wpos - mark - width;
    if (body > limit)
        return ovl_err_set(OVL_ERR_LIMIT, "field of %zu bytes exceeds its length prefix", body);
    for (size_t i = 0; i < width; i++)
        b->data[mark + i] = (uint8_t)((uint64_t)body >> (8 * (width - 1 - i)));
    return OVL_OK;
}

ovl_err ovl_buf_begin_len32(ovl_buf *b, size_t *mark) { return begin_len(b, mark, 4); }
ovl_err ovl_buf_end_len32(ovl_buf *b, size_t mark) { return end_len(b, mark, 4, UINT32_MAX); }
ovl_err ovl_buf_begin_len16(ovl_buf *b, size_t *mark) { return begin_len(b, mark, 2); }
ovl_err ovl_buf_end_len16(ovl_buf *b, size_t mark) { return end_len(b, mark, 2, UINT16_MAX); }

static ovl_err short_read(const ovl_buf *b, size_t n)
{
    return ovl_err_set(OVL_ERR_MALFORMED, "truncated: needed %zu bytes, %zu left", n,
                       ovl_buf_remaining(b));
}

ovl_err ovl_buf_get_ptr(ovl_buf *b, size_t n, const uint8_t **p)
{
    if (n > ovl_buf_remaining(b))
        return short_read(b, n);
    *p = b->data + b->rpos;
    b->rpos += n;
    return OVL_OK;
}

ovl_err ovl_buf_skip(ovl_buf *b, size_t n)
{
    const uint8_t *p = NULL;
    return ovl_buf_get_ptr(b, n, &p);
}

ovl_err ovl_buf_get_bytes(ovl_buf *b, void *out, size_t n)
{
    const uint8_t *p = NULL;
    ovl_err rc = ovl_buf_get_ptr(b, n, &p);
    if (rc == OVL_OK && n > 0)
        memcpy(out, p, n);
    return rc;
}

static ovl_err get_be(ovl_buf *b, uint64_t *v, size_t width)
{
    const uint8_t *p = NULL;
    ovl_err rc = ovl_buf_get_ptr(b, width, &p);
    if (rc != OVL_OK)
        return rc;
    uint64_t x = 0;
    for (size_t i = 0; i < width; i++)
        x = x << 8 | p[i];
    *v = x;
    return OVL_OK;
}

ovl_err ovl_buf_get_u8(ovl_buf *b, uint8_t *v)
{
    uint64_t x;
    ovl_err rc = get_be(b, &x, 1);
    if (rc == OVL_OK)
        *v = (uint8_t)x;
    return rc;
}

ovl_err ovl_buf_get_u16(ovl_buf *b, uint16_t *v)
{
    uint64_t x;
    ovl_err rc = get_be(b, &x, 2);
    if (rc == OVL_OK)
        *v = (uint16_t)x;
    return rc;
}

ovl_err ovl_buf_get_u32(ovl_buf *b, uint32_t *v)
{
    uint64_t x;
    ovl_err rc = get_be(b, &x, 4);
    if (rc == OVL_OK)
        *v = (uint32_t)x;
    return rc;
}

ovl_err ovl_buf_get_u64(ovl_buf *b, uint64_t *v) { return get_be(b, v, 8); }

ovl_err ovl_buf_get_sub(ovl_buf *b, size_t n, ovl_buf *child)
{
    const uint8_t *p = NULL;
    ovl_err rc = ovl_buf_get_ptr(b, n, &p);
    if (rc == OVL_OK)
        ovl_buf_reader(child, p, n);
    return rc;
}

static ovl_err get_sub_len(ovl_buf *b, size_t width, size_t cap, ovl_buf *child)
{
    size_t save = b->rpos;
    uint64_t n;
    ovl_err rc = get_be(b, &n, width);
    if (rc != OVL_OK)
        return rc;
    if (n > cap) {
        b->rpos = save;
        return ovl_err_set(OVL_ERR_LIMIT, "field claims %llu bytes, cap is %zu",
                           (unsigned long long)n, cap);
    }
    rc = ovl_buf_get_sub(b, (size_t)n, child);
    if (rc != OVL_OK)
        b->rpos = save;
    return rc;
}

ovl_err ovl_buf_get_sub16(ovl_buf *b, size_t cap, ovl_buf *child)
{
    return get_sub_len(b, 2, cap, child);
}

ovl_err ovl_buf_get_sub32(ovl_buf *b, size_t cap, ovl_buf *child)
{
    return get_sub_len(b, 4, cap, child);
}

ovl_err ovl_buf_expect_end(const ovl_buf *b)
{
    if (ovl_buf_remaining(b) != 0)
        return ovl_err_set(OVL_ERR_MALFORMED, "%zu unexpected trailing bytes",
                           ovl_buf_remaining(b));
    return OVL_OK;
}
