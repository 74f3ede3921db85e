/* REQUEST, TERMS (with the owner terms inside both) and COSIGN codecs (SPEC.md §3, §4). */
#include <stdlib.h>
#include <string.h>

#include "core/guard.h"
#include "core/mem.h"
#include "setup/negotiate.h"

static ovl_err put_str16(ovl_buf *b, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n > OVL_REQUEST_MAX_STR)
        return ovl_err_set(OVL_ERR_LIMIT, "request field of %zu bytes exceeds %u", n,
                           OVL_REQUEST_MAX_STR);
    ovl_err rc = ovl_buf_put_u16(b, (uint16_t)n);
    return rc != OVL_OK ? rc : ovl_buf_put_bytes(b, s ? s : "", n);
}

/* Strings from the peer: bounded, no NUL bytes, copied NUL-terminated. */
static ovl_err get_str16(ovl_buf *b, char **out)
{
    ovl_buf s;
    ovl_err rc = ovl_buf_get_sub16(b, OVL_REQUEST_MAX_STR, &s);
    if (rc != OVL_OK)
        return rc;
    size_t n = ovl_buf_remaining(&s);
    if (memchr(ovl_buf_rptr(&s), 0, n) != NULL)
        return ovl_err_set(OVL_ERR_MALFORMED, "request field contains a NUL byte");
    char *p = malloc(n + 1);
    if (p == NULL)
        return ovl_err_set(OVL_ERR_NOMEM, "out of memory reading a request");
    memcpy(p, ovl_buf_rptr(&s), n);
    p[n] = '\0';
    *out = p;
    return OVL_OK;
}

/* Names and values from the peer end up in the owner's log lines and in
 * refusals: a line feed or terminal escape in them could forge log lines, so
 * every string but an approval (a file's text) is free of control bytes. */
static ovl_err get_name16(ovl_buf *b, char **out)
{
    ovl_err rc = get_str16(b, out);
    if (rc != OVL_OK)
        return rc;
    for (const unsigned char *p = (const unsigned char *)*out; *p != '\0'; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            free(*out);
            *out = NULL;
            return ovl_err_set(OVL_ERR_MALFORMED, "request field contains a control character");
        }
    }
    return OVL_OK;
}

static ovl_err get_count(ovl_buf *b, size_t max, size_t *n)
{
    uint16_t v;
    ovl_err rc = ovl_buf_get_u16(b, &v);
    if (rc == OVL_OK && v > max)
        rc = ovl_err_set(OVL_ERR_LIMIT, "request list of %u entries exceeds %zu", v, max);
    if (rc == OVL_OK)
        *n = v;
    return rc;
}

static ovl_err write_template(ovl_buf *out, const ovl_nego *n)
{
    ovl_err rc = OVL_OK;
    OVL_TRY(ovl_buf_put_u8(out, n->tpl_text != NULL));
    if (n->tpl_text == NULL)
        goto done;
    OVL_ENSURE(n->tpl_len <= OVL_NEGO_TEMPLATE_MAX, OVL_ERR_LIMIT, "template too large");
    OVL_TRY(put_str16(out, n->tpl_label));
    OVL_TRY(ovl_buf_put_u32(out, (uint32_t)n->tpl_len));
    OVL_TRY(ovl_buf_put_bytes(out, n->tpl_text, n->tpl_len));
    OVL_TRY(ovl_buf_put_u16(out, (uint16_t)n->nparams));
    for (size_t i = 0; i < n->nparams; i++) {
        OVL_TRY(put_str16(out, n->params[i].name));
        OVL_TRY(put_str16(out, n->params[i].value));
    }
    OVL_TRY(ovl_buf_put_u16(out, (uint16_t)n->napprovals));
    for (size_t i = 0; i < n->napprovals; i++)
        OVL_TRY(put_str16(out, n->approvals[i]));
done:
    return rc;
}

