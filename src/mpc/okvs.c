/* overlap: the 3-hash garbled cuckoo table (okvs.h, src/mpc/SPEC.md §9). */
#include "mpc/okvs.h"

#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/guard.h"
#include "core/mem.h"
#include "mpc/hash.h"

#define CHUNK 1024u

/* The wire's big-endian words. */
static inline void put_be64(uint8_t *p, uint64_t v)
{
    uint64_t b = htobe64(v);
    memcpy(p, &b, 8);
}

static inline uint64_t get_be64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return be64toh(v);
}

static uint32_t segment(size_t n) { return (uint32_t)((13u * n + 29u) / 30u + 8u); }

uint32_t ovl_okvs_rows(size_t n) { return 3u * segment(n); }

size_t ovl_okvs_wire_len(size_t n, size_t w)
{
    return OVL_OKVS_HDR + (size_t)ovl_okvs_rows(n) * w * 8u;
}

/* Maps a 32-bit draw onto [0, s) by multiply-high: the bias is below s/2^32,
 * irrelevant for a table index. */
static uint32_t reduce(uint32_t x, uint32_t s) { return (uint32_t)(((uint64_t)x * s) >> 32); }

static ovl_err positions(const uint8_t seed[16], uint32_t rows, uint32_t *pos,
                         const ovl_block *keys, size_t n)
{
    ovl_err rc = OVL_OK;
    ovl_aes aes = {0};
    ovl_block h[CHUNK];
    uint32_t s = rows / 3u;
    OVL_TRY(ovl_aes_init(&aes, seed));
    for (size_t at = 0; at < n; at += CHUNK) {
        size_t k = n - at < CHUNK ? n - at : CHUNK;
        OVL_TRY(ovl_aes_ecb(&aes, h, keys + at, k));
        for (size_t i = 0; i < k; i++) {
            uint64_t lo = ovl_block_lo(h[i]), hi = ovl_block_hi(h[i]);
            uint32_t *p = pos + 3u * (at + i);
            p[0] = reduce((uint32_t)lo, s);
            p[1] = s + reduce((uint32_t)(lo >> 32), s);
            p[2] = 2u * s + reduce((uint32_t)hi, s);
        }
    }
done:
    ovl_aes_free(&aes);
    sodium_memzero(h, sizeof h);
    return rc;
}

ovl_err ovl_okvs_positions(const ovl_okvs *o, uint32_t *pos, const ovl_block *keys, size_t n)
{
    return positions(o->seed, o->rows, pos, keys, n);
}

/* Peels the hypergraph (rows = vertices, keys = 3-edges): repeatedly takes a
 * row that exactly one remaining key touches. A row's count reaches 1 at most
 * once, so the stack never holds more than rows entries. order[i] is the i-th
 * key peeled and free_row[i] the row it owns. */
typedef struct {
    uint32_t *count, *idx, *stack, *order, *free_row;
} peel_work;

static bool peel(peel_work *pw, const uint32_t *pos, size_t n, uint32_t rows)
{
    size_t top = 0, peeled = 0;
    memset(pw->count, 0, rows * sizeof *pw->count);
    memset(pw->idx, 0, rows * sizeof *pw->idx);
    for (size_t k = 0; k < n; k++)
        for (unsigned j = 0; j < 3; j++) {
            pw->count[pos[3 * k + j]]++;
            pw->idx[pos[3 * k + j]] ^= (uint32_t)k;
        }
    for (uint32_t r = 0; r < rows; r++)
        if (pw->count[r] == 1)
            pw->stack[top++] = r;
    while (top > 0) {
        uint32_t r = pw->stack[--top];
        if (pw->count[r] != 1)
            continue;
        uint32_t k = pw->idx[r];
        pw->order[peeled] = k;
        pw->free_row[peeled++] = r;
        for (unsigned j = 0; j < 3; j++) {
            uint32_t q = pos[3 * (size_t)k + j];
            pw->idx[q] ^= k;
            if (--pw->count[q] == 1)
                pw->stack[top++] = q;
        }
    }
    return peeled == n;
}

