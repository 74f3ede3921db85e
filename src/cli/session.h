/* One served session (overlap serve): negotiation, the owner's local input
 * (with the analysis's filters), the protocol run, co-signatures and the
 * audit entry. */
#ifndef OVL_CLI_SESSION_H
#define OVL_CLI_SESSION_H

#include <stdint.h>

#include "cli/analysis.h"
#include "io/columns.h"
#include "io/load.h"
#include "io/table.h"
#include "policy/rowfilter.h"

typedef struct {
    const ovl_identity *self;
    const ovl_policy *policy;
    const char *audit_path;
    const char *table;
    const char *query; /* rows of a database table (io/dbspec.h), or NULL */
    uint64_t timeout_s, threads, max_peer;
} ovl_session_opts;

typedef struct {
    char summary[256]; /* one line for the server log (no data values) */
} ovl_session_result;

ovl_err ovl_session_serve(ovl_session_result *res, ovl_conn *c,
                          const ovl_session_opts *o) OVL_MUST_USE;

#endif
