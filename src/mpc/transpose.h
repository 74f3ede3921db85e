/* overlap: bit-matrix transpose for OT extension.
 *
 * A matrix of `rows` rows of `cols` bits is stored row after row, cols/8
 * bytes each, bit c of a row at byte c/8, bit c%8. Both dimensions are
 * multiples of 16 (OT extension pads to this). */
#ifndef OVERLAP_MPC_TRANSPOSE_H
#define OVERLAP_MPC_TRANSPOSE_H

#include <stddef.h>
#include <stdint.h>

/* out (cols rows of rows bits) = the transpose of in (rows rows of cols bits). */
void ovl_transpose(uint8_t *out, const uint8_t *in, size_t rows, size_t cols);
/* The SSE2 path (ovl_transpose picks AVX2 when it can). */
void ovl_transpose_sse2(uint8_t *out, const uint8_t *in, size_t rows, size_t cols);
/* The bit-by-bit transpose the fast one is tested against. */
void ovl_transpose_ref(uint8_t *out, const uint8_t *in, size_t rows, size_t cols);

#endif
