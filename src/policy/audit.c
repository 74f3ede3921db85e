/* The audit log: append-only JSON lines, hash-chained and signed by the
 * owner's identity (format in audit.h and README). */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "core/guard.h"
#include "policy/audit.h"
#include "core/buf.h"
#include "core/mem.h"

#define ENTRY_TAG "overlap-audit-entry-v1"
#define SIG_TAG "overlap-audit-sig-v1"
#define HEAD_MAGIC "overlap-audit-head-v1"
#define MAX_PARAMS 64u

const char *ovl_outcome_name(ovl_outcome o)
{
    switch (o) {
    case OVL_OUTCOME_OK: return "ok";
    case OVL_OUTCOME_REFUSED: return "refused";
    case OVL_OUTCOME_FAILED: return "failed";
    case OVL_OUTCOME_AGREED: return "agreed";
    case OVL_OUTCOME_WITHHELD: return "cosign-withheld";
    }
    return "?";
}

static int cmp_param(const void *a, const void *b)
{
    return strcmp(((const ovl_audit_param *)a)->name, ((const ovl_audit_param *)b)->name);
}

ovl_err ovl_audit_entry_set_params(ovl_audit_entry *e, const ovl_param_value *vals, size_t n)
{
    ovl_err rc = OVL_OK;
    ovl_audit_param *p = NULL;
    size_t k = 0;
    OVL_ENSURE(n <= MAX_PARAMS, OVL_ERR_LIMIT, "more than %u parameters", MAX_PARAMS);
    OVL_TRY(ovl_calloc((void **)&p, n + 1, sizeof *p));
    for (; k < n; k++) {
        p[k].name = strdup(vals[k].name);
        p[k].value = strdup(vals[k].value);
        OVL_ENSURE(p[k].name && p[k].value, OVL_ERR_NOMEM, "out of memory");
    }
    qsort(p, n, sizeof *p, cmp_param);
    for (size_t i = 0; i < e->nparams; i++) {
        free(e->params[i].name);
        free(e->params[i].value);
    }
    free(e->params);
    e->params = p;
    e->nparams = n;
    p = NULL;
done:
    for (size_t i = 0; p && i <= k && i < n; i++) {
        free(p[i].name);
        free(p[i].value);
    }
    free(p);
    return rc;
}

void ovl_audit_entry_clear(ovl_audit_entry *e)
{
    for (size_t i = 0; i < e->nparams; i++) {
        free(e->params[i].name);
        free(e->params[i].value);
    }
    free(e->params);
    memset(e, 0, sizeof *e);
}

void ovl_audit_log_free(ovl_audit_log *log)
{
    for (size_t i = 0; i < log->n; i++)
        ovl_audit_entry_clear(&log->entries[i]);
    free(log->entries);
    memset(log, 0, sizeof *log);
}

bool ovl_audit_entry_involves(const ovl_audit_entry *e, const char *fpr)
{
    char f[OVL_FPR_LEN];
    if (strcmp(e->peer, fpr) == 0)
        return true;
    for (size_t i = 0; i < e->nmembers; i++) {
        ovl_fingerprint(f, e->member_pk[i]);
        if (strcmp(f, fpr) == 0)
            return true;
    }
    return false;
}

size_t ovl_audit_cosign_msg(uint8_t *out, size_t cap, const uint8_t transcript[OVL_HASH_LEN])
{
    size_t n = sizeof OVL_COSIGN_TAG + OVL_HASH_LEN;
    if (cap < n)
        return 0;
    memcpy(out, OVL_COSIGN_TAG, sizeof OVL_COSIGN_TAG);
    memcpy(out + sizeof OVL_COSIGN_TAG, transcript, OVL_HASH_LEN);
    return n;
}

/* ---- canonical bytes and hash ---- */

static ovl_err put_str(ovl_buf *b, const char *s)
{
    size_t n = strlen(s);
    ovl_err rc = n > UINT16_MAX ? ovl_err_set(OVL_ERR_LIMIT, "audit field too long")
                                : ovl_buf_put_u16(b, (uint16_t)n);
    return rc != OVL_OK ? rc : ovl_buf_put_bytes(b, s, n);
}

