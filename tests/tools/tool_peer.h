/* What the two misbehaving test peers (hostile_peer, modified_peer) share:
 * the options both take, the usage line that lists a tool's cases, and the
 * identifiers they hold, SHA-256("user<i>@example.com") for i < n, which the
 * e2e tests give the honest party too. One copy, so that a case added to
 * one tool parses and behaves as it does in the other. */
#ifndef OVL_TOOL_PEER_H
#define OVL_TOOL_PEER_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/error.h"
#include "core/kinds.h"

/* The options both tools take; each tool keeps its own beside these. */
typedef struct {
    const char *name, *connect, *identity, *peer;
    unsigned long n, timeout;
    ovl_mode mode;
    ovl_reveal reveal;
} tp_common;

#define TP_COMMON_OPTIONS                                                                    \
    {"case", required_argument, NULL, 'c'}, {"connect", required_argument, NULL, 'C'},       \
        {"identity", required_argument, NULL, 'i'}, {"peer", required_argument, NULL, 'p'}, \
        {"n", required_argument, NULL, 'n'}, {"mode", required_argument, NULL, 'm'},         \
        {"reveal", required_argument, NULL, 'r'}, {"timeout", required_argument, NULL, 't'}

/* Stores getopt's option `c` if it is one of the shared ones. 1: it was;
 * 0: it is not (the tool's own, or unknown); -1: its value is bad, *why says
 * which option. */
static inline int tp_common_opt(tp_common *a, int c, const char *arg, const char **why)
{
    switch (c) {
    case 'c': a->name = arg; return 1;
    case 'C': a->connect = arg; return 1;
    case 'i': a->identity = arg; return 1;
    case 'p': a->peer = arg; return 1;
    case 'n': a->n = strtoul(arg, NULL, 10); return 1;
    case 't': a->timeout = strtoul(arg, NULL, 10); return 1;
    case 'm':
        *why = "bad --mode";
        return ovl_mode_parse(&a->mode, arg) == OVL_OK ? 1 : -1;
    case 'r':
        *why = "bad --reveal";
        return ovl_reveal_parse(&a->reveal, arg) == OVL_OK ? 1 : -1;
    default: return 0;
    }
}

/* Whether --case named one of `cases` (NULL-terminated). */
static inline bool tp_case_known(const char *const *cases, const char *name)
{
    bool known = false;
    for (int i = 0; name && cases[i]; i++)
        known |= strcmp(name, cases[i]) == 0;
    return known;
}

/* The usage line and the list of cases, on stderr; the exit status 2. */
static inline int tp_usage(const char *tool, const char *const *cases, const char *why,
                           const char *synopsis)
{
    fprintf(stderr, "%s: %s\nusage: %s %s\ncases:", tool, why, tool, synopsis);
    for (int i = 0; cases[i]; i++)
        fprintf(stderr, " %s", cases[i]);
    fputc('\n', stderr);
    return 2;
}

static inline ovl_err tp_make_ids(uint8_t (**ids)[32], unsigned long n)
{
    *ids = calloc(n, 32);
    if (*ids == NULL)
        return ovl_err_set(OVL_ERR_NOMEM, "out of memory");
    for (unsigned long i = 0; i < n; i++) {
        char email[64];
        int len = snprintf(email, sizeof email, "user%lu@example.com", i);
        crypto_hash_sha256((*ids)[i], (const uint8_t *)email, (unsigned long long)len);
    }
    return OVL_OK;
}

#endif
