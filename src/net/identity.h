/* overlap: long-term identity keys (Ed25519).
 *
 * keygen writes NAME.key (secret, mode 0600) and NAME.pub. The same key
 * authenticates TLS (a self-signed certificate made at start-up, pinned by
 * the peer), approves templates and signs audit entries.
 *
 * File formats (one line each, '#' comment lines allowed before it):
 *   NAME.pub: "overlap-pub-v1 ed25519 <64 hex public key> <name>"
 *   NAME.key: "overlap-key-v1 ed25519 <64 hex seed> <name>"
 * A name is 1..64 characters of [A-Za-z0-9._-]. */
#ifndef OVERLAP_IDENTITY_H
#define OVERLAP_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define OVL_PK_LEN 32
#define OVL_SIG_LEN 64
#define OVL_NAME_MAX 64
/* "SHA256:" + 64 hex digits of SHA-256(public key) + NUL */
#define OVL_FPR_LEN 72

typedef struct {
    uint8_t pk[OVL_PK_LEN];
    char name[OVL_NAME_MAX + 1];
} ovl_pubkey;

/* Secret part lives in sodium_malloc'd memory, wiped on free. */
typedef struct ovl_identity ovl_identity;

ovl_err ovl_identity_generate(ovl_identity **out, const char *name) OVL_MUST_USE;
/* Writes key (0600, refusing to overwrite an existing file) and pub atomically. */
ovl_err ovl_identity_save(const ovl_identity *id, const char *key_path,
                          const char *pub_path) OVL_MUST_USE;
/* Loads a .key file; refuses group/world-readable files with a clear error. */
ovl_err ovl_identity_load(ovl_identity **out, const char *path) OVL_MUST_USE;
/* Added with the implementation: parses the text of a .key file (label names
 * it in errors); ovl_identity_load uses it and the key-file fuzz target calls it. */
ovl_err ovl_identity_parse(ovl_identity **out, const char *label, const char *text,
                           size_t len) OVL_MUST_USE;
void ovl_identity_free(ovl_identity *id);
const ovl_pubkey *ovl_identity_pub(const ovl_identity *id);
/* The 32-byte Ed25519 seed, for building the TLS key; do not copy it elsewhere. */
const uint8_t *ovl_identity_seed(const ovl_identity *id);
ovl_err ovl_identity_sign(const ovl_identity *id, uint8_t sig[OVL_SIG_LEN], const uint8_t *msg,
                          size_t len) OVL_MUST_USE;

ovl_err ovl_pubkey_load(ovl_pubkey *out, const char *path) OVL_MUST_USE;
/* Parses the text of a .pub file (label names it in errors). */
ovl_err ovl_pubkey_parse(ovl_pubkey *out, const char *label, const char *text,
                         size_t len) OVL_MUST_USE;
ovl_err ovl_pubkey_verify(const ovl_pubkey *pk, const uint8_t sig[OVL_SIG_LEN],
                          const uint8_t *msg, size_t len) OVL_MUST_USE;
/* "SHA256:<hex>" of the raw public key. */
void ovl_fingerprint(char out[OVL_FPR_LEN], const uint8_t pk[OVL_PK_LEN]);

#endif
