/* overlap: circuit PSI, version 2 (protocols/cpsi/SPEC.md).
 *
 * Two parties: the runner R cuckoo-hashes its identifiers into B bins and
 * obtains one OPRF value per bin from the contributor C (the OT-based batched
 * OPRF of Kolesnikov et al., one instance per bin); C programs an
 * oblivious key-value store that hands R, for each bin, a check value and
 * C's payload masked; a garbled σ-bit equality per bin turns the check into
 * XOR shares of the bin's match bit, and correlated OT turns match bit ×
 * payload into additive shares over Z_2^64. Nothing is opened except, in
 * cardinality mode, the sum of the match bits to the receiving party or
 * parties. Transport-free: frames in and out through ovl_proto_ops. */
#ifndef OVL_PROTOCOLS_CPSI_H
#define OVL_PROTOCOLS_CPSI_H

#include <stdbool.h>
#include <stdint.h>

#include "core/proto.h"
#include "common/hello.h"

/* Frame types (SPEC.md §5); 0x40..0x48 are the garbled-circuit frames of
 * src/mpc/gc.h, carried unchanged. */
enum {
    OVL_CPSI_SEED = 0x20,  /* R -> C: cuckoo seed, payload width */
    OVL_CPSI_OPRF_BASE = 0x21, /* either way: the OPRF's four base-OT messages */
    OVL_CPSI_OPRF_U = 0x22,    /* R -> C: the OPRF's columns for a run of bins */
    OVL_CPSI_OKVS = 0x23,  /* C -> R: a slice of the key-value store */
    OVL_CPSI_OT = 0x24,    /* either way: one OT-layer message (src/mpc/ot.h) */
    OVL_CPSI_COUNT = 0x25  /* cardinality: a share of the count, to a receiver */
};

#define OVL_CPSI_PROTOCOL "cpsi/2"
#define OVL_CPSI_MAX_SET (1u << 22)     /* identifiers per party */
/* Payload words per identifier: the share layer's words per OT
 * (OVL_SHARE_MAX_WORDS of src/mpc/shares.h, which also bound aggregates
 * v2's type A products); with the bit words, a store entry <= 512 words. */
#define OVL_CPSI_MAX_WORDS 256u
#define OVL_CPSI_MAX_BIT_WIDTH 16u      /* w_C: bits per count of the bit payload */
#define OVL_CPSI_MAX_BIT_GROUPS 65536u  /* G_C of the bit payload (also bounded by the words) */
/* Memory the payload takes, the bins' shares and the store (SPEC.md §2). */
#define OVL_CPSI_MAX_PAYLOAD_BYTES ((uint64_t)8 << 30)
#define OVL_CPSI_OPRF_ROWS 16256u /* bins per OPRF_U frame (4 WIDE_U under 1 MiB) */
#define OVL_CPSI_OKVS_SLICE (1u << 19)  /* bytes of the store per OKVS frame */

typedef struct {
    ovl_role role;       /* transport role: listener or connector */
    bool runner;         /* this party is R (else C) */
    ovl_mode mode;       /* OVL_MODE_CARDINALITY or OVL_MODE_AGGREGATE (payload) */
    ovl_reveal reveal;   /* cardinality: who receives the count */
    /* Identifiers: ids[i] of id_len[i] bytes, distinct; borrowed. */
    const uint8_t *const *ids;
    const size_t *id_len;
    size_t nids;
    /* C in aggregate mode: nids × words payload words (identifier i's at
     * i·words); R: NULL. words must agree (checked in SEED): 1..OVL_CPSI_MAX_WORDS,
     * or 0 with a bit payload (then no share phase runs and value is empty). */
    const uint64_t *payload;
    uint32_t words;
    uint64_t max_peer_set; /* 0: OVL_CPSI_MAX_SET */
    const uint8_t *params; /* analysis statement both must make (may be NULL) */
    uint32_t params_len;
    const uint8_t *test_seed; /* 32 bytes: deterministic secrets for tests/vectors ONLY */
    /* Tests ONLY (0 otherwise): the queued bytes above which the engine stops
     * taking input, in place of CPSI_QUEUE_MAX / 2, so a test's small run can
     * press on its flow control as a 2^20 run presses on the real one. At
     * least 4 MiB (a frame and the pumps' mark below it). */
    size_t test_queue_mark;
    bool expect_peer_set;     /* the peer's HELLO must announce peer_set_expected */
    uint64_t peer_set_expected; /* (negotiated beforehand: protocols/setup/SPEC.md §3) */
    /* The bit payload (SPEC.md §6.5), aggregate mode only: per identifier y
     * the w_C bits of G_C counts nC(y,c), shared as b_i ∧ bit_j and
     * b_i ∧ [nC > 0] out of the garbled equality. Both must agree (SEED). */
    uint32_t bit_groups;          /* G_C; 0: no bit payload */
    uint32_t bit_width;           /* w_C, 1..OVL_CPSI_MAX_BIT_WIDTH when bit_groups > 0 */
    const uint16_t *bit_counts;   /* C only: nids × bit_groups counts < 2^bit_width
                                     (identifier i's at i·bit_groups); R: NULL */
    /* 0: every bit of the payload is ANDed with the match bit, and the group
     * flags φ are made. s > 0 (SPEC.md §6.6): only the bits k with k mod s = 0
     * are, for an outer circuit in which those bits gate every use of the
     * others; the others' XOR shares are the masked word and its mask, there
     * are no flags, and the payload words too are shared as the store gives
     * them (no share phase). Both must agree (SEED). */
    uint32_t bit_gate_every;
    /* Called once in on_hello, after the common HELLO checks and before any
     * data-derived frame, with the peer's HELLO (params included): an outer
     * protocol's checks. A non-OK return fails the engine (ABORT with that
     * error). NULL: none. */
    ovl_err (*check_peer)(void *ctx, const ovl_hello *peer);
    void *check_ctx;
} ovl_cpsi_config;

