/* The embeddable API (include/overlap/overlap.h) over the session pipeline
 * (src/session/session.h): the same run as `overlap run`, configured by
 * calls instead of options. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/guard.h"
#include "core/mem.h"
#include "core/pool.h"
#include "crypto/group.h"
#include "net/identity.h"
#include "net/transport.h"
#include "overlap/overlap.h"
#include "session/session.h"

#define WAIT_MS (600 * 1000) /* how long the peer is waited for, as `run --wait` */

struct overlap_analysis {
    ovl_session_config cfg;
    char *address, *table, *join, *out, *identity_path, *peer_path;
    ovl_identity *self;
    ovl_pubkey peer;
    ovl_session_result result;
    bool ran, ok;
    overlap_status failed; /* a failed analysis stays failed */
    char error[512];
};

/* Internal error categories as the public outcomes (the CLI's exit codes). */
static const struct {
    ovl_err err;
    overlap_status status;
} outcomes[] = {
    {OVL_OK, OVERLAP_OK},
    {OVL_ERR_USAGE, OVERLAP_ERR_USAGE},
    {OVL_ERR_INPUT, OVERLAP_ERR_INPUT},
    {OVL_ERR_IO, OVERLAP_ERR_INPUT},
    {OVL_ERR_PEER_CLOSED, OVERLAP_ERR_NETWORK},
    {OVL_ERR_TIMEOUT, OVERLAP_ERR_NETWORK},
    {OVL_ERR_TLS, OVERLAP_ERR_NETWORK},
    {OVL_ERR_AUTH, OVERLAP_ERR_NETWORK},
    {OVL_ERR_NET, OVERLAP_ERR_NETWORK},
    {OVL_ERR_PROTOCOL, OVERLAP_ERR_PROTOCOL},
    {OVL_ERR_MALFORMED, OVERLAP_ERR_PROTOCOL},
    {OVL_ERR_CRYPTO, OVERLAP_ERR_PROTOCOL},
    {OVL_ERR_LIMIT, OVERLAP_ERR_PROTOCOL},
    {OVL_ERR_POLICY, OVERLAP_ERR_REFUSED},
};

static overlap_status fail(overlap_analysis *a, ovl_err e)
{
    overlap_status st = OVERLAP_ERR_INTERNAL;
    for (size_t i = 0; i < sizeof outcomes / sizeof outcomes[0]; i++)
        if (outcomes[i].err == e)
            st = outcomes[i].status;
    if (st != OVERLAP_OK && a->failed == OVERLAP_OK) {
        a->failed = st;
        const char *d = ovl_err_detail();
        snprintf(a->error, sizeof a->error, "%s", *d ? d : ovl_err_name(e));
        for (char *p = a->error; *p; p++)
            if (*p == '\n' || *p == '\r')
                *p = ' ';
    }
    return a->failed;
}

static overlap_status usage(overlap_analysis *a, const char *what)
{
    return fail(a, ovl_err_set(OVL_ERR_USAGE, "%s", what));
}

static ovl_err copy(char **dst, const char *src)
{
    free(*dst);
    *dst = src ? strdup(src) : NULL;
    return src && *dst == NULL ? ovl_err_set(OVL_ERR_NOMEM, "out of memory") : OVL_OK;
}

const char *overlap_version(void) { return OVL_VERSION; }

overlap_status overlap_new(overlap_analysis **out, overlap_role role, const char *address)
{
    overlap_analysis *a = NULL;
    *out = NULL;
    if (ovl_calloc((void **)&a, 1, sizeof *a) != OVL_OK)
        return OVERLAP_ERR_INTERNAL;
    *out = a;
    a->cfg.role = role == OVERLAP_CONNECT ? OVL_ROLE_CONNECTOR : OVL_ROLE_LISTENER;
    a->cfg.mode = OVL_MODE_INTERSECTION;
    a->cfg.reveal = OVL_REVEAL_BOTH;
    a->cfg.timeout_s = 60;
    a->cfg.threads = ovl_cpu_count();
    a->cfg.max_peer = OVL_SESSION_DEFAULT_MAX_PEER_SET;
    a->cfg.name_peer = true;
    if (role != OVERLAP_LISTEN && role != OVERLAP_CONNECT)
        return usage(a, "overlap_new: role is OVERLAP_LISTEN or OVERLAP_CONNECT");
    if (address == NULL)
        return usage(a, "overlap_new: an address HOST:PORT is required");
    return fail(a, copy(&a->address, address));
}

overlap_status overlap_set_keys(overlap_analysis *a, const char *identity_path,
                                const char *peer_pub_path)
{
    if (a->failed)
        return a->failed;
    if (identity_path == NULL || peer_pub_path == NULL)
        return usage(a, "overlap_set_keys: both key files are required");
    ovl_err rc = copy(&a->identity_path, identity_path);
    if (rc == OVL_OK)
        rc = copy(&a->peer_path, peer_pub_path);
    return fail(a, rc);
}

