/* The owner's side of negotiating an analysis (protocols/setup/SPEC.md §3):
 * the negotiation engine moves REQUEST, TERMS and COSIGN; the callbacks here
 * apply this owner's policy, budgets and approvals, compute the agreement,
 * and record the session in the owner's audit log. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "session/analysis.h"
#include "core/guard.h"
#include "session/drive.h"
#include "setup/negotiator.h"

/* The request's wire values are the policy's: one meaning for both layers. */
_Static_assert(OVL_NEGO_HASH_LEN == OVL_HASH_LEN && OVL_NEGO_RECEIVERS_MAX == OVL_RECEIVERS_MAX &&
                   OVL_NEGO_TEMPLATE_MAX == OVL_TPL_MAX_BYTES,
               "negotiation sizes");
_Static_assert(OVL_TERMS_MIN_ROWS_LO == OVL_MIN_ROWS_LO && OVL_TERMS_MIN_ROWS_HI == OVL_MIN_ROWS_HI,
               "an owner's min_rows");
#include "core/mem.h"

void ovl_analysis_begin(ovl_analysis *a, const ovl_identity *self, const ovl_policy *policy,
                        const char *audit_path, ovl_role role, uint64_t local_set,
                        const ovl_conn *c)
{
    a->self = self;
    a->policy = policy;
    a->audit_path = audit_path;
    a->role = role;
    a->local_set = local_set;
    a->party = -1;
    a->peer = *ovl_conn_peer(c);
    ovl_fingerprint(a->self_fpr, ovl_identity_pub(self)->pk);
    ovl_fingerprint(a->peer_fpr, a->peer.pk);
}

/* The policy layer's view of the request's parameters and value columns
 * (the same strings, in the policy's types). */
static ovl_err make_views(ovl_analysis *a)
{
    ovl_err rc = OVL_OK;
    free(a->params);
    free(a->values);
    a->params = NULL;
    a->values = NULL;
    OVL_TRY(ovl_calloc((void **)&a->params, a->nego.nparams + 1, sizeof *a->params));
    OVL_TRY(ovl_calloc((void **)&a->values, a->nego.nvalues + 1, sizeof *a->values));
    for (size_t i = 0; i < a->nego.nparams; i++) {
        a->params[i].name = a->nego.params[i].name;
        a->params[i].value = a->nego.params[i].value;
    }
    for (size_t i = 0; i < a->nego.nvalues; i++) {
        a->values[i].fn = a->nego.values[i].fn;
        a->values[i].column = a->nego.values[i].column;
    }
done:
    return rc;
}

ovl_err ovl_analysis_load_template(ovl_analysis *a)
{
    ovl_err rc = OVL_OK;
    a->party = -1;
    OVL_TRY(make_views(a));
    if (a->nego.tpl_text == NULL)
        return OVL_OK;
    OVL_TRY(ovl_template_parse(&a->tpl, a->nego.tpl_label ? a->nego.tpl_label : "template",
                               a->nego.tpl_text, a->nego.tpl_len));
    a->party = ovl_template_party(a->tpl, a->table_name);
    OVL_ENSURE(a->party >= 0, OVL_ERR_POLICY,
               "template %s reads tables %s and %s, but this party's table is %s "
               "(name it with --table-name or in the policy)",
               a->tpl->label, a->tpl->table[0], a->tpl->table[1], a->table_name);
done:
    return rc;
}

