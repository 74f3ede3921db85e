/* overlap: circuit PSI engine state, shared by cpsi.c (the engine, the
 * garbled equality and the share phase), runner.c and contributor.c. */
#ifndef OVL_PROTOCOLS_CPSI_STATE_H
#define OVL_PROTOCOLS_CPSI_STATE_H

#include "common/engine.h"
#include "cpsi/cpsi.h"
#include "cpsi/cuckoo.h"
#include "cpsi/oprf.h"
#include "mpc/circuit.h"
#include "mpc/gc.h"
#include "mpc/okvs.h"
#include "mpc/ot.h"
#include "mpc/shares.h"

#define CPSI_QUEUE_MAX ((size_t)64 << 20)
/* Queued bytes above which the engine takes no input (CPSI_QUEUE_MAX / 2 but
 * in tests); the pumps that make bulk from pull stop at an eighth of it, so a
 * frame (at most 1 MiB) over their mark still leaves the engine reading. */
#define CPSI_MARK(p) ((p)->cfg.test_queue_mark ? (p)->cfg.test_queue_mark : CPSI_QUEUE_MAX / 2)
#define CPSI_PUMP_LOW(p) (CPSI_MARK(p) / 8)
#define CPSI_JOBS_MAX 8u /* jobs out at once */
#define CPSI_STORE_JOBS_OUT 2u /* of them, C's own store entries */
#define CPSI_STORE_CHUNK 4096u /* contributor identifiers per store job */
#define CPSI_DECODE_JOBS 2u    /* the runner's decoding, split over ranges of bins */

struct ovl_cpsi {
    ovl_cpsi_config cfg;
    ovl_engine eng;
    ovl_rng rng;
    uint64_t n_r, n_c;      /* the runner's and the contributor's set sizes */
    uint32_t bins, sigma;    /* B, check bits */
    uint32_t words;          /* L: payload words per bin (0 in cardinality mode) */
    uint32_t out_words;      /* value words per bin in the output: L, or 1 (cardinality) */
    uint32_t G, w, nbw;      /* the bit payload: G_C groups of w_C bits in nbw store words */
    uint32_t gate, ng;       /* gate every: 0 or s (SPEC.md §6.6); ng gated bits of G·w */
    uint32_t sw;             /* store words per entry: 1 + L + nbw */
    ovl_block *digest;       /* our identifiers' digests */
    ovl_buf q;               /* whole frames waiting to be pulled */
    uint64_t bytes_sent;
    ovl_job_queue pending;   /* whole-table jobs (C's encoding, R's decoding) */
    ovl_job_queue own_store; /* C: its store entries */
    uint32_t store_out;      /* C: store-entry jobs handed out and not yet finished */
    uint32_t jobs_out;       /* jobs handed out and not yet finished */

    /* both: the OPRF's wide correlations (SPEC.md §4) */
    ovl_tweak_space oprf_sp;
    ovl_ot *oprf_ot[OVL_OPRF_BLOCKS];
    uint8_t code_key[16];    /* the code's AES key (from the transcript) */
    bool oprf_base_got;
    uint32_t u_rows;         /* rows of OPRF_U made (R) or taken (C) */

    /* runner */
    ovl_cuckoo ck;
    ovl_block *bin_d;        /* bins: the digest of the bin's identifier, or a random pad */
    uint8_t (*fval)[OVL_OPRF_OUT]; /* bins: F(b, x_b) of the bin's identifier */
    ovl_buf okvs_in;
    size_t okvs_expect;      /* the store's wire length, both roles (C sends, R expects) */
    ovl_okvs_view okvs_view; /* the whole store, read in place (header checked) */
    uint32_t decode_left;    /* decoding jobs not yet finished */

