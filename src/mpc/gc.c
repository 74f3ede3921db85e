/* The two-party garbled-circuit engine (mpc/gc.h, SPEC §GC.4–§GC.6). */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/guard.h"
#include "core/mem.h"
#include "mpc/garble.h"
#include "mpc/gc.h"
#include "mpc/hash.h"
#include "mpc/ot.h"

#define GC_VERSION 2u /* 2: the four-batch COT window (SPEC §GC.6) */
#define GC_SETUP_LEN 44u
/* COT batches outstanding at once. A batch's OT_CHAL queues behind the
 * garbler's tables, so with two the garbler ran dry after each batch until
 * the evaluator's proof came back through them (SPEC §GC.6). */
#define GC_COT_WINDOW 4u
/* Instances a garbler garbles ahead of the output labels it awaits. */
#define GC_OUT_RING 16u
#define GC_QUEUE_MAX ((size_t)8 << 20)

enum { PH_IDLE, PH_TABLES, PH_DECODE };

struct ovl_gc {
    ovl_gc_config cfg;
    const ovl_circuit *c;
    ovl_err rc; /* a failed engine stays failed */
    uint32_t gbits, ebits, group, nbatches;
    bool garbler, learn_g, learn_e;
    uint8_t digest[32];
    ovl_tweak_space sp;
    ovl_hash hash;
    bool hash_live;
    ovl_tweak_stream ts;
    ovl_ot *ot;
    ovl_block delta;
    /* Garbler: the PRG of its input wires' zero-labels (SPEC §GC.3), keyed
     * when the first instance needs labels. */
    ovl_prg labels;
    bool labels_live;
    ovl_buf q; /* whole frames waiting to be pulled */
    bool got_setup, got_base;
    ovl_cot *cot[GC_COT_WINDOW];
    const ovl_block *cot_blk[GC_COT_WINDOW];
    uint32_t cot_started, cot_ready, cot_freed;
    ovl_gc_state st;
    bool st_live;
    uint32_t inst, phase;
    ovl_block *ring; /* garbler: output zero-labels of instances awaiting GC_OUTPUT */
    uint32_t checked; /* garbler: instances whose output labels were checked */
    uint8_t *outputs;
    uint8_t *choices;
    uint64_t ands;
};

static ovl_err gc_fail(ovl_gc *g, ovl_err e)
{
    if (g->rc == OVL_OK)
        g->rc = e;
    return e;
}

static ovl_err check_config(const ovl_gc_config *cfg, uint32_t *gbits)
{
    const ovl_circuit *c = cfg->circuit;
    if (c == NULL || cfg->rng == NULL || cfg->input == NULL || cfg->party > 1 ||
        (cfg->role != OVL_GC_GARBLER && cfg->role != OVL_GC_EVALUATOR) ||
        cfg->reveal < OVL_GC_REVEAL_EVALUATOR || cfg->reveal > OVL_GC_REVEAL_BOTH)
        return ovl_err_set(OVL_ERR_USAGE, "garbled circuit: incomplete configuration");
    if (cfg->garbler_inputs > c->nin)
        return ovl_err_set(OVL_ERR_USAGE, "garbled circuit: the garbler supplies %u of %u inputs",
                           cfg->garbler_inputs, c->nin);
    if (cfg->instances == 0 || cfg->instances > OVL_GC_MAX_INSTANCES)
        return ovl_err_set(OVL_ERR_USAGE, "garbled circuit: %u instances (1 to %u allowed)",
                           cfg->instances, OVL_GC_MAX_INSTANCES);
    *gbits = ovl_circuit_in_offset(c, cfg->garbler_inputs);
    if (*gbits > OVL_GC_MAX_IO_BITS || c->out_bits > OVL_GC_MAX_IO_BITS ||
        c->in_bits - *gbits > OVL_COT_BATCH_MAX)
        return ovl_err_set(OVL_ERR_LIMIT,
                           "garbled circuit: %u garbler, %u evaluator and %u output bits (caps "
                           "%u, %u, %u)",
                           *gbits, c->in_bits - *gbits, c->out_bits, OVL_GC_MAX_IO_BITS,
                           OVL_COT_BATCH_MAX, OVL_GC_MAX_IO_BITS);
    if ((uint64_t)cfg->instances * c->out_bits > OVL_GC_MAX_OUTPUT_BYTES)
        return ovl_err_set(OVL_ERR_LIMIT, "garbled circuit: %u instances of %u output bits are "
                                          "over the %zu-byte cap",
                           cfg->instances, c->out_bits, OVL_GC_MAX_OUTPUT_BYTES);
    return OVL_OK;
}

/* SETUP's reveal byte; bit 2 says the garbler's inputs are folded. */
static uint8_t setup_flags(const ovl_gc *g)
{
    return (uint8_t)((unsigned)g->cfg.reveal | (g->cfg.fold_garbler_inputs ? 4u : 0u));
}

