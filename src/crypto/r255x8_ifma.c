/* Multi-buffer ristretto255 on AVX-512 IFMA. Only the functions of this file
 * carry the AVX-512 target attribute (lane8.h), so the rest of the build stays
 * baseline x86-64; src/crypto/arith.c calls in only when the CPU and the OS
 * support it. */
#include "crypto/r255x8.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))

#define R8_TABLE ovl_r255x8_ifma
#include "crypto/r255x8_impl.h"

#else

/* Elsewhere the back end exists only to keep the table complete; arith.c
 * never selects it. */
#define OVL_LANE8_EMU 1
#define R8_TABLE ovl_r255x8_ifma
#include "crypto/r255x8_impl.h"

#endif
