/* What happens in a session: the one pipeline behind `overlap run` and
 * `overlap serve`, in every mode. They differ only in how they obtain the
 * connection (src/cli/) and in where the analysis comes from.
 *
 *  1. Input. A `run` knows its analysis from its options, so this party's
 *     table is loaded and checked in ovl_session_new, before any peer is
 *     contacted. A served session learns the analysis from the peer's
 *     REQUEST and loads the table for it while negotiating (step 2).
 *  2. Negotiation (protocols/setup/SPEC.md §3), unless neither party asks
 *     for it: the negotiation engine exchanges REQUEST and TERMS, and this
 *     owner decides through session/analysis.c: its policy, the template's
 *     approvals, budgets and differencing, the agreement. A refusal reaches
 *     the peer as ABORT.
 *  3. The engine of the analysis's kind (state.h: PSI or aggregates),
 *     configured with the agreement, driven over the connection.
 *  4. After a negotiated run, both parties co-sign the transcript.
 *  5. Output: this party's rows, count or released groups, written
 *     atomically, only if the analysis gives it output.
 *  6. Audit: the session's end (ok, refused or failed) is appended to the
 *     owner's log.
 * A session that failed stays failed: each step runs only after the last
 * succeeded, and the audit entry records the first failure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/guard.h"
#include "core/mem.h"
#include "io/columns.h"
#include "io/dbspec.h"
#include "session/state.h"

_Static_assert(OVL_SESSION_MAX_PARAMS == OVL_REQUEST_MAX_LIST, "parameters in a request");
_Static_assert(OVL_SESSION_DEFAULT_MAX_PEER_SET == OVL_PSI_DEFAULT_MAX_PEER_SET,
               "the engines' defaults");

double ovl_session_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

const ovl_session_kind *ovl_session_kind_for(ovl_mode mode)
{
    return mode == OVL_MODE_AGGREGATE ? &ovl_session_aggregate : &ovl_session_psi;
}

const char *ovl_session_table_name(ovl_session *s)
{
    const ovl_session_config *c = &s->cfg;
    if (c->table_name)
        return c->table_name;
    if (c->policy)
        return c->policy->table_name;
    /* The file's base name without its extension, or a database's table=. */
    ovl_spec_table_name(s->tname, sizeof s->tname, c->table);
    return s->tname;
}

const char *ovl_session_table_shown(ovl_session *s)
{
    if (s->table_shown == NULL)
        s->table_shown = ovl_spec_redact(s->cfg.table);
    return s->table_shown ? s->table_shown : "this party's table";
}

/* run, connector with a policy: its own policy judges its request before
 * any connection, so the partner never hears of a refusal that is this
 * party's alone (and never sees its rules). */
static ovl_err precheck(ovl_session *s)
{
    ovl_err rc = OVL_OK;
    const ovl_session_config *c = &s->cfg;
    s->a.self = c->self;
    s->a.policy = c->policy;
    s->a.role = OVL_ROLE_CONNECTOR;
    s->a.party = -1;
    s->a.local_set = s->ids.nids;
    s->a.table_name = ovl_session_table_name(s);
    OVL_TRY(s->kind->request(s, &s->a.nego));
    OVL_TRY(ovl_analysis_check_own(&s->a, c->peer));
done:
    ovl_analysis_clear(&s->a);
    return rc;
}

ovl_err ovl_session_new(ovl_session **out, const ovl_session_config *cfg)
{
    ovl_err rc = OVL_OK;
    ovl_session *s = NULL;
    *out = NULL;
    OVL_TRY(ovl_calloc((void **)&s, 1, sizeof *s));
    s->cfg = *cfg;
    s->party = -1;
    *out = s;
    if (!cfg->serving) {
        s->kind = ovl_session_kind_for(cfg->mode);
        OVL_TRY(s->kind->load(s));
        if (cfg->role == OVL_ROLE_CONNECTOR && cfg->negotiate && cfg->policy && cfg->peer)
            OVL_TRY(precheck(s));
    }
    OVL_TRY(ovl_buf_alloc(&s->carry, 4096, OVL_DRIVE_CARRY_MAX));
    OVL_TRY(ovl_pool_new(&s->pool, (size_t)cfg->threads));
    s->dopts.timeout_ms = (int)(cfg->timeout_s * 1000);
    s->dopts.pool = s->pool;
done:
    return rc;
}

