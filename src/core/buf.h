/* overlap: the one bounded byte buffer used for every parse and serialisation.
 *
 * A buffer is a byte range with a write cursor (end of valid data) and a read
 * cursor. Readers never run past the write cursor; writers never grow past
 * `max`. Integers are big-endian (network order) on the wire.
 * Modelled on s2n-tls's stuffer. */
#ifndef OVERLAP_BUF_H
#define OVERLAP_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

typedef struct {
    uint8_t *data;
    size_t cap;   /* bytes allocated (or length of borrowed memory) */
    size_t max;   /* hard cap for growth; cap <= max */
    size_t wpos;  /* end of valid data */
    size_t rpos;  /* next byte to read; rpos <= wpos */
    bool owned;   /* data was allocated by ovl_buf_alloc */
    bool secret;  /* wipe on every free/realloc */
} ovl_buf;

/* A growable writer: starts with `initial` bytes, may grow up to `max`. */
ovl_err ovl_buf_alloc(ovl_buf *b, size_t initial, size_t max) OVL_MUST_USE;
/* Same, but the contents are wiped whenever memory is released. */
ovl_err ovl_buf_alloc_secret(ovl_buf *b, size_t initial, size_t max) OVL_MUST_USE;
/* A reader over borrowed bytes [p, p+n); nothing is copied or freed. */
void ovl_buf_reader(ovl_buf *b, const uint8_t *p, size_t n);
/* A fixed-size writer over borrowed memory. */
void ovl_buf_writer(ovl_buf *b, uint8_t *p, size_t n);
/* Releases owned memory (wiping it when secret) and zeroes the struct. */
void ovl_buf_free(ovl_buf *b);

static inline size_t ovl_buf_remaining(const ovl_buf *b) { return b->wpos - b->rpos; }
static inline const uint8_t *ovl_buf_rptr(const ovl_buf *b) { return b->data + b->rpos; }
static inline size_t ovl_buf_len(const ovl_buf *b) { return b->wpos; }
/* Forgets all contents, keeping the memory. */
void ovl_buf_clear(ovl_buf *b);
/* Moves unread bytes to the front so a stream buffer can be refilled. */
void ovl_buf_compact(ovl_buf *b);

/* Writers. Each fails with OVL_ERR_LIMIT when it would exceed `max`. */
ovl_err ovl_buf_put_u8(ovl_buf *b, uint8_t v) OVL_MUST_USE;
ovl_err ovl_buf_put_u16(ovl_buf *b, uint16_t v) OVL_MUST_USE;
ovl_err ovl_buf_put_u32(ovl_buf *b, uint32_t v) OVL_MUST_USE;
ovl_err ovl_buf_put_u64(ovl_buf *b, uint64_t v) OVL_MUST_USE;
ovl_err ovl_buf_put_bytes(ovl_buf *b, const void *p, size_t n) OVL_MUST_USE;
/* Appends n bytes of space and returns a pointer to them for the caller to fill. */
ovl_err ovl_buf_reserve(ovl_buf *b, size_t n, uint8_t **out) OVL_MUST_USE;
/* Ensures room for n more bytes without writing them (the pointer stays valid
 * until the next write). */
ovl_err ovl_buf_ensure(ovl_buf *b, size_t n) OVL_MUST_USE;

/* Length prefixes: reserve a u32 (or u16) slot now, fill it once the body is written. */
ovl_err ovl_buf_begin_len32(ovl_buf *b, size_t *mark) OVL_MUST_USE;
ovl_err ovl_buf_end_len32(ovl_buf *b, size_t mark) OVL_MUST_USE;
ovl_err ovl_buf_begin_len16(ovl_buf *b, size_t *mark) OVL_MUST_USE;
ovl_err ovl_buf_end_len16(ovl_buf *b, size_t mark) OVL_MUST_USE;

/* Readers. Each fails with OVL_ERR_MALFORMED on a short read and then
 * consumes nothing. */
ovl_err ovl_buf_get_u8(ovl_buf *b, uint8_t *v) OVL_MUST_USE;
ovl_err ovl_buf_get_u16(ovl_buf *b, uint16_t *v) OVL_MUST_USE;
ovl_err ovl_buf_get_u32(ovl_buf *b, uint32_t *v) OVL_MUST_USE;
ovl_err ovl_buf_get_u64(ovl_buf *b, uint64_t *v) OVL_MUST_USE;
ovl_err ovl_buf_get_bytes(ovl_buf *b, void *out, size_t n) OVL_MUST_USE;
/* Zero-copy: points *p at the next n bytes and consumes them. */
ovl_err ovl_buf_get_ptr(ovl_buf *b, size_t n, const uint8_t **p) OVL_MUST_USE;
ovl_err ovl_buf_skip(ovl_buf *b, size_t n) OVL_MUST_USE;
/* A child reader over the next n bytes (consumed from the parent). */
ovl_err ovl_buf_get_sub(ovl_buf *b, size_t n, ovl_buf *child) OVL_MUST_USE;
/* Child readers over a u16/u32 length-prefixed field, the length checked
 * against `cap` before anything else. */
ovl_err ovl_buf_get_sub16(ovl_buf *b, size_t cap, ovl_buf *child) OVL_MUST_USE;
ovl_err ovl_buf_get_sub32(ovl_buf *b, size_t cap, ovl_buf *child) OVL_MUST_USE;
/* OVL_ERR_MALFORMED unless every byte was consumed. */
ovl_err ovl_buf_expect_end(const ovl_buf *b) OVL_MUST_USE;

#endif
