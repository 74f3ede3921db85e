/* overlap: GF(2^128) arithmetic for the KOS consistency check.
 *
 * Field elements are blocks read as polynomials over GF(2), bit i the
 * coefficient of x^i, modulo x^128 + x^7 + x^2 + x + 1 (src/mpc/SPEC.md §4.3).
 * Products are accumulated unreduced (256 bits) and reduced once per batch. */
#ifndef OVERLAP_MPC_GF128_H
#define OVERLAP_MPC_GF128_H

#include <stddef.h>

#include "mpc/block.h"

typedef struct {
    ovl_block lo, hi; /* coefficients 0..127 and 128..255 */
} ovl_gf256;

/* acc ^= Σ a[j]·b[j] (carry-less, unreduced); PCLMULQDQ when the CPU has it. */
void ovl_gf128_mul_acc(ovl_gf256 *acc, const ovl_block *a, const ovl_block *b, size_t n);
/* The product mod the field polynomial, in constant time. */
ovl_block ovl_gf128_reduce(ovl_gf256 v);
/* a·b in GF(2^128). */
ovl_block ovl_gf128_mul(ovl_block a, ovl_block b);
/* The portable carry-less product (the reference the fast path is tested against). */
ovl_gf256 ovl_gf128_clmul_ref(ovl_block a, ovl_block b);

#endif
