/* overlap: ristretto255 on eight elements at once (multi-buffer).
 *
 * GF(2^255-19) in five 51-bit limbs per lane, multiplied with 52-bit
 * multiply-accumulate instructions (AVX-512 IFMA vpmadd52luq/vpmadd52huq),
 * and the RFC 9496 operations over them: decode with validation, encode, the
 * one-way map from 64 uniform bytes, and multiplication by a scalar per lane
 * (signed 4-bit fixed windows, table entries chosen by masks). Results are
 * exactly libsodium 1.0.18's, with the refusals of src/crypto/ristretto255.c
 * (identity, bit 255 set).
 *
 * One algorithm (r255x8_impl.h) is compiled twice: over AVX-512 IFMA
 * (r255x8_ifma.c) and over a portable emulation of the same instructions
 * (r255x8_emu.c), which valgrind can run for the constant-time check. Pick
 * with ovl_arith_*(); src/crypto/arith.c checks the CPU and the OS. */
#ifndef OVERLAP_R255X8_H
#define OVERLAP_R255X8_H

#include <stddef.h>
#include <stdint.h>

/* add sub and or xor mullo shr13 shl13 madd52lo madd52hi blend eq test */
#define OVL_LANE8_OPS 13

enum { OVL_R255X8_LANES = 8, OVL_R255X8_ELEM = 32, OVL_R255X8_SCALAR = 32, OVL_R255X8_HASH = 64 };

/* Field operations exposed for tests (canonical little-endian in and out). */
typedef enum {
    OVL_FE8_MUL,
    OVL_FE8_SQ,
    OVL_FE8_ADD,
    OVL_FE8_SUB,
    OVL_FE8_INVERT,
    OVL_FE8_SQRT_RATIO, /* out = RFC 9496 SQRT_RATIO_M1(a, b); mask = was_square */
} ovl_fe8_op;

typedef struct {
    const char *name;
    /* Bit i of the result set iff lane i of p is a canonical non-identity encoding. */
    unsigned (*validate)(const uint8_t p[static 8 * 32]);
    /* out = encode(decode(p)) for the valid lanes (zero bytes elsewhere). */
    unsigned (*reencode)(uint8_t out[static 8 * 32], const uint8_t p[static 8 * 32]);
    /* out_i = s_i * p_i, with s_i at s + i * s_stride (stride 0: one scalar for
     * all lanes). Bit i set iff p_i is valid and the product is not the
     * identity; other lanes are zero bytes. Scalars as libsodium takes them:
     * 32 little-endian bytes, bit 255 ignored. */
    unsigned (*scalar_mult)(uint8_t out[static 8 * 32], const uint8_t *s, size_t s_stride,
                            const uint8_t p[static 8 * 32]);
    /* out_i = RFC 9496 §4.3.4 element derivation from 64 uniform bytes. */
    void (*from_hash)(uint8_t out[static 8 * 32], const uint8_t h[static 8 * 64]);
    unsigned (*fe_op)(uint8_t out[static 8 * 32], ovl_fe8_op op, const uint8_t a[static 8 * 32],
                      const uint8_t b[static 8 * 32]);
    /* Every lane operation of lane8.h once on raw words, for checking the
     * emulation against the instructions: rows in OVL_LANE8_OPS order. */
    void (*lane_ops)(uint64_t out[static OVL_LANE8_OPS][8], const uint64_t a[static 8],
                     const uint64_t b[static 8], const uint64_t c[static 8]);
} ovl_r255x8;

extern const ovl_r255x8 ovl_r255x8_ifma;
extern const ovl_r255x8 ovl_r255x8_emu;

/* Which arithmetic the ristretto255 suite uses. */
typedef enum { OVL_ARITH_AUTO, OVL_ARITH_PORTABLE, OVL_ARITH_IFMA } ovl_arith;

/* 1 iff the CPU has AVX-512 F/VL/DQ/IFMA and the OS saves ZMM and opmask state. */
int ovl_arith_ifma_supported(void);
/* Parses "auto", "portable" or "ifma"; -1 for anything else. */
int ovl_arith_parse(const char *s);
/* Selects the arithmetic; 0 on success, -1 when ifma is asked for but the
 * machine cannot run it. AUTO takes ifma where supported. */
int ovl_arith_select(ovl_arith a);
/* Applies OVL_ARITH (auto when unset) unless ovl_arith_select already chose:
 * 0, or -1 for a value that is not a mode, -2 for ifma on a machine without
 * it; *value is the variable's text. Called by ovl_crypto_init. */
int ovl_arith_from_env(const char **value);
/* The multi-buffer back end in use, or NULL for libsodium one at a time. */
const ovl_r255x8 *ovl_arith_x8(void);
/* "ifma" or "portable": what the ristretto255 suite runs on. */
const char *ovl_arith_name(void);

#endif
