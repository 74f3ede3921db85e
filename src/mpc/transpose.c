/* Bit-matrix transpose (src/mpc/SPEC.md §4.2). SSE2 movemask: sixteen rows'
 * bytes in one register give, per shift, the sixteen bits of one output row.
 * Full 128-column strips load 16 bytes per row and regroup them by byte
 * position with unpacks; a narrower tail gathers byte by byte. With AVX2 two
 * strips share one 256-bit movemask. */
#include <string.h>

#include <immintrin.h>

#include "mpc/block.h"
#include "mpc/transpose.h"

/* 16 rows × 16 bytes to 16 registers of one byte position each: four rounds
 * of unpacking row i with row i + 8 rotate the 8-bit index (row, byte) left by
 * one each, so after four rows and bytes have swapped. */
static void transpose16x16_bytes(__m128i v[16])
{
    for (int round = 0; round < 4; round++) {
        __m128i t[16];
        for (int i = 0; i < 8; i++) {
            t[2 * i] = _mm_unpacklo_epi8(v[i], v[i + 8]);
            t[2 * i + 1] = _mm_unpackhi_epi8(v[i], v[i + 8]);
        }
        for (int i = 0; i < 16; i++)
            v[i] = t[i];
    }
}

static void load_strip(__m128i v[16], const uint8_t *in, size_t in_stride, size_t r, size_t c)
{
    for (size_t i = 0; i < 16; i++)
        v[i] = _mm_loadu_si128((const __m128i *)(const void *)(in + (r + i) * in_stride + c / 8));
    transpose16x16_bytes(v);
}

/* AVX2: two 16-row strips side by side, so each movemask yields 32 bits. */
__attribute__((target("avx2"))) static void transpose_avx2(uint8_t *out, const uint8_t *in,
                                                            size_t rows, size_t cols)
{
    size_t in_stride = cols / 8, out_stride = rows / 8;
    for (size_t r = 0; r < rows; r += 32)
        for (size_t c = 0; c < cols; c += 128) {
            __m128i lo[16], hi[16];
            load_strip(lo, in, in_stride, r, c);
            load_strip(hi, in, in_stride, r + 16, c);
            for (size_t byte = 0; byte < 16; byte++) {
                __m256i x = _mm256_set_m128i(hi[byte], lo[byte]);
                uint8_t *o = out + (c + 8 * byte) * out_stride + r / 8;
                for (int b = 7; b >= 0; b--) {
                    uint32_t m = (uint32_t)_mm256_movemask_epi8(x);
                    memcpy(o + (size_t)b * out_stride, &m, 4);
                    x = _mm256_slli_epi64(x, 1);
                }
            }
        }
}

static void transpose_sse2(uint8_t *out, const uint8_t *in, size_t rows, size_t cols)
{
    size_t in_stride = cols / 8, out_stride = rows / 8;
    for (size_t r = 0; r < rows; r += 16) {
        size_t c = 0;
        for (; c + 128 <= cols; c += 128) {
            __m128i v[16];
            load_strip(v, in, in_stride, r, c);
            for (size_t byte = 0; byte < 16; byte++) {
                __m128i x = v[byte];
                uint8_t *o = out + (c + 8 * byte) * out_stride + r / 8;
                for (int b = 7; b >= 0; b--) {
                    uint16_t m = (uint16_t)_mm_movemask_epi8(x);
                    memcpy(o + (size_t)b * out_stride, &m, 2);
                    x = _mm_slli_epi64(x, 1);
                }
            }
        }
        for (; c < cols; c += 8) {
            uint8_t g[16];
            for (size_t i = 0; i < 16; i++)
                g[i] = in[(r + i) * in_stride + c / 8];
            __m128i x = _mm_loadu_si128((const __m128i *)(const void *)g);
            for (int b = 7; b >= 0; b--) {
                uint16_t m = (uint16_t)_mm_movemask_epi8(x);
                memcpy(out + (c + (size_t)b) * out_stride + r / 8, &m, 2);
                x = _mm_slli_epi64(x, 1);
            }
        }
    }
}

void ovl_transpose(uint8_t *out, const uint8_t *in, size_t rows, size_t cols)
{
    if (rows % 32 == 0 && cols % 128 == 0 && __builtin_cpu_supports("avx2"))
        transpose_avx2(out, in, rows, cols);
    else
        transpose_sse2(out, in, rows, cols);
}

/* The SSE2 path alone, for the test that compares both paths. */
void ovl_transpose_sse2(uint8_t *out, const uint8_t *in, size_t rows, size_t cols)
{
    transpose_sse2(out, in, rows, cols);
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