ovl_err ovl_nego_write(ovl_buf *out, const ovl_nego *n)
{
    ovl_err rc = OVL_OK;
    size_t mark;
    OVL_ENSURE(n->nparams <= OVL_REQUEST_MAX_LIST && n->ngroup_by <= OVL_REQUEST_MAX_LIST &&
                   n->nvalues <= OVL_REQUEST_MAX_LIST && n->napprovals <= OVL_REQUEST_MAX_APPROVALS,
               OVL_ERR_LIMIT, "the request has too many entries");
    OVL_TRY(ovl_frame_begin(out, OVL_REQUEST_TYPE, &mark));
    OVL_TRY(ovl_buf_put_u8(out, 1));
    OVL_TRY(ovl_buf_put_u8(out, (uint8_t)n->mode));
    OVL_TRY(ovl_buf_put_u8(out, (uint8_t)n->reveal));
    OVL_TRY(ovl_buf_put_u8(out, (uint8_t)n->norm));
    OVL_TRY(put_str16(out, n->join[0]));
    OVL_TRY(put_str16(out, n->join[1]));
    OVL_TRY(write_template(out, n));
    OVL_TRY(ovl_buf_put_u8(out, n->runner_is_listener));
    OVL_TRY(ovl_buf_put_u16(out, (uint16_t)n->ngroup_by));
    for (size_t i = 0; i < n->ngroup_by; i++)
        OVL_TRY(put_str16(out, n->group_by[i]));
    OVL_TRY(ovl_buf_put_u16(out, (uint16_t)n->nvalues));
    for (size_t i = 0; i < n->nvalues; i++) {
        OVL_TRY(ovl_buf_put_u8(out, (uint8_t)n->values[i].fn));
        OVL_TRY(put_str16(out, n->values[i].column));
        OVL_TRY(ovl_buf_put_u8(out, (uint8_t)n->decimals[i]));
    }
    OVL_TRY(ovl_buf_put_u64(out, n->threshold));
    OVL_TRY(ovl_buf_put_u8(out, (uint8_t)n->nreceivers));
    for (size_t i = 0; i < n->nreceivers; i++)
        OVL_TRY(put_str16(out, n->receivers[i]));
    OVL_TRY(ovl_buf_put_u8(out, n->reveals_cardinality));
    OVL_TRY(ovl_owner_terms_encode(out, &n->connector_terms));
    OVL_TRY(ovl_buf_put_u64(out, n->connector_set));
    OVL_TRY(ovl_frame_end(out, mark));
done:
    return rc;
}

static ovl_err parse_template(ovl_nego *n, ovl_buf *r)
{
    ovl_err rc = OVL_OK;
    uint8_t has;
    uint32_t len;
    const uint8_t *p;
    OVL_TRY(ovl_buf_get_u8(r, &has));
    OVL_ENSURE(has <= 1, OVL_ERR_MALFORMED, "bad template flag");
    if (!has)
        goto done;
    OVL_TRY(get_name16(r, &n->tpl_label));
    OVL_TRY(ovl_buf_get_u32(r, &len));
    OVL_ENSURE(len <= OVL_NEGO_TEMPLATE_MAX, OVL_ERR_LIMIT, "template of %u bytes exceeds %u", len,
               OVL_NEGO_TEMPLATE_MAX);
    OVL_TRY(ovl_buf_get_ptr(r, len, &p));
    OVL_TRY(ovl_calloc((void **)&n->tpl_text, (size_t)len + 1, 1));
    memcpy(n->tpl_text, p, len);
    n->tpl_len = len;
    OVL_TRY(get_count(r, OVL_REQUEST_MAX_LIST, &n->nparams));
    OVL_TRY(ovl_calloc((void **)&n->params, n->nparams + 1, sizeof *n->params));
    for (size_t i = 0; i < n->nparams; i++) {
        char *name = NULL, *value = NULL;
        OVL_TRY(get_name16(r, &name));
        n->params[i].name = name;
        OVL_TRY(get_name16(r, &value));
        n->params[i].value = value;
    }
    OVL_TRY(get_count(r, OVL_REQUEST_MAX_APPROVALS, &n->napprovals));
    OVL_TRY(ovl_calloc((void **)&n->approvals, n->napprovals + 1, sizeof *n->approvals));
    for (size_t i = 0; i < n->napprovals; i++)
        OVL_TRY(get_str16(r, &n->approvals[i]));
done:
    return rc;
}