    /* contributor */
    ovl_block s[OVL_OPRF_BLOCKS]; /* the four Δs: the OPRF's key */
    ovl_block *qrows;        /* bins × 4: q_b of every bin */
    uint32_t *cand;          /* 3m: candidate bins while the store is programmed */
    ovl_block *st_keys;      /* 3m entries of the store being programmed */
    uint64_t *st_vals;
    uint64_t *mu;            /* bins × nbw: the masks of the bit words (garbler inputs too) */
    uint64_t store_done;     /* identifiers whose entries are in */
    bool store_ready;
    bool table_job;          /* the store's encoding (C) or decoding (R) is out as a job */
    bool seed_got, okvs_queued;
    /* C: the store's wire form, queued a slice at a time from the table while
     * the send queue is under its pump mark (the store outgrows the queue) */
    size_t okvs_at;
    ovl_okvs_plan okvs_plan; /* C: the store's peeling, while its rows are assigned */
    uint32_t assign_left;    /* C: row-assigning jobs not yet finished */
    bool okvs_pumping;
    ovl_okvs okvs;

    /* both: the garbled equality and its outputs */
    ovl_circuit circ;
    bool circ_live;
    uint8_t *gc_in;
    size_t gc_in_len;
    uint8_t gc_pi[16];
    ovl_gc *gc;
    uint8_t *match;          /* bins: our XOR shares of the match bits */
    uint64_t *vec;           /* bins × L: our additive shares of the payload (R: p', C: m) */
    uint64_t *value;         /* bins × L: our shares of match × payload; cardinality:
                                bins, our arithmetic shares of the match bits (toward R) */
    uint8_t *beta;           /* bins × G_C × w_C: our XOR shares of b_i ∧ bit_j(nC) */
    uint8_t *phi;            /* bins × G_C: our XOR shares of b_i ∧ [nC > 0] */

    /* both: the share phase */
    ovl_tweak_space sp;
    ovl_ot *ot;
    bool base_got;
    uint32_t nbatch, batch;  /* batches per direction, bins per batch */
    ovl_cot **send_b, **recv_b;
    uint32_t recv_started, chal_got, share_got; /* as COT receiver */
    uint32_t send_started, proof_got, share_sent; /* as COT sender */
    bool recv_open;          /* the peer's base OTs are in: our batches may start */
    uint32_t nrecv, nsend;   /* batches we receive / send (cardinality: a direction
                                runs only toward a party that receives the count) */
    bool products_done;
    bool ot_skipped;         /* L = 0: no share phase */
    bool i_get, peer_gets;
    uint64_t *conv;          /* cardinality, both receive: a batch of the direction toward C */
    uint64_t recv_sum;       /* Σ of our COT-receiver terms (the count's share we keep) */
    uint64_t send_sum;       /* Σ of our COT-sender terms (the COUNT we send) */
    uint64_t peer_share, count;
    bool peer_share_got, count_got;
};

/* cpsi.c */
/* Room for n more queued bytes: the sent front is dropped first when the
 * buffer would pass its cap (a queue that never empties keeps it). */
void cpsi_queue_room(ovl_cpsi *p, size_t n);
/* Bits per bin the garbler (σ + 1 + 2·ng [+ G]) and the evaluator (σ + ng) put in. */
size_t cpsi_garbler_bits(const ovl_cpsi *p);
size_t cpsi_evaluator_bits(const ovl_cpsi *p);
/* Bit k of the payload is ANDed with the match bit (SPEC.md §6.6). */
static inline bool cpsi_gated(const ovl_cpsi *p, size_t k) { return p->gate == 0 || k % p->gate == 0; }
ovl_err cpsi_queue_frame(ovl_cpsi *p, uint8_t type, const uint8_t *body, size_t len) OVL_MUST_USE;
ovl_err cpsi_start_gc(ovl_cpsi *p, const uint8_t *input) OVL_MUST_USE;
/* A 16-byte key both parties derive from the transcript under label. */
void cpsi_sub_key(uint8_t out[16], const ovl_cpsi *p, const char *label);
void cpsi_digest(ovl_block *out, const uint8_t *id, size_t len);
/* The OKVS key and the 1 + L pad words an OPRF value determines (SPEC.md §6.1). */
ovl_err cpsi_derive(const uint8_t f[static OVL_OPRF_OUT], ovl_block *key, uint64_t *pads,
                    uint32_t npads) OVL_MUST_USE;
