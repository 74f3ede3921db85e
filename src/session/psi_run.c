/* The PSI kind of session: intersection (protocols/psi/SPEC.md) or
 * cardinality, which runs circuit PSI (protocols/cpsi/SPEC.md §6.4) so that a
 * receiver learns the count and nothing else. This party's input is the
 * distinct identifiers of its join column; its output, when the reveal
 * setting gives it one, is its own matching rows or the count. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/guard.h"
#include "core/mem.h"
#include "crypto/group.h"
#include "io/dbspec.h"
#include "session/psi_output.h"
#include "session/state.h"

static bool receives(const ovl_session *s)
{
    ovl_reveal reveal = s->negotiated ? s->a.nego.reveal : s->cfg.reveal;
    return ovl_reveal_includes(reveal, s->cfg.role);
}

static ovl_mode mode_of(const ovl_session *s)
{
    return s->negotiated ? s->a.nego.mode : s->cfg.mode;
}

/* Cardinality: the runner (the garbled circuit's evaluator) is the party that
 * receives the count when only one does, the connector when both do
 * (protocols/cpsi/SPEC.md §6.4: a count opened to the contributor alone would
 * be open to its garbling and its OT correlations). */
static bool cpsi_runs(const ovl_session *s)
{
    ovl_reveal reveal = s->negotiated ? s->a.nego.reveal : s->cfg.reveal;
    bool listener = ovl_reveal_includes(reveal, OVL_ROLE_LISTENER);
    bool connector = ovl_reveal_includes(reveal, OVL_ROLE_CONNECTOR);
    if (listener && connector)
        return s->cfg.role == OVL_ROLE_CONNECTOR;
    return ovl_reveal_includes(reveal, s->cfg.role);
}

static ovl_err cpsi_start(ovl_session *s, const ovl_buf *params, const ovl_proto_ops **ops,
                          void **engine)
{
    ovl_err rc = OVL_OK;
    size_t n = s->ids.nids;
    OVL_TRY(ovl_calloc((void **)&s->cpsi_ids, n ? n : 1, sizeof *s->cpsi_ids));
    OVL_TRY(ovl_calloc((void **)&s->cpsi_lens, n ? n : 1, sizeof *s->cpsi_lens));
    for (size_t i = 0; i < n; i++) {
        s->cpsi_ids[i] = s->ids.ids[i];
        s->cpsi_lens[i] = 32;
    }
    ovl_cpsi_config cfg = {
        .role = s->cfg.role,
        .runner = cpsi_runs(s),
        .mode = OVL_MODE_CARDINALITY,
        .reveal = s->negotiated ? s->a.nego.reveal : s->cfg.reveal,
        .ids = s->cpsi_ids,
        .id_len = s->cpsi_lens,
        .nids = n,
        .max_peer_set = s->cfg.max_peer,
        .params = params->data,
        .params_len = (uint32_t)params->wpos,
        .expect_peer_set = s->negotiated,
        .peer_set_expected = s->a.peer_set,
    };
    OVL_TRY(ovl_cpsi_new(&s->cpsi, &cfg));
    *ops = &ovl_cpsi_ops;
    *engine = s->cpsi;
done:
    return rc;
}

/* Circuit PSI's set cap, on this party's own identifiers before any peer is
 * contacted (ovl_cpsi_new checks it again). */
static ovl_err cpsi_set_check(ovl_session *s, ovl_mode mode)
{
    if (mode != OVL_MODE_CARDINALITY || s->ids.nids <= OVL_CPSI_MAX_SET)
        return OVL_OK;
    return ovl_err_set(OVL_ERR_INPUT, "%s: %zu distinct identifiers exceed circuit PSI's cap of "
                       "%u (--mode cardinality)", ovl_session_table_shown(s), s->ids.nids,
                       OVL_CPSI_MAX_SET);
}

static ovl_err psi_load(ovl_session *s)
{
    ovl_err rc = OVL_OK;
    const ovl_session_config *c = &s->cfg;
    ovl_outfile *probe = NULL;
    ovl_table_input in;
    /* the matched rows of --out are copied in a second read, checked by the digest */
    ovl_load_spec want = {.query = c->query, .join = c->join, .norm = c->norm,
                          .prehashed = c->prehashed,
                          .rows_digest = c->out != NULL};
    OVL_TRY(ovl_table_load(&in, c->table, &want));
    s->ids = in.ids;
    OVL_TRY(cpsi_set_check(s, c->mode));
    /* Probe the output now, so an unwritable path fails before the peer is
     * contacted; the real temporary file exists only while results are
     * written, so even a killed run leaves nothing behind. */
    if (c->out && ovl_reveal_includes(c->reveal, c->role)) {
        OVL_TRY(ovl_output_open(&probe, c->out, c->replace));
        ovl_outfile_abort(probe);
    }
done:
    return rc;
}

