/* Template approvals: an owner's Ed25519 signature over a domain-separated
 * template hash, kept in TEMPLATE.NAME.sig next to the template. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/guard.h"
#include "core/mem.h"
#include "io/table.h"
#include "policy/verifier.h"

#define APPROVAL_MAGIC "overlap-approval-v1"
#define APPROVAL_MAX 4096u

static void approval_msg(uint8_t *msg, const uint8_t hash[OVL_HASH_LEN])
{
    size_t n = sizeof OVL_APPROVAL_TAG; /* includes the NUL separator */
    memcpy(msg, OVL_APPROVAL_TAG, n);
    memcpy(msg + n, hash, OVL_HASH_LEN);
}

#define APPROVAL_MSG_LEN (sizeof OVL_APPROVAL_TAG + OVL_HASH_LEN)

static ovl_err sig_path(char *out, size_t cap, const char *tpl_path, const char *name)
{
    int n = snprintf(out, cap, "%s.%s.sig", tpl_path, name);
    if (n < 0 || (size_t)n >= cap)
        return ovl_err_set(OVL_ERR_USAGE, "%s: path too long", tpl_path);
    return OVL_OK;
}

ovl_err ovl_approval_write(const char *tpl_path, const ovl_identity *id,
                           const uint8_t hash[OVL_HASH_LEN], char *out_path, size_t out_cap)
{
    ovl_err rc = OVL_OK;
    ovl_outfile *f = NULL;
    uint8_t msg[APPROVAL_MSG_LEN], sig[OVL_SIG_LEN];
    char pk_hex[2 * OVL_PK_LEN + 1], h_hex[2 * OVL_HASH_LEN + 1], s_hex[2 * OVL_SIG_LEN + 1];
    char line[512];
    const ovl_pubkey *pub = ovl_identity_pub(id);
    OVL_TRY(sig_path(out_path, out_cap, tpl_path, pub->name));
    approval_msg(msg, hash);
    OVL_TRY(ovl_identity_sign(id, sig, msg, sizeof msg));
    ovl_hex_encode(pk_hex, pub->pk, OVL_PK_LEN);
    ovl_hex_encode(h_hex, hash, OVL_HASH_LEN);
    ovl_hex_encode(s_hex, sig, OVL_SIG_LEN);
    int n = snprintf(line, sizeof line, "%s ed25519 %s %s %s %s\n", APPROVAL_MAGIC, pk_hex, h_hex,
                     s_hex, pub->name);
    OVL_ENSURE(n > 0 && (size_t)n < sizeof line, OVL_ERR_INTERNAL, "approval line too long");
    OVL_TRY(ovl_outfile_open(&f, out_path));
    OVL_TRY(ovl_outfile_write(f, line, (size_t)n));
    rc = ovl_outfile_commit(f);
    f = NULL;
done:
    ovl_outfile_abort(f);
    return rc;
}

/* Splits the line into exactly `n` space-separated fields. */
static bool split(char *line, char **fields, size_t n)
{
    size_t k = 0;
    for (char *save = NULL, *t = strtok_r(line, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
        if (k == n)
            return false;
        fields[k++] = t;
    }
    return k == n;
}

ovl_err ovl_approval_verify_text(const char *label, const char *text, size_t len,
                                 const uint8_t hash[OVL_HASH_LEN], const ovl_pubkey *key)
{
    ovl_err rc = OVL_OK;
    char line[APPROVAL_MAX + 1], *f[6];
    uint8_t pk[OVL_PK_LEN], h[OVL_HASH_LEN], sig[OVL_SIG_LEN], msg[APPROVAL_MSG_LEN];
    char want[16], got[16];
    OVL_ENSURE(len <= APPROVAL_MAX && memchr(text, '\0', len) == NULL, OVL_ERR_INPUT,
               "%s: not an approval file", label);
    memcpy(line, text, len);
    line[len] = '\0';
    if (len && line[len - 1] == '\n')
        line[--len] = '\0';
    OVL_ENSURE(strchr(line, '\n') == NULL && split(line, f, 6) && strcmp(f[0], APPROVAL_MAGIC) == 0 &&
                   strcmp(f[1], "ed25519") == 0 &&
                   ovl_hex_decode(pk, OVL_PK_LEN, f[2], strlen(f[2])) == OVL_OK &&
                   ovl_hex_decode(h, OVL_HASH_LEN, f[3], strlen(f[3])) == OVL_OK &&
                   ovl_hex_decode(sig, OVL_SIG_LEN, f[4], strlen(f[4])) == OVL_OK,
               OVL_ERR_INPUT, "%s: not an approval file (expected one line \"%s ed25519 <key> "
               "<hash> <signature> <name>\")", label, APPROVAL_MAGIC);
    OVL_ENSURE(sodium_memcmp(pk, key->pk, OVL_PK_LEN) == 0, OVL_ERR_AUTH,
               "%s: signed by another key than %s's", label, key->name);
    ovl_hex_encode(want, hash, 6);
    ovl_hex_encode(got, h, 6);
    OVL_ENSURE(memcmp(h, hash, OVL_HASH_LEN) == 0, OVL_ERR_POLICY,
               "%s: approves another template (hash %s..., this one is %s...)", label, got, want);
    approval_msg(msg, hash);
    OVL_ENSURE(ovl_pubkey_verify(key, sig, msg, sizeof msg) == OVL_OK, OVL_ERR_AUTH,
               "%s: signature does not verify with %s's key (forged or altered)", label,
               key->name);
done:
    return rc;
}

ovl_err ovl_approvals_collect(ovl_approvals *out, const char *tpl_path,
                              const uint8_t hash[OVL_HASH_LEN], const ovl_pubkey *keys,
                              size_t nkeys)
{
    ovl_err rc = OVL_OK;
    char path[4096], text[APPROVAL_MAX + 1];
    FILE *f = NULL;
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < nkeys; i++) {
        OVL_TRY(sig_path(path, sizeof path, tpl_path, keys[i].name));
        f = fopen(path, "rb");
        if (!f && errno == ENOENT)
            continue;
        OVL_ENSURE(f != NULL, OVL_ERR_IO, "%s: cannot open", path);
        size_t n = fread(text, 1, sizeof text, f);
        OVL_ENSURE(!ferror(f), OVL_ERR_IO, "%s: read failed", path);
        fclose(f);
        f = NULL;
        OVL_TRY(ovl_approval_verify_text(path, text, n, hash, &keys[i]));
        OVL_ENSURE(out->n < OVL_APPROVALS_MAX, OVL_ERR_LIMIT, "more than %u approvers",
                   OVL_APPROVALS_MAX);
        ovl_fingerprint(out->fpr[out->n++], keys[i].pk);
    }
done:
    if (f)
        fclose(f);
    return rc;
}