/* Reads TEMPLATE.*.sig beside the template: they travel with it. */
ovl_err ovl_analysis_read_approvals(ovl_analysis *a, const char *tpl_path)
{
    ovl_err rc = OVL_OK;
    char dir[4096], prefix[1024];
    const char *slash = strrchr(tpl_path, '/');
    const char *base = slash ? slash + 1 : tpl_path;
    DIR *d = NULL;
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - tpl_path) : 1, slash ? tpl_path : ".");
    snprintf(prefix, sizeof prefix, "%s.", base);
    d = opendir(dir);
    OVL_ENSURE(d != NULL, OVL_ERR_IO, "cannot read the directory of %s", tpl_path);
    OVL_TRY(ovl_calloc((void **)&a->nego.approvals, OVL_REQUEST_MAX_APPROVALS + 1,
                       sizeof *a->nego.approvals));
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name), pl = strlen(prefix);
        if (n <= pl + 4 || strncmp(e->d_name, prefix, pl) != 0 ||
            strcmp(e->d_name + n - 4, ".sig") != 0)
            continue;
        OVL_ENSURE(a->nego.napprovals < OVL_REQUEST_MAX_APPROVALS, OVL_ERR_LIMIT,
                   "more than %u approvals beside %s", OVL_REQUEST_MAX_APPROVALS, tpl_path);
        char path[4096 + 512], text[OVL_REQUEST_MAX_STR + 1];
        OVL_ENSURE((size_t)snprintf(path, sizeof path, "%s/%s", dir, e->d_name) < sizeof path,
                   OVL_ERR_INPUT, "approval path too long beside %s", tpl_path);
        FILE *f = fopen(path, "rb");
        OVL_ENSURE(f != NULL, OVL_ERR_IO, "cannot read %s", path);
        size_t len = fread(text, 1, OVL_REQUEST_MAX_STR, f);
        fclose(f);
        text[len] = '\0';
        OVL_ENSURE(len < OVL_REQUEST_MAX_STR && strlen(text) == len, OVL_ERR_INPUT,
                   "%s is not an approval file", path);
        a->nego.approvals[a->nego.napprovals] = strdup(text);
        OVL_ENSURE(a->nego.approvals[a->nego.napprovals] != NULL, OVL_ERR_NOMEM, "out of memory");
        a->nego.napprovals++;
    }
done:
    if (d)
        closedir(d);
    return rc;
}

/* The approvals travelling with the template, checked against both keys. A
 * text that verifies for neither is a forgery or for another template. */
static ovl_err verify_approvals(ovl_analysis *a)
{
    ovl_err rc = OVL_OK;
    const ovl_pubkey *keys[2] = {ovl_identity_pub(a->self), &a->peer};
    memset(&a->approvals, 0, sizeof a->approvals);
    if (a->tpl == NULL)
        return OVL_OK;
    for (size_t i = 0; i < a->nego.napprovals; i++) {
        const char *text = a->nego.approvals[i];
        bool ok = false;
        for (int k = 0; k < 2 && !ok; k++) {
            if (ovl_approval_verify_text("approval", text, strlen(text), a->tpl->hash, keys[k]) !=
                OVL_OK)
                continue;
            ok = true;
            if (a->approvals.n < OVL_APPROVALS_MAX)
                ovl_fingerprint(a->approvals.fpr[a->approvals.n++], keys[k]->pk);
        }
        /* Approvals by third parties are ignored; nothing here trusts them. */
    }
    ovl_err_clear();
    return rc;
}

/* Whether an aggregate's output holds the number of shared identifiers
 * itself: a COUNT over the whole intersection, with nothing to group by. */
static bool aggregate_counts_all(const ovl_analysis *a)
{
    if (a->tpl != NULL) {
        const ovl_template *t = a->tpl;
        for (size_t i = 0; t->ndims == 0 && i < t->naggs; i++)
            if (t->aggs[i].fn == OVL_FN_COUNT)
                return true;
        for (size_t e = 0; t->ndims == 0 && e < t->nexprs; e++)
            for (size_t i = 0; i < t->exprs[e].ntok; i++)
                if (t->exprs[e].tok[i].op == OVL_TPL_X_AGG &&
                    t->exprs[e].tok[i].agg.fn == OVL_FN_COUNT)
                    return true;
        return false;
    }
    for (size_t i = 0; a->nego.ngroup_by == 0 && i < a->nego.nvalues; i++)
        if (a->nego.values[i].fn == OVL_FN_COUNT)
            return true;
    return false;
}

/* Who receives output and whether the count is revealed, derived from what
 * the engines will run (mode, reveal, roles, template outputs), never taken
 * from the request's own lists: a modified peer writes whatever it likes
 * there (protocols/setup/SPEC.md §3.3). */
static void derive_reveals(const ovl_analysis *a, ovl_request *r)
{
    bool listener = a->role == OVL_ROLE_LISTENER;
    const char *lfpr = listener ? a->self_fpr : a->peer_fpr;
    const char *cfpr = listener ? a->peer_fpr : a->self_fpr;
    r->nreceivers = 0;
    if (ovl_mode_aggregates(a->nego.mode)) {
        r->receivers[r->nreceivers++] = a->nego.runner_is_listener ? lfpr : cfpr;
        r->reveals_cardinality = aggregate_counts_all(a);
        return;
    }
    if (a->nego.reveal != OVL_REVEAL_CONNECTOR)
        r->receivers[r->nreceivers++] = lfpr;
    if (a->nego.reveal != OVL_REVEAL_LISTENER)
        r->receivers[r->nreceivers++] = cfpr;
    r->reveals_cardinality = ovl_mode_reveals_size(a->nego.mode);
}

