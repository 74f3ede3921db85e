/* overlap: the owner's append-only, hash-chained, signed audit log, and the
 * per-peer budget and differencing checks computed from it.
 *
 * File: one JSON object per line (see README "Audit log"). Entry i carries
 * prev = hash of entry i-1 (32 zero bytes for the first), and
 *   hash_i = SHA-256("overlap-audit-entry-v1" || canonical bytes of entry i without sig)
 *   sig_i  = Ed25519(owner key, "overlap-audit-sig-v1" || hash_i)
 * A sidecar FILE.head (seq, hash, signature of the last entry) lets verify
 * notice entries cut off the end. Appends take an exclusive lock on the file,
 * so concurrent sessions of one server serialise. */
#ifndef OVERLAP_AUDIT_H
#define OVERLAP_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "net/identity.h"
#include "policy/policy.h"
#include "core/kinds.h"
#include "policy/template.h"

#define OVL_AUDIT_MAX_BYTES (256u << 20) /* whole file */
#define OVL_AUDIT_MAX_LINE (64u * 1024u)
#define OVL_AUDIT_MAX_REASON 400u
#define OVL_AUDIT_MAX_MEMBERS 10u /* members of a multi-party run (protocols/mpsi) */

typedef enum {
    OVL_OUTCOME_OK = 1,      /* completed */
    OVL_OUTCOME_REFUSED = 2, /* refused by a policy (ours or the peer's) */
    OVL_OUTCOME_FAILED = 3,  /* started, then failed */
    OVL_OUTCOME_AGREED = 4,  /* agreed: charged to budgets and differencing before it runs */
    OVL_OUTCOME_WITHHELD = 5 /* completed, but the peer withheld its co-signature */
} ovl_outcome;

const char *ovl_outcome_name(ovl_outcome o);

typedef struct {
    char *name;
    char *value;
} ovl_audit_param;

typedef struct {
    uint64_t seq;  /* 1-based, assigned by append */
    uint64_t time; /* unix seconds */
    char peer[OVL_FPR_LEN];
    ovl_mode mode;
    bool has_template;
    uint8_t template_hash[OVL_HASH_LEN];
    uint8_t analysis[OVL_HASH_LEN]; /* ovl_agreement.analysis_id: what budgets and
                                       differencing group runs by */
    ovl_audit_param *params;
    size_t nparams;
    uint64_t local_set, peer_set; /* distinct identifiers (after local filters) */
    uint64_t groups_released, groups_suppressed;
    bool has_capped; /* conditions across parties: how many of this owner's own */
    uint64_t capped; /* identifiers the template's cap cut (CONDITIONS.md §3.2) */
    uint64_t inconsistent; /* an aggregate's receiver: released records left out as
                              inconsistent (protocols/aggregate/SPEC.md §8.3; 0: none) */
    ovl_outcome outcome;
    char reason[OVL_AUDIT_MAX_REASON]; /* the refusal or failure message, or "" */
    bool has_transcript;
    uint8_t transcript[OVL_HASH_LEN];
    bool has_peer_sig; /* the peer's co-signature of the transcript hash */
    uint8_t peer_sig[OVL_SIG_LEN];
    uint64_t agreed; /* the seq of this session's "agreed" entry, which already charged
                        it (0: none; the entry itself is charged unless refused) */
    /* Audit continuity (protocols/setup/SPEC.md §3.7): */
    uint64_t shown;          /* this log's head as shown to the peer (0: none shown) */
    uint64_t peer_head_seq;  /* the peer's log head as it showed and signed it (0: none) */
    uint8_t peer_head_hash[OVL_HASH_LEN];
    /* A multi-party run (protocols/mpsi/SPEC.md §3.4): every member's key in
     * index order (0: the listener) and, once it completed, every member's
     * co-signature of the transcript hash (0 members: a two-party run). */
    size_t nmembers;
    uint8_t member_pk[OVL_AUDIT_MAX_MEMBERS][OVL_PK_LEN];
    bool has_member_sigs;
    uint8_t member_sig[OVL_AUDIT_MAX_MEMBERS][OVL_SIG_LEN];
    /* set by append / read from the file */
    uint8_t prev[OVL_HASH_LEN];
    uint8_t signer[OVL_PK_LEN];
    uint8_t sig[OVL_SIG_LEN];
    uint8_t hash[OVL_HASH_LEN];
} ovl_audit_entry;

