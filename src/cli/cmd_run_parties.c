/* overlap run --parties K: one multi-party PSI run (protocols/mpsi/SPEC.md),
 * as the listener (the hub, with one --peer per other member) or as a
 * member connecting to it (--peer LISTENER.pub). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/guard.h"
#include "crypto/group.h"
#include "crypto/r255x8.h"
#include "io/dbspec.h"
#include "net/identity.h"
#include "net/transport.h"
#include "session/mpsi_run.h"

typedef struct {
    ovl_identity *self;
    ovl_pubkey peers[OVL_SESSION_MAX_MEMBERS - 1];
    ovl_policy *policy;
    ovl_listener *listener;
    ovl_conn *conns[OVL_SESSION_MAX_MEMBERS - 1];
    size_t nconns;
    ovl_mpsi_session *session;
} parties_state;

ovl_err ovl_cli_parties_check(const ovl_parties_opts *o)
{
    ovl_err rc = OVL_OK;
    unsigned k = o->parties;
    bool hub = o->listen != NULL;
    OVL_ENSURE(o->mode == OVL_MODE_INTERSECTION || o->mode == OVL_MODE_CARDINALITY,
               OVL_ERR_USAGE, "run: --parties runs --mode intersection or cardinality (aggregates "
               "with several members run between two parties)");
    OVL_ENSURE(!hub || o->npeers == k - 1, OVL_ERR_USAGE,
               "run: --parties %u as the listener takes one --peer per other member: %u keys, "
               "got %zu", k, k - 1, o->npeers);
    OVL_ENSURE(hub || o->npeers == 1, OVL_ERR_USAGE,
               "run: --parties with --connect takes one --peer, the listener's key (got %zu)",
               o->npeers);
    bool receives = o->mode == OVL_MODE_CARDINALITY || o->reveal == OVL_REVEAL_BOTH || hub;
    OVL_ENSURE(!receives || o->out != NULL, OVL_ERR_USAGE,
               "run: --out FILE is required: this member receives output under --reveal %s",
               o->reveal == OVL_REVEAL_BOTH ? "all" : "listener");
done:
    return rc;
}

/* The keys, each once and none this member's own. */
static ovl_err load_peers(parties_state *s, const ovl_parties_opts *o)
{
    ovl_err rc = OVL_OK;
    const ovl_pubkey *me = ovl_identity_pub(s->self);
    for (size_t i = 0; i < o->npeers; i++) {
        OVL_TRY(ovl_pubkey_load(&s->peers[i], o->peers[i]));
        OVL_ENSURE(memcmp(s->peers[i].pk, me->pk, OVL_PK_LEN) != 0, OVL_ERR_USAGE,
                   "run: --peer %s is this member's own key", o->peers[i]);
        for (size_t j = 0; j < i; j++)
            OVL_ENSURE(memcmp(s->peers[i].pk, s->peers[j].pk, OVL_PK_LEN) != 0, OVL_ERR_USAGE,
                       "run: --peer %s and --peer %s hold the same key", o->peers[j],
                       o->peers[i]);
    }
done:
    return rc;
}

/* The hub: K-1 connections, each pinned to a listed key not yet connected;
 * any other key fails its TLS handshake before a byte of the run. */
static ovl_err accept_members(parties_state *s, const ovl_parties_opts *o)
{
    ovl_err rc = OVL_OK;
    size_t n = o->npeers;
    OVL_TRY(ovl_listen(&s->listener, o->listen));
    const char *colon = strrchr(o->listen, ':');
    fprintf(stderr, "overlap: listening on %.*s:%u for %zu members\n",
            colon ? (int)(colon - o->listen) : 0, o->listen, ovl_listener_port(s->listener), n);
    for (size_t got = 0; got < n; got++) {
        ovl_pubkey left[OVL_SESSION_MAX_MEMBERS - 1];
        size_t idx[OVL_SESSION_MAX_MEMBERS - 1], nleft = 0;
        ovl_conn *c = NULL;
        for (size_t i = 0; i < n; i++)
            if (s->conns[i] == NULL) {
                idx[nleft] = i;
                left[nleft++] = s->peers[i];
            }
        OVL_TRY(ovl_accept(&c, s->listener, s->self, left, nleft, (int)(o->wait_s * 1000),
                           (int)(o->timeout_s * 1000)));
        for (size_t i = 0; i < nleft; i++)
            if (memcmp(ovl_conn_peer(c)->pk, left[i].pk, OVL_PK_LEN) == 0)
                s->conns[idx[i]] = c;
        if (!o->quiet)
            fprintf(stderr, "overlap: %s connected (%zu of %zu)\n", ovl_conn_peer(c)->name,
                    got + 1, n);
    }
    s->nconns = n;
done:
    return rc;
}

