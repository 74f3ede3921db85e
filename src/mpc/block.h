/* overlap: the 128-bit block every two-party computation module works in.
 *
 * Wire labels, OT pads, PRG outputs and hash tweaks are all 128-bit blocks.
 * A block is an SSE2 register (baseline on x86-64), so XOR, AND and equality
 * compile to one instruction each. On the wire a block is its 16 bytes in
 * memory order (little-endian: byte 0 holds bits 0..7, so the lsb of a block
 * is bit 0 of byte 0). See src/mpc/SPEC.md §1. */
#ifndef OVERLAP_MPC_BLOCK_H
#define OVERLAP_MPC_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if !defined(__SSE2__)
#error "src/mpc needs SSE2 (any x86-64 compiler provides it)"
#endif
#include <emmintrin.h>

typedef __m128i ovl_block;

#define OVL_BLOCK_BYTES 16u

static inline ovl_block ovl_block_zero(void) { return _mm_setzero_si128(); }
/* The block whose low 64 bits are lo and high 64 bits are hi. */
static inline ovl_block ovl_block_make(uint64_t hi, uint64_t lo)
{
    return _mm_set_epi64x((long long)hi, (long long)lo);
}
static inline uint64_t ovl_block_lo(ovl_block a) { return (uint64_t)_mm_cvtsi128_si64(a); }
static inline uint64_t ovl_block_hi(ovl_block a)
{
    return (uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(a, a));
}
static inline ovl_block ovl_block_xor(ovl_block a, ovl_block b) { return _mm_xor_si128(a, b); }
static inline ovl_block ovl_block_and(ovl_block a, ovl_block b) { return _mm_and_si128(a, b); }
static inline ovl_block ovl_block_or(ovl_block a, ovl_block b) { return _mm_or_si128(a, b); }
/* Bit 0 (the point-and-permute bit of a label). */
static inline unsigned ovl_block_lsb(ovl_block a) { return (unsigned)_mm_cvtsi128_si32(a) & 1u; }
/* a with its lsb forced to 1 (a free-XOR Δ must have it set). */
static inline ovl_block ovl_block_set_lsb(ovl_block a)
{
    return _mm_or_si128(a, _mm_set_epi64x(0, 1));
}
/* All-ones when bit is 1, all-zeros when 0, without a branch (bit is 0 or 1). */
static inline ovl_block ovl_block_mask(unsigned bit)
{
    return _mm_set1_epi64x(-(long long)(bit & 1u));
}
/* bit ? a : 0, in constant time. */
static inline ovl_block ovl_block_select(unsigned bit, ovl_block a)
{
    return _mm_and_si128(ovl_block_mask(bit), a);
}
/* Equality in constant time (no early exit on the first differing byte). */
static inline bool ovl_block_eq(ovl_block a, ovl_block b)
{
    ovl_block d = _mm_xor_si128(a, b);
    uint64_t acc = ovl_block_lo(d) | ovl_block_hi(d);
    return ((acc | (0 - acc)) >> 63) == 0;
}
static inline ovl_block ovl_block_load(const uint8_t p[static 16])
{
    return _mm_loadu_si128((const __m128i *)(const void *)p);
}
static inline void ovl_block_store(uint8_t p[static 16], ovl_block a)
{
    _mm_storeu_si128((__m128i *)(void *)p, a);
}
/* Bit i (0..127) of a, counting from the lsb of byte 0. */
static inline unsigned ovl_block_bit(ovl_block a, unsigned i)
{
    uint64_t w = i < 64 ? ovl_block_lo(a) : ovl_block_hi(a);
    return (unsigned)(w >> (i & 63)) & 1u;
}

#endif
