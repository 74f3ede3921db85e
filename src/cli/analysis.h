/* The negotiated analysis shared by `run` and `serve` (protocols/setup/SPEC.md
 * §3): what is asked, whether this owner's policy allows it, the agreed
 * settings bound into HELLO, and the audit entry that records the session. */
#ifndef OVL_CLI_ANALYSIS_H
#define OVL_CLI_ANALYSIS_H

#include <stdbool.h>
#include <stdint.h>

#include "policy/audit.h"
#include "policy/policy.h"
#include "policy/template.h"
#include "net/transport.h"
#include "policy/verifier.h"
#include "setup/negotiate.h"

typedef struct {
    /* local configuration (borrowed) */
    const ovl_identity *self;
    const ovl_policy *policy; /* NULL: this party has none */
    const char *audit_path;   /* NULL: no audit log */
    const char *table_name;   /* this party's table name (for templates) */
    ovl_role role;
    /* the analysis: built from options, or parsed from the peer's REQUEST */
    ovl_nego nego;
    ovl_template *tpl;
    ovl_approvals approvals;
    int party; /* this party's index in the template, or -1 */
    /* negotiation results */
    ovl_owner_terms terms[2]; /* [listener, connector] */
    ovl_agreement agreement;
    ovl_pubkey peer;
    char self_fpr[OVL_FPR_LEN], peer_fpr[OVL_FPR_LEN];
    /* for the audit entry */
    uint64_t local_set, peer_set, groups_released, groups_suppressed;
    bool has_transcript, has_peer_sig;
    uint8_t transcript[OVL_HASH_LEN], peer_sig[OVL_SIG_LEN];
} ovl_analysis;

/* Starts an analysis on an authenticated connection (before negotiating). */
void ovl_analysis_begin(ovl_analysis *a, const ovl_identity *self, const ovl_policy *policy,
                        const char *audit_path, ovl_role role, uint64_t local_set,
                        const ovl_conn *c);
/* Parses the template text in a->nego (if any) and finds this party in it. */
ovl_err ovl_analysis_load_template(ovl_analysis *a) OVL_MUST_USE;
/* Collects approval file texts beside a template (TEMPLATE.*.sig) into nego. */
ovl_err ovl_analysis_read_approvals(ovl_analysis *a, const char *tpl_path) OVL_MUST_USE;

/* Connector: checks its own policy, sends REQUEST, reads TERMS (or the
 * peer's refusal), and computes the agreement. */
ovl_err ovl_analysis_connector(ovl_analysis *a, ovl_conn *c, int timeout_ms) OVL_MUST_USE;
/* Listener: `request` is the REQUEST payload the peer sent. With `mine`
 * (a `run` that typed its own analysis), the peer's must equal it; a server
 * passes NULL and takes the peer's request as the analysis. Checks the
 * template's approvals and the policy, and computes the agreement; a
 * refusal is sent to the peer as ABORT. */
ovl_err ovl_analysis_listener(ovl_analysis *a, ovl_conn *c, const uint8_t *request, size_t len,
                              const ovl_nego *mine) OVL_MUST_USE;
/* Listener, once its input is loaded (a->local_set): budget and
 * differencing checks, then TERMS (or ABORT). */
ovl_err ovl_analysis_listener_reply(ovl_analysis *a, ovl_conn *c) OVL_MUST_USE;
/* Listener: reads the peer's first frame into first (allocated here, freed
 * by the caller). A peer's ABORT ends the run with its reason; *request tells
 * whether the frame is a REQUEST, else it is left in first for the engine. */
ovl_err ovl_analysis_first_frame(ovl_conn *c, ovl_buf *first, int timeout_ms, bool *request)
    OVL_MUST_USE;
/* Listener whose own input is loaded: answers the REQUEST in first against
 * mine (ovl_analysis_listener, then ovl_analysis_listener_reply) and empties
 * first. */
ovl_err ovl_analysis_answer(ovl_analysis *a, ovl_conn *c, ovl_buf *first, const ovl_nego *mine)
    OVL_MUST_USE;
/* Sends ABORT carrying the current error detail; returns e. */
ovl_err ovl_analysis_refuse(ovl_conn *c, ovl_err e);
/* Exchanges signatures of the transcript hash after a completed run. */
ovl_err ovl_analysis_cosign(ovl_analysis *a, ovl_conn *c, const uint8_t transcript[64],
                            int timeout_ms) OVL_MUST_USE;
/* Appends the session's end to the audit log, if any: rc OK, a policy
 * refusal or another failure, whose error detail is the recorded reason and
 * is still the current detail afterwards. Failures to append are reported on
 * stderr but do not change the outcome already reached. */
void ovl_analysis_audit(ovl_analysis *a, ovl_err rc);
void ovl_analysis_clear(ovl_analysis *a);

/* Both sides' HELLO params for PSI under an agreement: "psi/1 ..." then the
 * agreement bytes. */
ovl_err ovl_analysis_psi_params(const ovl_analysis *a, ovl_buf *out) OVL_MUST_USE;

#endif