static ovl_err queue_setup(ovl_gc *g)
{
    ovl_err rc = OVL_OK;
    size_t mark;
    OVL_TRY(ovl_frame_begin(&g->q, OVL_GC_SETUP, &mark));
    OVL_TRY(ovl_buf_put_u8(&g->q, GC_VERSION));
    OVL_TRY(ovl_buf_put_u8(&g->q, (uint8_t)g->cfg.role));
    OVL_TRY(ovl_buf_put_u8(&g->q, (uint8_t)g->cfg.party));
    OVL_TRY(ovl_buf_put_u8(&g->q, setup_flags(g)));
    OVL_TRY(ovl_buf_put_u32(&g->q, g->cfg.garbler_inputs));
    OVL_TRY(ovl_buf_put_u32(&g->q, g->cfg.instances));
    OVL_TRY(ovl_buf_put_bytes(&g->q, g->digest, 32));
    OVL_TRY(ovl_frame_end(&g->q, mark));
    OVL_TRY(ovl_frame_begin(&g->q, OVL_GC_OT_BASE, &mark));
    OVL_TRY(ovl_ot_base_write(g->ot, &g->q));
    OVL_TRY(ovl_frame_end(&g->q, mark));
done:
    return rc;
}

static ovl_err gc_init(ovl_gc *g)
{
    ovl_err rc = OVL_OK;
    const ovl_circuit *c = g->c;
    g->garbler = g->cfg.role == OVL_GC_GARBLER;
    g->learn_g = (g->cfg.reveal & OVL_GC_REVEAL_GARBLER) != 0;
    g->learn_e = (g->cfg.reveal & OVL_GC_REVEAL_EVALUATOR) != 0;
    g->ebits = c->in_bits - g->gbits;
    g->group = g->ebits == 0 ? g->cfg.instances : OVL_COT_BATCH_MAX / g->ebits;
    g->nbatches = g->ebits == 0 ? 0 : (g->cfg.instances + g->group - 1) / g->group;
    ovl_circuit_digest(g->digest, c);
    ovl_tweak_space_init(&g->sp, g->cfg.pi_key);
    OVL_TRY(ovl_hash_init(&g->hash, &g->sp));
    g->hash_live = true;
    /* The garbler's Δ is the OT sender's: the COT pads are its zero-labels. */
    if (g->garbler) {
        uint8_t d[16];
        ovl_rng_bytes(g->cfg.rng, d, sizeof d);
        g->delta = ovl_block_set_lsb(ovl_block_load(d));
        sodium_memzero(d, sizeof d);
    }
    OVL_TRY(ovl_ot_new(&g->ot, g->cfg.party, g->garbler ? &g->delta : NULL, g->cfg.rng, &g->sp));
    /* Opened after the OT's own streams, in the same order on both sides. */
    OVL_TRY(ovl_tweak_open(&g->sp, &g->ts, OVL_TWEAK_GC,
                           g->garbler ? g->cfg.party : g->cfg.party ^ 1u));
    OVL_TRY(ovl_buf_alloc(&g->q, 4096, GC_QUEUE_MAX));
    if ((g->garbler && g->learn_g) || (!g->garbler && g->learn_e))
        OVL_TRY(ovl_calloc((void **)&g->outputs, (size_t)g->cfg.instances * c->out_bits + 1, 1));
    if (g->garbler && g->learn_g)
        OVL_TRY(ovl_calloc((void **)&g->ring, (size_t)GC_OUT_RING * c->out_bits + 1,
                           sizeof *g->ring));
    if (!g->garbler)
        OVL_TRY(ovl_calloc((void **)&g->choices, OVL_COT_BATCH_MAX / 8 + 1, 1));
    OVL_TRY(queue_setup(g));
done:
    return rc;
}

ovl_err ovl_gc_new(ovl_gc **out, const ovl_gc_config *cfg)
{
    ovl_err rc = OVL_OK;
    ovl_gc *g = NULL;
    uint32_t gbits = 0;
    *out = NULL;
    OVL_TRY(check_config(cfg, &gbits));
    OVL_TRY(ovl_calloc((void **)&g, 1, sizeof *g));
    g->cfg = *cfg;
    g->c = cfg->circuit;
    g->gbits = gbits;
    OVL_TRY(gc_init(g));
    *out = g;
    g = NULL;
done:
    ovl_gc_free(g);
    return rc;
}

