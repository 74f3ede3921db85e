/* Fuzzes element decoding: 32 peer-supplied bytes through validate and
 * scalar_mult. Neither may crash, and they must agree: scalar_mult succeeds
 * exactly on the encodings validate accepts, and its output validates. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/group.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    /* A fixed non-zero scalar, reduced (< L), so s*P is never the identity. */
    static const uint8_t scalar[OVL_GROUP_MAX_SCALAR] = {0x2a, 0x17, 0x05, 0x99, 0x01};
    if (!ready) {
        if (ovl_crypto_init() != OVL_OK)
            abort();
        ready = 1;
    }
    const ovl_group *g = ovl_group_default();
    uint8_t p[OVL_GROUP_MAX_ELEM] = {0}, out[OVL_GROUP_MAX_ELEM];
    memcpy(p, data, size < g->elem_len ? size : g->elem_len);

    ovl_err valid = g->validate(p);
    ovl_err mult = g->scalar_mult(out, scalar, p);
    if ((valid == OVL_OK) != (mult == OVL_OK))
        abort();
    if (mult == OVL_OK && g->validate(out) != OVL_OK)
        abort();
    return 0;
}
