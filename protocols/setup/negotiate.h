/* Analysis negotiation before HELLO (protocols/setup/SPEC.md §3): the
 * connector states the analysis it asks for (REQUEST), the listener checks it
 * against its policy and answers with its terms (TERMS) or refuses (ABORT);
 * both then derive the same agreement and bind it into their HELLO params.
 * After a completed run both co-sign the transcript hash (COSIGN). */
#ifndef OVL_PROTOCOLS_NEGOTIATE_H
#define OVL_PROTOCOLS_NEGOTIATE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "net/identity.h"
#include "common/proto.h"
#include "io/table.h"
#include "policy/verifier.h"

enum { OVL_REQUEST_TYPE = 0x10, OVL_TERMS_TYPE = 0x11, OVL_COSIGN_TYPE = 0x12 };

#define OVL_REQUEST_MAX (256u * 1024u)
#define OVL_REQUEST_MAX_LIST 64u
#define OVL_REQUEST_MAX_STR 512u
#define OVL_REQUEST_MAX_APPROVALS 8u

/* The wire form of a request. Strings are owned (freed by ovl_nego_clear). */
typedef struct {
    ovl_mode mode;
    ovl_reveal reveal;
    ovl_norm norm;
    char *join[2];          /* join column of the listener [0] and the connector [1] */
    char *tpl_text;         /* NULL: an ad-hoc analysis */
    size_t tpl_len;
    char *tpl_label;        /* the template's file name, for messages */
    ovl_param_value *params; /* name/value strings owned */
    size_t nparams;
    char **approvals;       /* approval file texts travelling with the template */
    size_t napprovals;
    bool runner_is_listener; /* ad-hoc aggregate: which side groups and receives */
    char **group_by;        /* ad-hoc aggregate: the runner's columns */
    size_t ngroup_by;
    ovl_value_req *values;  /* ad-hoc aggregate: the contributor's columns (column owned) */
    unsigned *decimals;     /* per value column */
    size_t nvalues;
    uint64_t threshold;     /* requested minimum rows per group */
    char receivers[OVL_RECEIVERS_MAX][OVL_FPR_LEN];
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

/* The COSIGN frame: Ed25519 signature of ovl_audit_cosign_msg(transcript). */
ovl_err ovl_cosign_write(ovl_buf *out, const ovl_identity *id,
                         const uint8_t transcript[OVL_HASH_LEN]) OVL_MUST_USE;
ovl_err ovl_cosign_verify(uint8_t sig[OVL_SIG_LEN], const uint8_t *payload, size_t len,
                          const ovl_pubkey *peer,
                          const uint8_t transcript[OVL_HASH_LEN]) OVL_MUST_USE;

#endif