static ovl_err parse_body(ovl_nego *n, ovl_buf *r)
{
    ovl_err rc = OVL_OK;
    uint8_t version, mode, reveal, norm, flag, nrec;
    OVL_TRY(ovl_buf_get_u8(r, &version));
    OVL_ENSURE(version == 1, OVL_ERR_PROTOCOL, "the peer's request has version %u, this build "
               "speaks version 1", version);
    OVL_TRY(ovl_buf_get_u8(r, &mode));
    OVL_TRY(ovl_buf_get_u8(r, &reveal));
    OVL_TRY(ovl_buf_get_u8(r, &norm));
    OVL_ENSURE(ovl_mode_kind_of(mode) != NULL && ovl_reveal_kind_of(reveal) != NULL &&
                   norm <= OVL_NORM_PHONE,
               OVL_ERR_MALFORMED, "unknown mode, reveal or normalisation");
    n->mode = (ovl_mode)mode;
    n->reveal = (ovl_reveal)reveal;
    n->norm = (ovl_norm)norm;
    OVL_TRY(get_name16(r, &n->join[0]));
    OVL_TRY(get_name16(r, &n->join[1]));
    OVL_TRY(parse_template(n, r));
    OVL_TRY(ovl_buf_get_u8(r, &flag));
    OVL_ENSURE(flag <= 1, OVL_ERR_MALFORMED, "bad runner flag");
    n->runner_is_listener = flag;
    OVL_TRY(get_count(r, OVL_REQUEST_MAX_LIST, &n->ngroup_by));
    OVL_TRY(ovl_calloc((void **)&n->group_by, n->ngroup_by + 1, sizeof *n->group_by));
    for (size_t i = 0; i < n->ngroup_by; i++)
        OVL_TRY(get_name16(r, &n->group_by[i]));
    OVL_TRY(get_count(r, OVL_REQUEST_MAX_LIST, &n->nvalues));
    OVL_TRY(ovl_calloc((void **)&n->values, n->nvalues + 1, sizeof *n->values));
    OVL_TRY(ovl_calloc((void **)&n->decimals, n->nvalues + 1, sizeof *n->decimals));
    for (size_t i = 0; i < n->nvalues; i++) {
        uint8_t fn, dec;
        char *col = NULL;
        OVL_TRY(ovl_buf_get_u8(r, &fn));
        OVL_ENSURE(ovl_aggfn_kind_of(fn) != NULL, OVL_ERR_MALFORMED, "unknown aggregate function %u", fn);
        n->values[i].fn = (ovl_aggfn)fn;
        OVL_TRY(get_name16(r, &col));
        n->values[i].column = col;
        OVL_TRY(ovl_buf_get_u8(r, &dec));
        OVL_ENSURE(dec <= 18, OVL_ERR_MALFORMED, "value column with %u decimals", dec);
        n->decimals[i] = dec;
    }
    OVL_TRY(ovl_buf_get_u64(r, &n->threshold));
    OVL_TRY(ovl_buf_get_u8(r, &nrec));
    OVL_ENSURE(nrec <= OVL_NEGO_RECEIVERS_MAX, OVL_ERR_LIMIT, "the request names %u receivers", nrec);
    for (size_t i = 0; i < nrec; i++) {
        char *f = NULL;
        OVL_TRY(get_str16(r, &f));
        bool ok = strlen(f) == OVL_FPR_LEN - 1 && strncmp(f, "SHA256:", 7) == 0;
        if (ok)
            memcpy(n->receivers[i], f, OVL_FPR_LEN);
        free(f);
        OVL_ENSURE(ok, OVL_ERR_MALFORMED, "a receiver is not a key fingerprint");
    }
    n->nreceivers = nrec;
    OVL_TRY(ovl_buf_get_u8(r, &flag));
    OVL_ENSURE(flag <= 1, OVL_ERR_MALFORMED, "bad cardinality flag");
    n->reveals_cardinality = flag;
    OVL_TRY(ovl_owner_terms_decode(&n->connector_terms, r));
    OVL_TRY(ovl_buf_get_u64(r, &n->connector_set));
    OVL_TRY(ovl_buf_expect_end(r));
done:
    return rc;
}

ovl_err ovl_nego_parse(ovl_nego *n, const uint8_t *payload, size_t len)
{
    ovl_buf r;
    memset(n, 0, sizeof *n);
    ovl_buf_reader(&r, payload, len);
    ovl_err rc = parse_body(n, &r);
    if (rc != OVL_OK) {
        if (rc == OVL_ERR_MALFORMED || rc == OVL_ERR_LIMIT)
            rc = ovl_err_wrap(OVL_ERR_PROTOCOL, "malformed REQUEST from the peer: ");
        ovl_nego_clear(n);
    }
    return rc;
}

void ovl_nego_clear(ovl_nego *n)
{
    free(n->join[0]);
    free(n->join[1]);
    free(n->tpl_text);
    free(n->tpl_label);
    for (size_t i = 0; n->params && i < n->nparams; i++) {
        free((char *)n->params[i].name);
        free((char *)n->params[i].value);
    }
    free(n->params);
    for (size_t i = 0; n->approvals && i < n->napprovals; i++)
        free(n->approvals[i]);
    free(n->approvals);
    for (size_t i = 0; n->group_by && i < n->ngroup_by; i++)
        free(n->group_by[i]);
    free(n->group_by);
    for (size_t i = 0; n->values && i < n->nvalues; i++)
        free((char *)n->values[i].column);
    free(n->values);
    free(n->decimals);
    memset(n, 0, sizeof *n);
}

