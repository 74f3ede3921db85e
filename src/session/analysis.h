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
#include "session/drive.h"
#include "policy/verifier.h"
#include "setup/agreement.h"
#include "setup/negotiate.h"
#include "setup/negotiator.h"

typedef struct ovl_analysis {
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
    /* how this party negotiates */
    const ovl_nego *mine;          /* listener `run`: the peer's request must equal it */
    const char *plain_refusal;     /* listener: refuse a peer that opens with HELLO */
    const char *request_refusal;   /* listener: refuse any request with this reason */
    /* Listener: loads this owner's input for the agreed analysis (sets
     * a->local_set) before budgets are checked and TERMS is sent. */
    ovl_err (*load_input)(void *arg, struct ovl_analysis *a);
    void *load_arg;
    ovl_negotiator *engine;
    ovl_param_value *params; /* the policy layer's view of nego's parameters */
    ovl_value_req *values;   /* ... and of its value columns */
    bool negotiated;
    bool own_refusal; /* this party's own policy (or budget) refused: not the peer's word */
    ovl_mode stated_mode; /* without a request: the mode this party or the peer's HELLO stated */
    /* for the audit entry */
    uint64_t local_set, peer_set, groups_released, groups_suppressed;
    bool has_capped;     /* conditions across parties: this owner's own capped count, */
    uint64_t capped;     /* computed before connecting and never sent (CONDITIONS.md §3.2) */
    uint64_t inconsistent; /* an aggregate's receiver: released records left out (SPEC §8.3) */
    bool has_transcript, has_peer_sig;
    bool cosign_withheld; /* the run completed; the peer's co-signature never came */
    uint64_t agreed_seq;  /* this session's "agreed" audit entry (0: not charged) */
    uint64_t shown_seq;   /* this log's head as shown to the peer */
    uint64_t peer_head_seq; /* the peer's log head, shown, signed and found to extend
                               what it showed before (0: none) */
    uint8_t peer_head_hash[OVL_HASH_LEN];
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

/* A connector's own verdict on the request in a->nego before it connects:
 * the checks of its REQUEST's preparation (template, approvals, this owner's
 * policy) against the pinned peer key, so a refusal stays local. */
ovl_err ovl_analysis_check_own(ovl_analysis *a, const ovl_pubkey *peer) OVL_MUST_USE;
/* Negotiates over c with the negotiation engine (protocols/setup/
 * negotiator.h), driven with `base`; `carry` holds bytes already read and
 * receives those read past the negotiation (with a non-negotiating peer's
 * HELLO first). Afterwards a->negotiated says whether the analysis was
 * negotiated, and then a->agreement holds it. Refusals reach the peer as
 * ABORT. */
ovl_err ovl_analysis_negotiate(ovl_analysis *a, ovl_conn *c, const ovl_drive_opts *base,
                               ovl_buf *carry) OVL_MUST_USE;
/* Exchanges signatures of the transcript hash after a completed run. */
ovl_err ovl_analysis_cosign(ovl_analysis *a, ovl_conn *c, const uint8_t transcript[64],
                            const ovl_drive_opts *base, ovl_buf *carry) OVL_MUST_USE;
/* Appends the session's end to the audit log, if any: rc OK, a policy
 * refusal or another failure, whose error detail is the recorded reason and
 * is still the current detail afterwards. Failures to append are reported on
 * stderr but do not change the outcome already reached. */
void ovl_analysis_audit(ovl_analysis *a, ovl_err rc);
void ovl_analysis_clear(ovl_analysis *a);

/* The agreement on a request as the verifier sees it, combined with every
 * owner's terms (protocols/setup/agreement.h). */
ovl_err ovl_request_agreement(ovl_agreement *out, const ovl_request *r,
                              const ovl_owner_terms *terms, size_t nterms) OVL_MUST_USE;

/* Both sides' HELLO params for PSI under an agreement: "psi/1 ..." then the
 * agreement bytes. */
ovl_err ovl_analysis_psi_params(const ovl_analysis *a, ovl_buf *out) OVL_MUST_USE;

#endif
