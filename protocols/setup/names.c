#include <string.h>

#include "common/proto.h"

const char *ovl_role_name(ovl_role r)
{
    return r == OVL_ROLE_LISTENER ? "listener" : r == OVL_ROLE_CONNECTOR ? "connector" : "unknown";
}

const char *ovl_mode_name(ovl_mode m)
{
    switch (m) {
    case OVL_MODE_INTERSECTION:
        return "intersection";
    case OVL_MODE_CARDINALITY:
        return "cardinality";
    case OVL_MODE_AGGREGATE:
        return "aggregate";
    }
    return "unknown";
}

const char *ovl_reveal_name(ovl_reveal r)
{
    switch (r) {
    case OVL_REVEAL_BOTH:
        return "both";
    case OVL_REVEAL_LISTENER:
        return "listener";
    case OVL_REVEAL_CONNECTOR:
        return "connector";
    }
    return "unknown";
}

ovl_err ovl_mode_parse(ovl_mode *out, const char *s)
{
    static const ovl_mode all[] = {OVL_MODE_INTERSECTION, OVL_MODE_CARDINALITY, OVL_MODE_AGGREGATE};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (strcmp(s, ovl_mode_name(all[i])) == 0) {
            *out = all[i];
            return OVL_OK;
        }
    return ovl_err_set(OVL_ERR_USAGE,
                       "unknown --mode '%s' (expected intersection, cardinality or aggregate)", s);
}

ovl_err ovl_reveal_parse(ovl_reveal *out, const char *s)
{
    static const ovl_reveal all[] = {OVL_REVEAL_BOTH, OVL_REVEAL_LISTENER, OVL_REVEAL_CONNECTOR};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (strcmp(s, ovl_reveal_name(all[i])) == 0) {
            *out = all[i];
            return OVL_OK;
        }
    return ovl_err_set(OVL_ERR_USAGE,
                       "unknown --reveal '%s' (expected both, listener or connector)", s);
}

bool ovl_reveal_includes(ovl_reveal reveal, ovl_role role)
{
    return reveal == OVL_REVEAL_BOTH || (reveal == OVL_REVEAL_LISTENER && role == OVL_ROLE_LISTENER) ||
           (reveal == OVL_REVEAL_CONNECTOR && role == OVL_ROLE_CONNECTOR);
}