uint64_t cpsi_sigma_mask(const ovl_cpsi *p);

/* oprf_phase.c: the OPRF's frames (SPEC.md §4) */
ovl_err cpsi_oprf_setup(ovl_cpsi *p) OVL_MUST_USE;
void cpsi_oprf_free(ovl_cpsi *p);
ovl_err cpsi_oprf_on_base(ovl_cpsi *p, const uint8_t *payload, size_t len) OVL_MUST_USE;
/* R, from pull: the next OPRF_U frames while the queue is under its mark. */
ovl_err cpsi_oprf_pump(ovl_cpsi *p) OVL_MUST_USE;
/* C: one OPRF_U frame. */
ovl_err cpsi_oprf_on_u(ovl_cpsi *p, const uint8_t *payload, size_t len) OVL_MUST_USE;

/* jobs.c: the store's entries and whole-table steps as engine jobs */
bool cpsi_is_job(const ovl_job *job);
void cpsi_jobs_free(ovl_cpsi *p);
ovl_err cpsi_jobs_take(ovl_cpsi *p, ovl_job **out) OVL_MUST_USE;
ovl_err cpsi_jobs_finish(ovl_cpsi *p, ovl_job *job) OVL_MUST_USE;
/* The store's entries as jobs of CPSI_STORE_CHUNK identifiers. */
ovl_err cpsi_jobs_put_store(ovl_cpsi *p) OVL_MUST_USE;
/* C's encoding of the whole store, as a job. */
ovl_err cpsi_jobs_put_table(ovl_cpsi *p) OVL_MUST_USE;
/* R's decoding, as CPSI_DECODE_JOBS jobs over ranges of bins. */
ovl_err cpsi_jobs_put_decode(ovl_cpsi *p) OVL_MUST_USE;

/* runner.c */
ovl_err cpsi_runner_setup(ovl_cpsi *p) OVL_MUST_USE;
ovl_err cpsi_contrib_pump(ovl_cpsi *p) OVL_MUST_USE;
ovl_err cpsi_runner_on_okvs(ovl_cpsi *p, const uint8_t *payload, size_t len) OVL_MUST_USE;
/* Once every bin's OPRF value is known and the whole store is in: decode it
 * (cpsi_runner_decode, in a job), then start the garbled equality. */
ovl_err cpsi_runner_after_final(ovl_cpsi *p) OVL_MUST_USE;
/* In a job: bins b0 .. b0 + n − 1 only (each job writes its own bins). */
ovl_err cpsi_runner_decode(ovl_cpsi *p, uint32_t b0, uint32_t n) OVL_MUST_USE;
ovl_err cpsi_runner_decoded(ovl_cpsi *p) OVL_MUST_USE;

/* contributor.c */
ovl_err cpsi_contrib_on_seed(ovl_cpsi *p, ovl_buf *in) OVL_MUST_USE;
/* Every OPRF_U frame is in: program the store (jobs). */
ovl_err cpsi_contrib_oprf_done(ovl_cpsi *p) OVL_MUST_USE;
ovl_err cpsi_store_entries(const ovl_cpsi *p, size_t y0, size_t n, ovl_block *keys,
                           uint64_t *vals) OVL_MUST_USE;
ovl_err cpsi_contrib_store_done(ovl_cpsi *p) OVL_MUST_USE;
/* The encoding job finished: the store is ready to send. */
ovl_err cpsi_contrib_encoded(ovl_cpsi *p) OVL_MUST_USE;
void cpsi_store_scratch_free(ovl_cpsi *p);

/* share_phase.c */
ovl_err cpsi_shares_start(ovl_cpsi *p) OVL_MUST_USE;
ovl_err cpsi_shares_on_ot(ovl_cpsi *p, const uint8_t *payload, size_t len) OVL_MUST_USE;
ovl_err cpsi_shares_pump(ovl_cpsi *p) OVL_MUST_USE; /* from pull: our bulk messages */
ovl_err cpsi_on_count(ovl_cpsi *p, ovl_buf *in) OVL_MUST_USE;

#endif