void ovl_gc_free(ovl_gc *g)
{
    if (g == NULL)
        return;
    for (unsigned i = 0; i < GC_COT_WINDOW; i++)
        ovl_cot_free(g->cot[i]);
    if (g->st_live)
        ovl_gc_state_free(&g->st);
    ovl_ot_free(g->ot);
    if (g->labels_live)
        ovl_prg_free(&g->labels);
    if (g->hash_live)
        ovl_hash_free(&g->hash);
    if (g->ring != NULL)
        ovl_free_secret(g->ring, ((size_t)GC_OUT_RING * g->c->out_bits + 1) * sizeof *g->ring);
    if (g->outputs != NULL)
        ovl_free_secret(g->outputs, (size_t)g->cfg.instances * g->c->out_bits + 1);
    if (g->choices != NULL)
        ovl_free_secret(g->choices, OVL_COT_BATCH_MAX / 8 + 1);
    ovl_buf_free(&g->q);
    sodium_memzero(&g->delta, sizeof g->delta);
    sodium_memzero(&g->sp, sizeof g->sp);
    free(g);
}

const uint8_t *ovl_gc_output(const ovl_gc *g, uint32_t instance)
{
    /* Only a finished instance of an engine that has not failed: a failed
     * decode or label check leaves earlier bits of its instance written. */
    uint32_t finished = g->garbler ? g->checked : g->inst;
    if (g->outputs == NULL || g->rc != OVL_OK || instance >= finished)
        return NULL;
    return g->outputs + (size_t)instance * g->c->out_bits;
}

uint64_t ovl_gc_and_gates(const ovl_gc *g) { return g->ands; }

/* One garbling state serves every instance, restarted for each (its label
 * array is the size of the circuit; allocating and wiping it per instance
 * would cost more than the small circuits' garbling). */
static ovl_err instance_state(ovl_gc *g, uint64_t tweak_base)
{
    if (g->st_live) {
        ovl_gc_state_restart(&g->st, tweak_base);
        return OVL_OK;
    }
    ovl_err rc = ovl_gc_state_init(&g->st, g->c, &g->hash, g->garbler,
                                   g->garbler ? g->delta : ovl_block_zero(), &g->ts, tweak_base);
    g->st_live = rc == OVL_OK;
    return rc;
}

/* ---- the evaluator ---- */

/* Starts COT batches while fewer than the window are unconsumed. */
static ovl_err eval_start_batches(ovl_gc *g)
{
    ovl_err rc = OVL_OK;
    while (g->cot_started < g->nbatches && g->cot_started - g->cot_freed < GC_COT_WINDOW) {
        uint32_t b = g->cot_started, first = b * g->group;
        uint32_t n = g->cfg.instances - first < g->group ? g->cfg.instances - first : g->group;
        size_t bits = (size_t)n * g->ebits, mark;
        const uint8_t *in = g->cfg.input + (size_t)first * g->ebits;
        memset(g->choices, 0, OVL_COT_BATCH_MAX / 8 + 1);
        for (size_t j = 0; j < bits; j++)
            g->choices[j / 8] |= (uint8_t)((in[j] & 1) << (j % 8));
        OVL_TRY(ovl_frame_begin(&g->q, OVL_GC_OT_U, &mark));
        OVL_TRY(ovl_cot_recv_start(&g->cot[b % GC_COT_WINDOW], g->ot, g->choices, bits, &g->q));
        OVL_TRY(ovl_frame_end(&g->q, mark));
        g->cot_started++;
    }
done:
    return rc;
}

static ovl_err eval_chal(ovl_gc *g, ovl_buf *in)
{
    ovl_err rc = OVL_OK;
    size_t mark;
    OVL_ENSURE(g->cot_ready < g->cot_started, OVL_ERR_PROTOCOL,
               "garbled circuit: OT challenge for a batch that was not started");
    ovl_cot *b = g->cot[g->cot_ready % GC_COT_WINDOW];
    OVL_TRY(ovl_frame_begin(&g->q, OVL_GC_OT_PROOF, &mark));
    OVL_TRY(ovl_cot_recv_prove(b, in, &g->q));
    OVL_TRY(ovl_frame_end(&g->q, mark));
    g->cot_blk[g->cot_ready % GC_COT_WINDOW] = ovl_cot_blocks(b);
    g->cot_ready++;
done:
    return rc;
}

static ovl_err eval_finish_instance(ovl_gc *g)
{
    g->phase = PH_IDLE;
    g->inst++;
    if (g->ebits > 0 && (g->inst % g->group == 0 || g->inst == g->cfg.instances)) {
        unsigned slot = g->cot_freed % GC_COT_WINDOW;
        ovl_cot_free(g->cot[slot]);
        g->cot[slot] = NULL;
        g->cot_blk[slot] = NULL;
        g->cot_freed++;
        return eval_start_batches(g);
    }
    return OVL_OK;
}