static ovl_err history_encode(ovl_buf *out, const ovl_history *h)
{
    ovl_err rc = OVL_OK;
    OVL_TRY(ovl_buf_put_u64(out, h->head_seq));
    OVL_TRY(ovl_buf_put_bytes(out, h->head_hash, OVL_NEGO_HASH_LEN));
    OVL_TRY(ovl_buf_put_u64(out, h->since_seq));
    OVL_TRY(ovl_buf_put_bytes(out, h->since_hash, OVL_NEGO_HASH_LEN));
    OVL_TRY(ovl_buf_put_bytes(out, h->sig, OVL_SIG_LEN));
done:
    return rc;
}

static bool all_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= p[i];
    return acc == 0;
}

static ovl_err history_decode(ovl_history *h, ovl_buf *in)
{
    ovl_err rc = OVL_OK;
    OVL_TRY(ovl_buf_get_u64(in, &h->head_seq));
    OVL_TRY(ovl_buf_get_bytes(in, h->head_hash, OVL_NEGO_HASH_LEN));
    OVL_TRY(ovl_buf_get_u64(in, &h->since_seq));
    OVL_TRY(ovl_buf_get_bytes(in, h->since_hash, OVL_NEGO_HASH_LEN));
    OVL_TRY(ovl_buf_get_bytes(in, h->sig, OVL_SIG_LEN));
    OVL_ENSURE(h->head_seq <= OVL_HISTORY_MAX_SEQ && h->since_seq <= h->head_seq &&
                   (h->head_seq != 0 || all_zero(h->head_hash, OVL_NEGO_HASH_LEN)) &&
                   (h->since_seq != 0 || all_zero(h->since_hash, OVL_NEGO_HASH_LEN)),
               OVL_ERR_MALFORMED, "peer terms: an audit history that cannot be (entry %llu "
               "shown before, head %llu)", (unsigned long long)h->since_seq,
               (unsigned long long)h->head_seq);
done:
    return rc;
}

static size_t history_msg(uint8_t *msg, const ovl_history *h)
{
    ovl_buf b;
    ovl_buf_writer(&b, msg, sizeof OVL_HISTORY_TAG + OVL_HISTORY_LEN - OVL_SIG_LEN);
    ovl_err rc = ovl_buf_put_bytes(&b, OVL_HISTORY_TAG, sizeof OVL_HISTORY_TAG);
    if (rc == OVL_OK)
        rc = ovl_buf_put_u64(&b, h->head_seq);
    if (rc == OVL_OK)
        rc = ovl_buf_put_bytes(&b, h->head_hash, OVL_NEGO_HASH_LEN);
    if (rc == OVL_OK)
        rc = ovl_buf_put_u64(&b, h->since_seq);
    if (rc == OVL_OK)
        rc = ovl_buf_put_bytes(&b, h->since_hash, OVL_NEGO_HASH_LEN);
    return rc == OVL_OK ? ovl_buf_len(&b) : 0;
}
#define HISTORY_MSG_MAX (sizeof OVL_HISTORY_TAG + OVL_HISTORY_LEN - OVL_SIG_LEN)

ovl_err ovl_history_sign(ovl_history *h, const ovl_identity *id)
{
    uint8_t msg[HISTORY_MSG_MAX];
    size_t n = history_msg(msg, h);
    if (n == 0)
        return ovl_err_set(OVL_ERR_INTERNAL, "audit history message does not fit");
    return ovl_identity_sign(id, h->sig, msg, n);
}

ovl_err ovl_history_verify(const ovl_history *h, const ovl_pubkey *peer)
{
    uint8_t msg[HISTORY_MSG_MAX];
    size_t n = history_msg(msg, h);
    if (n == 0 || ovl_pubkey_verify(peer, h->sig, msg, n) != OVL_OK)
        return ovl_err_set(OVL_ERR_AUTH, "the peer's signature of its audit log's head does not "
                                         "verify");
    return OVL_OK;
}

ovl_err ovl_owner_terms_encode(ovl_buf *out, const ovl_owner_terms *t)
{
    ovl_err rc = OVL_OK;
    OVL_TRY(ovl_buf_put_u8(out, 2));
    OVL_TRY(ovl_buf_put_u64(out, t->min_rows));
    OVL_TRY(ovl_buf_put_u8(out, (uint8_t)((t->has_policy ? 1 : 0) | (t->allow_cardinality ? 2 : 0))));
    OVL_TRY(history_encode(out, &t->history));
done:
    return rc;
}

