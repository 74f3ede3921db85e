/* Internal: GMP memory functions that wipe every block they release, and the
 * fixed-width limb conversions of the constant-time code (paillier_mont.c, share.c). */
#ifndef OVL_CRYPTO_GMP_WIPE_H
#define OVL_CRYPTO_GMP_WIPE_H

#include <stdbool.h>
#include <stddef.h>

#include <gmp.h>

/* Installs the wiping allocator once per process (pthread_once). Blocks that
 * GMP allocated before the call are released through free() as usual, so
 * installing late is safe; they are just not wiped. */
void ovl_gmp_wipe_install(void);

/* out[0..n) = v, zero-padded; false when v < 0 or v has more than n limbs.
 * Branches only on v's sign and limb count, which the mpz representation
 * exposes to every GMP call anyway, never on limb values. */
bool ovl_gmp_get_limbs(mp_limb_t *out, size_t n, const mpz_t v);
/* v = the n-limb value at p (n >= 1). GMP normalises v by dropping high zero
 * limbs, a branch on the top limbs: it reveals the limb length of the result
 * only. It is the one reviewed report of tests/ct/ct.supp on this path, and
 * kept out of line so that suppression names exactly this function. */
void ovl_gmp_set_limbs(mpz_t v, const mp_limb_t *p, size_t n);

#endif
