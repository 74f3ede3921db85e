/* overlap: the prime-order group interface that PSI and aggregates run on.
 *
 * A suite bundles a group, its hash-to-group (RFC 9380) and its encodings.
 * ristretto255 with SHA-512 (libsodium) is the first back end; a P-256 back end
 * (OpenSSL, RFC 9380 P256_XMD:SHA-256_SSWU_RO_) joins through the same table. */
#ifndef OVERLAP_GROUP_H
#define OVERLAP_GROUP_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* Upper bounds over every suite, for stack arrays. */
#define OVL_GROUP_MAX_ELEM 33
#define OVL_GROUP_MAX_SCALAR 32

/* Wire identifiers of suites (carried in every session setup). */
typedef enum {
    OVL_SUITE_RISTRETTO255_SHA512 = 1,
    OVL_SUITE_P256_SHA256 = 2 /* reserved: not built yet */
} ovl_suite_id;

typedef struct ovl_group ovl_group;
struct ovl_group {
    ovl_suite_id id;
    const char *name;  /* e.g. "ristretto255-SHA512" */
    size_t elem_len;   /* bytes of a canonical element encoding */
    size_t scalar_len; /* bytes of a canonical scalar encoding */
    /* RFC 9380 hash_to_curve of msg under dst; never the identity. */
    ovl_err (*hash_to_group)(uint8_t *out, const uint8_t *msg, size_t msg_len, const uint8_t *dst,
                             size_t dst_len);
    /* A uniformly random non-zero scalar from the system CSPRNG. */
    ovl_err (*scalar_random)(uint8_t *out);
    /* A non-zero scalar derived from 64 uniform bytes (tests and vectors). */
    ovl_err (*scalar_from_bytes)(uint8_t *out, const uint8_t in[64]);
    /* out = s * P. Fails with OVL_ERR_CRYPTO when P is not a canonical,
     * valid, non-identity encoding (or the result is the identity). */
    ovl_err (*scalar_mult)(uint8_t *out, const uint8_t *s, const uint8_t *p);
    /* OVL_OK iff p is a canonical encoding of a non-identity element. */
    ovl_err (*validate)(const uint8_t *p);
    /* out = s^-1 mod the group order. */
    ovl_err (*scalar_invert)(uint8_t *out, const uint8_t *s);
    /* Batches, what the engines call: n elements, outputs back to back. A
     * suite may run them several elements at once (ristretto255 on AVX-512
     * IFMA: eight) or loop over the single-element calls; results are the
     * same. */
    /* out_i = hash_to_group(msgs[i], msg_len, dst) for i < n. */
    ovl_err (*hash_to_group_batch)(uint8_t *out, const uint8_t *const *msgs, size_t msg_len,
                                   size_t n, const uint8_t *dst, size_t dst_len);
    /* out_i = s_i * p_i with s_i at s + i * s_stride (0: one scalar for all).
     * When p_i is invalid or a product is the identity: OVL_ERR_CRYPTO, *bad
     * = the first such i, and out wiped. */
    ovl_err (*scalar_mult_batch)(uint8_t *out, size_t *bad, const uint8_t *s, size_t s_stride,
                                 const uint8_t *p, size_t n);
};

/* The built-in suite with this id, or NULL. */
const ovl_group *ovl_group_by_id(uint16_t id);
/* The built-in suite with this name (as in --suite), or NULL. */
const ovl_group *ovl_group_by_name(const char *name);
/* The default suite: ristretto255-SHA512. */
const ovl_group *ovl_group_default(void);

/* RFC 9380 §5.3.1 expand_message_xmd. DSTs longer than 255 bytes are
 * shortened as §5.3.3 says. out_len <= 255 * hash length. */
ovl_err ovl_xmd_sha512(uint8_t *out, size_t out_len, const uint8_t *msg, size_t msg_len,
                       const uint8_t *dst, size_t dst_len) OVL_MUST_USE;
ovl_err ovl_xmd_sha256(uint8_t *out, size_t out_len, const uint8_t *msg, size_t msg_len,
                       const uint8_t *dst, size_t dst_len) OVL_MUST_USE;

/* Initialises libsodium and chooses the arithmetic (OVL_ARITH=auto, portable
 * or ifma in the environment; auto when unset); call once before anything
 * else. src/crypto/r255x8.h has ovl_arith_select for --arith. */
ovl_err ovl_crypto_init(void) OVL_MUST_USE;

#endif
