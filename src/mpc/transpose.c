/* Bit-matrix transpose (src/mpc/SPEC.md §4.2). SSE2 movemask: sixteen rows'
 * bytes in one register give, per shift, the sixteen bits of one output row. */
#include <string.h>

#include "mpc/block.h"
#include "mpc/transpose.h"

void ovl_transpose(uint8_t *out, const uint8_t *in, size_t rows, size_t cols)
{
    size_t in_stride = cols / 8, out_stride = rows / 8;
    for (size_t r = 0; r < rows; r += 16) {
        for (size_t c = 0; c < cols; c += 8) {
            uint8_t g[16];
            for (size_t i = 0; i < 16; i++)
                g[i] = in[(r + i) * in_stride + c / 8];
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)g);
            for (int b = 7; b >= 0; b--) {
                uint16_t m = (uint16_t)_mm_movemask_epi8(v);
                memcpy(out + (c + (size_t)b) * out_stride + r / 8, &m, 2);
                v = _mm_slli_epi64(v, 1);
            }
        }
    }
}

void ovl_transpose_ref(uint8_t *out, const uint8_t *in, size_t rows, size_t cols)
{
    memset(out, 0, rows * cols / 8);
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < cols; c++) {
            unsigned bit = (in[r * (cols / 8) + c / 8] >> (c % 8)) & 1u;
            out[c * (rows / 8) + r / 8] |= (uint8_t)(bit << (r % 8));
        }
}