static ovl_err entry_bytes(ovl_buf *b, const ovl_audit_entry *e)
{
    ovl_err rc = OVL_OK;
    OVL_TRY(ovl_buf_put_bytes(b, ENTRY_TAG, sizeof ENTRY_TAG));
    OVL_TRY(ovl_buf_put_u64(b, e->seq));
    OVL_TRY(ovl_buf_put_u64(b, e->time));
    OVL_TRY(put_str(b, e->peer));
    OVL_TRY(ovl_buf_put_u8(b, (uint8_t)e->mode));
    OVL_TRY(ovl_buf_put_u8(b, e->has_template));
    OVL_TRY(ovl_buf_put_bytes(b, e->template_hash, OVL_HASH_LEN));
    OVL_TRY(ovl_buf_put_bytes(b, e->analysis, OVL_HASH_LEN));
    OVL_TRY(ovl_buf_put_u16(b, (uint16_t)e->nparams));
    for (size_t i = 0; i < e->nparams; i++) {
        OVL_TRY(put_str(b, e->params[i].name));
        OVL_TRY(put_str(b, e->params[i].value));
    }
    OVL_TRY(ovl_buf_put_u64(b, e->local_set));
    OVL_TRY(ovl_buf_put_u64(b, e->peer_set));
    OVL_TRY(ovl_buf_put_u64(b, e->groups_released));
    OVL_TRY(ovl_buf_put_u64(b, e->groups_suppressed));
    OVL_TRY(ovl_buf_put_u8(b, (uint8_t)e->outcome));
    OVL_TRY(put_str(b, e->reason));
    OVL_TRY(ovl_buf_put_u8(b, e->has_transcript));
    OVL_TRY(ovl_buf_put_bytes(b, e->transcript, OVL_HASH_LEN));
    OVL_TRY(ovl_buf_put_u8(b, e->has_peer_sig));
    OVL_TRY(ovl_buf_put_bytes(b, e->peer_sig, OVL_SIG_LEN));
    OVL_TRY(ovl_buf_put_bytes(b, e->prev, OVL_HASH_LEN));
    OVL_TRY(ovl_buf_put_bytes(b, e->signer, OVL_PK_LEN));
    /* Later fields only when set, so entries written before them keep
     * their hashes. */
    if (e->agreed || e->shown || e->peer_head_seq) {
        OVL_TRY(ovl_buf_put_u8(b, 1));
        OVL_TRY(ovl_buf_put_u64(b, e->agreed));
        OVL_TRY(ovl_buf_put_u64(b, e->shown));
        OVL_TRY(ovl_buf_put_u64(b, e->peer_head_seq));
        OVL_TRY(ovl_buf_put_bytes(b, e->peer_head_hash, OVL_HASH_LEN));
    }
    if (e->nmembers) {
        OVL_ENSURE(e->nmembers <= OVL_AUDIT_MAX_MEMBERS, OVL_ERR_INTERNAL, "audit: %zu members",
                   e->nmembers);
        OVL_TRY(ovl_buf_put_u8(b, 2));
        OVL_TRY(ovl_buf_put_u8(b, (uint8_t)e->nmembers));
        for (size_t i = 0; i < e->nmembers; i++)
            OVL_TRY(ovl_buf_put_bytes(b, e->member_pk[i], OVL_PK_LEN));
        OVL_TRY(ovl_buf_put_u8(b, e->has_member_sigs));
        for (size_t i = 0; e->has_member_sigs && i < e->nmembers; i++)
            OVL_TRY(ovl_buf_put_bytes(b, e->member_sig[i], OVL_SIG_LEN));
    }
    if (e->has_capped) {
        OVL_TRY(ovl_buf_put_u8(b, 3));
        OVL_TRY(ovl_buf_put_u64(b, e->capped));
    }
    if (e->inconsistent) {
        /* the reader refuses the field elsewhere: never sign an entry it cannot read */
        OVL_ENSURE(e->mode == OVL_MODE_AGGREGATE, OVL_ERR_INTERNAL,
                   "audit: an inconsistent count on an entry of mode %s", ovl_mode_name(e->mode));
        OVL_TRY(ovl_buf_put_u8(b, 4));
        OVL_TRY(ovl_buf_put_u64(b, e->inconsistent));
    }
done:
    return rc;
}

static ovl_err entry_hash(ovl_audit_entry *e)
{
    ovl_buf b = {0};
    ovl_err rc = ovl_buf_alloc(&b, 1024, OVL_AUDIT_MAX_LINE);
    if (rc == OVL_OK)
        rc = entry_bytes(&b, e);
    if (rc == OVL_OK)
        crypto_hash_sha256(e->hash, b.data, ovl_buf_len(&b));
    ovl_buf_free(&b);
    return rc;
}

static void sig_msg(uint8_t *msg, const uint8_t hash[OVL_HASH_LEN])
{
    memcpy(msg, SIG_TAG, sizeof SIG_TAG);
    memcpy(msg + sizeof SIG_TAG, hash, OVL_HASH_LEN);
}
#define SIG_MSG_LEN (sizeof SIG_TAG + OVL_HASH_LEN)

/* ---- JSON line ---- */

static json_t *hex_or_null(bool has, const uint8_t *p, size_t n)
{
    char hex[2 * OVL_SIG_LEN + 1];
    if (!has)
        return json_null();
    ovl_hex_encode(hex, p, n);
    return json_string(hex);
}

