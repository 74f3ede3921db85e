/* Multi-buffer ristretto255 over the portable emulation of the IFMA lane
 * operations: the same algorithm as r255x8_ifma.c instruction for
 * instruction, for valgrind (the constant-time check) and for checking the
 * real instructions against it. */
#define OVL_LANE8_EMU 1
#define R8_TABLE ovl_r255x8_emu
#include "crypto/r255x8_impl.h"