static ovl_err eval_after_tables(ovl_gc *g)
{
    ovl_err rc = OVL_OK;
    size_t mark;
    if (!ovl_gc_state_done(&g->st))
        return OVL_OK;
    g->ands += g->c->nand;
    if (g->learn_g) {
        uint8_t *p;
        OVL_TRY(ovl_frame_begin(&g->q, OVL_GC_OUTPUT, &mark));
        OVL_TRY(ovl_buf_put_u32(&g->q, g->inst));
        OVL_TRY(ovl_buf_reserve(&g->q, (size_t)g->c->out_bits * 16, &p));
        for (uint32_t i = 0; i < g->c->out_bits; i++)
            ovl_block_store(p + 16 * (size_t)i, ovl_gc_output_label(&g->st, i));
        OVL_TRY(ovl_frame_end(&g->q, mark));
    }
    if (g->learn_e)
        g->phase = PH_DECODE;
    else
        OVL_TRY(eval_finish_instance(g));
done:
    return rc;
}

static ovl_err get_instance(ovl_gc *g, ovl_buf *in, uint32_t phase, const char *what)
{
    uint32_t inst;
    if (ovl_buf_get_u32(in, &inst) != OVL_OK)
        return ovl_err_set(OVL_ERR_MALFORMED, "garbled circuit: %s frame is truncated", what);
    if (inst != g->inst || g->phase != phase || g->inst >= g->cfg.instances)
        return ovl_err_set(OVL_ERR_PROTOCOL,
                           "garbled circuit: %s frame for instance %u out of order (at instance "
                           "%u)", what, inst, g->inst);
    return OVL_OK;
}

static ovl_err eval_inputs(ovl_gc *g, ovl_buf *in)
{
    ovl_err rc = OVL_OK;
    const uint8_t *p;
    OVL_TRY(get_instance(g, in, PH_IDLE, "INPUTS"));
    OVL_ENSURE(g->ebits == 0 || g->cot_ready > g->inst / g->group, OVL_ERR_PROTOCOL,
               "garbled circuit: INPUTS of instance %u before its OT finished", g->inst);
    uint32_t sent = g->cfg.fold_garbler_inputs ? 0 : g->gbits;
    OVL_ENSURE(ovl_buf_remaining(in) == (size_t)sent * 16, OVL_ERR_MALFORMED,
               "garbled circuit: INPUTS frame holds %zu bytes, %u garbler labels expected",
               ovl_buf_remaining(in), sent);
    OVL_TRY(ovl_buf_get_ptr(in, (size_t)sent * 16, &p));
    uint64_t base;
    OVL_TRY(ovl_tweak_take(&g->ts, ovl_gc_tweaks_needed(g->c), &base));
    OVL_TRY(instance_state(g, base));
    for (uint32_t i = 0; i < g->gbits; i++)
        g->st.w[i] = sent ? ovl_block_load(p + 16 * (size_t)i) : ovl_block_zero();
    if (g->ebits > 0) {
        const ovl_block *t = g->cot_blk[(g->inst / g->group) % GC_COT_WINDOW];
        size_t off = (size_t)(g->inst % g->group) * g->ebits;
        memcpy(g->st.w + g->gbits, t + off, (size_t)g->ebits * sizeof *t);
    }
    g->phase = PH_TABLES;
    OVL_TRY(ovl_gc_evaluate(&g->st, NULL, 0));
    OVL_TRY(eval_after_tables(g));
done:
    return rc;
}

static ovl_err eval_tables(ovl_gc *g, ovl_buf *in)
{
    ovl_err rc = OVL_OK;
    uint32_t n;
    const uint8_t *p;
    OVL_TRY(get_instance(g, in, PH_TABLES, "TABLES"));
    OVL_ENSURE(ovl_buf_get_u32(in, &n) == OVL_OK, OVL_ERR_MALFORMED,
               "garbled circuit: TABLES frame is truncated");
    OVL_ENSURE(n >= 1 && n <= OVL_GC_TABLES_PER_FRAME, OVL_ERR_LIMIT,
               "garbled circuit: TABLES frame announces %u tables (1 to %u allowed)", n,
               OVL_GC_TABLES_PER_FRAME);
    OVL_ENSURE(ovl_buf_remaining(in) == (size_t)n * OVL_GC_TABLE_BYTES, OVL_ERR_MALFORMED,
               "garbled circuit: TABLES frame announces %u tables but holds %zu bytes", n,
               ovl_buf_remaining(in));
    OVL_TRY(ovl_buf_get_ptr(in, (size_t)n * OVL_GC_TABLE_BYTES, &p));
    OVL_TRY(ovl_gc_evaluate(&g->st, p, n));
    OVL_TRY(eval_after_tables(g));
done:
    return rc;
}