static ovl_err execute(parties_state *s, const ovl_parties_opts *o)
{
    ovl_err rc = OVL_OK;
    OVL_TRY(ovl_crypto_init());
    OVL_TRY(ovl_identity_load(&s->self, o->identity));
    OVL_TRY(load_peers(s, o));
    if (o->policy) {
        OVL_TRY(ovl_policy_load(&s->policy, o->policy));
        OVL_TRY(ovl_policy_check_query(s->policy, o->query));
    }
    ovl_mpsi_session_config cfg = {
        .members = o->parties, .hub = o->listen != NULL, .self = s->self, .peers = s->peers,
        .npeers = o->npeers, .policy = s->policy, .audit_path = o->audit, .table = o->table,
        .query = o->query, .join = o->join, .norm = o->norm, .prehashed = o->prehashed,
        .mode = o->mode, .reveal = o->reveal, .out = o->out, .replace = o->replace,
        .writing = o->writing, .timeout_s = o->timeout_s, .threads = o->threads,
    };
    OVL_TRY(ovl_mpsi_session_new(&s->session, &cfg));
    if (o->listen) {
        OVL_TRY(accept_members(s, o));
    } else {
        OVL_TRY(ovl_connect(&s->conns[0], o->connect, s->self, &s->peers[0],
                            (int)(o->wait_s * 1000)));
        s->nconns = 1;
    }
    OVL_TRY(ovl_mpsi_session_run(s->session, s->conns, s->nconns));
done:
    return rc;
}

static void print_summary(const ovl_mpsi_session_result *r, const ovl_parties_opts *o,
                          double seconds)
{
    json_t *j = json_object(), *m = json_array();
    for (unsigned i = 0; i < r->members; i++)
        json_array_append_new(m, json_pack("{s:I, s:s, s:s, s:I}", "index", (json_int_t)i,
                                           "name", r->name[i], "fingerprint", r->fpr[i],
                                           "set_size", (json_int_t)r->size[i]));
    json_object_set_new(j, "mode", json_string(ovl_mode_name(o->mode)));
    json_object_set_new(j, "protocol", json_string("mpsi/1"));
    json_object_set_new(j, "role", json_string(o->listen ? "listener" : "member"));
    json_object_set_new(j, "reveal",
                        json_string(o->reveal == OVL_REVEAL_BOTH ? "all" : "listener"));
    json_object_set_new(j, "parties", json_integer((json_int_t)r->members));
    json_object_set_new(j, "member_index", json_integer((json_int_t)r->self));
    json_object_set_new(j, "members", m);
    json_object_set_new(j, "suite", json_string(ovl_group_default()->name));
    json_object_set_new(j, "arith", json_string(ovl_arith_name()));
    json_object_set_new(j, "local_rows", json_integer((json_int_t)r->local_rows));
    json_object_set_new(j, "distinct_local_identifiers", json_integer((json_int_t)r->local_ids));
    json_object_set_new(j, "skipped_rows", json_integer((json_int_t)r->skipped));
    json_object_set_new(j, "intersection_size",
                        r->have_count ? json_integer((json_int_t)r->count) : json_null());
    json_object_set_new(j, "seconds", json_real(seconds));
    json_object_set_new(j, "bytes_sent", json_integer((json_int_t)r->bytes_sent));
    json_object_set_new(j, "bytes_received", json_integer((json_int_t)r->bytes_received));
    char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    if (text) {
        printf("%s\n", text);
        free(text);
    }
    json_decref(j);
}

static void print_outcome(const ovl_mpsi_session_result *r, const ovl_parties_opts *o)
{
    char *shown = o->out ? ovl_spec_redact(o->out) : NULL;
    const char *out = shown ? shown : o->out ? "--out" : NULL;
    if (!r->have_count) {
        if (out)
            fprintf(stderr, "overlap: this member receives no output under --reveal listener; "
                            "%s was not written\n", out);
    } else {
        fprintf(stderr, "overlap: done: %llu identifiers in all %u sets%s%s\n",
                (unsigned long long)r->count, r->members, out ? ", written to " : "",
                out ? out : "");
    }
    free(shown);
}

int ovl_run_parties(const ovl_parties_opts *o)
{
    parties_state s;
    ovl_mpsi_session_result r;
    memset(&s, 0, sizeof s);
    double t0 = ovl_cli_now();
    ovl_err rc = execute(&s, o);
    if (s.session)
        ovl_mpsi_session_result_get(s.session, &r);
    if (rc == OVL_OK && o->summary)
        print_summary(&r, o, ovl_cli_now() - t0);
    if (rc == OVL_OK && !o->quiet)
        print_outcome(&r, o);
    ovl_mpsi_session_free(s.session);
    ovl_policy_free(s.policy);
    for (size_t i = 0; i < OVL_SESSION_MAX_MEMBERS - 1; i++)
        ovl_conn_close(s.conns[i]);
    ovl_listener_close(s.listener);
    ovl_identity_free(s.self);
    return rc == OVL_OK ? 0 : ovl_cli_fail(rc);
}
