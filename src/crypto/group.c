/* The table of built-in suites, looked up by wire id or by --suite name. */
#include <string.h>

#include <sodium.h>

#include "crypto/r255x8.h"
#include "crypto/suites.h"

/* The first entry is the default suite. */
static const ovl_group *const suites[] = {
    &ovl_suite_ristretto255,
};

enum { SUITE_COUNT = sizeof suites / sizeof suites[0] };

_Static_assert(crypto_core_ristretto255_BYTES <= OVL_GROUP_MAX_ELEM, "element bound too small");
_Static_assert(crypto_core_ristretto255_SCALARBYTES <= OVL_GROUP_MAX_SCALAR,
               "scalar bound too small");

const ovl_group *ovl_group_by_id(uint16_t id)
{
    for (size_t i = 0; i < SUITE_COUNT; i++) {
        if ((uint16_t)suites[i]->id == id)
            return suites[i];
    }
    return NULL;
}

const ovl_group *ovl_group_by_name(const char *name)
{
    if (name == NULL)
        return NULL;
    for (size_t i = 0; i < SUITE_COUNT; i++) {
        if (strcmp(suites[i]->name, name) == 0)
            return suites[i];
    }
    return NULL;
}

const ovl_group *ovl_group_default(void)
{
    return suites[0];
}

ovl_err ovl_crypto_init(void)
{
    /* 0 on first success, 1 when already initialised, -1 on failure. */
    if (sodium_init() < 0)
        return ovl_err_set(OVL_ERR_CRYPTO, "libsodium failed to initialise");
    const char *arith;
    int r = ovl_arith_from_env(&arith);
    if (r == -1)
        return ovl_err_set(OVL_ERR_USAGE, "OVL_ARITH=%s: expected auto, portable or ifma", arith);
    if (r == -2)
        return ovl_err_set(OVL_ERR_USAGE,
                           "OVL_ARITH=ifma: this CPU or OS cannot run AVX-512 IFMA "
                           "(use auto or portable)");
    return OVL_OK;
}
