/* overlap: the DH-OPRF front end of circuit PSI (protocols/cpsi/SPEC.md §4).
 *
 * RFC 9497's OPRF mode (modeOPRF = 0x00) over ristretto255-SHA512, written on
 * our group code: the client blinds HashToGroup(x) with a fresh scalar r, the
 * server multiplies by its key k, the client unblinds with r^-1 and hashes:
 *   F_k(x) = SHA-512(I2OSP(len x, 2) || x || I2OSP(32, 2) || k·H(x) || "Finalize").
 * Circuit PSI runs three keys, one per cuckoo function. Every element
 * received is validated (canonical, not the identity) by the group code. */
#ifndef OVERLAP_CPSI_OPRF_H
#define OVERLAP_CPSI_OPRF_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "crypto/group.h"
#include "crypto/rng.h"

#define OVL_OPRF_ELEM 32u
#define OVL_OPRF_SCALAR 32u
#define OVL_OPRF_OUT 64u
#define OVL_OPRF_MAX_INPUT 65535u

/* A non-zero scalar from 64 bytes of rng (blinds and keys; the rng is the
 * system CSPRNG outside tests). */
ovl_err ovl_oprf_scalar(uint8_t out[static OVL_OPRF_SCALAR], ovl_rng *rng) OVL_MUST_USE;
/* Client: blinded = r·HashToGroup(x). */
ovl_err ovl_oprf_blind(uint8_t blinded[static OVL_OPRF_ELEM], const uint8_t r[static 32],
                       const uint8_t *x, size_t x_len) OVL_MUST_USE;
/* Server: evaluated = k·blinded; OVL_ERR_CRYPTO on an invalid element. */
ovl_err ovl_oprf_evaluate(uint8_t evaluated[static OVL_OPRF_ELEM], const uint8_t k[static 32],
                          const uint8_t blinded[static OVL_OPRF_ELEM]) OVL_MUST_USE;
/* Client: F = Finalize(x, r^-1·evaluated); OVL_ERR_CRYPTO on an invalid element. */
ovl_err ovl_oprf_finalize(uint8_t out[static OVL_OPRF_OUT], const uint8_t r[static 32],
                          const uint8_t *x, size_t x_len,
                          const uint8_t evaluated[static OVL_OPRF_ELEM]) OVL_MUST_USE;
/* Server on its own input under nkeys keys: out[j] = F_{k_j}(x), one hash. */
ovl_err ovl_oprf_direct_keys(uint8_t (*out)[OVL_OPRF_OUT], const uint8_t (*k)[OVL_OPRF_SCALAR],
                             size_t nkeys, const uint8_t *x, size_t x_len) OVL_MUST_USE;
/* Server on its own input: F_k(x) directly. */
ovl_err ovl_oprf_direct(uint8_t out[static OVL_OPRF_OUT], const uint8_t k[static 32],
                        const uint8_t *x, size_t x_len) OVL_MUST_USE;

/* Batches of n (the engine's jobs): the same values as the single calls,
 * eight at a time where the suite can. r: n scalars back to back; x, x_len:
 * n inputs; blinded, evaluated: n elements back to back. On an invalid
 * element (OVL_ERR_CRYPTO) *bad is its index. direct_keys_batch writes
 * F_{k_j}(x_i) to out[i·nkeys + j]. */
ovl_err ovl_oprf_blind_batch(uint8_t *blinded, const uint8_t *r, const uint8_t *const *x,
                             const size_t *x_len, size_t n) OVL_MUST_USE;
ovl_err ovl_oprf_evaluate_batch(uint8_t *evaluated, size_t *bad, const uint8_t k[static 32],
                                const uint8_t *blinded, size_t n) OVL_MUST_USE;
ovl_err ovl_oprf_finalize_batch(uint8_t (*out)[OVL_OPRF_OUT], size_t *bad, const uint8_t *r,
                                const uint8_t *const *x, const size_t *x_len,
                                const uint8_t *evaluated, size_t n) OVL_MUST_USE;
ovl_err ovl_oprf_direct_keys_batch(uint8_t (*out)[OVL_OPRF_OUT],
                                   const uint8_t (*k)[OVL_OPRF_SCALAR], size_t nkeys,
                                   const uint8_t *const *x, const size_t *x_len,
                                   size_t n) OVL_MUST_USE;

#endif