static void build_request(const ovl_analysis *a, ovl_request *r)
{
    memset(r, 0, sizeof *r);
    r->mode = a->nego.mode;
    r->tpl = a->tpl;
    r->params = a->params;
    r->nparams = a->nego.nparams;
    r->approvals = &a->approvals;
    r->join_column = a->nego.join[a->role == OVL_ROLE_LISTENER ? 0 : 1];
    if (a->tpl != NULL && a->party >= 0)
        r->join_column = a->tpl->join_column[a->party];
    r->norm = a->nego.norm;
    bool runner = a->nego.runner_is_listener == (a->role == OVL_ROLE_LISTENER);
    r->side = runner ? OVL_SIDE_GROUP : OVL_SIDE_VALUES;
    r->group_by = (const char *const *)a->nego.group_by;
    r->ngroup_by = a->nego.ngroup_by;
    r->values = a->values;
    r->nvalues = a->nego.nvalues;
    r->threshold = a->nego.threshold;
    derive_reveals(a, r);
}

/* An honest request states what its analysis gives (the listener checks). */
static void state_reveals(const ovl_analysis *a, ovl_nego *request)
{
    ovl_request r;
    build_request(a, &r);
    char fpr[OVL_NEGO_RECEIVERS_MAX][OVL_FPR_LEN];
    for (size_t i = 0; i < r.nreceivers; i++)
        snprintf(fpr[i], OVL_FPR_LEN, "%s", r.receivers[i]);
    for (size_t i = 0; i < r.nreceivers; i++)
        memcpy(request->receivers[i], fpr[i], OVL_FPR_LEN);
    request->nreceivers = r.nreceivers;
    request->reveals_cardinality = r.reveals_cardinality;
}

/* The request's own receivers and cardinality flag are only the peer's
 * claims; one that disagrees with what its analysis gives is refused, so an
 * audit entry never records a claim that was not what ran. */
static ovl_err check_claims(const ovl_analysis *a)
{
    ovl_request r;
    build_request(a, &r);
    bool same = r.nreceivers == a->nego.nreceivers;
    for (size_t i = 0; same && i < r.nreceivers; i++) {
        bool found = false;
        for (size_t j = 0; j < a->nego.nreceivers && !found; j++)
            found = strcmp(r.receivers[i], a->nego.receivers[j]) == 0;
        same = found;
    }
    if (!same)
        return ovl_err_set(OVL_ERR_POLICY, "the request lists %zu output receiver(s), but its "
                           "analysis gives output to %zu (%s%s%s)", a->nego.nreceivers,
                           r.nreceivers, r.nreceivers ? r.receivers[0] : "none",
                           r.nreceivers > 1 ? " and " : "", r.nreceivers > 1 ? r.receivers[1] : "");
    if (r.reveals_cardinality != a->nego.reveals_cardinality)
        return ovl_err_set(OVL_ERR_POLICY, "the request says the number of shared identifiers "
                           "is %srevealed, but its analysis %s it",
                           a->nego.reveals_cardinality ? "" : "not ",
                           r.reveals_cardinality ? "reveals" : "does not reveal");
    return OVL_OK;
}

/* This owner's policy decision (terms), or empty terms without a policy. */
static ovl_err check_policy(ovl_analysis *a, ovl_owner_terms *terms)
{
    ovl_request r;
    ovl_policy_terms t;
    memset(terms, 0, sizeof *terms);
    if (a->policy == NULL)
        return OVL_OK;
    build_request(a, &r);
    ovl_err rc = ovl_verify_request(&t, a->policy, a->self_fpr, a->peer_fpr, &r);
    terms->min_rows = t.min_rows;
    terms->allow_cardinality = t.allow_cardinality;
    terms->has_policy = t.has_policy;
    return rc;
}