static ovl_err entry_json(char **out, const ovl_audit_entry *e)
{
    json_t *params = json_array();
    for (size_t i = 0; params && i < e->nparams; i++)
        json_array_append_new(params, json_pack("[s,s]", e->params[i].name, e->params[i].value));
    json_t *o = json_pack(
        "{s:I, s:I, s:s, s:s, s:o, s:o, s:o, s:I, s:I, s:I, s:I, s:s, s:s, s:o, s:o, s:o, s:o, s:o}",
        "seq", (json_int_t)e->seq, "time", (json_int_t)e->time, "peer", e->peer, "mode",
        ovl_mode_name(e->mode), "template", hex_or_null(e->has_template, e->template_hash, OVL_HASH_LEN),
        "analysis", hex_or_null(true, e->analysis, OVL_HASH_LEN), "params", params, "local_set",
        (json_int_t)e->local_set, "peer_set", (json_int_t)e->peer_set, "groups_released",
        (json_int_t)e->groups_released, "groups_suppressed", (json_int_t)e->groups_suppressed,
        "outcome", ovl_outcome_name(e->outcome), "reason", e->reason, "transcript",
        hex_or_null(e->has_transcript, e->transcript, OVL_HASH_LEN), "peer_sig",
        hex_or_null(e->has_peer_sig, e->peer_sig, OVL_SIG_LEN), "prev",
        hex_or_null(true, e->prev, OVL_HASH_LEN), "signer", hex_or_null(true, e->signer, OVL_PK_LEN),
        "sig", hex_or_null(true, e->sig, OVL_SIG_LEN));
    if (o && e->agreed)
        json_object_set_new(o, "agreed", json_integer((json_int_t)e->agreed));
    if (o && e->shown)
        json_object_set_new(o, "shown", json_integer((json_int_t)e->shown));
    if (o && e->peer_head_seq)
        json_object_set_new(o, "peer_head",
                            json_pack("[I,o]", (json_int_t)e->peer_head_seq,
                                      hex_or_null(true, e->peer_head_hash, OVL_HASH_LEN)));
    if (o && e->nmembers) {
        json_t *m = json_array();
        for (size_t i = 0; m && i < e->nmembers; i++)
            json_array_append_new(m, json_pack("[o,o]", hex_or_null(true, e->member_pk[i],
                                                                     OVL_PK_LEN),
                                               hex_or_null(e->has_member_sigs, e->member_sig[i],
                                                           OVL_SIG_LEN)));
        json_object_set_new(o, "members", m);
    }
    if (o && e->has_capped)
        json_object_set_new(o, "capped", json_integer((json_int_t)e->capped));
    if (o && e->inconsistent)
        json_object_set_new(o, "inconsistent", json_integer((json_int_t)e->inconsistent));
    *out = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    return *out ? OVL_OK : ovl_err_set(OVL_ERR_NOMEM, "cannot encode audit entry");
}

typedef struct {
    const char *label;
    size_t line;
} lctx;

static ovl_err lbad(const lctx *c, const char *field, const char *what)
{
    return ovl_err_set(OVL_ERR_MALFORMED, "%s:%zu: entry %zu: %s %s (edited or damaged)", c->label,
                       c->line, c->line, field, what);
}

static ovl_err get_hex(const lctx *c, json_t *o, const char *k, uint8_t *out, size_t n, bool *has)
{
    json_t *v = json_object_get(o, k);
    if (has && json_is_null(v)) {
        *has = false;
        memset(out, 0, n);
        return OVL_OK;
    }
    if (!json_is_string(v) || ovl_hex_decode(out, n, json_string_value(v), json_string_length(v)) != OVL_OK)
        return lbad(c, k, "is not valid hex");
    if (has)
        *has = true;
    return OVL_OK;
}

static ovl_err get_u64(const lctx *c, json_t *o, const char *k, uint64_t *out)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return lbad(c, k, "is not a whole number");
    *out = (uint64_t)json_integer_value(v);
    return OVL_OK;
}

static ovl_err get_enum(const lctx *c, json_t *o, ovl_audit_entry *e)
{
    const char *m = json_string_value(json_object_get(o, "mode"));
    const char *oc = json_string_value(json_object_get(o, "outcome"));
    if (!m || ovl_mode_parse(&e->mode, m) != OVL_OK)
        return lbad(c, "mode", "is unknown");
    for (int k = OVL_OUTCOME_OK; oc && k <= OVL_OUTCOME_WITHHELD; k++)
        if (strcmp(oc, ovl_outcome_name((ovl_outcome)k)) == 0)
            e->outcome = (ovl_outcome)k;
    if (e->outcome == 0)
        return lbad(c, "outcome", "is unknown");
    return OVL_OK;
}

static ovl_err get_params(const lctx *c, json_t *o, ovl_audit_entry *e)
{
    ovl_err rc = OVL_OK;
    json_t *arr = json_object_get(o, "params"), *it;
    size_t i;
    if (!json_is_array(arr) || json_array_size(arr) > MAX_PARAMS)
        OVL_FAIL(lbad(c, "params", "is not a list of [name, value]"));
    OVL_TRY(ovl_calloc((void **)&e->params, json_array_size(arr) + 1, sizeof *e->params));
    json_array_foreach (arr, i, it) {
        const char *n = json_string_value(json_array_get(it, 0));
        const char *v = json_string_value(json_array_get(it, 1));
        if (!json_is_array(it) || json_array_size(it) != 2 || !n || !v)
            OVL_FAIL(lbad(c, "params", "is not a list of [name, value]"));
        e->params[e->nparams].name = strdup(n);
        e->params[e->nparams].value = strdup(v);
        e->nparams++;
        OVL_ENSURE(e->params[e->nparams - 1].name && e->params[e->nparams - 1].value, OVL_ERR_NOMEM,
                   "out of memory");
    }
done:
    return rc;
}

