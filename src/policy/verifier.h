/* overlap: template approvals and the verifier that checks a requested
 * analysis against an owner's policy before any data-derived byte is sent.
 *
 * Flow at each peer that has a policy (src/session/analysis.c):
 *   1. collect the template's approvals (ovl_approvals_collect),
 *   2. ovl_verify_request(policy, peer fingerprint, request) -> allow, or
 *      OVL_ERR_POLICY "retail.policy.json: <rule>: <what was refused>",
 *      and this owner's terms (its min_rows, cardinality permission),
 *   3. the session sends them as the negotiation's owner terms and combines
 *      both owners' terms into the agreement (protocols/setup/agreement.h),
 *      whose encoding both parties bind into HELLO. */
#ifndef OVERLAP_VERIFIER_H
#define OVERLAP_VERIFIER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"
#include "net/identity.h"
#include "policy/policy.h"
#include "core/kinds.h"
#include "policy/template.h"

/* ---- Approvals (approval.c) ----
 * An approval file TEMPLATE.NAME.sig holds one line:
 *   overlap-approval-v1 ed25519 <64 hex public key> <64 hex template hash> <128 hex signature> <name>
 * signature = Ed25519(key, "overlap-template-approval-v1" || 0x00 || template hash). */
#define OVL_APPROVAL_TAG "overlap-template-approval-v1"
#define OVL_APPROVALS_MAX 8u

typedef struct {
    char fpr[OVL_APPROVALS_MAX][OVL_FPR_LEN]; /* keys whose approval verified */
    size_t n;
} ovl_approvals;

/* Signs hash and writes TEMPLATE.NAME.sig (replacing an older approval by the
 * same name atomically); the path written goes to out_path. */
ovl_err ovl_approval_write(const char *tpl_path, const ovl_identity *id,
                           const uint8_t hash[OVL_HASH_LEN], char *out_path,
                           size_t out_cap) OVL_MUST_USE;
/* Checks one approval file: it must be signed by `key`, for `hash`.
 * OVL_ERR_AUTH for a bad signature or another key, OVL_ERR_POLICY for an
 * approval of another template, OVL_ERR_INPUT for a malformed file. */
ovl_err ovl_approval_verify_text(const char *label, const char *text, size_t len,
                                 const uint8_t hash[OVL_HASH_LEN],
                                 const ovl_pubkey *key) OVL_MUST_USE;
/* For each key, reads TEMPLATE.<key name>.sig if present and adds the key's
 * fingerprint when it verifies. A missing file is not an error (the verifier
 * refuses later, naming whose approval is missing); a present but forged,
 * malformed or foreign approval is. */
ovl_err ovl_approvals_collect(ovl_approvals *out, const char *tpl_path,
                              const uint8_t hash[OVL_HASH_LEN], const ovl_pubkey *keys,
                              size_t nkeys) OVL_MUST_USE;

/* ---- Requests ---- */

/* Which part of an ad-hoc aggregate this owner's table plays. */
typedef enum { OVL_SIDE_GROUP = 1, OVL_SIDE_VALUES = 2 } ovl_side;

typedef struct {
    ovl_aggfn fn;
    const char *column; /* the value side's column; NULL for COUNT */
} ovl_value_req;

#define OVL_RECEIVERS_MAX 2u

typedef struct {
    ovl_mode mode;
    /* A template run (mode must be OVL_MODE_AGGREGATE): */
    const ovl_template *tpl;
    const ovl_param_value *params;
    size_t nparams;
    const ovl_approvals *approvals;
    /* Ad-hoc requests: */
    const char *join_column; /* this owner's join column */
    ovl_norm norm;           /* the normalisation both sides state */
    bool prehashed;
    ovl_side side;                  /* aggregate: this owner's role */
    const char *const *group_by;    /* the group side's columns */
    size_t ngroup_by;
    const ovl_value_req *values;    /* the value side's columns and functions */
    size_t nvalues;
    const char *const *list_columns; /* intersection: this owner's columns in the partner's output */
    size_t nlist_columns;
    uint64_t threshold; /* requested minimum rows per group (0: the owners' minimum) */
    /* Both kinds: */
    const char *receivers[OVL_RECEIVERS_MAX]; /* fingerprints of output receivers */
    size_t nreceivers;
    bool reveals_cardinality; /* the intersection size is output (cardinality mode,
                                 or a total alongside an aggregate) */
} ovl_request;

/* What one owner's policy contributes to the agreed settings (sent to the
 * peer as the negotiation's owner terms). */
typedef struct {
    uint64_t min_rows;      /* 0 for a party without a policy */
    bool allow_cardinality;
    bool has_policy;
    /* What this owner states in aggregates v2's HELLO (SPEC §4.1); the
     * policy defaults for a party without a policy. */
    uint32_t max_cells;
    uint32_t count_bits; /* w: bit length of aggregation.max_rows_per_identifier */
    uint32_t value_bits; /* v */
} ovl_policy_terms;

/* Checks req against pol for a session with the peer `peer_fpr`, seen from
 * the owner `self_fpr`. Allows (OVL_OK, *terms filled) or refuses with
 * OVL_ERR_POLICY and a one-line message "<policy>: <rule>: <what>". */
ovl_err ovl_verify_request(ovl_policy_terms *terms, const ovl_policy *pol, const char *self_fpr,
                           const char *peer_fpr, const ovl_request *req) OVL_MUST_USE;

#endif