ovl_err ovl_request_agreement(ovl_agreement *out, const ovl_request *r,
                              const ovl_owner_terms *terms, size_t nterms)
{
    ovl_err rc = OVL_OK;
    ovl_nego_param *params = NULL;
    ovl_nego_value *values = NULL;
    ovl_agreement_req q = {
        .mode = r->mode,
        .template_hash = r->tpl ? r->tpl->hash : NULL,
        .threshold = r->tpl ? r->tpl->threshold : r->threshold,
        .nparams = r->nparams,
        .norm = r->norm,
        .group_by = r->group_by,
        .ngroup_by = r->ngroup_by,
        .nvalues = r->nvalues,
        .nreceivers = r->nreceivers,
        .reveals_cardinality = r->reveals_cardinality,
    };
    memset(out, 0, sizeof *out);
    OVL_ENSURE(r->nreceivers <= OVL_NEGO_RECEIVERS_MAX, OVL_ERR_USAGE, "too many receivers");
    OVL_TRY(ovl_calloc((void **)&params, r->nparams + 1, sizeof *params));
    OVL_TRY(ovl_calloc((void **)&values, r->nvalues + 1, sizeof *values));
    for (size_t i = 0; i < r->nparams; i++) {
        params[i].name = r->params[i].name;
        params[i].value = r->params[i].value;
    }
    for (size_t i = 0; i < r->nvalues; i++) {
        values[i].fn = r->values[i].fn;
        values[i].column = r->values[i].column;
    }
    for (size_t i = 0; i < r->nreceivers; i++)
        q.receivers[i] = r->receivers[i];
    q.params = params;
    q.values = values;
    OVL_TRY(ovl_agreement_make(out, &q, terms, nterms));
done:
    free(params);
    free(values);
    return rc;
}

static ovl_err agree(ovl_analysis *a)
{
    ovl_request r;
    build_request(a, &r);
    ovl_agreement_clear(&a->agreement);
    return ovl_request_agreement(&a->agreement, &r, a->terms, 2);
}

static bool same_str(const char *x, const char *y)
{
    return strcmp(x ? x : "", y ? y : "") == 0;
}

/* Names the first field where the peer's request differs from ours. */
static const char *request_difference(const ovl_nego *p, const ovl_nego *m)
{
    if (p->mode != m->mode)
        return "mode";
    if (p->mode != OVL_MODE_AGGREGATE && p->reveal != m->reveal)
        return "reveal";
    if (p->norm != m->norm)
        return "normalize";
    if ((p->tpl_text == NULL) != (m->tpl_text == NULL) ||
        (p->tpl_text && (p->tpl_len != m->tpl_len || memcmp(p->tpl_text, m->tpl_text, p->tpl_len))))
        return "template";
    if (p->nparams != m->nparams)
        return "template parameters";
    for (size_t i = 0; i < p->nparams; i++) {
        bool found = false;
        for (size_t j = 0; j < m->nparams && !found; j++)
            found = same_str(p->params[i].name, m->params[j].name) &&
                    same_str(p->params[i].value, m->params[j].value);
        if (!found)
            return "template parameters";
    }
    if (p->runner_is_listener != m->runner_is_listener)
        return "aggregate roles";
    /* Each side of an ad-hoc aggregate knows its own columns only: compare
     * what both stated. */
    if (p->ngroup_by && m->ngroup_by && p->ngroup_by != m->ngroup_by)
        return "group-by columns";
    for (size_t i = 0; p->ngroup_by == m->ngroup_by && i < p->ngroup_by; i++)
        if (!same_str(p->group_by[i], m->group_by[i]))
            return "group-by columns";
    if (p->nvalues && m->nvalues && p->nvalues != m->nvalues)
        return "value columns";
    for (size_t i = 0; p->nvalues == m->nvalues && i < p->nvalues; i++)
        if (p->values[i].fn != m->values[i].fn ||
            !same_str(p->values[i].column, m->values[i].column) ||
            p->decimals[i] != m->decimals[i])
            return "value columns";
    /* Receivers and cardinality follow from the fields above (check_claims). */
    return NULL;
}

static ovl_err fill_entry(ovl_analysis *a, ovl_audit_entry *e, ovl_outcome outcome,
                         const char *reason);

/* Budgets and differencing, and the run charged at once: under the
 * reservation lock the log is read, checked and the "agreed" entry
 * appended, so no concurrent session (of this process or another sharing
 * the log) passes on the same count, and the charge stays whatever the run's
 * end. */
