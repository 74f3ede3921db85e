/* overlap: the aggregate v2 core's internal state (agg2_core.h), shared by
 * agg2_core.c (the OT session and the batch driver), agg2_products.c,
 * agg2_shuffle.c and agg2_release.c. */
#ifndef OVL_PROTOCOLS_AGGREGATE_AGG2_CORE_STATE_H
#define OVL_PROTOCOLS_AGGREGATE_AGG2_CORE_STATE_H

#include "aggregate/agg2.h"
#include "aggregate/agg2_core.h"
#include "aggregate/threshold.h"
#include "common/transcript.h"
#include "mpc/circuit.h"
#include "mpc/gc.h"
#include "mpc/hash.h"
#include "mpc/ot.h"
#include "mpc/permnet.h"
#include "mpc/shuffle.h"

#define CORE_QUEUE_MAX ((size_t)64 << 20)
#define CORE_MASKED_HDR 9u /* pass u8, first u32, count u32 */

typedef enum {
    CORE_BASE,     /* waiting for the peer's base-OT message */
    CORE_PAIRS,    /* the bin circuits of conditions across parties, chunk by chunk */
    CORE_PRODUCTS, /* the batches of §7 */
    CORE_MASKED,   /* a pass's permuter, waiting for the helper's masked shares */
    CORE_SHUFFLE,  /* a pass's switch batches */
    CORE_COMPARE,  /* the garbled comparisons */
    CORE_RELEASE,  /* the receiver, waiting for RELEASE */
    CORE_DONE_WAIT, /* the helper, waiting for DONE */
    CORE_END
} core_phase;

/* COT batches in flight at once (SPEC §4.4): batch j may start only once
 * every batch before j - CORE_WINDOW + 1 is done at the starting party. */
#define CORE_WINDOW 4u
/* One COT batch of the phase's sequence, in its window slot (j % CORE_WINDOW). */
typedef struct {
    ovl_cot *cot;
    int kind;      /* products: ovl_agg2_prod_kind (ovl_pp_kind with pairs) */
    size_t at;     /* products: first bin; shuffle: first switch */
    size_t cnt, n; /* bins or switches in the batch; COTs */
    bool live, done;
    /* our batch: the sender's SHARE_COT (and CHOSEN_FIX), held from feed
     * until pull ends the batch with them */
    ovl_buf share, fix;
} core_batch;

/* The phase's batch sequence from public parameters: up to three kinds, each
 * `total` items (bins, switches) in batches of `step`, `per` COTs each. */
typedef struct {
    size_t first[4]; /* first batch of each kind; first[3]: batches in all */
    size_t step[3], per[3], total[3];
    bool recv[3];    /* this party is the COT receiver of the kind */
} core_plan;

struct agg2_core {
    agg2_core_in in;
    size_t K, P, W;
    core_phase phase;
    ovl_err failure;
    bool failed;
    ovl_buf q; /* frames to pull, headers included */

    ovl_tweak_space sp;
    ovl_ot *ot;

    /* the phase's batches (SPEC §4.4): lo is the first not done; per
     * direction, the next batch at each step. Ours (we receive): mine_next
     * to start (EXT_U), mine_chal and mine_share to get, mine_done to end
     * with its held SHARE_COT. The peer's: peer_next (its EXT_U) and
     * peer_proof to get, peer_share to send. */
    core_plan plan;
    core_batch win[CORE_WINDOW];
    size_t lo;
    size_t mine_next, mine_chal, mine_share, mine_done;
    size_t peer_next, peer_proof, peer_share;
    bool fix_due;  /* the permuter: SHARE_COT of mine_share held, CHOSEN_FIX next */
    bool pulled;   /* pull gave a frame in this turn of the driver */
    uint8_t *choices; /* scratch for a starting batch's choice bits */
    ovl_buf msg;   /* scratch for OT-layer messages */

    /* pairs (CONDITIONS.md §4.3): this party's output shares z (bins × O),
     * the chunk being garbled and its engine */
    ovl_pp_layout pp;
    bool has_pairs;
    uint8_t *z;
    size_t pairs_at, pairs_cnt;
    ovl_circuit pcirc;
    bool pcirc_live;
    ovl_gc *pgc;
    uint8_t *pgc_in;

