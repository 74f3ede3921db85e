/* Reading the RFC test vectors of the shared tree ($OVL_SHARED/vectors-rfc,
 * else ../shared/vectors-rfc) for test_group, test_r255x8 and test_xmd. */
#ifndef OVL_RFC_VECTORS_H
#define OVL_RFC_VECTORS_H

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "test.h"

/* The parsed file, or NULL with a failure recorded. */
static inline json_t *load_vectors(const char *file)
{
    const char *shared = getenv("OVL_SHARED");
    char path[4096];
    snprintf(path, sizeof path, "%s/vectors-rfc/%s", shared ? shared : "../shared", file);
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    OVL_T_RECORD(root != NULL, "cannot load %s: %s (line %d)", path, jerr.text, jerr.line);
    return root;
}

/* Decodes exactly n bytes of hex from obj[key]; records a failure otherwise. */
static inline int hex_fixed(json_t *obj, const char *key, uint8_t *out, size_t n)
{
    const char *hex = json_string_value(json_object_get(obj, key));
    int ok = hex != NULL && ovl_hex_decode(out, n, hex, strlen(hex)) == OVL_OK;
    OVL_T_RECORD(ok, "field \"%s\" is missing or not %zu bytes of hex", key, n);
    return ok;
}

#endif