static ovl_err owner_checks(ovl_analysis *a)
{
    ovl_err rc = OVL_OK;
    ovl_audit_log log = {0};
    ovl_audit_entry e;
    int lock = -1;
    memset(&e, 0, sizeof e);
    if (a->policy == NULL || a->audit_path == NULL)
        return OVL_OK;
    OVL_TRY(ovl_audit_lock(a->audit_path, &lock));
    OVL_TRY(ovl_audit_load(&log, a->audit_path, ovl_identity_pub(a->self), &a->peer, 1));
    OVL_TRY(ovl_budget_check(a->policy, &log, a->peer_fpr, a->agreement.analysis_id,
                             (uint64_t)time(NULL)));
    OVL_TRY(ovl_differencing_check(a->policy, &log, a->peer_fpr, a->agreement.analysis_id,
                                   a->local_set, a->peer_set));
    OVL_TRY(fill_entry(a, &e, OVL_OUTCOME_AGREED, ""));
    OVL_TRY(ovl_audit_append(a->audit_path, a->self, &e));
    a->agreed_seq = e.seq;
done:
    ovl_audit_unlock(lock);
    ovl_audit_entry_clear(&e);
    ovl_audit_log_free(&log);
    return rc;
}

/* Where this owner's log stands, for the peer (SPEC.md §3.7): its head,
 * and the entry it showed this peer as its head before, as the log holds
 * that entry now. The highest ever shown, as sessions can end out of order. */
static ovl_err build_history(ovl_analysis *a, ovl_history *h)
{
    ovl_err rc = OVL_OK;
    ovl_audit_log log = {0};
    memset(h, 0, sizeof *h);
    if (a->audit_path != NULL) {
        OVL_TRY(ovl_audit_load(&log, a->audit_path, ovl_identity_pub(a->self), NULL, 0));
        if (log.n > 0) {
            h->head_seq = log.n;
            memcpy(h->head_hash, log.entries[log.n - 1].hash, OVL_HASH_LEN);
        }
        for (size_t i = 0; i < log.n; i++) {
            const ovl_audit_entry *e = &log.entries[i];
            if (e->shown > h->since_seq && e->shown <= log.n && strcmp(e->peer, a->peer_fpr) == 0)
                h->since_seq = e->shown;
        }
        if (h->since_seq)
            memcpy(h->since_hash, log.entries[h->since_seq - 1].hash, OVL_HASH_LEN);
    }
    a->shown_seq = h->head_seq;
    OVL_TRY(ovl_history_sign(h, a->self));
done:
    ovl_audit_log_free(&log);
    return rc;
}

/* The peer's log must extend the head it showed this owner before (the
 * highest recorded): not shorter, not holding another entry there. A
 * refusal records nothing new, so retrying does not wash it out. */
static ovl_err check_history(ovl_analysis *a, const ovl_history *h)
{
    ovl_err rc = OVL_OK;
    ovl_audit_log log = {0};
    uint64_t rec = 0;
    const uint8_t *rec_hash = NULL;
    OVL_TRY(ovl_history_verify(h, &a->peer));
    if (a->audit_path == NULL)
        return OVL_OK;
    OVL_TRY(ovl_audit_load(&log, a->audit_path, ovl_identity_pub(a->self), NULL, 0));
    for (size_t i = 0; i < log.n; i++) {
        const ovl_audit_entry *e = &log.entries[i];
        if (e->peer_head_seq > rec && strcmp(e->peer, a->peer_fpr) == 0) {
            rec = e->peer_head_seq;
            rec_hash = e->peer_head_hash;
        }
    }
    if (rec && h->head_seq < rec)
        OVL_FAIL(ovl_err_set(OVL_ERR_POLICY, "the peer's audit log went back from entry %llu to "
                             "entry %llu", (unsigned long long)rec,
                             (unsigned long long)h->head_seq));
    if (rec && h->since_seq < rec)
        OVL_FAIL(ovl_err_set(OVL_ERR_POLICY, "the peer's audit log went back from entry %llu to "
                             "entry %llu (its log was put back, then grew to %llu entries)",
                             (unsigned long long)rec, (unsigned long long)h->since_seq,
                             (unsigned long long)h->head_seq));
    if (rec && h->since_seq == rec && sodium_memcmp(h->since_hash, rec_hash, OVL_HASH_LEN) != 0)
        OVL_FAIL(ovl_err_set(OVL_ERR_POLICY, "the peer's audit log was replaced: its entry %llu is "
                             "not the one it showed before", (unsigned long long)rec));
    a->peer_head_seq = h->head_seq;
    memcpy(a->peer_head_hash, h->head_hash, OVL_HASH_LEN);
done:
    ovl_audit_log_free(&log);
    return rc;
}

