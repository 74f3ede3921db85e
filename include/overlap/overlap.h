/* overlap: run a private analysis from another program.
 *
 * The embeddable API of overlap: one analysis with one peer over mutually
 * authenticated TLS 1.3, exactly as `overlap run` does it (README), behind
 * an opaque handle. Set the connection, keys, table and analysis, call
 * overlap_run, read the result. Nothing here exposes a row, an identifier
 * or a key; errors are one line, for a log.
 *
 *     overlap_analysis *a;
 *     overlap_new(&a, OVERLAP_CONNECT, "127.0.0.1:7700");
 *     overlap_set_keys(a, "bob.key", "alice.pub");
 *     overlap_set_table(a, "customers.csv", "email", OVERLAP_NORMALIZE_EMAIL);
 *     overlap_set_analysis(a, OVERLAP_CARDINALITY, OVERLAP_REVEAL_BOTH);
 *     overlap_set_output(a, "count.txt");
 *     if (overlap_run(a) == OVERLAP_OK) overlap_intersection_size(a, &n);
 *     else fprintf(stderr, "%s\n", overlap_error(a));
 *     overlap_free(a);
 *
 * Every function is safe to call with a failed handle: a failed analysis
 * stays failed and keeps its first error. Link with libovl.a (make) and
 * -lsodium -lssl -lcrypto -ljansson -lpq -ldl -lpthread -lm (SQLite is
 * loaded at run time when a sqlite: table is used). */
#ifndef OVERLAP_OVERLAP_H
#define OVERLAP_OVERLAP_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Symbols of the public API; everything else is built hidden. */
#if defined(__GNUC__) || defined(__clang__)
#define OVL_API __attribute__((visibility("default")))
#else
#define OVL_API
#endif

/* Outcomes; the values are the command line's exit codes (README "Exit status"). */
typedef enum {
    OVERLAP_OK = 0,
    OVERLAP_ERR_INTERNAL = 1,
    OVERLAP_ERR_USAGE = 2,    /* a wrong setting or call order */
    OVERLAP_ERR_INPUT = 3,    /* a key, table or output file */
    OVERLAP_ERR_NETWORK = 4,  /* name resolution, connection, TLS, authentication, timeout */
    OVERLAP_ERR_PROTOCOL = 5, /* the peer broke the protocol, or a limit was exceeded */
    OVERLAP_ERR_REFUSED = 6   /* a policy refused the analysis, or the two parties'
                               * settings (mode, reveal, normalisation) disagree */
} overlap_status;

typedef enum { OVERLAP_LISTEN = 0, OVERLAP_CONNECT = 1 } overlap_role;

typedef enum { OVERLAP_INTERSECTION = 1, OVERLAP_CARDINALITY = 2 } overlap_mode;

/* Who receives output. */
typedef enum {
    OVERLAP_REVEAL_BOTH = 0,
    OVERLAP_REVEAL_LISTENER = 1,
    OVERLAP_REVEAL_CONNECTOR = 2
} overlap_reveal;

typedef enum {
    OVERLAP_NORMALIZE_NONE = 0,
    OVERLAP_NORMALIZE_EMAIL = 1,
    OVERLAP_NORMALIZE_PHONE = 2
} overlap_normalize;

typedef struct overlap_analysis overlap_analysis;

/* The library's version, e.g. "0.1.0". */
OVL_API const char *overlap_version(void);

/* A new analysis that listens at, or connects to, address "HOST:PORT". */
OVL_API overlap_status overlap_new(overlap_analysis **out, overlap_role role, const char *address);
/* This party's secret key file and the peer's public key file (overlap keygen). */
OVL_API overlap_status overlap_set_keys(overlap_analysis *a, const char *identity_path,
                                        const char *peer_pub_path);
/* The table (a CSV file with a header row), its join column and how
 * identifiers are normalised; both parties must state the same. */
OVL_API overlap_status overlap_set_table(overlap_analysis *a, const char *table,
                                         const char *join_column, overlap_normalize norm);
/* What is computed and who receives it (default: intersection, both). */
OVL_API overlap_status overlap_set_analysis(overlap_analysis *a, overlap_mode mode,
                                            overlap_reveal reveal);
/* Where this party's output goes (its matching rows, or the count), written
 * atomically on success; required when this party receives output. */
OVL_API overlap_status overlap_set_output(overlap_analysis *a, const char *path);
/* Seconds a silent peer is waited for (default 60), and worker threads (default: online cores). */
OVL_API overlap_status overlap_set_limits(overlap_analysis *a, unsigned timeout_s, unsigned threads);

/* Runs the analysis: waits for the peer (listening) or connects to it, and
 * returns once the run completed or failed. Once per handle. */
OVL_API overlap_status overlap_run(overlap_analysis *a);

/* After a successful run in which this party received output: how many
 * identifiers both parties share. OVERLAP_ERR_USAGE otherwise. */
OVL_API overlap_status overlap_intersection_size(const overlap_analysis *a, uint64_t *out);
/* After a successful run: how many distinct identifiers the peer took part with. */
OVL_API overlap_status overlap_peer_set_size(const overlap_analysis *a, uint64_t *out);
/* The first error, one line ("" when there was none). */
OVL_API const char *overlap_error(const overlap_analysis *a);

OVL_API void overlap_free(overlap_analysis *a);

#ifdef __cplusplus
}
#endif

#endif
