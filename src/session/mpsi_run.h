/* A multi-party PSI session, `overlap run --parties K` (protocols/mpsi/
 * SPEC.md §3): the listener (the hub, member 0) over its K-1 connections,
 * or a member over its one connection to the hub. Input, setup with the
 * member list, each member's policy, the run with the hub relaying, every
 * member's co-signature, output and the audit entry: the two-party
 * pipeline's steps (session.c), for K members. */
#ifndef OVL_SESSION_MPSI_RUN_H
#define OVL_SESSION_MPSI_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "core/kinds.h"
#include "io/table.h"
#include "mpsi/mpsi.h"
#include "net/identity.h"
#include "net/transport.h"
#include "policy/policy.h"

/* The members a run may have (the engine's bounds). */
#define OVL_SESSION_MIN_MEMBERS OVL_MPSI_MIN_MEMBERS
#define OVL_SESSION_MAX_MEMBERS OVL_MPSI_MAX_MEMBERS

typedef struct {
    unsigned members;        /* K, 3..10 */
    bool hub;                /* the listener */
    const ovl_identity *self;
    /* hub: the K-1 other members in index order (member i is peers[i-1]);
     * member: the hub's key alone */
    const ovl_pubkey *peers;
    size_t npeers;
    const ovl_policy *policy; /* NULL: this member has none */
    const char *audit_path;   /* NULL: no audit log */
    const char *table, *query, *join;
    ovl_norm norm;
    bool prehashed;
    ovl_mode mode;            /* intersection or cardinality */
    ovl_reveal reveal;        /* OVL_REVEAL_BOTH (all) or OVL_REVEAL_LISTENER */
    const char *out;
    bool replace;
    void (*writing)(const char *temp_path);
    uint64_t timeout_s;
    uint64_t threads; /* cores for the group operations (this thread and threads-1 workers) */
} ovl_mpsi_session_config;

typedef struct {
    unsigned members, self;
    char name[OVL_MPSI_MAX_MEMBERS][OVL_NAME_MAX + 1];
    char fpr[OVL_MPSI_MAX_MEMBERS][OVL_FPR_LEN];
    uint64_t size[OVL_MPSI_MAX_MEMBERS];
    bool receives, have_count;
    uint64_t count;
    uint64_t local_rows, local_ids, skipped;
    uint64_t bytes_sent, bytes_received; /* TLS records over all of this member's connections */
} ovl_mpsi_session_result;

typedef struct ovl_mpsi_session ovl_mpsi_session;

/* Loads and checks this member's input (before any connection). */
ovl_err ovl_mpsi_session_new(ovl_mpsi_session **out,
                             const ovl_mpsi_session_config *cfg) OVL_MUST_USE;
/* Runs over authenticated connections: the hub's K-1, conns[i-1] to member
 * i (its key is peers[i-1]); a member's one, to the hub. */
ovl_err ovl_mpsi_session_run(ovl_mpsi_session *s, ovl_conn *const *conns,
                             size_t nconns) OVL_MUST_USE;
void ovl_mpsi_session_result_get(const ovl_mpsi_session *s, ovl_mpsi_session_result *r);
void ovl_mpsi_session_free(ovl_mpsi_session *s);

#endif