/* Connector, before its REQUEST leaves: its own policy's verdict. */
static ovl_err on_prepare(void *arg, ovl_nego *request)
{
    ovl_err rc = OVL_OK;
    ovl_analysis *a = arg;
    OVL_TRY(ovl_analysis_load_template(a));
    OVL_TRY(verify_approvals(a));
    rc = check_policy(a, &a->terms[1]);
    a->own_refusal = rc != OVL_OK;
    OVL_TRY(rc);
    state_reveals(a, request);
    OVL_TRY(build_history(a, &a->terms[1].history));
    request->connector_terms = a->terms[1];
    request->connector_set = a->local_set;
done:
    return rc;
}

ovl_err ovl_analysis_check_own(ovl_analysis *a, const ovl_pubkey *peer)
{
    ovl_err rc = OVL_OK;
    ovl_owner_terms terms;
    a->peer = *peer;
    ovl_fingerprint(a->self_fpr, ovl_identity_pub(a->self)->pk);
    ovl_fingerprint(a->peer_fpr, a->peer.pk);
    OVL_TRY(ovl_analysis_load_template(a));
    OVL_TRY(verify_approvals(a));
    rc = check_policy(a, &terms);
    a->own_refusal = rc != OVL_OK;
done:
    return rc;
}

/* Connector, on TERMS: the agreement, and this owner's budgets charged. */
static ovl_err on_agree(void *arg, const ovl_owner_terms *terms, uint64_t set_size)
{
    ovl_err rc = OVL_OK;
    ovl_analysis *a = arg;
    a->terms[0] = *terms;
    a->peer_set = set_size;
    OVL_TRY(check_history(a, &terms->history));
    OVL_TRY(agree(a));
    rc = owner_checks(a);
    a->own_refusal = rc == OVL_ERR_POLICY;
done:
    return rc;
}

/* The approvals travelling with the peer's request join ours, and the
 * peer's request becomes the analysis. */
static ovl_err adopt_request(ovl_analysis *a, ovl_nego *theirs)
{
    ovl_err rc;
    char **local = a->nego.approvals;
    size_t nlocal = a->nego.napprovals;
    a->nego.approvals = NULL;
    a->nego.napprovals = 0;
    ovl_nego_clear(&a->nego);
    a->nego = *theirs;
    memset(theirs, 0, sizeof *theirs);
    rc = ovl_reallocarray((void **)&a->nego.approvals, OVL_REQUEST_MAX_APPROVALS + 1,
                          sizeof *a->nego.approvals);
    for (size_t i = 0; i < nlocal; i++) {
        if (rc == OVL_OK && a->nego.napprovals < OVL_REQUEST_MAX_APPROVALS)
            a->nego.approvals[a->nego.napprovals++] = local[i];
        else
            free(local[i]);
    }
    free(local);
    return rc;
}

/* Listener: the analysis the peer asks for, checked against what this party
 * typed (a `run`) or taken as asked (a server), its approvals, this owner's
 * policy, its input, budgets and differencing. */
static ovl_err judge_request(ovl_analysis *a, ovl_nego *theirs)
{
    ovl_err rc = OVL_OK;
    if (a->request_refusal != NULL)
        return ovl_err_set(OVL_ERR_POLICY, "%s", a->request_refusal);
    if (a->mine != NULL) {
        /* Sent to the connector too: worded by role, as HELLO mismatches are. */
        const char *diff = request_difference(theirs, a->mine);
        if (diff != NULL && theirs->mode != a->mine->mode)
            return ovl_err_set(OVL_ERR_POLICY, "mode mismatch: the listener runs --mode %s, the "
                               "connector --mode %s", ovl_mode_name(a->mine->mode),
                               ovl_mode_name(theirs->mode));
        if (diff != NULL)
            return ovl_err_set(OVL_ERR_POLICY, "the connector asks for a different analysis "
                               "than the listener states (%s differs)", diff);
    }
    OVL_TRY(adopt_request(a, theirs));
    a->peer_set = a->nego.connector_set;
    a->terms[1] = a->nego.connector_terms;
    OVL_TRY(check_history(a, &a->terms[1].history));
    rc = ovl_analysis_load_template(a);
    if (rc == OVL_OK)
        rc = verify_approvals(a);
    if (rc == OVL_OK) {
        rc = check_policy(a, &a->terms[0]);
        a->own_refusal = rc != OVL_OK;
    }
    if (rc == OVL_OK)
        rc = check_claims(a);
    if (rc == OVL_OK)
        rc = agree(a);
    /* Everything judged here is the peer's request (its template text
     * included), so what cannot be taken is a refusal of it, named as the
     * peer's, never this party's own input. */
    if (rc == OVL_ERR_USAGE || rc == OVL_ERR_INPUT)
        rc = OVL_ERR_POLICY;
done:
    return rc;
}

