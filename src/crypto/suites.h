/* Internal: the suite back ends that group.c lists in its table.
 * Each back end defines one constant ovl_group; ristretto255 keeps its batch
 * operations in a file of their own. */
#ifndef OVL_CRYPTO_SUITES_H
#define OVL_CRYPTO_SUITES_H

#include "crypto/group.h"

/* ristretto255 with SHA-512 (RFC 9496, RFC 9380 App. B), src/crypto/ristretto255.c. */
extern const ovl_group ovl_suite_ristretto255;
/* Its batch operations (src/crypto/ristretto255_batch.c). */
ovl_err ovl_r255_hash_to_group_batch(uint8_t *out, const uint8_t *const *msgs, size_t msg_len,
                                     size_t n, const uint8_t *dst, size_t dst_len);
ovl_err ovl_r255_scalar_mult_batch(uint8_t *out, size_t *bad, const uint8_t *s, size_t s_stride,
                                   const uint8_t *p, size_t n);

#endif
