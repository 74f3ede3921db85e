/* The agreement (SPEC.md §3.4): both owners' terms combined with the
 * requested analysis into the effective settings and their canonical
 * encoding, which both parties bind into HELLO. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/guard.h"
#include "core/mem.h"
#include "setup/agreement.h"

#define ANALYSIS_TAG "overlap-analysis-v1"
#define ANALYSIS_ID_TAG "overlap-analysis-id-v1"

static ovl_err put_str(ovl_buf *b, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n > UINT16_MAX)
        return ovl_err_set(OVL_ERR_LIMIT, "string too long for the analysis encoding");
    ovl_err rc = ovl_buf_put_u16(b, (uint16_t)n);
    return rc != OVL_OK ? rc : ovl_buf_put_bytes(b, s ? s : "", n);
}

static int cmp_pv(const void *a, const void *b)
{
    return strcmp((*(const ovl_nego_param *const *)a)->name,
                  (*(const ovl_nego_param *const *)b)->name);
}

static ovl_err put_params(ovl_buf *b, const ovl_agreement_req *req)
{
    ovl_err rc = OVL_OK;
    const ovl_nego_param **sorted = NULL;
    OVL_ENSURE(req->nparams <= OVL_REQUEST_MAX_LIST, OVL_ERR_LIMIT, "too many parameters");
    OVL_TRY(ovl_calloc((void **)&sorted, req->nparams + 1, sizeof *sorted));
    for (size_t i = 0; i < req->nparams; i++)
        sorted[i] = &req->params[i];
    qsort(sorted, req->nparams, sizeof *sorted, cmp_pv);
    OVL_TRY(ovl_buf_put_u16(b, (uint16_t)req->nparams));
    for (size_t i = 0; i < req->nparams; i++) {
        OVL_TRY(put_str(b, sorted[i]->name));
        OVL_TRY(put_str(b, sorted[i]->value));
    }
done:
    free(sorted);
    return rc;
}

/* What identifies "the same analysis" for budgets and differencing: the
 * template, or the ad-hoc shape (mode, normalisation, columns, functions)
 * without parameters or threshold, which an attacker would vary. */
static ovl_err put_shape(ovl_buf *b, const ovl_agreement_req *req)
{
    ovl_err rc = OVL_OK;
    OVL_TRY(ovl_buf_put_u8(b, (uint8_t)req->mode));
    OVL_TRY(ovl_buf_put_u8(b, req->template_hash != NULL));
    if (req->template_hash) {
        OVL_TRY(ovl_buf_put_bytes(b, req->template_hash, OVL_NEGO_HASH_LEN));
    } else {
        OVL_TRY(ovl_buf_put_u8(b, (uint8_t)req->norm));
        OVL_ENSURE(req->ngroup_by <= OVL_REQUEST_MAX_LIST && req->nvalues <= OVL_REQUEST_MAX_LIST,
                   OVL_ERR_LIMIT, "too many columns in the request");
        OVL_TRY(ovl_buf_put_u16(b, (uint16_t)req->ngroup_by));
        for (size_t i = 0; i < req->ngroup_by; i++)
            OVL_TRY(put_str(b, req->group_by[i]));
        OVL_TRY(ovl_buf_put_u16(b, (uint16_t)req->nvalues));
        for (size_t i = 0; i < req->nvalues; i++) {
            OVL_TRY(ovl_buf_put_u8(b, (uint8_t)req->values[i].fn));
            OVL_TRY(put_str(b, req->values[i].column));
        }
    }
done:
    return rc;
}

static int cmp_fpr(const void *a, const void *b) { return strcmp(a, b); }

static ovl_err agreement_settings(ovl_agreement *a, const ovl_agreement_req *req,
                                  const ovl_owner_terms *terms, size_t nterms)
{
    ovl_err rc = OVL_OK;
    a->mode = req->mode;
    a->reveals_cardinality = req->reveals_cardinality || ovl_mode_reveals_size(req->mode);
    for (size_t i = 0; i < nterms; i++)
        OVL_ENSURE(!a->reveals_cardinality || !terms[i].has_policy || terms[i].allow_cardinality,
                   OVL_ERR_POLICY, "aggregation.allow_cardinality: an owner's policy forbids "
                   "revealing the number of shared identifiers");
    if (ovl_mode_aggregates(req->mode)) {
        a->threshold = req->threshold;
        for (size_t i = 0; i < nterms; i++)
            if (terms[i].min_rows > a->threshold)
                a->threshold = terms[i].min_rows;
    }
    if (req->template_hash) {
        a->has_template = true;
        memcpy(a->template_hash, req->template_hash, OVL_NEGO_HASH_LEN);
    }
    OVL_ENSURE(req->nreceivers <= OVL_NEGO_RECEIVERS_MAX, OVL_ERR_USAGE, "too many receivers");
    for (size_t i = 0; i < req->nreceivers; i++) {
        OVL_ENSURE(strlen(req->receivers[i]) == OVL_FPR_LEN - 1, OVL_ERR_USAGE,
                   "receiver is not a fingerprint");
        memcpy(a->receivers[i], req->receivers[i], OVL_FPR_LEN);
    }
    a->nreceivers = req->nreceivers;
    qsort(a->receivers, a->nreceivers, OVL_FPR_LEN, cmp_fpr);
done:
    return rc;
}

ovl_err ovl_agreement_make(ovl_agreement *out, const ovl_agreement_req *req,
                           const ovl_owner_terms *terms, size_t nterms)
{
    ovl_err rc = OVL_OK;
    ovl_buf b = {0}, shape = {0};
    memset(out, 0, sizeof *out);
    OVL_TRY(agreement_settings(out, req, terms, nterms));
    OVL_TRY(ovl_buf_alloc(&shape, 256, OVL_AGREEMENT_MAX));
    OVL_TRY(ovl_buf_put_bytes(&shape, ANALYSIS_ID_TAG, sizeof ANALYSIS_ID_TAG));
    OVL_TRY(put_shape(&shape, req));
    crypto_hash_sha256(out->analysis_id, shape.data, ovl_buf_len(&shape));
    OVL_TRY(ovl_buf_alloc(&b, 512, OVL_AGREEMENT_MAX));
    OVL_TRY(ovl_buf_put_bytes(&b, ANALYSIS_TAG, sizeof ANALYSIS_TAG));
    OVL_TRY(ovl_buf_put_bytes(&b, shape.data + sizeof ANALYSIS_ID_TAG,
                              ovl_buf_len(&shape) - sizeof ANALYSIS_ID_TAG));
    OVL_TRY(put_params(&b, req));
    OVL_TRY(ovl_buf_put_u8(&b, (uint8_t)req->norm));
    OVL_TRY(ovl_buf_put_u64(&b, out->threshold));
    OVL_TRY(ovl_buf_put_u8(&b, (uint8_t)out->nreceivers));
    for (size_t i = 0; i < out->nreceivers; i++)
        OVL_TRY(ovl_buf_put_bytes(&b, out->receivers[i], OVL_FPR_LEN - 1));
    OVL_TRY(ovl_buf_put_u8(&b, out->reveals_cardinality));
    OVL_TRY(ovl_calloc((void **)&out->encoding, ovl_buf_len(&b), 1));
    memcpy(out->encoding, b.data, ovl_buf_len(&b));
    out->encoding_len = ovl_buf_len(&b);
done:
    ovl_buf_free(&b);
    ovl_buf_free(&shape);
    if (rc != OVL_OK)
        ovl_agreement_clear(out);
    return rc;
}

void ovl_agreement_clear(ovl_agreement *a)
{
    free(a->encoding);
    memset(a, 0, sizeof *a);
}