typedef struct ovl_cpsi ovl_cpsi;

/* The runner only, from inside check_peer (it learns the contributor's shape
 * from its HELLO): the payload words and the bit payload's groups, width and
 * gate stride (0: every bit gated), checked as ovl_cpsi_new checks them. */
ovl_err ovl_cpsi_set_shape(ovl_cpsi *p, uint32_t words, uint32_t bit_groups,
                           uint32_t bit_width, uint32_t bit_gate_every) OVL_MUST_USE;

ovl_err ovl_cpsi_new(ovl_cpsi **out, const ovl_cpsi_config *cfg) OVL_MUST_USE;
void ovl_cpsi_free(ovl_cpsi *p);
extern const ovl_proto_ops ovl_cpsi_ops;

/* The words of one store entry for `words` payload words and a bit payload
 * of bit_groups counts of bit_width bits: 1 + words + ceil(G_C·w_C/64), at
 * most OVL_OKVS_MAX_WORDS (src/mpc/okvs.h) for ovl_cpsi_new to accept it. */
uint64_t ovl_cpsi_entry_words(uint32_t words, uint32_t bit_groups, uint32_t bit_width);

/* The bins B and check bits σ = 40 + ⌈log2 B⌉ for a runner set of n. */
uint32_t ovl_cpsi_bins(uint64_t n);
/* The OPRF's bytes on the wire, frames included (SPEC.md §11): OPRF_BASE
 * each way and the runner's OPRF_U frames over the B bins of n. */
uint64_t ovl_cpsi_oprf_bytes(uint64_t n);
uint32_t ovl_cpsi_sigma(uint32_t bins);

/* ---- Output, after done (SPEC.md §7). Shares are secrets of this party. */
typedef struct {
    uint32_t bins;
    uint32_t words;        /* payload words per bin */
    const uint8_t *match;  /* bins XOR shares of the match bits (0 or 1) */
    const uint64_t *value; /* bins × words additive shares of match × payload
                              (with a gate stride: of the payload, noise outside a match) */
    /* R only: the identifier in each bin (index into cfg->ids) or UINT32_MAX. */
    const uint32_t *bin_item;
    /* The bit payload (NULL when bit_groups = 0), one byte 0/1 per XOR share:
     * beta[(i·G_C + c)·w_C + j] of b_i ∧ bit_j(nC(y,c)),
     * phi[i·G_C + c] of b_i ∧ [nC(y,c) > 0] (protocols/aggregate/products.h);
     * with bit_gate_every > 0, only the gated bits are ANDed with b_i and phi
     * is NULL. */
    uint32_t bit_groups, bit_width;
    const uint8_t *beta;
    const uint8_t *phi;
} ovl_cpsi_shares;
ovl_err ovl_cpsi_result(const ovl_cpsi *p, ovl_cpsi_shares *out) OVL_MUST_USE;
/* Cardinality mode, for a receiving party: the intersection size. */
ovl_err ovl_cpsi_count(const ovl_cpsi *p, uint64_t *count) OVL_MUST_USE;
bool ovl_cpsi_receives_count(const ovl_cpsi *p);
uint64_t ovl_cpsi_peer_set_size(const ovl_cpsi *p);
const uint8_t *ovl_cpsi_transcript(const ovl_cpsi *p);
/* AND gates of the garbled equality so far, over all bins (SPEC.md §11). */
uint64_t ovl_cpsi_and_gates(const ovl_cpsi *p);
/* Bytes this party sent so far (frames, headers included). */
uint64_t ovl_cpsi_bytes_sent(const ovl_cpsi *p);

#endif