    uint64_t *cells; /* K × P product shares */
    uint64_t *cur;   /* K × W record shares entering the next step */
    uint64_t *next;

    /* shuffle */
    unsigned pass; /* 1 or 2 */
    ovl_permnet net;
    bool net_live;
    uint32_t *dest;
    uint64_t *masked;
    size_t masked_got;
    ovl_shuffle_helper *sh;
    ovl_shuffle_perm *perm;

    /* compare and release */
    ovl_circuit circ;
    bool circ_live;
    ovl_gc *gc;
    uint8_t *gc_in;
    uint8_t gc_pi[16];
    uint8_t *pass_bits;
    uint64_t r;
    uint64_t *opened;
    uint8_t *ok;
    size_t inconsistent;
};

/* agg2_core.c */
ovl_err agg2_core_queue(agg2_core *c, uint8_t type, const uint8_t *body, size_t len) OVL_MUST_USE;
ovl_err agg2_core_queue_ot(agg2_core *c) OVL_MUST_USE; /* c->msg as one AGG_OT frame */
/* Plans the batches of the phase just entered (PRODUCTS or SHUFFLE); the
 * phase ends, and the next begins, once every batch is done. */
ovl_err agg2_core_advance(agg2_core *c) OVL_MUST_USE;
bool agg2_core_helper_of_pass(const agg2_core *c);
/* agg2_pairs.c */
ovl_err agg2_core_pairs_start(agg2_core *c) OVL_MUST_USE; /* after the base OTs */
ovl_err agg2_core_pairs_poll(agg2_core *c) OVL_MUST_USE;  /* after any GC step */
void agg2_core_pairs_free(agg2_core *c);
void agg2_core_sub_key(uint8_t out[16], const uint8_t *transcript, const char *label);
/* agg2_products.c: a batch's choices (c->choices), its product message
 * (queued) and the receipt of one, each adding into c->cells */
void agg2_core_products_plan(agg2_core *c);
ovl_err agg2_core_products_choices(agg2_core *c, const core_batch *b) OVL_MUST_USE;
ovl_err agg2_core_products_send(agg2_core *c, const core_batch *b) OVL_MUST_USE;
ovl_err agg2_core_products_recv(agg2_core *c, const core_batch *b, ovl_buf *in) OVL_MUST_USE;
ovl_err agg2_core_products_end(agg2_core *c) OVL_MUST_USE; /* records from the cells */
/* agg2_shuffle.c */
ovl_err agg2_core_pass_start(agg2_core *c) OVL_MUST_USE;
ovl_err agg2_core_on_masked(agg2_core *c, const uint8_t *payload, size_t len) OVL_MUST_USE;
void agg2_core_shuffle_plan(agg2_core *c);
ovl_err agg2_core_shuffle_choices(agg2_core *c, const core_batch *b) OVL_MUST_USE;
/* queues SHARE_COT and CHOSEN_FIX, adjacent */
ovl_err agg2_core_shuffle_send(agg2_core *c, const core_batch *b) OVL_MUST_USE;
ovl_err agg2_core_shuffle_recv(agg2_core *c, const core_batch *b, ovl_buf *share,
                               ovl_buf *fix) OVL_MUST_USE;
ovl_err agg2_core_pass_end(agg2_core *c) OVL_MUST_USE;
void agg2_core_shuffle_free(agg2_core *c);
/* agg2_release.c */
ovl_err agg2_core_compare_start(agg2_core *c) OVL_MUST_USE;
ovl_err agg2_core_compare_poll(agg2_core *c) OVL_MUST_USE; /* after any GC step */
ovl_err agg2_core_on_release(agg2_core *c, const uint8_t *payload, size_t len) OVL_MUST_USE;
ovl_err agg2_core_on_done(agg2_core *c, size_t len) OVL_MUST_USE;
void agg2_core_release_free(agg2_core *c);

#endif
