/* Internal: GMP memory functions that wipe every block they release. */
#ifndef OVL_CRYPTO_GMP_WIPE_H
#define OVL_CRYPTO_GMP_WIPE_H

/* Installs the wiping allocator once per process (pthread_once). Blocks that
 * GMP allocated before the call are released through free() as usual, so
 * installing late is safe; they are just not wiped. */
void ovl_gmp_wipe_install(void);

#endif
