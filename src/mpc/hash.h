/* overlap: fixed-key AES, the AES-CTR PRG and the tweakable circular
 * correlation-robust hash of the two-party computation layer.
 *
 * π is AES-128 under a key both parties know (ECB with VAES or AES-NI where
 * the CPU has them, else OpenSSL EVP; whole batches per call so the blocks
 * pipeline). The hash is Guo–Katz–Wang–Yu's
 * (S&P 2020) TCCR construction H(x, i) = π(π(x) ⊕ i) ⊕ π(x). Its security
 * needs every tweak i to be used at most once per key on secret-correlated
 * inputs; the tweak space below makes a repeat impossible by construction
 * (src/mpc/SPEC.md §2):
 *
 *   tweak = [ domain u8 | direction u8 | instance u48 ] (high 64 bits)
 *           [ counter u64 ]                             (low 64 bits)
 *
 * A session owns one ovl_tweak_space; it hands out streams, each with a fresh
 * (domain, direction, instance) triple; a stream hands out counters, each once.
 * Both parties open streams in the same order, so they agree on every tweak.
 *
 * The contexts hold an OpenSSL cipher context and are not shared between
 * threads; a worker thread makes its own with the same key. */
#ifndef OVERLAP_MPC_HASH_H
#define OVERLAP_MPC_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "mpc/block.h"

struct evp_cipher_ctx_st;

/* AES-128 under one key, ECB: π in the hash, or any keyed permutation.
 * rk is the expanded key (FIPS 197 §5.2) the AES-NI and VAES loops run on,
 * filled when the CPU has AES-NI; ctx is OpenSSL's, for every other CPU. Some
 * keys are secret (OPRF keys, seeds): ovl_aes_free wipes both. */
typedef struct {
    struct evp_cipher_ctx_st *ctx;
    uint8_t rk[11][16];
} ovl_aes;

/* The public key of fixed-key π when a session agrees on nothing else
 * (the first 16 bytes of SHA-256("overlap mpc fixed-key AES v1")). */
extern const uint8_t ovl_aes_fixed_key[16];

ovl_err ovl_aes_init(ovl_aes *a, const uint8_t key[static 16]) OVL_MUST_USE;
/* out[j] = AES_k(in[j]) for j < n; out may equal in. */
ovl_err ovl_aes_ecb(ovl_aes *a, ovl_block *out, const ovl_block *in, size_t n) OVL_MUST_USE;
void ovl_aes_free(ovl_aes *a);

/* The implementations ovl_aes_ecb chooses from, fastest first: it runs the
 * first this CPU has (checked once per process). All give the same bytes;
 * tests and benches name one to compare them. */
typedef enum {
    OVL_AES_VAES, /* 4 blocks per AVX-512 register (vaes, avx512f) */
    OVL_AES_NI,   /* 1 block per SSE register (aes) */
    OVL_AES_EVP,  /* OpenSSL, any CPU */
    OVL_AES_IMPLS /* count; not an implementation */
} ovl_aes_impl;

const char *ovl_aes_impl_name(ovl_aes_impl impl);
bool ovl_aes_impl_runs(ovl_aes_impl impl);
/* ovl_aes_ecb through impl; OVL_ERR_USAGE if this CPU cannot run it. */
ovl_err ovl_aes_ecb_impl(ovl_aes *a, ovl_aes_impl impl, ovl_block *out, const ovl_block *in,
                         size_t n) OVL_MUST_USE;

/* The PRG: AES-128-CTR keyed by a 16-byte seed, counter from 0. Successive
 * calls continue the stream. */
typedef struct {
    struct evp_cipher_ctx_st *ctx;
} ovl_prg;

ovl_err ovl_prg_init(ovl_prg *g, const uint8_t seed[static 16]) OVL_MUST_USE;
ovl_err ovl_prg_blocks(ovl_prg *g, ovl_block *out, size_t n) OVL_MUST_USE;
ovl_err ovl_prg_bytes(ovl_prg *g, uint8_t *out, size_t n) OVL_MUST_USE;
void ovl_prg_free(ovl_prg *g);
/* The first n bytes of the PRG under seed, in one call: the same bytes as
 * ovl_prg_init + ovl_prg_bytes, without a cipher context (AES-NI when the
 * CPU has it: circuit PSI derives a few words from millions of seeds). */
ovl_err ovl_prg_once(const uint8_t seed[static 16], uint8_t *out, size_t n) OVL_MUST_USE;

/* Domains: one row per module that hashes, so modules never share a tweak. */
typedef enum {
    OVL_TWEAK_OT = 1,    /* OT extension outputs (src/mpc/ot_ext.c) */
    OVL_TWEAK_GC = 2,    /* garbled gates */
    OVL_TWEAK_SHARE = 3, /* arithmetic-share correlations (src/mpc/shares.c) */
    OVL_TWEAK_DOMAINS    /* count; not a domain */
} ovl_tweak_domain;

/* The OT sender / garbler of a stream: the role of that party (0 listener,
 * 1 connector), so the two directions of a session never share a tweak. */
#define OVL_TWEAK_DIRECTIONS 2u
#define OVL_TWEAK_INSTANCE_MAX ((UINT64_C(1) << 48) - 1)

typedef struct {
    uint8_t key[16]; /* the session's π key, agreed by both parties */
    uint64_t next_instance[OVL_TWEAK_DOMAINS][OVL_TWEAK_DIRECTIONS];
} ovl_tweak_space;

typedef struct {
    uint64_t id;   /* high 64 bits of every tweak of the stream */
    uint64_t next; /* next unused counter */
} ovl_tweak_stream;

/* key: a π key both parties derived for this session, or NULL for
 * ovl_aes_fixed_key. */
void ovl_tweak_space_init(ovl_tweak_space *sp, const uint8_t *key);
/* A stream no other open call of this space returns. direction is 0 or 1. */
ovl_err ovl_tweak_open(ovl_tweak_space *sp, ovl_tweak_stream *out, ovl_tweak_domain domain,
                       unsigned direction) OVL_MUST_USE;
/* Reserves n consecutive counters; *first is the first. OVL_ERR_LIMIT if the
 * stream would wrap. */
ovl_err ovl_tweak_take(ovl_tweak_stream *s, uint64_t n, uint64_t *first) OVL_MUST_USE;
static inline ovl_block ovl_tweak_block(const ovl_tweak_stream *s, uint64_t counter)
{
    return ovl_block_make(s->id, counter);
}

/* The TCCR hash under the space's key. */
typedef struct {
    ovl_aes pi;
} ovl_hash;

ovl_err ovl_hash_init(ovl_hash *h, const ovl_tweak_space *sp) OVL_MUST_USE;
void ovl_hash_free(ovl_hash *h);
/* out[j] = H(x[j], tweak[j]) = π(π(x[j]) ⊕ tweak[j]) ⊕ π(x[j]); out may equal x.
 * The caller took every tweak from a stream (ovl_tweak_take). */
ovl_err ovl_hash_tccr(ovl_hash *h, ovl_block *out, const ovl_block *x, const ovl_block *tweak,
                      size_t n) OVL_MUST_USE;
/* out[j] = H(x[j], (s->id, c + j)) with c = the next n counters of s. */
ovl_err ovl_hash_tccr_stream(ovl_hash *h, ovl_block *out, const ovl_block *x, size_t n,
                             ovl_tweak_stream *s) OVL_MUST_USE;

#endif