/* Back-substitution in reverse peeling order: the row key order[i] owns is
 * touched by no key peeled after it, so later assignments never disturb it.
 * Words are independent, so ranges of them can be assigned apart. */
void ovl_okvs_plan_assign(ovl_okvs *o, const ovl_okvs_plan *plan, const uint64_t *vals, size_t w0,
                          size_t w1)
{
    size_t w = o->words;
    const uint32_t *pos = plan->pos;
    for (size_t i = plan->n; i-- > 0;) {
        uint32_t k = plan->order[i], r = plan->free_row[i];
        uint64_t *dst = o->table + (size_t)r * w;
        memcpy(dst + w0, vals + (size_t)k * w + w0, (w1 - w0) * sizeof *dst);
        for (unsigned j = 0; j < 3; j++) {
            uint32_t q = pos[3 * (size_t)k + j];
            if (q == r)
                continue;
            const uint64_t *src = o->table + (size_t)q * w;
            for (size_t t = w0; t < w1; t++)
                dst[t] ^= src[t];
        }
    }
}

static ovl_err alloc_work(peel_work *pw, uint32_t **pos, size_t n, uint32_t rows)
{
    ovl_err rc = OVL_OK;
    OVL_TRY(ovl_calloc((void **)pos, 3u * (n ? n : 1), sizeof **pos));
    OVL_TRY(ovl_calloc((void **)&pw->count, rows, sizeof *pw->count));
    OVL_TRY(ovl_calloc((void **)&pw->idx, rows, sizeof *pw->idx));
    OVL_TRY(ovl_calloc((void **)&pw->stack, rows, sizeof *pw->stack));
    OVL_TRY(ovl_calloc((void **)&pw->order, n ? n : 1, sizeof *pw->order));
    OVL_TRY(ovl_calloc((void **)&pw->free_row, n ? n : 1, sizeof *pw->free_row));
done:
    return rc;
}

void ovl_okvs_plan_free(ovl_okvs_plan *plan)
{
    free(plan->pos);
    free(plan->order);
    free(plan->free_row);
    memset(plan, 0, sizeof *plan);
}

ovl_err ovl_okvs_plan_make(ovl_okvs *out, ovl_okvs_plan *plan, const ovl_block *keys, size_t n,
                           size_t w, ovl_rng *rng)
{
    ovl_err rc = OVL_OK;
    peel_work pw = {0};
    uint32_t *pos = NULL;
    ovl_okvs o = {0};
    bool ok = false;
    memset(out, 0, sizeof *out);
    memset(plan, 0, sizeof *plan);
    OVL_ENSURE(n <= OVL_OKVS_MAX_KEYS, OVL_ERR_LIMIT, "okvs: %zu keys exceed the cap %u", n,
               OVL_OKVS_MAX_KEYS);
    OVL_ENSURE(w >= 1 && w <= OVL_OKVS_MAX_WORDS, OVL_ERR_USAGE,
               "okvs: %zu words per value outside 1..%u", w, OVL_OKVS_MAX_WORDS);
    o.rows = ovl_okvs_rows(n);
    o.words = (uint32_t)w;
    OVL_TRY(alloc_work(&pw, &pos, n, o.rows));
    for (unsigned attempt = 0; attempt < OVL_OKVS_SEEDS && !ok; attempt++) {
        ovl_rng_bytes(rng, o.seed, sizeof o.seed);
        OVL_TRY(positions(o.seed, o.rows, pos, keys, n));
        ok = peel(&pw, pos, n, o.rows);
    }
    OVL_ENSURE(ok, OVL_ERR_CRYPTO,
               "okvs: no seed of %u peels the %zu keys (are they distinct?)", OVL_OKVS_SEEDS, n);
    OVL_TRY(ovl_calloc((void **)&o.table, (size_t)o.rows * w, sizeof *o.table));
    ovl_rng_bytes(rng, o.table, (size_t)o.rows * w * sizeof *o.table);
    plan->pos = pos;
    plan->order = pw.order;
    plan->free_row = pw.free_row;
    plan->n = n;
    pos = NULL;
    pw.order = pw.free_row = NULL;
    *out = o;
    o.table = NULL;
done:
    free(pos);
    free(pw.count);
    free(pw.idx);
    free(pw.stack);
    free(pw.order);
    free(pw.free_row);
    free(o.table);
    return rc;
}