static ovl_err eval_decode(ovl_gc *g, ovl_buf *in)
{
    ovl_err rc = OVL_OK;
    uint32_t nout = g->c->out_bits;
    size_t pbytes = (nout + 7) / 8;
    const uint8_t *perm, *tags;
    uint8_t *bits = NULL, *pb = NULL;
    OVL_TRY(get_instance(g, in, PH_DECODE, "DECODE"));
    OVL_ENSURE(ovl_buf_remaining(in) == pbytes + (size_t)nout * 2 * OVL_GC_TAG_BYTES,
               OVL_ERR_MALFORMED, "garbled circuit: DECODE frame holds %zu bytes, %zu expected",
               ovl_buf_remaining(in), pbytes + (size_t)nout * 2 * OVL_GC_TAG_BYTES);
    OVL_TRY(ovl_buf_get_ptr(in, pbytes, &perm));
    OVL_TRY(ovl_buf_get_ptr(in, (size_t)nout * 2 * OVL_GC_TAG_BYTES, &tags));
    OVL_TRY(ovl_calloc((void **)&pb, nout + 1, 1));
    for (uint32_t i = 0; i < nout; i++)
        pb[i] = (perm[i / 8] >> (i % 8)) & 1;
    bits = g->outputs + (size_t)g->inst * nout;
    OVL_TRY(ovl_gc_decode(&g->st, bits, pb, (const uint8_t(*)[2][OVL_GC_TAG_BYTES])tags));
    OVL_TRY(eval_finish_instance(g));
done:
    free(pb);
    return rc;
}

/* ---- the garbler ---- */

static ovl_err garb_u(ovl_gc *g, ovl_buf *in)
{
    ovl_err rc = OVL_OK;
    size_t mark;
    OVL_ENSURE(g->cot_started < g->nbatches && g->cot_started - g->cot_freed < GC_COT_WINDOW,
               OVL_ERR_PROTOCOL, "garbled circuit: OT batch %u was not expected now",
               g->cot_started);
    uint32_t first = g->cot_started * g->group;
    size_t due = (size_t)(g->cfg.instances - first < g->group ? g->cfg.instances - first
                                                              : g->group) * g->ebits;
    ovl_cot **b = &g->cot[g->cot_started % GC_COT_WINDOW];
    OVL_TRY(ovl_frame_begin(&g->q, OVL_GC_OT_CHAL, &mark));
    OVL_TRY(ovl_cot_send_start(b, g->ot, in, &g->q));
    /* The instances read their input labels from rows of this batch: a
     * smaller batch would leave them past its end. */
    OVL_ENSURE(ovl_cot_count(*b) == due, OVL_ERR_PROTOCOL,
               "garbled circuit: OT batch %u holds %zu OTs where %zu were due", g->cot_started,
               ovl_cot_count(*b), due);
    OVL_TRY(ovl_frame_end(&g->q, mark));
    g->cot_started++;
done:
    return rc;
}

static ovl_err garb_proof(ovl_gc *g, ovl_buf *in)
{
    ovl_err rc = OVL_OK;
    OVL_ENSURE(g->cot_ready < g->cot_started, OVL_ERR_PROTOCOL,
               "garbled circuit: OT proof for a batch that was not started");
    ovl_cot *b = g->cot[g->cot_ready % GC_COT_WINDOW];
    OVL_TRY(ovl_cot_send_verify(b, in));
    g->cot_blk[g->cot_ready % GC_COT_WINDOW] = ovl_cot_blocks(b);
    g->cot_ready++;
done:
    return rc;
}

static ovl_err garb_output(ovl_gc *g, ovl_buf *in)
{
    ovl_err rc = OVL_OK;
    uint32_t inst, nout = g->c->out_bits;
    const uint8_t *p;
    OVL_ENSURE(ovl_buf_get_u32(in, &inst) == OVL_OK, OVL_ERR_MALFORMED,
               "garbled circuit: OUTPUT frame is truncated");
    OVL_ENSURE(g->learn_g && inst == g->checked && inst < g->inst,
               OVL_ERR_PROTOCOL, "garbled circuit: OUTPUT for instance %u not expected", inst);
    OVL_ENSURE(ovl_buf_remaining(in) == (size_t)nout * 16, OVL_ERR_MALFORMED,
               "garbled circuit: OUTPUT frame holds %zu bytes, %u labels expected",
               ovl_buf_remaining(in), nout);
    OVL_TRY(ovl_buf_get_ptr(in, (size_t)nout * 16, &p));
    const ovl_block *z = g->ring + (size_t)(inst % GC_OUT_RING) * nout;
    uint8_t *bits = g->outputs + (size_t)inst * nout;
    for (uint32_t i = 0; i < nout; i++) {
        rc = ovl_gc_check_label(z[i], g->delta, ovl_block_load(p + 16 * (size_t)i), i, &bits[i]);
        if (rc != OVL_OK)
            OVL_FAIL(ovl_err_wrap(rc, "instance %u: ", inst));
    }
    g->checked++;
done:
    return rc;
}

