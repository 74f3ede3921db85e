/* The aggregate engine's state, shared by the engine proper (aggregate.c),
 * the analysis statement in HELLO (params.c) and the two roles (runner.c,
 * contributor.c). Internal to protocols/aggregate: callers use aggregate.h. */
#ifndef OVL_PROTOCOLS_AGG_STATE_H
#define OVL_PROTOCOLS_AGG_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aggregate/aggregate.h"
#include "common/engine.h"

#define AGG_ELEM_BATCH 4096u   /* runner's ELEMENTS and contributor's TAGS per frame */
#define AGG_VALUES_BATCH 64u   /* contributor's VALUES per frame */
#define AGG_TAG_LABEL "overlap-v1 aggregate tag"

enum { J_BLIND = 1, J_ENCRYPT, J_PEER_ELEMS, J_PEER_VALUES, J_SUM, J_MASK, J_DECRYPT };

typedef struct agg_job {
    ovl_job base;
    const struct ovl_agg *a;
    int kind;
    size_t seq, start, count;
    uint8_t *in;     /* received entries (peer jobs) */
    ovl_buf frame;   /* the frame this job produces, header included */
    uint8_t *shares; /* J_MASK: the runner's shares, count * share_len */
    mpz_t acc;       /* J_SUM: partial product */
    bool acc_init;
} agg_job;

/* One party's analysis statement (SPEC.md §4.1). */
typedef struct {
    uint8_t role;
    char domain[OVL_AGG_DOMAIN_MAX + 1];
    uint64_t min_rows;
    uint16_t bits;
    uint8_t group_by, nvalues;
    ovl_value_col values[OVL_VALUE_COLS_MAX];
    const uint8_t *agreement; /* points into the peer's HELLO payload */
    uint32_t agreement_len;
} agg_params;

struct ovl_agg {
    ovl_engine eng; /* state, failure, HELLO, transcript */
    ovl_agg_config cfg;
    const ovl_group *g;
    uint8_t scalar[OVL_GROUP_MAX_SCALAR];
    uint8_t secret_key[32]; /* dummies; test-mode randomness */
    ovl_rng rng;
    char dst[96], dst_dummy[96];
    ovl_tagger tags;
    size_t ell;
    uint64_t threshold;
    agg_params peer;
    const ovl_value_col *values; /* the analysis' value columns */
    size_t nvalues;

    ovl_paillier_sk *sk_owned;
    const ovl_paillier_sk *sk;
    ovl_paillier_pk *peer_pk;
    const ovl_paillier_pk *pk;
    size_t ct_len, share_len;
    ovl_paillier_packing pack;
    unsigned bits;

    /* Layout: P partitions, sizes and offsets, N elements in total. */
    size_t P;
    uint32_t *psize;
    size_t *poff;
    uint64_t N, m; /* runner's padded total, contributor's set size */

    /* Both streams are whole-length windows: cap is the stream's job count. */
    ovl_order own;   /* runner: ELEMENTS; contributor: VALUES */
    ovl_order reply; /* runner: SUMS; contributor: SHARES */
    ovl_job_queue pending;
    size_t running;
    bool prefer_pending;
    uint64_t own_done;

    /* runner */
    uint32_t *order;    /* position -> caller's group */
    uint32_t *pos_of;   /* caller's group -> position */
    uint32_t *slot_src; /* N: membership index or AGG_DUMMY */
    bool layout_sent, key_recv, matched_built, mask_ready;
    uint8_t *rtags;     /* N * ell, as received */
    uint64_t rtags_recv;
    uint8_t *ctags, *cts; /* m * ell, m * ct_len */
    uint64_t values_recv, values_done;
    uint64_t *matched;  /* per position */
    uint32_t *match, *match_off; /* contributor indices per position */
    mpz_t *acc;
    bool *acc_set;
    size_t sum_left;
    mpz_t *my_share, *peer_share;
    uint64_t sums_sent, shares_recv;
    int64_t *results; /* per caller's group: 1 + nvalues */
    bool *released;
    size_t nreleased;

    /* contributor */
    uint32_t *perm;
    bool key_sent, layout_recv;
    uint8_t *ptags; /* N records of dlen bytes; the tag is the first ell */
    size_t dlen;
    uint64_t peer_recv, peer_done;
    size_t p_send, p_sent_in;
    bool p_sorted, p_checked;
    uint64_t sums_recv, shares_sent;

    bool finish_sent, finish_recv;
};

