/* Analysis negotiation before HELLO (protocols/setup/SPEC.md §3): the
 * connector states the analysis it asks for (REQUEST), the listener checks it
 * against its policy and answers with its terms (TERMS) or refuses (ABORT);
 * both then derive the same agreement and bind it into their HELLO params.
 * After a completed run both co-sign the transcript hash (COSIGN). */
#ifndef OVL_PROTOCOLS_NEGOTIATE_H
#define OVL_PROTOCOLS_NEGOTIATE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/proto.h"
#include "core/buf.h"
#include "io/table.h"
#include "net/identity.h"

enum { OVL_REQUEST_TYPE = 0x10, OVL_TERMS_TYPE = 0x11, OVL_COSIGN_TYPE = 0x12 };

#define OVL_REQUEST_MAX (256u * 1024u)
#define OVL_REQUEST_MAX_LIST 64u
#define OVL_REQUEST_MAX_STR 512u
#define OVL_REQUEST_MAX_APPROVALS 8u

#define OVL_NEGO_HASH_LEN 32u     /* template hashes, analysis ids, transcripts as co-signed */
#define OVL_NEGO_RECEIVERS_MAX 2u
#define OVL_NEGO_TEMPLATE_MAX (64u * 1024u)
#define OVL_TERMS_MIN_ROWS_LO 2u   /* an owner's min_rows on the wire */
#define OVL_TERMS_MIN_ROWS_HI 100000u

/* A template parameter as the request carries it. */
typedef struct {
    const char *name;
    const char *value;
} ovl_nego_param;

/* An aggregated column of an ad-hoc request: function and column (NULL for COUNT). */
typedef struct {
    ovl_aggfn fn; /* wire value: core/kinds.h */
    const char *column;
} ovl_nego_value;

/* Where the sender's audit log stands (SPEC.md §3.7): its head now, and
 * the entry it showed as its head to this peer last time, as its log holds
 * that entry now; signed by the sender. All zero: no log, or nothing shown. */
typedef struct {
    uint64_t head_seq;
    uint8_t head_hash[OVL_NEGO_HASH_LEN];
    uint64_t since_seq;
    uint8_t since_hash[OVL_NEGO_HASH_LEN];
    uint8_t sig[OVL_SIG_LEN];
} ovl_history;

#define OVL_HISTORY_LEN (8u + OVL_NEGO_HASH_LEN + 8u + OVL_NEGO_HASH_LEN + OVL_SIG_LEN)
#define OVL_HISTORY_MAX_SEQ (1ull << 40) /* far beyond any log (OVL_AUDIT_MAX_BYTES) */
#define OVL_HISTORY_TAG "overlap-audit-history-v1"

/* Signs h (its fields but sig) with id; verifies it against the peer's key. */
ovl_err ovl_history_sign(ovl_history *h, const ovl_identity *id) OVL_MUST_USE;
ovl_err ovl_history_verify(const ovl_history *h, const ovl_pubkey *peer) OVL_MUST_USE;

/* What one owner contributes to the agreed settings (its policy's terms),
 * and where its audit log stands. */
typedef struct {
    uint64_t min_rows; /* 0 for a party without a policy */
    bool allow_cardinality;
    bool has_policy;
    ovl_history history;
} ovl_owner_terms;

/* OwnerTerms: u8 version = 2, u64 min_rows, u8 flags (1 policy, 2 cardinality),
 * History. */
#define OVL_TERMS_LEN (10u + OVL_HISTORY_LEN)
ovl_err ovl_owner_terms_encode(ovl_buf *out, const ovl_owner_terms *t) OVL_MUST_USE;
ovl_err ovl_owner_terms_decode(ovl_owner_terms *t, ovl_buf *in) OVL_MUST_USE;

/* The wire form of a request. Strings are owned (freed by ovl_nego_clear). */
typedef struct {
    ovl_mode mode;
    ovl_reveal reveal;
    ovl_norm norm;
    char *join[2];          /* join column of the listener [0] and the connector [1] */
    char *tpl_text;         /* NULL: an ad-hoc analysis */
    size_t tpl_len;
    char *tpl_label;        /* the template's file name, for messages */
    ovl_nego_param *params; /* name/value strings owned */
    size_t nparams;
    char **approvals;       /* approval file texts travelling with the template */
    size_t napprovals;
    bool runner_is_listener; /* ad-hoc aggregate: which side groups and receives */
    char **group_by;        /* ad-hoc aggregate: the runner's columns */
    size_t ngroup_by;
    ovl_nego_value *values; /* ad-hoc aggregate: the contributor's columns (column owned) */
    unsigned *decimals;     /* per value column */
    size_t nvalues;
    uint64_t threshold;     /* requested minimum rows per group */
    char receivers[OVL_NEGO_RECEIVERS_MAX][OVL_FPR_LEN];
    size_t nreceivers;
    bool reveals_cardinality;
    ovl_owner_terms connector_terms;
    uint64_t connector_set; /* distinct identifiers the connector will blind */
} ovl_nego;

ovl_err ovl_nego_write(ovl_buf *out, const ovl_nego *n) OVL_MUST_USE;
ovl_err ovl_nego_parse(ovl_nego *n, const uint8_t *payload, size_t len) OVL_MUST_USE;
void ovl_nego_clear(ovl_nego *n);

/* The TERMS frame: the listener's terms and its set size. */
ovl_err ovl_terms_write(ovl_buf *out, const ovl_owner_terms *t, uint64_t set_size) OVL_MUST_USE;
ovl_err ovl_terms_parse(ovl_owner_terms *t, uint64_t *set_size, const uint8_t *payload,
                        size_t len) OVL_MUST_USE;

/* What each party signs after a completed run (SPEC.md §4):
 * "overlap-transcript-cosign-v1" || 0x00 || transcript. The audit log
 * verifies stored co-signatures over the same bytes (ovl_audit_cosign_msg;
 * tests/unit/test_negotiate.c keeps the two equal). Returns the length, or 0
 * if cap is too small. */
#define OVL_COSIGN_MSG_TAG "overlap-transcript-cosign-v1"
size_t ovl_cosign_msg(uint8_t *out, size_t cap, const uint8_t transcript[OVL_NEGO_HASH_LEN]);

/* The COSIGN frame: Ed25519 signature of ovl_cosign_msg(transcript). */
ovl_err ovl_cosign_write(ovl_buf *out, const ovl_identity *id,
                         const uint8_t transcript[OVL_NEGO_HASH_LEN]) OVL_MUST_USE;
ovl_err ovl_cosign_verify(uint8_t sig[OVL_SIG_LEN], const uint8_t *payload, size_t len,
                          const ovl_pubkey *peer,
                          const uint8_t transcript[OVL_NEGO_HASH_LEN]) OVL_MUST_USE;

#endif