/* A served table: identifiers of the join column the peer asked for. */
static ovl_err psi_load_served(ovl_session *s)
{
    ovl_err rc;
    const char *join = s->a.nego.join[0];
    const ovl_policy_join *j = ovl_policy_join_find(s->cfg.policy, join);
    ovl_table_input in;
    ovl_load_spec want = {.query = s->cfg.query, .join = join, .norm = s->a.nego.norm,
                          .prehashed = j ? j->prehashed : false};
    if (s->a.nego.reveal != OVL_REVEAL_CONNECTOR)
        return ovl_err_set(OVL_ERR_POLICY, "a served table never receives output: ask with "
                           "--reveal connector");
    rc = ovl_table_load(&in, s->cfg.table, &want);
    if (rc != OVL_OK)
        return ovl_err_set(rc, "the owner's table cannot be read");
    s->ids = in.ids;
    ovl_value_table_free(&in.values);
    return cpsi_set_check(s, s->a.nego.mode);
}

/* The analysis this party typed, in the wire form of a request. */
static ovl_err psi_request(ovl_session *s, ovl_nego *n)
{
    const ovl_session_config *c = &s->cfg;
    char mine[OVL_FPR_LEN], theirs[OVL_FPR_LEN];
    bool listener = c->role == OVL_ROLE_LISTENER;
    memset(n, 0, sizeof *n);
    n->mode = c->mode;
    n->reveal = c->reveal;
    n->norm = c->norm;
    n->join[listener ? 0 : 1] = strdup(c->join);
    n->join[listener ? 1 : 0] = strdup(c->peer_join ? c->peer_join : c->join);
    if (!n->join[0] || !n->join[1])
        return ovl_err_set(OVL_ERR_NOMEM, "out of memory");
    ovl_fingerprint(mine, ovl_identity_pub(c->self)->pk);
    ovl_fingerprint(theirs, c->peer->pk);
    const char *lfpr = listener ? mine : theirs, *cfpr = listener ? theirs : mine;
    if (c->reveal != OVL_REVEAL_CONNECTOR)
        memcpy(n->receivers[n->nreceivers++], lfpr, OVL_FPR_LEN);
    if (c->reveal != OVL_REVEAL_LISTENER)
        memcpy(n->receivers[n->nreceivers++], cfpr, OVL_FPR_LEN);
    n->reveals_cardinality = c->mode == OVL_MODE_CARDINALITY;
    return OVL_OK;
}

/* A listening `run`: the peer's request must be this party's analysis; a
 * party with a policy never runs un-negotiated. */
static ovl_err psi_listen(ovl_session *s, ovl_nego *mine)
{
    /* Sent to the peer too: worded by role, not "this party". */
    if (s->cfg.policy)
        s->a.plain_refusal = "the listener has a policy: the connector must negotiate its "
                             "analysis (--policy or --negotiate)";
    return psi_request(s, mine);
}

static ovl_err psi_start(ovl_session *s, const ovl_proto_ops **ops, void **engine)
{
    ovl_err rc = OVL_OK;
    ovl_buf params = {0};
    char plain[128];
    OVL_TRY(ovl_buf_alloc(&params, 256, OVL_HELLO_PARAMS_MAX));
    if (s->negotiated) {
        OVL_TRY(ovl_analysis_psi_params(&s->a, &params));
    } else {
        /* Binds the identifier domain so both sides must agree on it. */
        snprintf(plain, sizeof plain, "%s id=sha256 normalize=%s",
                 mode_of(s) == OVL_MODE_CARDINALITY ? OVL_CPSI_PROTOCOL : "psi/1",
                 ovl_norm_name(s->cfg.norm));
        OVL_TRY(ovl_buf_put_bytes(&params, plain, strlen(plain)));
    }
    if (mode_of(s) == OVL_MODE_CARDINALITY) {
        OVL_TRY(cpsi_start(s, &params, ops, engine));
        goto done;
    }
    ovl_psi_config cfg = {
        .role = s->cfg.role,
        .mode = s->negotiated ? s->a.nego.mode : s->cfg.mode,
        .reveal = s->negotiated ? s->a.nego.reveal : s->cfg.reveal,
        .group = ovl_group_default(),
        .ids = (const uint8_t(*)[32])s->ids.ids,
        .nids = s->ids.nids,
        .max_peer_set = s->cfg.max_peer,
        .max_jobs = (size_t)(2 * s->cfg.threads + 2),
        .params = params.data,
        .params_len = (uint32_t)params.wpos,
        .expect_peer_set = s->negotiated,
        .peer_set_expected = s->a.peer_set,
    };
    OVL_TRY(ovl_psi_new(&s->psi, &cfg));
    *ops = &ovl_psi_ops;
    *engine = s->psi;
done:
    ovl_buf_free(&params);
    return rc;
}