ovl_err ovl_owner_terms_decode(ovl_owner_terms *t, ovl_buf *in)
{
    ovl_err rc = OVL_OK;
    uint8_t version, flags;
    OVL_TRY(ovl_buf_get_u8(in, &version));
    OVL_TRY(ovl_buf_get_u64(in, &t->min_rows));
    OVL_TRY(ovl_buf_get_u8(in, &flags));
    OVL_ENSURE(version == 2 && flags <= 3, OVL_ERR_MALFORMED, "peer terms: unknown version or flags");
    t->has_policy = flags & 1;
    t->allow_cardinality = (flags & 2) != 0;
    OVL_ENSURE(t->has_policy ? t->min_rows >= OVL_TERMS_MIN_ROWS_LO &&
                                   t->min_rows <= OVL_TERMS_MIN_ROWS_HI
                             : t->min_rows == 0 && !t->allow_cardinality,
               OVL_ERR_MALFORMED, "peer terms: min_rows out of range");
    OVL_TRY(history_decode(&t->history, in));
done:
    return rc;
}

ovl_err ovl_terms_write(ovl_buf *out, const ovl_owner_terms *t, uint64_t set_size)
{
    ovl_err rc = OVL_OK;
    size_t mark;
    OVL_TRY(ovl_frame_begin(out, OVL_TERMS_TYPE, &mark));
    OVL_TRY(ovl_owner_terms_encode(out, t));
    OVL_TRY(ovl_buf_put_u64(out, set_size));
    OVL_TRY(ovl_frame_end(out, mark));
done:
    return rc;
}

ovl_err ovl_terms_parse(ovl_owner_terms *t, uint64_t *set_size, const uint8_t *payload,
                        size_t len)
{
    ovl_buf r;
    ovl_buf_reader(&r, payload, len);
    ovl_err rc = ovl_owner_terms_decode(t, &r);
    if (rc == OVL_OK)
        rc = ovl_buf_get_u64(&r, set_size);
    if (rc == OVL_OK)
        rc = ovl_buf_expect_end(&r);
    if (rc != OVL_OK)
        rc = ovl_err_wrap(OVL_ERR_PROTOCOL, "malformed TERMS from the peer: ");
    return rc;
}

size_t ovl_cosign_msg(uint8_t *out, size_t cap, const uint8_t transcript[OVL_NEGO_HASH_LEN])
{
    size_t n = sizeof OVL_COSIGN_MSG_TAG + OVL_NEGO_HASH_LEN;
    if (cap < n)
        return 0;
    memcpy(out, OVL_COSIGN_MSG_TAG, sizeof OVL_COSIGN_MSG_TAG);
    memcpy(out + sizeof OVL_COSIGN_MSG_TAG, transcript, OVL_NEGO_HASH_LEN);
    return n;
}

ovl_err ovl_cosign_write(ovl_buf *out, const ovl_identity *id,
                         const uint8_t transcript[OVL_NEGO_HASH_LEN])
{
    ovl_err rc = OVL_OK;
    uint8_t msg[128], sig[OVL_SIG_LEN];
    size_t mark, n = ovl_cosign_msg(msg, sizeof msg, transcript);
    OVL_ENSURE(n > 0, OVL_ERR_INTERNAL, "co-signature message does not fit");
    OVL_TRY(ovl_identity_sign(id, sig, msg, n));
    OVL_TRY(ovl_frame_begin(out, OVL_COSIGN_TYPE, &mark));
    OVL_TRY(ovl_buf_put_bytes(out, sig, sizeof sig));
    OVL_TRY(ovl_frame_end(out, mark));
done:
    return rc;
}

ovl_err ovl_cosign_verify(uint8_t sig[OVL_SIG_LEN], const uint8_t *payload, size_t len,
                          const ovl_pubkey *peer, const uint8_t transcript[OVL_NEGO_HASH_LEN])
{
    uint8_t msg[128];
    size_t n = ovl_cosign_msg(msg, sizeof msg, transcript);
    if (len != OVL_SIG_LEN || n == 0)
        return ovl_err_set(OVL_ERR_PROTOCOL, "malformed COSIGN from the peer");
    if (ovl_pubkey_verify(peer, payload, msg, n) != OVL_OK)
        return ovl_err_set(OVL_ERR_AUTH, "the peer's signature of the run's transcript does not "
                                         "verify");
    memcpy(sig, payload, OVL_SIG_LEN);
    return OVL_OK;
}
