/* Fuzz target: the three normalisers and the prehashed decoder over arbitrary
 * bytes, checking the properties both parties rely on. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const ovl_norm kinds[] = {OVL_NORM_NONE, OVL_NORM_EMAIL, OVL_NORM_PHONE};
    const char *in = (const char *)data;
    char out[OVL_NORM_MAX], again[OVL_NORM_MAX];
    uint8_t id[OVL_ID_LEN];
    size_t len, len2;
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        if (ovl_normalize(kinds[k], in, size, out, &len) != OVL_OK)
            continue;
        if (len == 0 || len > OVL_NORM_MAX)
            abort();
        /* Normalising is idempotent: a normalised value maps to itself. */
        if (ovl_normalize(kinds[k], out, len, again, &len2) != OVL_OK || len2 != len ||
            memcmp(out, again, len) != 0)
            abort();
        if (ovl_ident(id, kinds[k], false, in, size) != OVL_OK)
            abort();
    }
    (void)ovl_ident(id, OVL_NORM_NONE, true, in, size);
    return 0;
}
