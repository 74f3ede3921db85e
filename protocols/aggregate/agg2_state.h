/* overlap: the aggregate v2 engine's internal state (agg2.h), shared by its
 * files: agg2.c (the engine, the circuit-PSI phase and the frame routing),
 * agg2_hello.c (AggParams2 and the checks of SPEC §4.2), agg2_labels.c
 * (LABELS and the released cells), and the core after circuit PSI:
 * agg2_core.c (the OT session and the batch driver), agg2_products.c,
 * agg2_shuffle.c and agg2_release.c (COMPARE, RELEASE, DONE). */
#ifndef OVL_PROTOCOLS_AGGREGATE_AGG2_STATE_H
#define OVL_PROTOCOLS_AGGREGATE_AGG2_STATE_H

#include "aggregate/agg2.h"
#include "aggregate/agg2_core.h"
#include "aggregate/release.h"
#include "common/engine.h"
#include "cpsi/cpsi.h"

#define AGG2_PENDING_MAX (2u * (OVL_FRAME_HDR + OVL_FRAME_MAX_PAYLOAD))
#define AGG2_QUEUE_MAX ((size_t)64 << 20)

typedef enum { AGG2_SETUP, AGG2_CPSI, AGG2_CORE, AGG2_END } agg2_phase;

/* The peer's AggParams2, parsed (pointers into its HELLO, valid in check_peer). */
typedef struct {
    uint8_t agg_role;
    const uint8_t *domain;
    uint8_t domain_len;
    uint64_t min_rows;
    uint32_t max_cells, groups;
    uint8_t count_bits, value_bits;
    const uint8_t *plan, *agreement;
    uint32_t plan_len, agreement_len;
} agg2_params;

struct ovl_agg2 {
    ovl_agg2_config cfg;
    ovl_agg2_plan plan;
    agg2_phase phase;
    ovl_err failure;
    bool failed;
    ovl_rng rng;
    ovl_buf params;   /* our AggParams2 */
    ovl_buf plan_enc; /* our plan's bytes */
    ovl_cpsi *cpsi;
    uint64_t *payload; /* C: nids × L words for circuit PSI */
    uint16_t *counts;  /* C: nids × G_C row counts (the bit payload) */
    uint32_t L;        /* circuit PSI payload words (>= 1) */
    bool hello_out;
    uint64_t bytes_sent;
    uint8_t th[32]; /* SHA-256 of the transcript: the labels' binding */

    /* after HELLO */
    bool receiver;
    uint32_t groups_r, groups_c, bits_r, bits_c;
    uint32_t peer_groups;
    uint64_t threshold, peer_set;
    ovl_agg2_layout l;
    /* conditions across parties (CONDITIONS.md): the pairs layout, and the
     * runner's rows per bin */
    bool has_pairs;
    ovl_pp_layout pp;
    uint8_t *rrow;
    uint64_t *rwp;

    /* LABELS: the helper's keys (secret), the receiver's ciphertexts */
    uint8_t (*keys)[OVL_AGG2_KEY_LEN];
    uint32_t *hidx; /* the helper: the published index of each of its groups (secret) */
    uint8_t (*cts)[OVL_AGG2_LABEL_CT];
    uint32_t labels_got;

    ovl_buf q;       /* our frames waiting to be pulled (LABELS) */
    ovl_buf pending; /* the peer's frames of the core that came before circuit PSI ended */

    agg2_core *core;
    /* the runner's per-bin plaintext, for the products */
    uint32_t *nr;
    size_t nr_bins;
    uint64_t *rw;
    /* the receiver's output */
    ovl_agg2_cell *cells;
    int64_t *words;
    uint8_t (*hlabels)[OVL_AGG2_LABEL_MAX]; /* the helper's opened labels, one per cell */
    size_t ncells, cells_cap;
    uint64_t inconsistent;
};

/* agg2_hello.c */
ovl_err agg2_params_write(ovl_agg2 *a) OVL_MUST_USE;
ovl_err agg2_params_parse(agg2_params *p, const uint8_t *data, size_t len) OVL_MUST_USE;
ovl_err agg2_check_peer(void *ctx, const ovl_hello *peer) OVL_MUST_USE;
/* agg2_labels.c */
ovl_err agg2_labels_queue(ovl_agg2 *a) OVL_MUST_USE;
ovl_err agg2_labels_on_frame(ovl_agg2 *a, const uint8_t *payload, size_t len) OVL_MUST_USE;
ovl_err agg2_cells_build(ovl_agg2 *a) OVL_MUST_USE;
void agg2_labels_free(ovl_agg2 *a);
/* agg2.c */
/* The pairs layout of this plan for G_R x G_C groups (CONDITIONS.md §4). */
ovl_err agg2_pairs_layout(ovl_pp_layout *out, const ovl_agg2_plan *plan, uint32_t groups_r,
                          uint32_t groups_c) OVL_MUST_USE;
ovl_err agg2_queue_frame(ovl_buf *q, uint8_t type, const uint8_t *body, size_t len) OVL_MUST_USE;

#endif