/* "members": [[key hex, co-signature hex or null], ...], all signed or none. */
static ovl_err get_members(const lctx *c, json_t *o, ovl_audit_entry *e)
{
    json_t *arr = json_object_get(o, "members"), *it;
    size_t i;
    if (!json_is_array(arr) || json_array_size(arr) < 3 ||
        json_array_size(arr) > OVL_AUDIT_MAX_MEMBERS)
        return lbad(c, "members", "is not a list of 3 to 10 [key, co-signature]");
    json_array_foreach (arr, i, it) {
        json_t *pk = json_array_get(it, 0), *sig = json_array_get(it, 1);
        bool has;
        if (!json_is_array(it) || json_array_size(it) != 2 || !json_is_string(pk) ||
            ovl_hex_decode(e->member_pk[i], OVL_PK_LEN, json_string_value(pk),
                           json_string_length(pk)) != OVL_OK)
            return lbad(c, "members", "is not a list of [key, co-signature]");
        if (json_is_null(sig)) {
            has = false;
        } else if (json_is_string(sig) &&
                   ovl_hex_decode(e->member_sig[i], OVL_SIG_LEN, json_string_value(sig),
                                  json_string_length(sig)) == OVL_OK) {
            has = true;
        } else {
            return lbad(c, "members", "holds a co-signature that is not valid hex");
        }
        if (i > 0 && has != e->has_member_sigs)
            return lbad(c, "members", "holds co-signatures of some members only");
        e->has_member_sigs = has;
    }
    e->nmembers = json_array_size(arr);
    return OVL_OK;
}

static ovl_err entry_parse(ovl_audit_entry *e, const lctx *c, const char *line, size_t len)
{
    ovl_err rc = OVL_OK;
    static const char *const keys[] = {"seq", "time", "peer", "mode", "template", "analysis",
                                       "params", "local_set", "peer_set", "groups_released",
                                       "groups_suppressed", "outcome", "reason", "transcript",
                                       "peer_sig", "prev", "signer", "sig", NULL};
    json_error_t jerr;
    json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
    size_t nk = 0;
    /* jansson's message quotes the text near the fault: say where, never what
     * (a stray file may hold anything, a log's lines hold parameter values). */
    OVL_ENSURE(json_is_object(o) || c->line > 1, OVL_ERR_MALFORMED,
               "%s: not an overlap audit log (its first line is not a JSON entry)", c->label);
    OVL_ENSURE(json_is_object(o), OVL_ERR_MALFORMED,
               "%s:%zu: entry %zu: not a JSON object (at column %d)", c->label, c->line, c->line,
               o ? 1 : jerr.column);
    for (; keys[nk]; nk++)
        if (!json_object_get(o, keys[nk]))
            OVL_FAIL(lbad(c, keys[nk], "is missing"));
    if (json_object_get(o, "agreed")) {
        OVL_TRY(get_u64(c, o, "agreed", &e->agreed));
        if (e->agreed == 0)
            OVL_FAIL(lbad(c, "agreed", "is not an entry number"));
        nk++;
    }
    if (json_object_get(o, "shown")) {
        OVL_TRY(get_u64(c, o, "shown", &e->shown));
        if (e->shown == 0 || e->shown >= c->line)
            OVL_FAIL(lbad(c, "shown", "is not an earlier entry"));
        nk++;
    }
    if (json_object_get(o, "peer_head")) {
        json_t *ph = json_object_get(o, "peer_head");
        json_t *seq = json_array_get(ph, 0), *hx = json_array_get(ph, 1);
        if (!json_is_array(ph) || json_array_size(ph) != 2 || !json_is_integer(seq) ||
            json_integer_value(seq) <= 0 || !json_is_string(hx) ||
            ovl_hex_decode(e->peer_head_hash, OVL_HASH_LEN, json_string_value(hx),
                           json_string_length(hx)) != OVL_OK)
            OVL_FAIL(lbad(c, "peer_head", "is not [entry, hash]"));
        e->peer_head_seq = (uint64_t)json_integer_value(seq);
        nk++;
    }
    if (json_object_get(o, "members")) {
        OVL_TRY(get_members(c, o, e));
        nk++;
    }
    if (json_object_get(o, "capped")) {
        OVL_TRY(get_u64(c, o, "capped", &e->capped));
        e->has_capped = true;
        nk++;
    }
    if (json_object_get(o, "inconsistent")) {
        /* written only when some were: one encoding per entry */
        OVL_TRY(get_u64(c, o, "inconsistent", &e->inconsistent));
        if (e->inconsistent == 0)
            OVL_FAIL(lbad(c, "inconsistent", "is not a positive count"));
        nk++;
    }
    if (json_object_size(o) != nk)
        OVL_FAIL(lbad(c, "an unknown key", "is present"));
    OVL_TRY(get_u64(c, o, "seq", &e->seq));
    OVL_TRY(get_u64(c, o, "time", &e->time));
    const char *peer = json_string_value(json_object_get(o, "peer"));
    if (!(peer && strlen(peer) < OVL_FPR_LEN))
        OVL_FAIL(lbad(c, "peer", "is not a fingerprint"));
    memcpy(e->peer, peer, strlen(peer) + 1);
    OVL_TRY(get_enum(c, o, e));
    if (e->inconsistent && e->mode != OVL_MODE_AGGREGATE)
        OVL_FAIL(lbad(c, "inconsistent", "is set on an entry that is not an aggregate"));
    OVL_TRY(get_hex(c, o, "template", e->template_hash, OVL_HASH_LEN, &e->has_template));
    OVL_TRY(get_hex(c, o, "analysis", e->analysis, OVL_HASH_LEN, NULL));
    OVL_TRY(get_params(c, o, e));
    OVL_TRY(get_u64(c, o, "local_set", &e->local_set));
    OVL_TRY(get_u64(c, o, "peer_set", &e->peer_set));
    OVL_TRY(get_u64(c, o, "groups_released", &e->groups_released));
    OVL_TRY(get_u64(c, o, "groups_suppressed", &e->groups_suppressed));
    const char *reason = json_string_value(json_object_get(o, "reason"));
    if (!(reason && strlen(reason) < OVL_AUDIT_MAX_REASON))
        OVL_FAIL(lbad(c, "reason", "is not a short string"));
    memcpy(e->reason, reason, strlen(reason) + 1);
    OVL_TRY(get_hex(c, o, "transcript", e->transcript, OVL_HASH_LEN, &e->has_transcript));
    OVL_TRY(get_hex(c, o, "peer_sig", e->peer_sig, OVL_SIG_LEN, &e->has_peer_sig));
    OVL_TRY(get_hex(c, o, "prev", e->prev, OVL_HASH_LEN, NULL));
    OVL_TRY(get_hex(c, o, "signer", e->signer, OVL_PK_LEN, NULL));
    OVL_TRY(get_hex(c, o, "sig", e->sig, OVL_SIG_LEN, NULL));
    OVL_TRY(entry_hash(e));
done:
    json_decref(o);
    return rc;
}