/* The garbler's input zero-labels come from AES-CTR under 16 bytes of the
 * session's randomness, drawn once: straight from the system generator they
 * cost a getrandom() call per 256 bytes, 8 per AES-128 instance. */
static ovl_err label_prg(ovl_gc *g)
{
    ovl_err rc = OVL_OK;
    uint8_t key[16];
    if (g->labels_live)
        return OVL_OK;
    ovl_rng_bytes(g->cfg.rng, key, sizeof key);
    OVL_TRY(ovl_prg_init(&g->labels, key));
    g->labels_live = true;
done:
    sodium_memzero(key, sizeof key);
    return rc;
}

static ovl_err garb_begin_instance(ovl_gc *g)
{
    ovl_err rc = OVL_OK;
    size_t mark;
    uint64_t base;
    uint8_t *p;
    const uint8_t *x = g->cfg.input + (size_t)g->inst * g->gbits;
    OVL_TRY(ovl_tweak_take(&g->ts, ovl_gc_tweaks_needed(g->c), &base));
    OVL_TRY(instance_state(g, base));
    bool fold = g->cfg.fold_garbler_inputs;
    if (fold) {
        /* zero-label x·Δ: the active label is the zero block, known to both */
        for (uint32_t i = 0; i < g->gbits; i++)
            g->st.w[i] = ovl_block_select(x[i] & 1, g->delta);
    } else {
        OVL_TRY(label_prg(g));
        OVL_TRY(ovl_prg_blocks(&g->labels, g->st.w, g->gbits));
    }
    if (g->ebits > 0) {
        const ovl_block *q = g->cot_blk[(g->inst / g->group) % GC_COT_WINDOW];
        size_t off = (size_t)(g->inst % g->group) * g->ebits;
        memcpy(g->st.w + g->gbits, q + off, (size_t)g->ebits * sizeof *q);
    }
    OVL_TRY(ovl_frame_begin(&g->q, OVL_GC_INPUTS, &mark));
    OVL_TRY(ovl_buf_put_u32(&g->q, g->inst));
    OVL_TRY(ovl_buf_reserve(&g->q, fold ? 0 : (size_t)g->gbits * 16, &p));
    /* The garbler's own input bits select their labels without a branch. */
    for (uint32_t i = 0; !fold && i < g->gbits; i++)
        ovl_block_store(p + 16 * (size_t)i,
                        ovl_block_xor(g->st.w[i], ovl_block_select(x[i] & 1, g->delta)));
    OVL_TRY(ovl_frame_end(&g->q, mark));
    g->phase = PH_TABLES;
done:
    return rc;
}

static ovl_err garb_end_instance(ovl_gc *g)
{
    ovl_err rc = OVL_OK;
    uint32_t nout = g->c->out_bits;
    size_t mark;
    uint8_t *perm = NULL, *p;
    uint8_t(*tags)[2][OVL_GC_TAG_BYTES] = NULL;
    g->ands += g->c->nand;
    if (g->learn_e) {
        OVL_TRY(ovl_calloc((void **)&perm, nout + 1, 1));
        OVL_TRY(ovl_calloc((void **)&tags, nout + 1, sizeof *tags));
        OVL_TRY(ovl_gc_decode_info(&g->st, perm, tags));
        OVL_TRY(ovl_frame_begin(&g->q, OVL_GC_DECODE, &mark));
        OVL_TRY(ovl_buf_put_u32(&g->q, g->inst));
        OVL_TRY(ovl_buf_reserve(&g->q, (nout + 7) / 8, &p));
        memset(p, 0, (nout + 7) / 8);
        for (uint32_t i = 0; i < nout; i++)
            p[i / 8] |= (uint8_t)(perm[i] << (i % 8));
        OVL_TRY(ovl_buf_put_bytes(&g->q, tags, (size_t)nout * sizeof *tags));
        OVL_TRY(ovl_frame_end(&g->q, mark));
    }
    if (g->learn_g) {
        ovl_block *z = g->ring + (size_t)(g->inst % GC_OUT_RING) * nout;
        for (uint32_t i = 0; i < nout; i++)
            z[i] = ovl_gc_output_label(&g->st, i);
    }
    g->phase = PH_IDLE;
    g->inst++;
    if (g->ebits > 0 && (g->inst % g->group == 0 || g->inst == g->cfg.instances)) {
        unsigned slot = g->cot_freed % GC_COT_WINDOW;
        ovl_cot_free(g->cot[slot]);
        g->cot[slot] = NULL;
        g->cot_blk[slot] = NULL;
        g->cot_freed++;
    }
done:
    free(perm);
    free(tags);
    return rc;
}

