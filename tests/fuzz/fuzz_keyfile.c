/* Key-file parsers on arbitrary bytes: both must fail cleanly or produce a
 * key whose fields are well formed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/identity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ovl_pubkey pk;
    ovl_identity *id = NULL;
    if (ovl_pubkey_parse(&pk, "fuzz.pub", (const char *)data, size) == OVL_OK) {
        size_t n = strnlen(pk.name, sizeof pk.name);
        if (n == 0 || n > OVL_NAME_MAX)
            abort();
    }
    if (ovl_identity_parse(&id, "fuzz.key", (const char *)data, size) == OVL_OK) {
        uint8_t sig[OVL_SIG_LEN];
        static const uint8_t msg[] = "fuzz";
        if (ovl_identity_sign(id, sig, msg, sizeof msg) != OVL_OK ||
            ovl_pubkey_verify(ovl_identity_pub(id), sig, msg, sizeof msg) != OVL_OK)
            abort();
    }
    ovl_identity_free(id);
    return 0;
}