static ovl_err on_judge(void *arg, ovl_nego *request, ovl_owner_terms *terms, uint64_t *set_size)
{
    ovl_err rc = OVL_OK;
    ovl_analysis *a = arg;
    OVL_TRY(judge_request(a, request));
    if (a->load_input)
        OVL_TRY(a->load_input(a->load_arg, a));
    rc = owner_checks(a);
    a->own_refusal = rc == OVL_ERR_POLICY;
    OVL_TRY(rc);
    OVL_TRY(build_history(a, &a->terms[0].history));
    *terms = a->terms[0];
    *set_size = a->local_set;
done:
    return rc;
}

static ovl_err on_cosigned(void *arg, const uint8_t sig[OVL_SIG_LEN])
{
    ovl_analysis *a = arg;
    memcpy(a->peer_sig, sig, OVL_SIG_LEN);
    a->has_peer_sig = true;
    return OVL_OK;
}

ovl_err ovl_analysis_negotiate(ovl_analysis *a, ovl_conn *c, const ovl_drive_opts *base,
                               ovl_buf *carry)
{
    ovl_err rc = OVL_OK;
    ovl_drive_opts d = *base;
    ovl_negotiator_config cfg = {
        .role = a->role,
        .request = &a->nego,
        .plain_refusal = a->plain_refusal,
        .self = a->self,
        .peer = &a->peer,
        .cb = {.prepare = on_prepare, .judge = on_judge, .agree = on_agree,
               .cosigned = on_cosigned, .arg = a},
    };
    a->peer = *ovl_conn_peer(c);
    ovl_fingerprint(a->self_fpr, ovl_identity_pub(a->self)->pk);
    ovl_fingerprint(a->peer_fpr, a->peer.pk);
    OVL_TRY(ovl_negotiator_new(&a->engine, &cfg));
    d.preread = carry->data + carry->rpos;
    d.preread_len = ovl_buf_remaining(carry);
    d.rest = carry;
    OVL_TRY(ovl_drive(c, &ovl_negotiator_ops, a->engine, &d));
    a->negotiated = ovl_negotiator_negotiated(a->engine);
    if (!a->negotiated) {
        /* The peer's HELLO goes first to the analysis engine. */
        ovl_buf joined;
        OVL_TRY(ovl_buf_alloc(&joined, 4096, OVL_DRIVE_CARRY_MAX));
        rc = ovl_negotiator_take_first(a->engine, &joined);
        if (rc == OVL_OK)
            rc = ovl_buf_put_bytes(&joined, ovl_buf_rptr(carry), ovl_buf_remaining(carry));
        ovl_buf_free(carry);
        *carry = joined;
        OVL_TRY(rc);
    }
done:
    return rc;
}

ovl_err ovl_analysis_cosign(ovl_analysis *a, ovl_conn *c, const uint8_t transcript[64],
                            const ovl_drive_opts *base, ovl_buf *carry)
{
    ovl_err rc = OVL_OK;
    ovl_drive_opts d = *base;
    /* The audit log keeps 32 bytes: the first half of the SHA-512 transcript. */
    memcpy(a->transcript, transcript, OVL_HASH_LEN);
    a->has_transcript = true;
    OVL_TRY(ovl_negotiator_cosign(a->engine, a->transcript));
    d.preread = carry->data + carry->rpos;
    d.preread_len = ovl_buf_remaining(carry);
    d.rest = carry;
    rc = ovl_drive(c, &ovl_negotiator_ops, a->engine, &d);
    /* No signature at all (silence, a closed connection, an ABORT) is the
     * peer withholding it; a signature that does not verify is a failure. */
    a->cosign_withheld = rc != OVL_OK && rc != OVL_ERR_AUTH && !a->has_peer_sig;
    OVL_TRY(rc);
done:
    return rc;
}