/* The garbler's next step: queues INPUTS or DECODE in g->q, or writes one
 * TABLES frame straight into `out` (*wrote), or does nothing when it must
 * wait (OT not done, output ring full). */
static ovl_err garb_produce(ovl_gc *g, ovl_buf *out, bool *wrote)
{
    ovl_err rc = OVL_OK;
    size_t mark, cmark;
    uint32_t n;
    *wrote = false;
    if (!g->got_base || g->inst >= g->cfg.instances)
        return OVL_OK;
    if (g->phase == PH_IDLE) {
        bool ot_ready = g->ebits == 0 || g->cot_ready > g->inst / g->group;
        bool ring_room = !g->learn_g || g->inst - g->checked < GC_OUT_RING;
        if (!ot_ready || !ring_room)
            return OVL_OK;
        return garb_begin_instance(g);
    }
    if (ovl_gc_state_done(&g->st))
        return garb_end_instance(g);
    size_t start = out->wpos;
    OVL_TRY(ovl_frame_begin(out, OVL_GC_TABLES, &mark));
    OVL_TRY(ovl_buf_put_u32(out, g->inst));
    cmark = out->wpos;
    OVL_TRY(ovl_buf_put_u32(out, 0));
    OVL_TRY(ovl_gc_garble(&g->st, out, OVL_GC_TABLES_PER_FRAME, &n));
    if (n == 0) {
        out->wpos = start; /* only free gates were left: no frame */
    } else {
        uint8_t *c = out->data + cmark;
        c[0] = (uint8_t)(n >> 24), c[1] = (uint8_t)(n >> 16), c[2] = (uint8_t)(n >> 8);
        c[3] = (uint8_t)n;
        OVL_TRY(ovl_frame_end(out, mark));
        *wrote = true;
    }
    /* The instance ends with its last table, before that frame leaves: the
     * evaluator's answers to it (GC_OUTPUT, the next batch's GC_OT_U) may
     * arrive before the next pull, and are checked against the finished
     * instances and freed batches. Its DECODE frame waits in g->q, so it still
     * follows the tables. */
    if (ovl_gc_state_done(&g->st))
        OVL_TRY(garb_end_instance(g));
done:
    return rc;
}

/* ---- ovl_proto_ops ---- */

static ovl_err read_setup(ovl_gc *g, ovl_buf *in)
{
    ovl_err rc = OVL_OK;
    uint8_t ver, role, party, reveal, digest[32];
    uint32_t gin, inst;
    OVL_ENSURE(ovl_buf_remaining(in) == GC_SETUP_LEN, OVL_ERR_MALFORMED,
               "garbled circuit: SETUP frame of %zu bytes (%u expected)", ovl_buf_remaining(in),
               GC_SETUP_LEN);
    OVL_TRY(ovl_buf_get_u8(in, &ver));
    OVL_TRY(ovl_buf_get_u8(in, &role));
    OVL_TRY(ovl_buf_get_u8(in, &party));
    OVL_TRY(ovl_buf_get_u8(in, &reveal));
    OVL_TRY(ovl_buf_get_u32(in, &gin));
    OVL_TRY(ovl_buf_get_u32(in, &inst));
    OVL_TRY(ovl_buf_get_bytes(in, digest, 32));
    OVL_ENSURE(ver == GC_VERSION, OVL_ERR_PROTOCOL,
               "garbled circuit: the peer speaks version %u, we speak %u", ver, GC_VERSION);
    OVL_ENSURE(role == (g->garbler ? OVL_GC_EVALUATOR : OVL_GC_GARBLER) && party == (g->cfg.party ^ 1u),
               OVL_ERR_POLICY, "garbled circuit: both parties chose the same role or side");
    OVL_ENSURE(memcmp(digest, g->digest, 32) == 0, OVL_ERR_POLICY,
               "garbled circuit: the peer holds a different circuit (use the same circuit file)");
    OVL_ENSURE(gin == g->cfg.garbler_inputs && inst == g->cfg.instances &&
                   reveal == setup_flags(g),
               OVL_ERR_POLICY,
               "garbled circuit: the peer wants %u instances, %u garbler inputs, reveal %u; we "
               "want %u, %u, %u",
               inst, gin, reveal, g->cfg.instances, g->cfg.garbler_inputs, g->cfg.reveal);
    g->got_setup = true;
done:
    return rc;
}