static inline bool agg_is_runner(const ovl_agg *a) { return !a->cfg.contributor; }

/* ---- the engine proper (aggregate.c) ---- */

/* Jobs: `run` executes on a worker (read-only engine state, own output). */
ovl_err agg_job_new(ovl_agg *a, agg_job **out, int kind, void (*run)(ovl_job *), size_t seq,
                    size_t start, size_t count) OVL_MUST_USE;
/* A job whose output is one frame of `count` entries of `entry` bytes. */
ovl_err agg_job_with_frame(ovl_agg *a, agg_job **out, int kind, void (*run)(ovl_job *),
                           uint8_t type, size_t seq, size_t start, size_t count,
                           size_t entry) OVL_MUST_USE;
void agg_job_free(ovl_job *job);
void agg_job_error(agg_job *j, ovl_err e, const char *what, size_t item);
/* Frame body space after header and u32 count. */
uint8_t *agg_frame_body(agg_job *j);
/* A peer frame's entries copied into a job waiting for a worker. */
ovl_err agg_queue_input(ovl_agg *a, int kind, void (*run)(ovl_job *), size_t start,
                        const ovl_buf *r, uint32_t count) OVL_MUST_USE;
/* Reads `count` entries of `entry` bytes, at most `room` more expected. */
ovl_err agg_read_entries(ovl_buf *r, const char *what, uint32_t cap, size_t entry, uint64_t room,
                         uint32_t *count) OVL_MUST_USE;
/* The next frame of an ordered stream, if it is ready; `counter` counts entries. */
ovl_err agg_pull_order(ovl_order *o, ovl_buf *out, bool *have, uint64_t *counter) OVL_MUST_USE;

ovl_err agg_put_ct(uint8_t *out, size_t len, const mpz_t v) OVL_MUST_USE;
ovl_err agg_blind_id(const ovl_agg *a, uint8_t *out, const uint8_t id[32]) OVL_MUST_USE;
/* E(m), from the system CSPRNG or, in test mode, from stream (label, index). */
ovl_err agg_encrypt_item(const ovl_agg *a, mpz_t ct, const mpz_t m, uint8_t label,
                         uint64_t index) OVL_MUST_USE;
/* Uniform in [0, n). */
ovl_err agg_random_residue(const ovl_agg *a, mpz_t out, uint8_t label,
                           uint64_t index) OVL_MUST_USE;
ovl_err agg_make_packing(ovl_agg *a) OVL_MUST_USE;
ovl_err agg_alloc_layout(ovl_agg *a, size_t P) OVL_MUST_USE;

/* ---- the analysis statement (params.c) ---- */

void agg_params_clear(agg_params *p);
/* ovl_hello_rules.statement: parses and checks the peer's statement. */
ovl_err agg_params_statement(void *agg, const ovl_hello *mine, const ovl_hello *peer) OVL_MUST_USE;

/* ---- the runner (runner.c) ---- */

ovl_err agg_runner_disjoint(const ovl_agg *a) OVL_MUST_USE;
ovl_err agg_runner_layout(ovl_agg *a) OVL_MUST_USE;
ovl_err agg_runner_start(ovl_agg *a) OVL_MUST_USE; /* after HELLO */
ovl_err agg_runner_own_job(ovl_agg *a, size_t seq, agg_job **out) OVL_MUST_USE;
ovl_err agg_runner_feed(ovl_agg *a, uint8_t type, ovl_buf *r) OVL_MUST_USE;
ovl_err agg_runner_advance(ovl_agg *a) OVL_MUST_USE;
ovl_err agg_runner_pull(ovl_agg *a, ovl_buf *out, bool *have) OVL_MUST_USE;

/* ---- the contributor (contributor.c) ---- */

ovl_err agg_contributor_bound(const ovl_agg *a) OVL_MUST_USE;
ovl_err agg_contributor_setup(ovl_agg *a) OVL_MUST_USE;
ovl_err agg_contributor_start(ovl_agg *a) OVL_MUST_USE; /* after HELLO */
ovl_err agg_contributor_own_job(ovl_agg *a, size_t seq, agg_job **out) OVL_MUST_USE;
ovl_err agg_contributor_feed(ovl_agg *a, uint8_t type, ovl_buf *r) OVL_MUST_USE;
ovl_err agg_contributor_pull(ovl_agg *a, ovl_buf *out, bool *have) OVL_MUST_USE;

#endif