/* ---- verification ---- */

/* Every member's co-signature of a multi-party run's transcript, against
 * the keys the entry lists (the owner's signature covers the list), and the
 * owner among them. */
static ovl_err check_members(const lctx *c, const ovl_audit_entry *e)
{
    uint8_t msg[128];
    bool owner = false;
    for (size_t i = 0; i < e->nmembers; i++) {
        owner = owner || memcmp(e->member_pk[i], e->signer, OVL_PK_LEN) == 0;
        for (size_t j = 0; j < i; j++)
            if (memcmp(e->member_pk[i], e->member_pk[j], OVL_PK_LEN) == 0)
                return ovl_err_set(OVL_ERR_MALFORMED, "%s:%zu: entry %zu: members %zu and %zu "
                                   "hold one key", c->label, c->line, c->line, j, i);
    }
    if (!owner)
        return ovl_err_set(OVL_ERR_MALFORMED, "%s:%zu: entry %zu: the log's owner is not among "
                           "the run's members", c->label, c->line, c->line);
    if (!e->has_member_sigs)
        return OVL_OK;
    if (!e->has_transcript)
        return ovl_err_set(OVL_ERR_MALFORMED, "%s:%zu: entry %zu: members' co-signatures without "
                           "a transcript", c->label, c->line, c->line);
    size_t n = ovl_audit_cosign_msg(msg, sizeof msg, e->transcript);
    for (size_t i = 0; i < e->nmembers; i++) {
        ovl_pubkey pk;
        memcpy(pk.pk, e->member_pk[i], OVL_PK_LEN);
        pk.name[0] = '\0';
        if (ovl_pubkey_verify(&pk, e->member_sig[i], msg, n) != OVL_OK)
            return ovl_err_set(OVL_ERR_AUTH, "%s:%zu: entry %zu: member %zu's co-signature of the "
                               "transcript does not verify", c->label, c->line, c->line, i);
    }
    return OVL_OK;
}