ovl_err ovl_okvs_encode(ovl_okvs *out, const ovl_block *keys, const uint64_t *vals, size_t n,
                        size_t w, ovl_rng *rng)
{
    ovl_err rc = OVL_OK;
    ovl_okvs_plan plan;
    OVL_TRY(ovl_okvs_plan_make(out, &plan, keys, n, w, rng));
    ovl_okvs_plan_assign(out, &plan, vals, 0, w);
    ovl_okvs_plan_free(&plan);
done:
    return rc;
}

ovl_err ovl_okvs_decode(const ovl_okvs *o, uint64_t *out, const ovl_block *keys, size_t n)
{
    ovl_err rc = OVL_OK;
    uint32_t pos[3 * CHUNK];
    size_t w = o->words;
    for (size_t at = 0; at < n; at += CHUNK) {
        size_t k = n - at < CHUNK ? n - at : CHUNK;
        OVL_TRY(positions(o->seed, o->rows, pos, keys + at, k));
        for (size_t i = 0; i < k; i++) {
            uint64_t *dst = out + (at + i) * w;
            const uint64_t *a = o->table + (size_t)pos[3 * i] * w;
            const uint64_t *b = o->table + (size_t)pos[3 * i + 1] * w;
            const uint64_t *c = o->table + (size_t)pos[3 * i + 2] * w;
            for (size_t t = 0; t < w; t++)
                dst[t] = a[t] ^ b[t] ^ c[t];
        }
    }
done:
    return rc;
}

ovl_err ovl_okvs_write(const ovl_okvs *o, ovl_buf *out)
{
    ovl_err rc = OVL_OK;
    size_t len = OVL_OKVS_HDR + (size_t)o->rows * o->words * 8u;
    uint8_t *p = NULL;
    OVL_TRY(ovl_buf_reserve(out, len, &p));
    ovl_okvs_wire_slice(o, 0, len, p);
done:
    return rc;
}

void ovl_okvs_wire_slice(const ovl_okvs *o, size_t off, size_t len, uint8_t *out)
{
    uint8_t hdr[OVL_OKVS_HDR];
    memcpy(hdr, o->seed, sizeof o->seed);
    for (int i = 0; i < 4; i++)
        hdr[16 + i] = (uint8_t)(o->rows >> (24 - 8 * i));
    hdr[20] = (uint8_t)(o->words >> 8);
    hdr[21] = (uint8_t)o->words;
    while (len > 0 && off < OVL_OKVS_HDR) {
        *out++ = hdr[off++];
        len--;
    }
    size_t b = off - OVL_OKVS_HDR, word = b / 8, in = b % 8;
    if (in != 0 && len > 0) {
        uint8_t w8[8];
        put_be64(w8, o->table[word++]);
        size_t k = 8 - in < len ? 8 - in : len;
        memcpy(out, w8 + in, k);
        out += k;
        len -= k;
    }
    for (; len >= 8; len -= 8, out += 8)
        put_be64(out, o->table[word++]);
    if (len > 0) {
        uint8_t w8[8];
        put_be64(w8, o->table[word]);
        memcpy(out, w8, len);
    }
}

