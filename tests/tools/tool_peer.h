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

/* The defaults both share: 50 identifiers, intersection mode. */
static inline void tp_common_init(tp_common *a, unsigned long timeout, ovl_reveal reveal)
{
    memset(a, 0, sizeof *a);
    a->n = 50;
    a->timeout = timeout;
    a->mode = OVL_MODE_INTERSECTION;
    a->reveal = reveal;
}

/* A shared option's value that does not parse; *why names the option. */
enum { TP_BAD = -2 };

/* getopt_long over `opts` (TP_COMMON_OPTIONS and the tool's own), storing
 * the shared options in `a`: the next option that is not one of them (the
 * tool's own, or '?' for an unknown one), TP_BAD, or -1 at the end. */
static inline int tp_getopt(tp_common *a, int argc, char **argv, const struct option *opts,
                            const char **why)
{
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'c': a->name = optarg; break;
        case 'C': a->connect = optarg; break;
        case 'i': a->identity = optarg; break;
        case 'p': a->peer = optarg; break;
        case 'n': a->n = strtoul(optarg, NULL, 10); break;
        case 't': a->timeout = strtoul(optarg, NULL, 10); break;
        case 'm':
            *why = "bad --mode";
            if (ovl_mode_parse(&a->mode, optarg) != OVL_OK)
                return TP_BAD;
            break;
        case 'r':
            *why = "bad --reveal";
            if (ovl_reveal_parse(&a->reveal, optarg) != OVL_OK)
                return TP_BAD;
            break;
        default: return c;
        }
    }
    return -1;
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
