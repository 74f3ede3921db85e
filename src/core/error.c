#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"

enum { DETAIL_MAX = 512 };
static _Thread_local char detail[DETAIL_MAX];

static const char *const names[] = {
    [OVL_OK] = "ok",
    [OVL_ERR_IO] = "I/O error",
    [OVL_ERR_PEER_CLOSED] = "peer closed the connection",
    [OVL_ERR_TIMEOUT] = "timeout",
    [OVL_ERR_PROTOCOL] = "protocol violation",
    [OVL_ERR_MALFORMED] = "malformed data",
    [OVL_ERR_LIMIT] = "limit exceeded",
    [OVL_ERR_CRYPTO] = "cryptographic failure",
    [OVL_ERR_AUTH] = "authentication failed",
    [OVL_ERR_TLS] = "TLS failure",
    [OVL_ERR_POLICY] = "refused",
    [OVL_ERR_INPUT] = "invalid input",
    [OVL_ERR_USAGE] = "usage error",
    [OVL_ERR_NOMEM] = "out of memory",
    [OVL_ERR_INTERNAL] = "internal error",
    [OVL_ERR_NET] = "network error",
};

const char *ovl_err_name(ovl_err e)
{
    if ((size_t)e >= sizeof names / sizeof names[0] || names[e] == NULL)
        return "unknown error";
    return names[e];
}

ovl_err ovl_err_set(ovl_err e, const char *fmt, ...)
{
    /* Formatted aside first: an argument may be the current detail itself
     * (ovl_err_set(e, "%s", ovl_err_detail()) re-categorises an error). */
    char text[sizeof detail];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    memcpy(detail, text, sizeof text);
    return e;
}

ovl_err ovl_err_wrap(ovl_err e, const char *fmt, ...)
{
    char prefix[DETAIL_MAX];
    char old[DETAIL_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, detail, sizeof old);
    if (old[0] == '\0')
        snprintf(old, sizeof old, "%s", ovl_err_name(e));
    size_t plen = strnlen(prefix, sizeof prefix - 1);
    memcpy(detail, prefix, plen);
    size_t room = sizeof detail - plen - 1;
    size_t olen = strnlen(old, room);
    memcpy(detail + plen, old, olen);
    detail[plen + olen] = '\0';
    return e;
}

const char *ovl_err_detail(void) { return detail; }

void ovl_err_clear(void) { detail[0] = '\0'; }