static ovl_err feed_one(ovl_gc *g, uint8_t type, ovl_buf *in)
{
    ovl_err rc = OVL_OK;
    if (type == OVL_FRAME_ABORT)
        return ovl_frame_abort_decode(ovl_buf_rptr(in), ovl_buf_remaining(in));
    if (!g->got_setup) {
        OVL_ENSURE(type == OVL_GC_SETUP, OVL_ERR_PROTOCOL,
                   "garbled circuit: frame 0x%02x before SETUP", type);
        return read_setup(g, in);
    }
    if (!g->got_base) {
        OVL_ENSURE(type == OVL_GC_OT_BASE, OVL_ERR_PROTOCOL,
                   "garbled circuit: frame 0x%02x before the base OTs", type);
        OVL_TRY(ovl_ot_base_read(g->ot, in));
        OVL_ENSURE(ovl_ot_ready(g->ot), OVL_ERR_INTERNAL, "garbled circuit: base OTs not ready");
        g->got_base = true;
        if (!g->garbler)
            OVL_TRY(eval_start_batches(g));
        goto done;
    }
    switch (g->garbler ? type | 0x100 : type) {
    case OVL_GC_OT_U | 0x100: OVL_TRY(garb_u(g, in)); break;
    case OVL_GC_OT_PROOF | 0x100: OVL_TRY(garb_proof(g, in)); break;
    case OVL_GC_OUTPUT | 0x100: OVL_TRY(garb_output(g, in)); break;
    case OVL_GC_OT_CHAL: OVL_TRY(eval_chal(g, in)); break;
    case OVL_GC_INPUTS: OVL_TRY(eval_inputs(g, in)); break;
    case OVL_GC_TABLES: OVL_TRY(eval_tables(g, in)); break;
    case OVL_GC_DECODE: OVL_TRY(eval_decode(g, in)); break;
    default:
        OVL_FAIL(ovl_err_set(OVL_ERR_PROTOCOL, "garbled circuit: unexpected frame 0x%02x from the %s",
                             type, g->garbler ? "evaluator" : "garbler"));
    }
done:
    return rc;
}

static ovl_err gc_feed(void *proto, uint8_t type, const uint8_t *payload, size_t len)
{
    ovl_gc *g = proto;
    ovl_buf in;
    if (g->rc != OVL_OK)
        return g->rc;
    ovl_buf_reader(&in, payload, len);
    ovl_err e = feed_one(g, type, &in);
    return e == OVL_OK ? OVL_OK : gc_fail(g, e);
}

static ovl_err gc_pull(void *proto, ovl_buf *out, bool *have)
{
    ovl_gc *g = proto;
    ovl_err rc = OVL_OK;
    *have = false;
    if (g->rc != OVL_OK)
        return g->rc;
    /* One frame per call. The garbler steps until a frame exists or it must wait. */
    while (g->garbler && ovl_buf_remaining(&g->q) == 0) {
        uint32_t inst = g->inst, phase = g->phase, gate = g->st_live ? g->st.next_gate : 0;
        OVL_TRY(garb_produce(g, out, have));
        if (*have)
            goto done;
        if (inst == g->inst && phase == g->phase && gate == (g->st_live ? g->st.next_gate : 0))
            break;
    }
    if (ovl_buf_remaining(&g->q) >= OVL_FRAME_HDR) {
        const uint8_t *h = ovl_buf_rptr(&g->q);
        size_t len = OVL_FRAME_HDR + ((size_t)h[1] << 24 | (size_t)h[2] << 16 |
                                      (size_t)h[3] << 8 | h[4]);
        OVL_TRY(ovl_buf_put_bytes(out, h, len));
        g->q.rpos += len;
        if (ovl_buf_remaining(&g->q) == 0)
            ovl_buf_clear(&g->q);
        *have = true;
    }
done:
    return rc == OVL_OK ? OVL_OK : gc_fail(g, rc);
}

static ovl_err gc_job_take(void *proto, ovl_job **job)
{
    (void)proto;
    *job = NULL;
    return OVL_OK;
}

static ovl_err gc_job_finish(void *proto, ovl_job *job)
{
    (void)proto;
    (void)job;
    return ovl_err_set(OVL_ERR_INTERNAL, "garbled circuit: no jobs were handed out");
}

/* False once nothing more is expected from the peer, so a driver finishing
 * its last writes never reads the close of a peer that already finished. */
static bool gc_wants_input(const void *proto)
{
    const ovl_gc *g = proto;
    if (!g->got_setup || !g->got_base)
        return true;
    if (!g->garbler)
        return g->inst < g->cfg.instances;
    return g->cot_ready < g->nbatches || (g->learn_g && g->checked < g->cfg.instances);
}

static bool gc_done(const void *proto)
{
    const ovl_gc *g = proto;
    if (g->rc != OVL_OK || ovl_buf_remaining(&g->q) != 0 || g->inst < g->cfg.instances)
        return false;
    return !g->garbler || !g->learn_g || g->checked == g->cfg.instances;
}

const ovl_proto_ops ovl_gc_ops = {
    .feed = gc_feed,
    .pull = gc_pull,
    .job_take = gc_job_take,
    .job_finish = gc_job_finish,
    .wants_input = gc_wants_input,
    .done = gc_done,
};
