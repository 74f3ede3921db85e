/* The session's state and the table of analysis kinds (internal to
 * src/session/). A kind is what differs between PSI and aggregates: how this
 * party's input is loaded, the request it asks for, the engine, and how its
 * output is delivered. Adding a protocol is one more row. */
#ifndef OVL_SESSION_STATE_H
#define OVL_SESSION_STATE_H

#include "aggregate/agg2.h"
#include "aggregate/plan.h"
#include "core/pool.h"
#include "io/columns.h"
#include "io/load.h"
#include "policy/rowfilter.h"
#include "psi/psi.h"
#include "cpsi/cpsi.h"
#include "session/agg2_prep.h"
#include "session/pair_rows.h"
#include "session/analysis.h"
#include "session/drive.h"
#include "session/session.h"

typedef struct ovl_session_kind ovl_session_kind;

struct ovl_session {
    ovl_session_config cfg;
    const ovl_session_kind *kind;
    ovl_analysis a;
    ovl_pool *pool;
    ovl_conn *conn;
    ovl_drive_opts dopts;
    ovl_buf carry; /* bytes read past one engine, for the next */
    FILE *dump;
    bool negotiated, finished, progress_shown;
    double started;
    char tname[256]; /* this party's table name, when derived from the table's */
    /* input */
    ovl_idtable ids;
    ovl_tpl_rowfilter filter;
    /* PSI */
    ovl_psi *psi;
    ovl_cpsi *cpsi;              /* cardinality mode runs circuit PSI */
    const uint8_t **cpsi_ids;    /* pointers into ids.ids for the engine */
    size_t *cpsi_lens;
    uint64_t intersection;
    bool have_intersection;
    /* aggregates (protocols/aggregate/SPEC.md; cpsi_ids/cpsi_lens point
     * at this party's identifiers for the engine) */
    ovl_agg2 *agg2;
    ovl_template *tpl; /* this party's own parse of its template (run) */
    int party;
    const char *join;
    bool runner, receiver;
    ovl_agg2_plan plan;
    ovl_agg2_prep prep; /* groups, labels, per-identifier counts and sums */
    ovl_pc_owner_rows pair_rows; /* conditions across parties: the capped rows */
    char *table_shown;  /* the table as errors name it (credentials redacted) */
    char domain[64];    /* the identifier domain both aggregate parties state */
};

struct ovl_session_kind {
    /* run: this party's input from its configuration, before connecting */
    ovl_err (*load)(ovl_session *s);
    /* serve: this party's input for the peer's request (s->a holds it) */
    ovl_err (*load_served)(ovl_session *s);
    /* run: the analysis this party typed, as a request */
    ovl_err (*request)(ovl_session *s, ovl_nego *n);
    /* run, listening: how a peer's request or plain HELLO is answered */
    ovl_err (*listen)(ovl_session *s, ovl_nego *mine);
    /* the engine for the (possibly negotiated) analysis */
    ovl_err (*start)(ovl_session *s, const ovl_proto_ops **ops, void **engine);
    const uint8_t *(*transcript)(const ovl_session *s);
    ovl_err (*deliver)(ovl_session *s);
    void (*progress)(void *s);
    void (*result)(const ovl_session *s, ovl_session_result *r);
    /* the peer's set size as the engine saw it (for the audit entry) */
    uint64_t (*peer_set)(const ovl_session *s);
    void (*clear)(ovl_session *s);
};

extern const ovl_session_kind ovl_session_psi, ovl_session_aggregate;

/* The kind that runs `mode`. */
const ovl_session_kind *ovl_session_kind_for(ovl_mode mode);
/* This party's table name for templates: configured, the policy's, or the
 * table's base name. */
const char *ovl_session_table_name(ovl_session *s);
/* This party's table as its errors name it (credentials redacted, kept). */
const char *ovl_session_table_shown(ovl_session *s);
/* Monotonic seconds. */
double ovl_session_now(void);

#endif
