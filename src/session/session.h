/* overlap's one session pipeline, for `run` and `serve` in every mode (see
 * session.c for what happens in a session). The command line turns options
 * into an ovl_session_config, obtains a connection (run: listen or connect
 * to the pinned peer; serve: one accepted connection per session) and prints
 * the ovl_session_result. */
#ifndef OVL_SESSION_H
#define OVL_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "aggregate/cost.h"
#include "core/kinds.h"
#include "io/table.h"
#include "net/identity.h"
#include "net/transport.h"
#include "policy/policy.h"
#include "policy/template.h"

#define OVL_SESSION_MAX_PARAMS 64u /* template parameters a request may carry */
/* Defaults of the command line and the public API (the engines' own). */
#define OVL_SESSION_DEFAULT_MAX_PEER_SET (1ull << 26)
#define OVL_SESSION_DEFAULT_MIN_ROWS 10u

typedef struct {
    ovl_role role;
    /* A standing endpoint: the analysis is whatever the peer asks for and
     * this owner's policy allows; the input is loaded once it is known. */
    bool serving;
    const ovl_identity *self;
    const ovl_pubkey *peer;   /* run: the pinned peer key (serve: from the connection) */
    const ovl_policy *policy; /* NULL: this party has none */
    const char *audit_path;   /* NULL: no audit log */
    /* this party's table */
    const char *table;        /* a table source (io/source.h) */
    const char *query;        /* a database table's rows as a query (io/dbspec.h), or NULL */
    const char *join;         /* run: the join column (a template names its own) */
    const char *peer_join;    /* run: the peer's join column, if it differs */
    const char *table_name;   /* the name templates use for this table (NULL: derived) */
    ovl_norm norm;
    bool prehashed;
    /* the analysis this party typed (run) */
    ovl_mode mode;
    ovl_reveal reveal;
    bool negotiate;           /* negotiate it (protocols/setup/SPEC.md §2) */
    const char *template_path;
    const ovl_param_value *params;
    size_t nparams;
    const char *group_by;     /* aggregate: dimension items (policy/adhoc.h) */
    const char *values;       /* aggregate: value column items */
    uint64_t min_rows;
    bool min_rows_given;      /* --min-rows was given (it then binds templates too) */
    /* output */
    const char *out;          /* where this party's output goes (NULL: none): a CSV path or a
                               * database table (io/dbout.h) */
    bool replace;             /* a database --out may replace an existing table */
    /* Called with the temporary output file's path while results are
     * written, and with NULL once they are committed or dropped (so a
     * signal handler can remove a partial file). */
    void (*writing)(const char *temp_path);
    /* operation */
    uint64_t timeout_s, threads, max_peer;
    bool progress;            /* a progress line on stderr while the engine runs */
    bool name_peer;           /* prefix errors the peer caused with "peer LABEL: " */
} ovl_session_config;

/* What a session did, for the caller to print (never a data value). */
typedef struct {
    ovl_mode mode;
    bool negotiated;
    bool receives;            /* this party received output */
    bool runner;              /* aggregates: this party was the runner (and the receiver) */
    uint64_t local_rows, local_ids, skipped;
    uint64_t peer_set;
    bool have_intersection;
    uint64_t intersection;
    size_t groups, released;  /* aggregates: own groups; cells released (both parties) */
    uint64_t cells;           /* aggregates: the group space, runner x contributor groups */
    uint64_t inconsistent;    /* aggregates, receiver: released records left out (§8.3) */
    bool has_capped;          /* aggregates with conditions across parties: */
    uint64_t capped;          /* this owner's identifiers over the cap (its own count only) */
    uint64_t threshold;
    /* aggregates, after the run: its public shape as the inputs of the SPEC's
     * cost formula (§11), the formula's bytes for both directions, and the
     * engine's frames this party sent; have_cost false when the formula does
     * not apply (the run failed, or has conditions across parties) */
    bool have_cost;
    ovl_agg2_cost_in cost_in;
    uint64_t cost_bytes;
    uint64_t protocol_bytes_sent;
    size_t tag_len;
    const char *protocol;     /* what ran: "psi/1", "cpsi/2", "agg2/2" */
    char summary[256];        /* one line for a server log */
} ovl_session_result;

typedef struct ovl_session ovl_session;

/* Prepares a session. With the analysis known (run), this party's input is
 * loaded and checked now, before any peer is contacted. */
ovl_err ovl_session_new(ovl_session **out, const ovl_session_config *cfg) OVL_MUST_USE;
/* Also writes every analysis frame this party sends to f (auditing what
 * leaves the machine); set after ovl_session_new so that a bad table fails
 * before the file is created. */
void ovl_session_set_dump(ovl_session *s, FILE *f);
/* Runs the session over an authenticated connection: negotiation, the
 * engine, co-signatures, output and the audit entry. */
ovl_err ovl_session_run(ovl_session *s, ovl_conn *c) OVL_MUST_USE;
void ovl_session_result_get(const ovl_session *s, ovl_session_result *r);
void ovl_session_free(ovl_session *s);

#endif
