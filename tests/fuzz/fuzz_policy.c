/* Fuzz target: the policy parser over arbitrary bytes; an accepted policy is
 * explained, so every parsed field is read. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ovl_policy *p = NULL;
    char *text = NULL;
    if (ovl_policy_parse(&p, "fuzz.policy.json", (const char *)data, size) != OVL_OK)
        return 0;
    if (ovl_policy_explain(&text, p) == OVL_OK && strlen(text) == 0)
        abort(); /* an explanation is never empty */
    free(text);
    ovl_policy_free(p);
    return 0;
}