static ovl_err check_entry(const lctx *c, const ovl_audit_entry *e, const uint8_t prev[OVL_HASH_LEN],
                           const uint8_t signer[OVL_PK_LEN], const ovl_pubkey *peers, size_t npeers)
{
    ovl_pubkey pk;
    uint8_t msg[SIG_MSG_LEN > 128 ? SIG_MSG_LEN : 128];
    memcpy(pk.pk, signer, OVL_PK_LEN);
    pk.name[0] = '\0';
    if (memcmp(e->signer, signer, OVL_PK_LEN) != 0)
        return ovl_err_set(OVL_ERR_AUTH, "%s:%zu: entry %zu: signed by another key than the log's "
                           "owner", c->label, c->line, c->line);
    sig_msg(msg, e->hash);
    if (ovl_pubkey_verify(&pk, e->sig, msg, SIG_MSG_LEN) != OVL_OK)
        return ovl_err_set(OVL_ERR_AUTH, "%s:%zu: entry %zu: signature does not verify (entry "
                           "edited)", c->label, c->line, c->line);
    if (e->seq != c->line)
        return ovl_err_set(OVL_ERR_AUTH, "%s:%zu: entry %zu: holds entry %llu (an entry was "
                           "deleted, or entries were reordered)", c->label, c->line, c->line,
                           (unsigned long long)e->seq);
    if (e->agreed && (e->agreed >= e->seq || e->outcome == OVL_OUTCOME_AGREED))
        return ovl_err_set(OVL_ERR_MALFORMED, "%s:%zu: entry %zu: agreed names entry %llu, not "
                           "an earlier one", c->label, c->line, c->line,
                           (unsigned long long)e->agreed);
    if (memcmp(e->prev, prev, OVL_HASH_LEN) != 0)
        return ovl_err_set(OVL_ERR_AUTH, "%s:%zu: entry %zu: does not chain to entry %zu (edited, "
                           "deleted or reordered)", c->label, c->line, c->line, c->line - 1);
    if (e->nmembers) {
        ovl_err rc = check_members(c, e);
        if (rc != OVL_OK)
            return rc;
    }
    for (size_t i = 0; e->has_peer_sig && e->has_transcript && i < npeers; i++) {
        char fpr[OVL_FPR_LEN];
        ovl_fingerprint(fpr, peers[i].pk);
        size_t n = ovl_audit_cosign_msg(msg, sizeof msg, e->transcript);
        if (strcmp(fpr, e->peer) == 0 && ovl_pubkey_verify(&peers[i], e->peer_sig, msg, n) != OVL_OK)
            return ovl_err_set(OVL_ERR_AUTH, "%s:%zu: entry %zu: the peer's co-signature of the "
                               "transcript does not verify", c->label, c->line, c->line);
    }
    return OVL_OK;
}

ovl_err ovl_audit_parse(ovl_audit_log *out, const char *label, const char *text, size_t len,
                        const ovl_pubkey *owner, const ovl_pubkey *peers, size_t npeers)
{
    ovl_err rc = OVL_OK;
    uint8_t prev[OVL_HASH_LEN] = {0}, signer[OVL_PK_LEN];
    size_t pos = 0, cap = 0;
    lctx c = {label, 0};
    memset(out, 0, sizeof *out);
    OVL_ENSURE(len <= OVL_AUDIT_MAX_BYTES, OVL_ERR_LIMIT, "%s: larger than %u bytes", label,
               OVL_AUDIT_MAX_BYTES);
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        c.line++;
        OVL_ENSURE(nl != NULL, OVL_ERR_MALFORMED, "%s:%zu: entry %zu: truncated (no end of line)",
                   label, c.line, c.line);
        size_t n = (size_t)(nl - (text + pos));
        OVL_ENSURE(n <= OVL_AUDIT_MAX_LINE, OVL_ERR_LIMIT, "%s:%zu: entry %zu: longer than %u bytes",
                   label, c.line, c.line, OVL_AUDIT_MAX_LINE);
        if (out->n == cap) {
            cap = cap ? cap * 2 : 16;
            OVL_TRY(ovl_reallocarray((void **)&out->entries, cap, sizeof *out->entries));
        }
        ovl_audit_entry *e = &out->entries[out->n];
        memset(e, 0, sizeof *e);
        out->n++;
        OVL_TRY(entry_parse(e, &c, text + pos, n));
        if (out->n == 1)
            memcpy(signer, owner ? owner->pk : e->signer, OVL_PK_LEN);
        OVL_TRY(check_entry(&c, e, prev, signer, peers, npeers));
        memcpy(prev, e->hash, OVL_HASH_LEN);
        pos += n + 1;
    }
done:
    if (rc != OVL_OK)
        ovl_audit_log_free(out);
    return rc;
}

/* ---- head sidecar: "overlap-audit-head-v1 <seq> <hash hex> <sig hex>" ---- */

static void head_msg(uint8_t *msg, uint64_t seq, const uint8_t hash[OVL_HASH_LEN])
{
    memcpy(msg, HEAD_MAGIC, sizeof HEAD_MAGIC);
    for (int i = 0; i < 8; i++)
        msg[sizeof HEAD_MAGIC + (size_t)i] = (uint8_t)(seq >> (56 - 8 * i));
    memcpy(msg + sizeof HEAD_MAGIC + 8, hash, OVL_HASH_LEN);
}
#define HEAD_MSG_LEN (sizeof HEAD_MAGIC + 8 + OVL_HASH_LEN)

static ovl_err head_path(char *out, size_t cap, const char *path)
{
    int n = snprintf(out, cap, "%s.head", path);
    return n > 0 && (size_t)n < cap ? OVL_OK : ovl_err_set(OVL_ERR_USAGE, "%s: path too long", path);
}