static const uint8_t *psi_transcript(const ovl_session *s)
{
    return s->cpsi ? ovl_cpsi_transcript(s->cpsi) : ovl_psi_transcript(s->psi);
}

/* This party's matching rows or the count, written atomically. */
static ovl_err psi_deliver(ovl_session *s)
{
    ovl_err rc = OVL_OK;
    const bool *matched = NULL;
    if (s->cpsi) {
        if (!ovl_cpsi_receives_count(s->cpsi))
            return OVL_OK;
        OVL_TRY(ovl_cpsi_count(s->cpsi, &s->intersection));
    } else {
        if (!ovl_psi_receives_output(s->psi))
            return OVL_OK;
        OVL_TRY(ovl_psi_result(s->psi, &matched, &s->intersection));
    }
    s->have_intersection = true;
    if (s->cfg.out == NULL)
        return OVL_OK;
    const ovl_psi_output o = {s->cfg.out, s->cfg.replace, s->cfg.writing, s->cfg.mode,
                             s->cfg.table, s->cfg.query, &s->ids};
    return ovl_psi_output_write(&o, matched, s->intersection);
done:
    return rc;
}

static void psi_progress(void *arg)
{
    ovl_session *s = arg;
    ovl_psi_progress pr;
    if (s->cpsi) {
        fprintf(stderr, "\roverlap: circuit PSI  %llu bytes sent  %.0f s   ",
                (unsigned long long)ovl_cpsi_bytes_sent(s->cpsi), ovl_session_now() - s->started);
        s->progress_shown = true;
        return;
    }
    ovl_psi_get_progress(s->psi, &pr);
    double el = ovl_session_now() - s->started;
    uint64_t total = pr.own_total + pr.peer_total;
    uint64_t done = pr.own_sent + pr.peer_done;
    double rate = el > 0 ? (double)done / el : 0;
    double eta = rate > 0 ? (double)(total - done) / rate : 0;
    fprintf(stderr, "\roverlap: %s  %llu/%llu elements  %.0f/s  ETA %.0f s   ",
            pr.setup_done ? "blinding" : "setup", (unsigned long long)done,
            (unsigned long long)total, rate, eta);
    s->progress_shown = true;
}

static void psi_result(const ovl_session *s, ovl_session_result *r)
{
    r->receives = receives(s);
    r->protocol = mode_of(s) == OVL_MODE_CARDINALITY ? OVL_CPSI_PROTOCOL : "psi/1";
    r->have_intersection = s->have_intersection;
    r->intersection = s->intersection;
    if (s->psi) {
        r->peer_set = ovl_psi_peer_set_size(s->psi);
        r->tag_len = ovl_psi_tag_len(s->psi);
    }
    if (s->cpsi)
        r->peer_set = ovl_cpsi_peer_set_size(s->cpsi);
    snprintf(r->summary, sizeof r->summary, "%s, %zu vs %llu identifiers, completed",
             ovl_mode_name(r->mode), s->ids.nids, (unsigned long long)s->a.peer_set);
}

static void psi_clear(ovl_session *s)
{
    ovl_psi_free(s->psi);
    s->psi = NULL;
    ovl_cpsi_free(s->cpsi);
    s->cpsi = NULL;
    free(s->cpsi_ids);
    free(s->cpsi_lens);
    s->cpsi_ids = NULL;
    s->cpsi_lens = NULL;
}

static uint64_t psi_peer_set(const ovl_session *s)
{
    if (s->cpsi)
        return ovl_cpsi_ops.done(s->cpsi) ? ovl_cpsi_peer_set_size(s->cpsi) : s->a.peer_set;
    return s->psi && ovl_psi_ops.done(s->psi) ? ovl_psi_peer_set_size(s->psi) : s->a.peer_set;
}

const ovl_session_kind ovl_session_psi = {
    .load = psi_load,
    .load_served = psi_load_served,
    .request = psi_request,
    .listen = psi_listen,
    .start = psi_start,
    .transcript = psi_transcript,
    .deliver = psi_deliver,
    .progress = psi_progress,
    .result = psi_result,
    .peer_set = psi_peer_set,
    .clear = psi_clear,
};
