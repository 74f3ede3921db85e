#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/guard.h"
#include "crypto/r255x8.h"

int ovl_cli_exit_code(ovl_err e)
{
    switch (e) {
    case OVL_OK:
        return 0;
    case OVL_ERR_USAGE:
        return 2;
    case OVL_ERR_INPUT:
    case OVL_ERR_IO:
        return 3;
    case OVL_ERR_PEER_CLOSED:
    case OVL_ERR_TIMEOUT:
    case OVL_ERR_TLS:
    case OVL_ERR_AUTH:
    case OVL_ERR_NET:
        return 4;
    case OVL_ERR_PROTOCOL:
    case OVL_ERR_MALFORMED:
    case OVL_ERR_CRYPTO:
    case OVL_ERR_LIMIT:
        return 5;
    case OVL_ERR_POLICY:
        return 6;
    default:
        return 1;
    }
}

int ovl_cli_fail(ovl_err e)
{
    const char *d = ovl_err_detail();
    /* One line, always: fold any newline a lower layer let through. */
    fputs("overlap: error: ", stderr);
    for (const char *p = *d ? d : ovl_err_name(e); *p; p++)
        fputc(*p == '\n' || *p == '\r' ? ' ' : *p, stderr);
    fputc('\n', stderr);
    return ovl_cli_exit_code(e);
}

ovl_err ovl_cli_arith(const char *s)
{
    int a = ovl_arith_parse(s);
    if (a < 0)
        return ovl_err_set(OVL_ERR_USAGE, "--arith expects auto, portable or ifma, got '%s'", s);
    if (ovl_arith_select((ovl_arith)a) != 0)
        return ovl_err_set(OVL_ERR_USAGE, "--arith ifma: this CPU or OS cannot run AVX-512 IFMA "
                                          "(use auto or portable)");
    return OVL_OK;
}

ovl_err ovl_cli_uint(const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    if (*s < '0' || *s > '9')
        return ovl_err_set(OVL_ERR_USAGE, "%s expects a whole number, got '%s'", opt, s);
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return ovl_err_set(OVL_ERR_USAGE, "%s expects a whole number from %llu to %llu, got '%s'",
                           opt, (unsigned long long)min, (unsigned long long)max, s);
    *out = v;
    return OVL_OK;
}

ovl_err ovl_cli_once_named(const char *cmd, const char *opt, bool *seen)
{
    if (*seen)
        return ovl_err_set(OVL_ERR_USAGE, "%s: %s given twice; it takes one value (state it once)",
                           cmd, opt);
    *seen = true;
    return OVL_OK;
}

ovl_err ovl_cli_once(const char *cmd, const struct option *opts, int c, bool *seen)
{
    for (size_t i = 0; opts[i].name != NULL; i++) {
        if (opts[i].val != c)
            continue;
        if (opts[i].has_arg == no_argument)
            return OVL_OK; /* a flag said twice still says one thing */
        char opt[64];
        snprintf(opt, sizeof opt, "--%s", opts[i].name);
        return ovl_cli_once_named(cmd, opt, &seen[i]);
    }
    return OVL_OK;
}

bool ovl_cli_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return true;
    return false;
}

double ovl_cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

ovl_err ovl_cli_open_connection(ovl_listener **l, ovl_conn **c, const char *listen,
                                const char *connect, const ovl_identity *self,
                                const ovl_pubkey *peer, uint64_t wait_s, uint64_t timeout_s)
{
    ovl_err rc = OVL_OK;
    int wait_ms = (int)(wait_s * 1000);
    if (listen) {
        OVL_TRY(ovl_listen(l, listen));
        /* The bound port is printed even with --quiet: with port 0 it is the
         * only way to learn it. */
        const char *colon = strrchr(listen, ':');
        int hostlen = colon ? (int)(colon - listen) : 0;
        fprintf(stderr, "overlap: listening on %.*s:%u for %s\n", hostlen, listen,
                ovl_listener_port(*l), peer->name);
        OVL_TRY(ovl_accept(c, *l, self, peer, 1, wait_ms, (int)(timeout_s * 1000)));
    } else {
        OVL_TRY(ovl_connect(c, connect, self, peer, wait_ms));
    }
done:
    return rc;
}
