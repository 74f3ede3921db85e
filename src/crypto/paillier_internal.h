/* Internal to overlap: access to Paillier secrets for the unit tests that
 * check key generation. Never used outside tests. */
#ifndef OVL_CRYPTO_PAILLIER_INTERNAL_H
#define OVL_CRYPTO_PAILLIER_INTERNAL_H

#include <gmp.h>

#include "crypto/paillier.h"

/* Copies the prime factors of n (the caller wipes them with mpz_clear). */
void ovl_paillier_sk_factors(mpz_t p, mpz_t q, const ovl_paillier_sk *sk);

/* The key owner's CRT encryption with a given exponent (r_len big-endian
 * bytes), to check it against ovl_paillier_encrypt_with_exponent_for_tests. */
ovl_err ovl_paillier_sk_encrypt_with_exponent(mpz_t ct, const ovl_paillier_sk *sk, const mpz_t m,
                                              const uint8_t *r, size_t r_len) OVL_MUST_USE;

#endif
