/* One served session (overlap serve): negotiation, the owner's local input
 * (with the analysis's filters), the protocol run, co-signatures and the
 * audit entry. */
#ifndef OVL_CLI_SESSION_H
#define OVL_CLI_SESSION_H

#include <stdint.h>

#include "session/analysis.h"
#include "io/columns.h"
#include "io/table.h"

typedef struct {
    const ovl_identity *self;
    const ovl_policy *policy;
    const char *audit_path;
    const char *table;
    uint64_t timeout_s, threads, max_peer;
} ovl_session_opts;

typedef struct {
    char summary[256]; /* one line for the server log (no data values) */
} ovl_session_result;

ovl_err ovl_session_serve(ovl_session_result *res, ovl_conn *c,
                          const ovl_session_opts *o) OVL_MUST_USE;

/* The WHERE filters of a template that apply to one party's table, as a row
 * filter for ovl_idtable_load_filtered. */
typedef struct {
    const ovl_template *tpl;
    int party;
    const ovl_param_value *params;
    size_t nparams;
    size_t cols[64]; /* column index of each of the party's filters */
    const ovl_tpl_filter *filters[64];
    size_t n;
} ovl_tpl_rowfilter;

ovl_err ovl_tpl_rowfilter_init(ovl_tpl_rowfilter *f, const ovl_template *tpl, int party,
                               const ovl_param_value *params, size_t nparams,
                               const char *table_path) OVL_MUST_USE;
ovl_err ovl_tpl_rowfilter_apply(void *arg, const ovl_csv *csv, bool *keep);

/* Decimal places a value column needs (the most any cell of it has, <= 18). */
ovl_err ovl_column_decimals(unsigned *out, const char *table_path, const char *column) OVL_MUST_USE;

#endif
