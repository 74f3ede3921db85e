/* overlap: an oblivious key-value store (src/mpc/SPEC.md §9).
 *
 * A 3-hash garbled cuckoo table: the encoder holds n distinct 128-bit keys
 * (pseudorandom ones: OPRF outputs or their hashes) and a vector of w 64-bit
 * words per key, and produces a table of m = 3·s rows of w words such that
 * decoding key k (the XOR of the rows at its three positions, one in each
 * third of the table) gives k's vector back. Rows no key determines are
 * uniformly random, so decoding any other key gives words that look random
 * to whoever does not know the encoded keys.
 *
 * Expansion: s = ceil(13·n / 30) + 8, so m ≈ 1.3·n + 24 rows (the peeling
 * threshold of random 3-hypergraphs is 1.222·n). Positions come from AES-128
 * keyed by a 16-byte seed the encoder draws; when the key set's hypergraph
 * has a 2-core (peeling stops) the encoder draws a new seed, at most
 * OVL_OKVS_SEEDS times. Each seed fails with probability at most 1/8 at
 * every n (measured by test_okvs at small n, where it is largest: about
 * 0.055 near n = 32..64, falling as n grows), so encoding fails with
 * probability at most (1/8)^14 = 2^-42. The seed
 * travels with the table: it depends only on the hypergraph of the keys,
 * which a decoder that does not know the keys cannot evaluate.
 *
 * Wire form (integers big-endian):
 *   seed[16] | rows u32 | words u16 | rows·words × u64
 * The reader checks rows and words against what the caller expects from
 * public parameters, so a truncated, oversized or reshaped table is refused
 * before any allocation from the peer's claim. */
#ifndef OVERLAP_MPC_OKVS_H
#define OVERLAP_MPC_OKVS_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"
#include "crypto/rng.h"
#include "mpc/block.h"

#define OVL_OKVS_MAX_KEYS (1u << 24)
#define OVL_OKVS_MAX_WORDS 512u /* circuit PSI's widest entry: 1 + L + bit words */
#define OVL_OKVS_SEEDS 14u
#define OVL_OKVS_HDR 22u /* seed, rows, words */

typedef struct {
    uint8_t seed[16];
    uint32_t rows;   /* m = 3·s */
    uint32_t words;  /* w */
    uint64_t *table; /* rows·words, row r's words at r·words */
} ovl_okvs;

/* Rows of the table for n keys (n <= OVL_OKVS_MAX_KEYS): 3·(ceil(13n/30) + 8). */
uint32_t ovl_okvs_rows(size_t n);
/* Wire length of a table for n keys of w words. */
size_t ovl_okvs_wire_len(size_t n, size_t w);

/* Encodes keys[i] -> vals[i·w .. i·w+w) for i < n (keys distinct, 0 <= n <=
 * OVL_OKVS_MAX_KEYS, 1 <= w <= OVL_OKVS_MAX_WORDS). rng supplies the seeds
 * and the filler rows. OVL_ERR_CRYPTO if no seed peels (keys not distinct,
 * or the 2^-40 event). On failure *out is left empty. */
ovl_err ovl_okvs_encode(ovl_okvs *out, const ovl_block *keys, const uint64_t *vals, size_t n,
                        size_t w, ovl_rng *rng) OVL_MUST_USE;
/* Decodes n keys: out[i·w ..] = the XOR of key i's three rows. */
ovl_err ovl_okvs_decode(const ovl_okvs *o, uint64_t *out, const ovl_block *keys,
                        size_t n) OVL_MUST_USE;
/* The three row indices of each key under o's seed (tests and the encoder). */
ovl_err ovl_okvs_positions(const ovl_okvs *o, uint32_t *pos, const ovl_block *keys,
                           size_t n) OVL_MUST_USE;

ovl_err ovl_okvs_write(const ovl_okvs *o, ovl_buf *out) OVL_MUST_USE;
/* Reads a table that must be for n keys of w words (the whole of in). */
ovl_err ovl_okvs_read(ovl_okvs *o, ovl_buf *in, size_t n, size_t w) OVL_MUST_USE;
/* The encoding in two steps, so the second can run in parallel over ranges
 * of words: plan (seeds, peeling, the table filled with random rows: every
 * draw from rng) and assign (words w0 .. w1 − 1 of every key's row; ranges
 * are independent). ovl_okvs_encode is plan, assign(0, w), free: the same
 * table for the same rng. */
typedef struct {
    uint32_t *pos, *order, *free_row;
    size_t n;
} ovl_okvs_plan;
ovl_err ovl_okvs_plan_make(ovl_okvs *out, ovl_okvs_plan *plan, const ovl_block *keys, size_t n,
                           size_t w, ovl_rng *rng) OVL_MUST_USE;
void ovl_okvs_plan_assign(ovl_okvs *o, const ovl_okvs_plan *plan, const uint64_t *vals, size_t w0,
                          size_t w1);
void ovl_okvs_plan_free(ovl_okvs_plan *plan);

/* Bytes [off, off + len) of o's wire form (off + len <= the wire length),
 * written to out: a sender frames the table a slice at a time from the table
 * itself, without a second copy of it. */
void ovl_okvs_wire_slice(const ovl_okvs *o, size_t off, size_t len, uint8_t *out);

/* A received table read in place: the header checked as ovl_okvs_read
 * checks it, the words left big-endian in the caller's buffer (which must
 * outlive the view). Decoding then gives what ovl_okvs_decode of the read
 * table gives. */
typedef struct {
    uint8_t seed[16];
    uint32_t rows, words;
    const uint8_t *body; /* rows·words big-endian u64 */
} ovl_okvs_view;
ovl_err ovl_okvs_view_init(ovl_okvs_view *v, const uint8_t *wire, size_t len, size_t n,
                           size_t w) OVL_MUST_USE;
ovl_err ovl_okvs_view_decode(const ovl_okvs_view *v, uint64_t *out, const ovl_block *keys,
                             size_t n) OVL_MUST_USE;

void ovl_okvs_free(ovl_okvs *o);

#endif