static ovl_err check_head(const char *path, const ovl_audit_log *log, const ovl_pubkey *owner)
{
    ovl_err rc = OVL_OK;
    char hp[4096], line[512], hex[2 * OVL_HASH_LEN + 1], shex[2 * OVL_SIG_LEN + 1], magic[32];
    unsigned long long seq;
    uint8_t hash[OVL_HASH_LEN], sig[OVL_SIG_LEN], msg[HEAD_MSG_LEN];
    ovl_pubkey pk;
    FILE *f = NULL;
    OVL_TRY(head_path(hp, sizeof hp, path));
    f = fopen(hp, "r");
    if (!f)
        return errno == ENOENT && log->n == 0 ? OVL_OK
               : errno == ENOENT ? ovl_err_set(OVL_ERR_AUTH, "%s: missing (deleted?); cannot tell "
                                               "whether entries were cut off the end", hp)
                                 : ovl_err_set(OVL_ERR_IO, "%s: cannot open", hp);
    OVL_ENSURE(fgets(line, sizeof line, f) &&
                   sscanf(line, "%31s %llu %64s %128s", magic, &seq, hex, shex) == 4 &&
                   strcmp(magic, HEAD_MAGIC) == 0 &&
                   ovl_hex_decode(hash, OVL_HASH_LEN, hex, strlen(hex)) == OVL_OK &&
                   ovl_hex_decode(sig, OVL_SIG_LEN, shex, strlen(shex)) == OVL_OK,
               OVL_ERR_MALFORMED, "%s: malformed", hp);
    OVL_ENSURE(seq <= log->n, OVL_ERR_AUTH, "%s: entries %llu..%llu are missing (the log was "
               "truncated after entry %zu)", path, (unsigned long long)log->n + 1, seq, log->n);
    OVL_ENSURE(seq >= 1 && memcmp(log->entries[seq - 1].hash, hash, OVL_HASH_LEN) == 0,
               OVL_ERR_AUTH, "%s:%llu: entry %llu: does not match the head record (edited)", path,
               seq, seq);
    memcpy(pk.pk, owner ? owner->pk : log->entries[0].signer, OVL_PK_LEN);
    head_msg(msg, seq, hash);
    OVL_ENSURE(ovl_pubkey_verify(&pk, sig, msg, sizeof msg) == OVL_OK, OVL_ERR_AUTH,
               "%s: signature does not verify", hp);
done:
    if (f)
        fclose(f);
    return rc;
}

static ovl_err read_fd(int fd, const char *path, char **text, size_t *len)
{
    struct stat st;
    *text = NULL;
    *len = 0;
    if (fstat(fd, &st) != 0)
        return ovl_err_set(OVL_ERR_IO, "%s: cannot stat", path);
    if ((uint64_t)st.st_size > OVL_AUDIT_MAX_BYTES)
        return ovl_err_set(OVL_ERR_LIMIT, "%s: larger than %u bytes", path, OVL_AUDIT_MAX_BYTES);
    *text = malloc((size_t)st.st_size + 1);
    if (!*text)
        return ovl_err_set(OVL_ERR_NOMEM, "out of memory");
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t r = pread(fd, *text + got, (size_t)st.st_size - got, (off_t)got);
        if (r <= 0) {
            free(*text);
            *text = NULL;
            return ovl_err_set(OVL_ERR_IO, "%s: read failed", path);
        }
        got += (size_t)r;
    }
    *len = got;
    return OVL_OK;
}

ovl_err ovl_audit_load(ovl_audit_log *out, const char *path, const ovl_pubkey *owner,
                       const ovl_pubkey *peers, size_t npeers)
{
    ovl_err rc = OVL_OK;
    char *text = NULL;
    size_t len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    memset(out, 0, sizeof *out);
    if (fd < 0 && errno == ENOENT) {
        OVL_TRY(check_head(path, out, owner));
        return OVL_OK;
    }
    OVL_ENSURE(fd >= 0, OVL_ERR_IO, "%s: cannot open audit log", path);
    /* Shared against append's exclusive lock: never a line without its head. */
    OVL_ENSURE(flock(fd, LOCK_SH) == 0, OVL_ERR_IO, "%s: cannot lock", path);
    OVL_TRY(read_fd(fd, path, &text, &len));
    OVL_TRY(ovl_audit_parse(out, path, text, len, owner, peers, npeers));
    OVL_TRY(check_head(path, out, owner));
done:
    if (fd >= 0)
        close(fd);
    free(text);
    if (rc != OVL_OK)
        ovl_audit_log_free(out);
    return rc;
}

