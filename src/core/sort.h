/* overlap: sorting and searching arrays of fixed-width byte strings (tags,
 * identifiers), compared as big-endian numbers (memcmp order). */
#ifndef OVERLAP_SORT_H
#define OVERLAP_SORT_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* Stable LSD radix sort of n records of `width` bytes (1..64). Uses n*width
 * bytes of scratch memory. */
ovl_err ovl_sort_fixed(uint8_t *base, size_t n, size_t width) OVL_MUST_USE;
/* Index of key in a sorted array, or SIZE_MAX. */
size_t ovl_search_fixed(const uint8_t *base, size_t n, size_t width, const uint8_t *key);
/* Index of a record whose first key_len (<= width) bytes equal key, in an array
 * sorted on them, or SIZE_MAX (records carrying a payload after their key). */
size_t ovl_search_prefix(const uint8_t *base, size_t n, size_t width, const uint8_t *key,
                         size_t key_len);
/* Index of the first record equal to its successor, or SIZE_MAX. */
size_t ovl_find_adjacent_dup(const uint8_t *base, size_t n, size_t width);

#endif
