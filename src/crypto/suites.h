/* Internal: the suite back ends that group.c lists in its table.
 * Each back end defines one constant ovl_group; nothing else is shared. */
#ifndef OVL_CRYPTO_SUITES_H
#define OVL_CRYPTO_SUITES_H

#include "crypto/group.h"

/* ristretto255 with SHA-512 (RFC 9496, RFC 9380 App. B), src/crypto/ristretto255.c. */
extern const ovl_group ovl_suite_ristretto255;

#endif
