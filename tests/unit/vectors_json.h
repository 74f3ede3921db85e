/* JSON pieces shared by the seeded vector builders (*_vectors.h), which the
 * generator (tests/tools/gen_vectors.c) and the replay tests both include. */
#ifndef OVL_VECTORS_JSON_H
#define OVL_VECTORS_JSON_H

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/mem.h"

/* Bytes as a lower-case hex JSON string; a vector builder has no error path,
 * so running out of memory ends the program. */
static inline json_t *vj_hex(const void *p, size_t n)
{
    char *hex = malloc(2 * n + 1);
    if (hex == NULL)
        abort();
    ovl_hex_encode(hex, p, n);
    json_t *s = json_string(hex);
    free(hex);
    return s;
}

#endif
