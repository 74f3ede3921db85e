/* The agreed settings of a negotiated analysis (SPEC.md §3.4): the requested
 * analysis combined with every owner's terms, strictest wins, and the
 * canonical encoding both parties bind into their HELLO parameters, so any
 * disagreement stops the session before a set element flows. */
#ifndef OVL_PROTOCOLS_AGREEMENT_H
#define OVL_PROTOCOLS_AGREEMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "setup/negotiate.h"

/* The analysis as both parties see it, after the request was judged. */
typedef struct {
    ovl_mode mode;
    const uint8_t *template_hash; /* OVL_NEGO_HASH_LEN bytes; NULL: an ad-hoc analysis */
    uint64_t threshold;           /* the template's HAVING, or the requested minimum */
    const ovl_nego_param *params;
    size_t nparams;
    ovl_norm norm;
    const char *const *group_by; /* ad hoc: the group side's columns */
    size_t ngroup_by;
    const ovl_nego_value *values; /* ad hoc: the value side's columns and functions */
    size_t nvalues;
    const char *receivers[OVL_NEGO_RECEIVERS_MAX]; /* fingerprints of output receivers */
    size_t nreceivers;
    bool reveals_cardinality;
} ovl_agreement_req;

typedef struct {
    ovl_mode mode;
    bool has_template;
    uint8_t template_hash[OVL_NEGO_HASH_LEN];
    uint64_t threshold;
    char receivers[OVL_NEGO_RECEIVERS_MAX][OVL_FPR_LEN]; /* sorted */
    size_t nreceivers;
    bool reveals_cardinality;
    uint8_t analysis_id[OVL_NEGO_HASH_LEN]; /* template hash, or hash of the ad-hoc shape:
                                               the key budgets and differencing use */
    uint8_t *encoding; /* canonical bytes to bind into HELLO params */
    size_t encoding_len;
} ovl_agreement;

#define OVL_AGREEMENT_MAX 16384u

/* Combines the request with every owner's terms into the effective
 * settings and their canonical encoding: threshold = the largest of the
 * requested one and every owner's min_rows. OVL_ERR_POLICY if an owner
 * forbids revealing cardinality. */
ovl_err ovl_agreement_make(ovl_agreement *out, const ovl_agreement_req *req,
                           const ovl_owner_terms *terms, size_t nterms) OVL_MUST_USE;
void ovl_agreement_clear(ovl_agreement *a);

#endif
