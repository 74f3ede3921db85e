/* overlap: error codes shared by every module.
 *
 * Every fallible function returns an ovl_err. A failing call also records a
 * one-line, human-readable detail (what, where) in a thread-local slot that the
 * CLI prints; the detail never contains secrets or join values. */
#ifndef OVERLAP_ERROR_H
#define OVERLAP_ERROR_H

#include <stddef.h>

#if defined(__GNUC__)
#define OVL_MUST_USE __attribute__((warn_unused_result))
#define OVL_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define OVL_MUST_USE
#define OVL_PRINTF(a, b)
#endif

typedef enum {
    OVL_OK = 0,
    OVL_ERR_IO,          /* local file or socket I/O failed */
    OVL_ERR_PEER_CLOSED, /* the peer closed or reset the connection */
    OVL_ERR_TIMEOUT,     /* the peer was silent longer than allowed */
    OVL_ERR_PROTOCOL,    /* the peer sent something the protocol forbids */
    OVL_ERR_MALFORMED,   /* bytes do not parse (short, trailing, bad field) */
    OVL_ERR_LIMIT,       /* a size exceeds a configured cap */
    OVL_ERR_CRYPTO,      /* a cryptographic check or operation failed */
    OVL_ERR_AUTH,        /* the peer is not who we pinned / signature invalid */
    OVL_ERR_TLS,         /* TLS handshake or record layer failure */
    OVL_ERR_POLICY,      /* refused by policy or by a mismatch of agreed settings */
    OVL_ERR_INPUT,       /* a local input file is invalid */
    OVL_ERR_USAGE,       /* bad command line or API misuse by the caller */
    OVL_ERR_NOMEM,       /* allocation failed */
    OVL_ERR_INTERNAL,    /* a bug: an invariant did not hold */
    OVL_ERR_NET          /* the peer's address does not resolve or refuses outright */
} ovl_err;

/* Short stable name of a code, e.g. "protocol". */
const char *ovl_err_name(ovl_err e);

/* Records a one-line detail for the current thread and returns `e`, so
 * `return ovl_err_set(OVL_ERR_INPUT, "%s:%zu: ...", ...)` reads naturally. */
ovl_err ovl_err_set(ovl_err e, const char *fmt, ...) OVL_PRINTF(2, 3);

/* Prefixes the current detail with context ("peer 127.0.0.1:7700: ") and returns e. */
ovl_err ovl_err_wrap(ovl_err e, const char *fmt, ...) OVL_PRINTF(2, 3);

/* The detail recorded by the last failing call on this thread ("" if none). */
const char *ovl_err_detail(void);

void ovl_err_clear(void);

#endif