static ovl_err write_head(const char *path, const ovl_identity *id, const ovl_audit_entry *e)
{
    ovl_err rc = OVL_OK;
    char hp[4096], tmp[4200], hex[2 * OVL_HASH_LEN + 1], shex[2 * OVL_SIG_LEN + 1];
    uint8_t msg[HEAD_MSG_LEN], sig[OVL_SIG_LEN];
    FILE *f = NULL;
    OVL_TRY(head_path(hp, sizeof hp, path));
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", hp, (long)getpid());
    head_msg(msg, e->seq, e->hash);
    OVL_TRY(ovl_identity_sign(id, sig, msg, sizeof msg));
    ovl_hex_encode(hex, e->hash, OVL_HASH_LEN);
    ovl_hex_encode(shex, sig, OVL_SIG_LEN);
    f = fopen(tmp, "w");
    OVL_ENSURE(f != NULL, OVL_ERR_IO, "%s: cannot create", tmp);
    OVL_ENSURE(fprintf(f, "%s %llu %s %s\n", HEAD_MAGIC, (unsigned long long)e->seq, hex, shex) > 0 &&
                   fflush(f) == 0 && fsync(fileno(f)) == 0,
               OVL_ERR_IO, "%s: write failed", tmp);
    OVL_ENSURE(fclose(f) == 0, OVL_ERR_IO, "%s: write failed", tmp);
    f = NULL;
    OVL_ENSURE(rename(tmp, hp) == 0, OVL_ERR_IO, "%s: cannot replace", hp);
done:
    if (f)
        fclose(f);
    if (rc != OVL_OK)
        unlink(tmp);
    return rc;
}

static ovl_err append_line(int fd, const char *path, ovl_audit_entry *e)
{
    ovl_err rc = OVL_OK;
    char *line = NULL;
    OVL_TRY(entry_json(&line, e));
    size_t n = strlen(line);
    line[n] = '\n'; /* json_dumps left room for the NUL we overwrite */
    OVL_ENSURE(n + 1 <= OVL_AUDIT_MAX_LINE, OVL_ERR_LIMIT, "%s: entry longer than %u bytes", path,
               OVL_AUDIT_MAX_LINE);
    OVL_ENSURE(write(fd, line, n + 1) == (ssize_t)(n + 1) && fsync(fd) == 0, OVL_ERR_IO,
               "%s: append failed", path);
done:
    free(line);
    return rc;
}

ovl_err ovl_audit_append(const char *path, const ovl_identity *id, ovl_audit_entry *e)
{
    ovl_err rc = OVL_OK;
    ovl_audit_log log = {0};
    char *text = NULL;
    size_t len;
    uint8_t msg[SIG_MSG_LEN];
    const ovl_pubkey *me = ovl_identity_pub(id);
    int fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    OVL_ENSURE(fd >= 0, OVL_ERR_IO, "%s: cannot open audit log for appending", path);
    OVL_ENSURE(flock(fd, LOCK_EX) == 0, OVL_ERR_IO, "%s: cannot lock", path);
    OVL_TRY(read_fd(fd, path, &text, &len));
    if (ovl_audit_parse(&log, path, text, len, me, NULL, 0) != OVL_OK)
        OVL_FAIL(ovl_err_wrap(OVL_ERR_AUTH, "refusing to append to a broken log: "));
    OVL_ENSURE(e->reason[sizeof e->reason - 1] == '\0' && e->nparams <= MAX_PARAMS, OVL_ERR_USAGE,
               "audit entry: reason or parameters too long");
    e->seq = log.n + 1;
    if (log.n)
        memcpy(e->prev, log.entries[log.n - 1].hash, OVL_HASH_LEN);
    else
        memset(e->prev, 0, OVL_HASH_LEN);
    memcpy(e->signer, me->pk, OVL_PK_LEN);
    OVL_TRY(entry_hash(e));
    sig_msg(msg, e->hash);
    OVL_TRY(ovl_identity_sign(id, e->sig, msg, sizeof msg));
    OVL_TRY(append_line(fd, path, e));
    OVL_TRY(write_head(path, id, e));
done:
    ovl_audit_log_free(&log);
    free(text);
    if (fd >= 0)
        close(fd); /* releases the lock */
    return rc;
}

bool ovl_audit_entry_charged(const ovl_audit_entry *e)
{
    /* A session's final entry after its "agreed" one was charged there. */
    return e->outcome != OVL_OUTCOME_REFUSED && e->agreed == 0;
}

ovl_err ovl_audit_lock(const char *path, int *fd)
{
    char lp[4096];
    *fd = -1;
    int n = snprintf(lp, sizeof lp, "%s.lock", path);
    if (n <= 0 || (size_t)n >= sizeof lp)
        return ovl_err_set(OVL_ERR_USAGE, "%s: path too long", path);
    int f = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (f < 0)
        return ovl_err_set(OVL_ERR_IO, "%s: cannot open the audit lock", lp);
    /* flock: separate opens conflict, across threads as across processes */
    while (flock(f, LOCK_EX) != 0) {
        if (errno != EINTR) {
            close(f);
            return ovl_err_set(OVL_ERR_IO, "%s: cannot lock", lp);
        }
    }
    *fd = f;
    return OVL_OK;
}

void ovl_audit_unlock(int fd)
{
    if (fd >= 0)
        close(fd); /* releases the lock */
}
