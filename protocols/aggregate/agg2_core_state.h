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

/* Where the current COT batch stands. */
typedef enum {
    ST_NONE,
    ST_WAIT_U,     /* sender */
    ST_WAIT_CHAL,  /* receiver */
    ST_WAIT_PROOF, /* sender */
    ST_WAIT_SHARE, /* receiver: the product or SHARE_COT message */
    ST_WAIT_FIX    /* receiver (permuter): CHOSEN_FIX */
} core_stage;

struct agg2_core {
    agg2_core_in in;
    size_t K, P, W;
    core_phase phase;
    ovl_err failure;
    bool failed;
    ovl_buf q; /* frames to pull, headers included */

    ovl_tweak_space sp;
    ovl_ot *ot;

    /* the current batch */
    core_stage stage;
    bool i_recv;
    int kind;      /* products: ovl_agg2_prod_kind */
    size_t at;     /* products: first bin; shuffle: first switch */
    size_t cnt, n; /* bins or switches in the batch; COTs */
    ovl_cot *cot;
    uint8_t *choices;
    ovl_buf msg;   /* scratch for OT-layer messages */
    ovl_buf held;  /* the permuter's SHARE_COT until CHOSEN_FIX arrives */

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
ovl_err agg2_core_advance(agg2_core *c) OVL_MUST_USE;
bool agg2_core_helper_of_pass(const agg2_core *c);
/* agg2_pairs.c */
ovl_err agg2_core_pairs_start(agg2_core *c) OVL_MUST_USE; /* after the base OTs */
ovl_err agg2_core_pairs_poll(agg2_core *c) OVL_MUST_USE;  /* after any GC step */
void agg2_core_pairs_free(agg2_core *c);
void agg2_core_sub_key(uint8_t out[16], const uint8_t *transcript, const char *label);
/* agg2_products.c */
ovl_err agg2_core_products_choices(agg2_core *c) OVL_MUST_USE;
ovl_err agg2_core_products_send(agg2_core *c) OVL_MUST_USE; /* after verify: writes c->msg */
ovl_err agg2_core_products_recv(agg2_core *c, ovl_buf *in) OVL_MUST_USE;
ovl_err agg2_core_products_end(agg2_core *c) OVL_MUST_USE; /* records from the cells */
/* agg2_shuffle.c */
ovl_err agg2_core_pass_start(agg2_core *c) OVL_MUST_USE;
ovl_err agg2_core_on_masked(agg2_core *c, const uint8_t *payload, size_t len) OVL_MUST_USE;
ovl_err agg2_core_shuffle_choices(agg2_core *c) OVL_MUST_USE;
ovl_err agg2_core_shuffle_send(agg2_core *c) OVL_MUST_USE; /* queues SHARE_COT and CHOSEN_FIX */
ovl_err agg2_core_shuffle_recv(agg2_core *c, ovl_buf *share, ovl_buf *fix) OVL_MUST_USE;
ovl_err agg2_core_pass_end(agg2_core *c) OVL_MUST_USE;
void agg2_core_shuffle_free(agg2_core *c);
/* agg2_release.c */
ovl_err agg2_core_compare_start(agg2_core *c) OVL_MUST_USE;
ovl_err agg2_core_compare_poll(agg2_core *c) OVL_MUST_USE; /* after any GC step */
ovl_err agg2_core_on_release(agg2_core *c, const uint8_t *payload, size_t len) OVL_MUST_USE;
ovl_err agg2_core_on_done(agg2_core *c, size_t len) OVL_MUST_USE;
void agg2_core_release_free(agg2_core *c);

#endif