void ovl_session_set_dump(ovl_session *s, FILE *f) { s->dump = f; }

/* This party's own failures, whichever step they arise in: its data, its
 * memory, its code. No peer frame yields these categories (a peer's ABORT
 * reads as a refusal or a protocol error, protocols/common/SPEC.md §4). */
static bool own_failure(ovl_err rc)
{
    return rc == OVL_ERR_INPUT || rc == OVL_ERR_NOMEM || rc == OVL_ERR_INTERNAL;
}

/* Errors the peer caused or reported name it, once; this party's own
 * policy refusal and its own failures speak for themselves. */
static ovl_err peer_error(const ovl_session *s, ovl_err rc)
{
    const char *label = ovl_conn_label(s->conn);
    if (rc == OVL_OK || !s->cfg.name_peer || s->a.own_refusal || own_failure(rc) ||
        strstr(ovl_err_detail(), label) != NULL)
        return rc;
    return ovl_err_wrap(rc, "peer %s: ", label);
}

/* An engine's error about this party's data names the table it came from
 * (the engine knows columns, not tables). */
static ovl_err own_data_error(ovl_session *s, ovl_err rc)
{
    if (rc != OVL_ERR_INPUT)
        return rc;
    return ovl_err_wrap(rc, "%s: ", ovl_session_table_shown(s));
}

/* The engine did not start on this side (every check on this party's data
 * alone ran before connecting: what is left is the agreement's, or a bug).
 * The peer, waiting for its frames, reads that in an ABORT, not a bare
 * close; the reason names the role and the category, never this party's
 * paths or data (its operator's stderr and log have the detail). */
static void abort_start(const ovl_session *s, ovl_err rc)
{
    char reason[200];
    snprintf(reason, sizeof reason, "the %s could not start the analysis (%s; its operator's "
             "log says why)", s->cfg.role == OVL_ROLE_LISTENER ? "listener" : "connector",
             ovl_err_name(rc));
    ovl_drive_abort(s->conn, rc, reason);
}

/* What the partner reads when the served table cannot provide the analysis
 * (its ABORT carries the detail): never the owner's paths or line numbers.
 * The owner's log keeps the full detail. */
static ovl_err peer_safe_input_error(const ovl_session *s, ovl_err rc)
{
    char detail[512], col[OVL_COL_NAME_MAX + 1];
    snprintf(detail, sizeof detail, "%s", ovl_err_detail());
    fprintf(stderr, "overlap: session with %s: the served table cannot provide the analysis: %s\n",
            s->a.peer.name, detail);
    const char *q = strstr(detail, ": no column \"");
    if (q != NULL && sscanf(q, ": no column \"%255[^\"]\"", col) == 1)
        return ovl_err_set(rc, "the served table lacks column '%s'", col);
    return ovl_err_set(rc, "the served table cannot provide this analysis (the owner's log "
                           "says why)");
}

/* serve: the analysis is known once the peer's request was judged. */
static ovl_err load_served(void *arg, ovl_analysis *a)
{
    ovl_err rc = OVL_OK;
    ovl_session *s = arg;
    s->kind = ovl_session_kind_for(a->nego.mode);
    rc = s->kind->load_served(s);
    if (rc != OVL_OK && rc != OVL_ERR_POLICY)
        OVL_FAIL(peer_safe_input_error(s, rc));
    OVL_TRY(rc);
    a->local_set = s->ids.nids;
done:
    return rc;
}