ovl_err ovl_okvs_view_init(ovl_okvs_view *v, const uint8_t *wire, size_t len, size_t n, size_t w)
{
    ovl_err rc = OVL_OK;
    memset(v, 0, sizeof *v);
    OVL_ENSURE(n <= OVL_OKVS_MAX_KEYS && w >= 1 && w <= OVL_OKVS_MAX_WORDS, OVL_ERR_USAGE,
               "okvs: expected shape (%zu keys, %zu words) outside the caps", n, w);
    OVL_ENSURE(len >= OVL_OKVS_HDR, OVL_ERR_MALFORMED, "okvs: table of %zu bytes, no header",
               len);
    uint32_t rows = (uint32_t)wire[16] << 24 | (uint32_t)wire[17] << 16 |
                    (uint32_t)wire[18] << 8 | wire[19];
    unsigned words = (unsigned)wire[20] << 8 | wire[21];
    OVL_ENSURE(rows == ovl_okvs_rows(n) && words == w, OVL_ERR_PROTOCOL,
               "okvs: table of %u rows x %u words where %u x %zu were agreed", rows, words,
               ovl_okvs_rows(n), w);
    OVL_ENSURE(len - OVL_OKVS_HDR == (size_t)rows * w * 8u, OVL_ERR_MALFORMED,
               "okvs: table body of %zu bytes where %zu were announced", len - OVL_OKVS_HDR,
               (size_t)rows * w * 8u);
    memcpy(v->seed, wire, sizeof v->seed);
    v->rows = rows;
    v->words = (uint32_t)w;
    v->body = wire + OVL_OKVS_HDR;
done:
    return rc;
}

ovl_err ovl_okvs_view_decode(const ovl_okvs_view *v, uint64_t *out, const ovl_block *keys,
                             size_t n)
{
    ovl_err rc = OVL_OK;
    uint32_t pos[3 * CHUNK];
    size_t w = v->words;
    for (size_t at = 0; at < n; at += CHUNK) {
        size_t k = n - at < CHUNK ? n - at : CHUNK;
        OVL_TRY(positions(v->seed, v->rows, pos, keys + at, k));
        for (size_t i = 0; i < k; i++) {
            uint64_t *dst = out + (at + i) * w;
            const uint8_t *a = v->body + (size_t)pos[3 * i] * w * 8;
            const uint8_t *b = v->body + (size_t)pos[3 * i + 1] * w * 8;
            const uint8_t *c = v->body + (size_t)pos[3 * i + 2] * w * 8;
            for (size_t t = 0; t < w; t++)
                dst[t] = get_be64(a + 8 * t) ^ get_be64(b + 8 * t) ^ get_be64(c + 8 * t);
        }
    }
done:
    return rc;
}

/* The view's checks, then a copy of the words into a native table. */
ovl_err ovl_okvs_read(ovl_okvs *o, ovl_buf *in, size_t n, size_t w)
{
    ovl_err rc = OVL_OK;
    ovl_okvs_view v;
    ovl_okvs r = {0};
    memset(o, 0, sizeof *o);
    OVL_TRY(ovl_okvs_view_init(&v, ovl_buf_rptr(in), ovl_buf_remaining(in), n, w));
    size_t total = (size_t)v.rows * w;
    OVL_TRY(ovl_calloc((void **)&r.table, total, sizeof *r.table));
    for (size_t i = 0; i < total; i++)
        r.table[i] = get_be64(v.body + 8 * i);
    memcpy(r.seed, v.seed, sizeof r.seed);
    r.rows = v.rows;
    r.words = v.words;
    OVL_TRY(ovl_buf_skip(in, ovl_buf_remaining(in)));
    *o = r;
    r.table = NULL;
done:
    free(r.table);
    return rc;
}

void ovl_okvs_free(ovl_okvs *o)
{
    if (o == NULL)
        return;
    if (o->table != NULL)
        ovl_free_secret(o->table, (size_t)o->rows * o->words * sizeof *o->table);
    memset(o, 0, sizeof *o);
}