overlap_status overlap_set_table(overlap_analysis *a, const char *table, const char *join_column,
                                 overlap_normalize norm)
{
    if (a->failed)
        return a->failed;
    if (table == NULL || join_column == NULL)
        return usage(a, "overlap_set_table: a table and its join column are required");
    if (norm != OVERLAP_NORMALIZE_NONE && norm != OVERLAP_NORMALIZE_EMAIL &&
        norm != OVERLAP_NORMALIZE_PHONE)
        return usage(a, "overlap_set_table: unknown normalisation");
    a->cfg.norm = (ovl_norm)norm;
    ovl_err rc = copy(&a->table, table);
    if (rc == OVL_OK)
        rc = copy(&a->join, join_column);
    return fail(a, rc);
}

overlap_status overlap_set_analysis(overlap_analysis *a, overlap_mode mode, overlap_reveal reveal)
{
    if (a->failed)
        return a->failed;
    if (ovl_mode_kind_of((unsigned)mode) == NULL || mode == (overlap_mode)OVL_MODE_AGGREGATE ||
        ovl_reveal_kind_of((unsigned)reveal) == NULL)
        return usage(a, "overlap_set_analysis: unknown mode or reveal setting");
    a->cfg.mode = (ovl_mode)mode;
    a->cfg.reveal = (ovl_reveal)reveal;
    return OVERLAP_OK;
}

overlap_status overlap_set_output(overlap_analysis *a, const char *path)
{
    if (a->failed)
        return a->failed;
    return fail(a, copy(&a->out, path));
}

overlap_status overlap_set_limits(overlap_analysis *a, unsigned timeout_s, unsigned threads)
{
    if (a->failed)
        return a->failed;
    if (timeout_s < 1 || timeout_s > 86400 || threads < 1 || threads > 256)
        return usage(a, "overlap_set_limits: timeout 1..86400 s, threads 1..256");
    a->cfg.timeout_s = timeout_s;
    a->cfg.threads = threads;
    return OVERLAP_OK;
}

static ovl_err connect_peer(overlap_analysis *a, ovl_listener **l, ovl_conn **c)
{
    ovl_err rc = OVL_OK;
    int timeout_ms = (int)(a->cfg.timeout_s * 1000);
    if (a->cfg.role == OVL_ROLE_LISTENER) {
        OVL_TRY(ovl_listen(l, a->address));
        OVL_TRY(ovl_accept(c, *l, a->self, &a->peer, 1, WAIT_MS, timeout_ms));
    } else {
        OVL_TRY(ovl_connect(c, a->address, a->self, &a->peer, WAIT_MS));
    }
done:
    return rc;
}

static ovl_err run(overlap_analysis *a)
{
    ovl_err rc = OVL_OK;
    ovl_session *s = NULL;
    ovl_listener *l = NULL;
    ovl_conn *c = NULL;
    OVL_ENSURE(a->identity_path && a->table, OVL_ERR_USAGE,
               "overlap_run: set the keys and the table first");
    OVL_ENSURE(!ovl_reveal_includes(a->cfg.reveal, a->cfg.role) || a->out, OVL_ERR_USAGE,
               "overlap_run: this party receives output: set where it goes (overlap_set_output)");
    OVL_TRY(ovl_crypto_init());
    OVL_TRY(ovl_identity_load(&a->self, a->identity_path));
    OVL_TRY(ovl_pubkey_load(&a->peer, a->peer_path));
    a->cfg.self = a->self;
    a->cfg.peer = &a->peer;
    a->cfg.table = a->table;
    a->cfg.join = a->join;
    a->cfg.out = a->out;
    OVL_TRY(ovl_session_new(&s, &a->cfg));
    OVL_TRY(connect_peer(a, &l, &c));
    OVL_TRY(ovl_session_run(s, c));
    ovl_session_result_get(s, &a->result);
    a->ok = true;
done:
    ovl_session_free(s);
    ovl_conn_close(c);
    ovl_listener_close(l);
    return rc;
}

overlap_status overlap_run(overlap_analysis *a)
{
    if (a->failed)
        return a->failed;
    if (a->ran)
        return usage(a, "overlap_run: an analysis runs once");
    a->ran = true;
    return fail(a, run(a));
}

overlap_status overlap_intersection_size(const overlap_analysis *a, uint64_t *out)
{
    if (!a->ok || !a->result.have_intersection)
        return a->failed ? a->failed : OVERLAP_ERR_USAGE;
    *out = a->result.intersection;
    return OVERLAP_OK;
}

overlap_status overlap_peer_set_size(const overlap_analysis *a, uint64_t *out)
{
    if (!a->ok)
        return a->failed ? a->failed : OVERLAP_ERR_USAGE;
    *out = a->result.peer_set;
    return OVERLAP_OK;
}

const char *overlap_error(const overlap_analysis *a) { return a ? a->error : "out of memory"; }

void overlap_free(overlap_analysis *a)
{
    if (a == NULL)
        return;
    ovl_identity_free(a->self);
    free(a->address);
    free(a->table);
    free(a->join);
    free(a->out);
    free(a->identity_path);
    free(a->peer_path);
    free(a);
}