static ovl_err negotiate(ovl_session *s)
{
    ovl_err rc = OVL_OK;
    const ovl_session_config *c = &s->cfg;
    ovl_nego mine = {0};
    ovl_analysis_begin(&s->a, c->self, c->policy, c->audit_path, c->role, s->ids.nids, s->conn);
    s->a.table_name = ovl_session_table_name(s);
    if (c->serving) {
        s->a.plain_refusal = "this endpoint answers negotiated analyses only: run with --policy, "
                             "--template or --negotiate (protocols/setup/SPEC.md)";
        s->a.load_input = load_served;
        s->a.load_arg = s;
    } else if (c->role == OVL_ROLE_CONNECTOR) {
        if (!c->negotiate)
            goto done; /* a plain run: HELLO first */
        OVL_TRY(s->kind->request(s, &s->a.nego));
    } else {
        OVL_TRY(s->kind->listen(s, &mine));
        if (mine.mode != 0)
            s->a.mine = &mine;
    }
    OVL_TRY(ovl_analysis_negotiate(&s->a, s->conn, &s->dopts, &s->carry));
    s->negotiated = s->a.negotiated;
done:
    s->a.mine = NULL;
    ovl_nego_clear(&mine);
    return rc;
}

static ovl_err run_engine(ovl_session *s)
{
    ovl_err rc = OVL_OK;
    const ovl_proto_ops *ops;
    void *engine;
    ovl_drive_opts d = s->dopts;
    rc = s->kind->start(s, &ops, &engine);
    if (rc != OVL_OK) {
        abort_start(s, rc);
        goto done;
    }
    d.dump_frames = s->dump;
    d.tick = s->cfg.progress && isatty(STDERR_FILENO) ? s->kind->progress : NULL;
    d.tick_arg = s;
    d.preread = s->carry.data + s->carry.rpos;
    d.preread_len = ovl_buf_remaining(&s->carry);
    d.rest = &s->carry;
    s->started = ovl_session_now();
    rc = ovl_drive(s->conn, ops, engine, &d);
    if (s->progress_shown)
        fputc('\n', stderr);
done:
    return own_data_error(s, rc);
}

static void audit(ovl_session *s, ovl_err rc)
{
    if (!s->negotiated && s->cfg.audit_path == NULL)
        return;
    if (s->kind)
        s->a.peer_set = s->kind->peer_set(s);
    /* A session refused before any request records the mode it was about
     * (a server: the one the peer's HELLO stated). */
    if (!s->cfg.serving)
        s->a.stated_mode = s->cfg.mode;
    ovl_analysis_audit(&s->a, rc);
}

ovl_err ovl_session_run(ovl_session *s, ovl_conn *c)
{
    ovl_err rc = OVL_OK;
    s->conn = c;
    OVL_TRY(peer_error(s, negotiate(s)));
    OVL_TRY(peer_error(s, run_engine(s)));
    if (s->negotiated)
        OVL_TRY(peer_error(s, ovl_analysis_cosign(&s->a, c, s->kind->transcript(s), &s->dopts,
                                                  &s->carry)));
    OVL_TRY(s->kind->deliver(s));
    s->finished = true;
done:
    audit(s, rc);
    return rc;
}

void ovl_session_result_get(const ovl_session *s, ovl_session_result *r)
{
    memset(r, 0, sizeof *r);
    r->mode = s->negotiated ? s->a.nego.mode : s->cfg.mode;
    r->negotiated = s->negotiated;
    r->local_rows = s->ids.nrows;
    r->local_ids = s->ids.nids;
    r->skipped = s->ids.skipped;
    if (s->kind)
        s->kind->result(s, r);
}

void ovl_session_free(ovl_session *s)
{
    if (s == NULL)
        return;
    if (s->kind)
        s->kind->clear(s);
    ovl_analysis_clear(&s->a);
    ovl_idtable_free(&s->ids);
    ovl_buf_free(&s->carry);
    ovl_pool_free(s->pool);
    free(s->table_shown);
    free(s);
}
