/* overlap: allocation helpers with overflow checks and wiping. */
#ifndef OVERLAP_MEM_H
#define OVERLAP_MEM_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "core/error.h"

/* calloc(n, size) with an overflow check; OVL_ERR_NOMEM/OVL_ERR_LIMIT on failure. */
ovl_err ovl_calloc(void **out, size_t n, size_t size) OVL_MUST_USE;
/* realloc to n*size bytes with an overflow check; *p unchanged on failure. */
ovl_err ovl_reallocarray(void **p, size_t n, size_t size) OVL_MUST_USE;
/* Wipes `len` bytes at p and frees p (NULL is fine). */
void ovl_free_secret(void *p, size_t len);
/* Overflow-checked a*b and a+b. */
bool ovl_mul_ok(size_t a, size_t b, size_t *out);
bool ovl_add_ok(size_t a, size_t b, size_t *out);

/* Lowercase hex encoding of n bytes into out (2n+1 bytes, NUL-terminated). */
void ovl_hex_encode(char *out, const uint8_t *in, size_t n);
/* The value of one hex digit (either case), or -1. */
int ovl_hex_digit(char c);
/* Decodes exactly 2n hex chars (either case); OVL_ERR_MALFORMED otherwise. */
ovl_err ovl_hex_decode(uint8_t *out, size_t n, const char *hex, size_t hexlen) OVL_MUST_USE;

#endif