typedef struct {
    ovl_audit_entry *entries;
    size_t n;
} ovl_audit_log;

/* Copies params into the entry (it owns them afterwards). */
ovl_err ovl_audit_entry_set_params(ovl_audit_entry *e, const ovl_param_value *vals,
                                   size_t n) OVL_MUST_USE;
void ovl_audit_entry_clear(ovl_audit_entry *e);

/* Appends e (its seq, prev, signer, sig and hash are filled in) under an
 * exclusive lock, fsyncs, and updates PATH.head. Creates the file (0600) if
 * absent. Refuses to append to a log whose last entry is not signed by `id`. */
ovl_err ovl_audit_append(const char *path, const ovl_identity *id,
                         ovl_audit_entry *e) OVL_MUST_USE;

/* The reservation lock (PATH.lock, flock): held from reading the log for
 * budgets and differencing until the "agreed" entry is appended, so
 * concurrent sessions and several processes sharing one log charge runs one
 * at a time. ovl_audit_unlock(-1) does nothing. */
ovl_err ovl_audit_lock(const char *path, int *fd) OVL_MUST_USE;
void ovl_audit_unlock(int fd);

/* Whether an entry records a run with the peer `fpr`: its peer, or one of
 * the members of a multi-party run. */
bool ovl_audit_entry_involves(const ovl_audit_entry *e, const char *fpr);

/* Whether an entry charged its run to budgets and differencing. */
bool ovl_audit_entry_charged(const ovl_audit_entry *e);

/* Reads and fully verifies a log: line syntax, sequence, chain, signatures,
 * the head sidecar (when present) and, where given, that the signer is
 * `owner` and co-signatures verify against one of `peers`. A missing file is
 * an empty log. On failure the detail names the first broken entry:
 *   retail.audit:7: entry 7: prev does not match entry 6 (edited, deleted or reordered) */
ovl_err ovl_audit_load(ovl_audit_log *out, const char *path, const ovl_pubkey *owner,
                       const ovl_pubkey *peers, size_t npeers) OVL_MUST_USE;
/* Same over bytes in memory (no head sidecar); for tests and fuzzing. */
ovl_err ovl_audit_parse(ovl_audit_log *out, const char *label, const char *text, size_t len,
                        const ovl_pubkey *owner, const ovl_pubkey *peers,
                        size_t npeers) OVL_MUST_USE;
void ovl_audit_log_free(ovl_audit_log *log);

/* The bytes both peers sign over a completed run's transcript hash. */
#define OVL_COSIGN_TAG "overlap-transcript-cosign-v1"
size_t ovl_audit_cosign_msg(uint8_t *out, size_t cap, const uint8_t transcript[OVL_HASH_LEN]);

/* ---- Differencing defences (budget.c) ---- */

/* Refuses (OVL_ERR_POLICY, "budget: ...") when the peer already used its
 * runs in the 24 hours before `now`: all analyses, or this analysis_id.
 * Charged entries count (ovl_audit_entry_charged): refused ones do not. */
ovl_err ovl_budget_check(const ovl_policy *pol, const ovl_audit_log *log, const char *peer_fpr,
                         const uint8_t analysis[OVL_HASH_LEN], uint64_t now) OVL_MUST_USE;
/* With differencing.refuse_small_differences: refuses when an earlier
 * charged run (whatever its end) of the same analysis with the same peer had a local or peer
 * set size differing from these by more than 0 and less than min_rows. */
ovl_err ovl_differencing_check(const ovl_policy *pol, const ovl_audit_log *log,
                               const char *peer_fpr, const uint8_t analysis[OVL_HASH_LEN],
                               uint64_t local_set, uint64_t peer_set) OVL_MUST_USE;

#endif