/* The audit entry for this session as it stands. */
static ovl_err fill_entry(ovl_analysis *a, ovl_audit_entry *e, ovl_outcome outcome,
                         const char *reason)
{
    memset(e, 0, sizeof *e);
    e->time = (uint64_t)time(NULL);
    snprintf(e->peer, sizeof e->peer, "%s", a->peer_fpr[0] ? a->peer_fpr : "unknown");
    /* A session refused before any request still records the mode it was
     * about: this party's, or the one the peer's plain HELLO stated. */
    if (!a->stated_mode && a->engine)
        a->stated_mode = ovl_negotiator_plain_mode(a->engine);
    e->mode = a->nego.mode       ? a->nego.mode
              : a->stated_mode ? a->stated_mode
                               : OVL_MODE_INTERSECTION;
    if (a->tpl) {
        e->has_template = true;
        memcpy(e->template_hash, a->tpl->hash, OVL_HASH_LEN);
    }
    memcpy(e->analysis, a->agreement.analysis_id, OVL_HASH_LEN);
    e->local_set = a->local_set;
    e->peer_set = a->peer_set;
    e->groups_released = a->groups_released;
    e->groups_suppressed = a->groups_suppressed;
    e->has_capped = a->has_capped;
    e->capped = a->capped;
    e->inconsistent = a->inconsistent;
    e->outcome = outcome;
    memcpy(e->reason, reason, strnlen(reason, sizeof e->reason - 1)); /* e is zeroed */
    e->has_transcript = a->has_transcript;
    memcpy(e->transcript, a->transcript, OVL_HASH_LEN);
    e->has_peer_sig = a->has_peer_sig;
    memcpy(e->peer_sig, a->peer_sig, OVL_SIG_LEN);
    e->agreed = a->agreed_seq;
    e->shown = a->shown_seq;
    e->peer_head_seq = a->peer_head_seq;
    memcpy(e->peer_head_hash, a->peer_head_hash, OVL_HASH_LEN);
    ovl_err rc = a->params || a->nego.nparams == 0 ? OVL_OK : make_views(a);
    if (rc == OVL_OK)
        rc = ovl_audit_entry_set_params(e, a->params, a->nego.nparams);
    return rc;
}

void ovl_analysis_audit(ovl_analysis *a, ovl_err result)
{
    ovl_audit_entry e;
    char reason[512];
    if (a->audit_path == NULL)
        return;
    /* appending may set its own detail; the run's must survive it */
    snprintf(reason, sizeof reason, "%s", result == OVL_OK ? "" : ovl_err_detail());
    ovl_outcome outcome = result == OVL_OK             ? OVL_OUTCOME_OK
                          : a->cosign_withheld         ? OVL_OUTCOME_WITHHELD
                          : result == OVL_ERR_POLICY ? OVL_OUTCOME_REFUSED
                                                     : OVL_OUTCOME_FAILED;
    /* A charged run stays charged: its end is never "refused". */
    if (outcome == OVL_OUTCOME_REFUSED && a->agreed_seq)
        outcome = OVL_OUTCOME_FAILED;
    ovl_err rc = fill_entry(a, &e, outcome, reason);
    if (rc == OVL_OK)
        rc = ovl_audit_append(a->audit_path, a->self, &e);
    if (rc != OVL_OK)
        fprintf(stderr, "overlap: warning: could not append to the audit log %s: %s\n",
                a->audit_path, ovl_err_detail());
    ovl_audit_entry_clear(&e);
    if (result != OVL_OK)
        (void)ovl_err_set(result, "%s", reason);
}

ovl_err ovl_analysis_psi_params(const ovl_analysis *a, ovl_buf *out)
{
    ovl_err rc = OVL_OK;
    char head[96];
    int n = snprintf(head, sizeof head, "psi/1 id=sha256 normalize=%s", ovl_norm_name(a->nego.norm));
    OVL_TRY(ovl_buf_put_bytes(out, head, (size_t)n));
    OVL_TRY(ovl_buf_put_u8(out, 0));
    OVL_TRY(ovl_buf_put_bytes(out, a->agreement.encoding, a->agreement.encoding_len));
    /* The negotiated set sizes: HELLO must announce the same ones. */
    OVL_TRY(ovl_buf_put_u64(out, a->role == OVL_ROLE_LISTENER ? a->local_set : a->peer_set));
    OVL_TRY(ovl_buf_put_u64(out, a->role == OVL_ROLE_LISTENER ? a->peer_set : a->local_set));
done:
    return rc;
}

void ovl_analysis_clear(ovl_analysis *a)
{
    ovl_negotiator_free(a->engine);
    free(a->params);
    free(a->values);
    ovl_nego_clear(&a->nego);
    ovl_template_free(a->tpl);
    ovl_agreement_clear(&a->agreement);
    memset(a, 0, sizeof *a);
}
