/* Half-gates garbling and evaluation, streamed in batches (mpc/garble.h). */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/guard.h"
#include "core/mem.h"
#include "mpc/garble.h"

/* AND gates hashed per call: enough to fill the AES pipeline and amortise
 * the EVP call, small enough to stay in L1. */
#define GC_BATCH 128u
/* Blocks between the scratch arrays (4 per gate, plus a few: see scratch_x). */
#define GC_SCRATCH_STRIDE (4u * GC_BATCH + 5u)
#define GC_SCRATCH (3u * GC_SCRATCH_STRIDE)

/* The order the kernels run the gates in (SPEC §GC.3, "Batching changes no
 * byte on the wire"): the circuit's gate order, except that each maximal run
 * of free gates is stably sorted by the gates' depth within the run. AND gates
 * keep their places, so the AND order and every tweak stay as specified, and
 * a free gate still runs after everything it reads. In gate order the free
 * gates of a depth form long chains (each XOR reading the previous one), and
 * a chain runs at the latency of a store and a load per gate; sorted, the
 * gates next to each other are independent and run at the processor's
 * throughput. */
static ovl_err exec_order(uint32_t *order, const ovl_circuit *c)
{
    ovl_err rc = OVL_OK;
    uint32_t *lvl = NULL, *stamp = NULL, *pos = NULL, run = 0;
    OVL_TRY(ovl_calloc((void **)&lvl, c->nwires, sizeof *lvl));
    OVL_TRY(ovl_calloc((void **)&stamp, c->nwires, sizeof *stamp));
    OVL_TRY(ovl_calloc((void **)&pos, (size_t)c->ngates + 2, sizeof *pos));
    for (uint32_t g = 0; g < c->ngates;) {
        if (c->gates[g].op == OVL_GATE_AND) {
            order[g] = g;
            g++;
            continue;
        }
        uint32_t s = g, top = 0;
        run++;
        for (; g < c->ngates && c->gates[g].op != OVL_GATE_AND; g++) {
            const ovl_gate *x = &c->gates[g];
            uint32_t l = 0;
            if (x->op != OVL_GATE_CONST && stamp[x->a] == run)
                l = lvl[x->a];
            if (x->op == OVL_GATE_XOR && stamp[x->b] == run && lvl[x->b] > l)
                l = lvl[x->b];
            lvl[x->out] = l + 1;
            stamp[x->out] = run;
            top = l + 1 > top ? l + 1 : top;
        }
        /* A stable counting sort of [s, g) by depth 1 .. top. */
        memset(pos, 0, ((size_t)top + 2) * sizeof *pos);
        for (uint32_t k = s; k < g; k++)
            pos[lvl[c->gates[k].out] + 1]++;
        pos[1] = s;
        for (uint32_t l = 2; l <= top + 1; l++)
            pos[l] += pos[l - 1];
        for (uint32_t k = s; k < g; k++)
            order[pos[lvl[c->gates[k].out]]++] = k;
    }
done:
    free(lvl);
    free(stamp);
    free(pos);
    return rc;
}

/* ops[i].meta (garble.h), in execution order: only AND outputs can be
 * pending, so a gate's dependency is the last AND gate whose output it reads
 * directly. */
static ovl_err find_deps(ovl_gc_op *ops, const ovl_circuit *c, const uint32_t *order)
{
    ovl_err rc = OVL_OK;
    uint32_t *and_of = NULL, k = 0;
    OVL_TRY(ovl_calloc((void **)&and_of, c->nwires, sizeof *and_of));
    for (uint32_t i = 0; i < c->ngates; i++) {
        const ovl_gate *x = &c->gates[order[i]];
        uint32_t d = 0;
        if (x->op != OVL_GATE_CONST)
            d = and_of[x->a];
        if ((x->op == OVL_GATE_XOR || x->op == OVL_GATE_AND) && and_of[x->b] > d)
            d = and_of[x->b];
        ops[i].meta = 2 * d + (x->op == OVL_GATE_AND);
        and_of[x->out] = x->op == OVL_GATE_AND ? ++k : 0;
    }
done:
    free(and_of);
    return rc;
}

/* Label slots. A wire's label lives in a slot from the gate that writes it to
 * its last reader, then the slot is reused, so the labels in use fit in cache
 * whatever the circuit's size. Inputs keep slots 0 .. in_bits - 1 (the caller
 * writes them); output wires keep theirs to the end; an output nobody reads
 * goes to SINK. Three more slots serve the free gates, each of which is
 * out = w[x] ⊕ w[y]: ZERO (the zero block) and DELTA (Δ for the garbler,
 * zero for the evaluator). XOR: a, b. INV flips the garbler's zero-label and
 * leaves the evaluator's label: a, DELTA. A constant c has zero-label c·Δ and
 * the evaluator's label is the zero block: c ? DELTA : ZERO, ZERO. COPY: a,
 * ZERO. AND gates keep a, b, out. Inputs of an AND gate are read
 * when it joins a batch, so a slot freed by it may be written before the
 * batch is hashed. */
typedef struct {
    uint32_t *last;   /* per wire: the last gate reading it (UINT32_MAX: kept) */
    uint32_t *slot;   /* per wire */
    uint32_t *free;   /* stack of free slots */
    uint32_t nfree, nslots;
} slot_plan;

static ovl_err plan_last_use(slot_plan *sp, const ovl_circuit *c, const uint32_t *order)
{
    ovl_err rc = OVL_OK;
    OVL_TRY(ovl_calloc((void **)&sp->last, c->nwires, sizeof *sp->last));
    OVL_TRY(ovl_calloc((void **)&sp->slot, c->nwires, sizeof *sp->slot));
    OVL_TRY(ovl_calloc((void **)&sp->free, c->nwires, sizeof *sp->free));
    for (uint32_t w = 0; w < c->nwires; w++)
        sp->last[w] = w < c->in_bits ? UINT32_MAX - 1 : UINT32_MAX - 2; /* unread */
    for (uint32_t g = 0; g < c->ngates; g++) {
        const ovl_gate *x = &c->gates[order[g]];
        if (x->op != OVL_GATE_CONST)
            sp->last[x->a] = g;
        if (x->op == OVL_GATE_XOR || x->op == OVL_GATE_AND)
            sp->last[x->b] = g;
    }
    for (uint32_t i = 0; i < c->out_bits; i++)
        sp->last[c->outputs[i]] = UINT32_MAX;
done:
    return rc;
}

static void plan_release(slot_plan *sp, uint32_t w, uint32_t g)
{
    if (sp->last[w] == g) {
        sp->free[sp->nfree++] = sp->slot[w];
        sp->last[w] = UINT32_MAX - 3; /* released once even if read twice */
    }
}

static uint32_t plan_take(slot_plan *sp) { return sp->nfree > 0 ? sp->free[--sp->nfree] : sp->nslots++; }

static ovl_err assign_slots(ovl_gc_state *st, const uint32_t *order)
{
    ovl_err rc = OVL_OK;
    const ovl_circuit *c = st->c;
    slot_plan sp = {0};
    ovl_gc_op *ops = st->ops;
    OVL_TRY(plan_last_use(&sp, c, order));
    for (uint32_t w = 0; w < c->in_bits; w++)
        sp.slot[w] = w;
    sp.nslots = c->in_bits;
    /* ZERO, DELTA and SINK are numbered after the last slot: fixed up below. */
    const uint32_t ZERO = UINT32_MAX - 2, DELTA = UINT32_MAX - 1, SINK = UINT32_MAX;
    for (uint32_t g = 0; g < c->ngates; g++) {
        const ovl_gate *x = &c->gates[order[g]];
        ovl_gc_op *f = &ops[g];
        f->b = ZERO;
        switch (x->op) {
        case OVL_GATE_XOR:
        case OVL_GATE_AND: f->a = sp.slot[x->a], f->b = sp.slot[x->b]; break;
        case OVL_GATE_INV: f->a = sp.slot[x->a], f->b = DELTA; break;
        case OVL_GATE_CONST: f->a = x->a ? DELTA : ZERO; break;
        default: f->a = sp.slot[x->a]; break;
        }
        if (x->op != OVL_GATE_CONST)
            plan_release(&sp, x->a, g);
        if (x->op == OVL_GATE_XOR || x->op == OVL_GATE_AND)
            plan_release(&sp, x->b, g);
        f->out = sp.last[x->out] == UINT32_MAX - 2 ? SINK : (sp.slot[x->out] = plan_take(&sp));
    }
    for (uint32_t g = 0; g < c->ngates; g++) {
        uint32_t *f[3] = {&ops[g].a, &ops[g].b, &ops[g].out};
        for (int k = 0; k < 3; k++)
            if (*f[k] >= UINT32_MAX - 2)
                *f[k] = sp.nslots + (*f[k] - (UINT32_MAX - 2));
    }
    OVL_TRY(ovl_calloc((void **)&st->out_slot, c->out_bits + 1, sizeof *st->out_slot));
    for (uint32_t i = 0; i < c->out_bits; i++)
        st->out_slot[i] = sp.slot[c->outputs[i]];
    st->nslots = sp.nslots;
done:
    free(sp.last);
    free(sp.slot);
    free(sp.free);
    return rc;
}

uint64_t ovl_gc_tweaks_needed(const ovl_circuit *c) { return 2 * (uint64_t)c->nand + c->out_bits; }

ovl_err ovl_gc_state_init(ovl_gc_state *st, const ovl_circuit *c, ovl_hash *hash, bool garbler,
                          ovl_block delta, const ovl_tweak_stream *tweaks, uint64_t tweak_base)
{
    ovl_err rc = OVL_OK;
    uint32_t *order = NULL;
    memset(st, 0, sizeof *st);
    st->c = c;
    st->hash = hash;
    st->garbler = garbler;
    st->delta = garbler ? delta : ovl_block_zero();
    st->tweak_id = tweaks->id;
    st->tweak_base = tweak_base;
    OVL_TRY(ovl_calloc((void **)&order, (size_t)c->ngates + 1, sizeof *order));
    OVL_TRY(exec_order(order, c));
    OVL_TRY(ovl_calloc((void **)&st->ops, c->ngates + 1, sizeof *st->ops));
    OVL_TRY(find_deps(st->ops, c, order));
    OVL_TRY(assign_slots(st, order));
    OVL_TRY(ovl_calloc((void **)&st->w, (size_t)st->nslots + 3, sizeof *st->w));
    st->w[st->nslots + 1] = garbler ? delta : ovl_block_zero();
    OVL_TRY(ovl_calloc((void **)&st->scratch, GC_SCRATCH, sizeof *st->scratch));
    OVL_TRY(ovl_calloc((void **)&st->batch, GC_BATCH, sizeof *st->batch));
done:
    free(order);
    if (rc != OVL_OK)
        ovl_gc_state_free(st);
    return rc;
}

void ovl_gc_state_restart(ovl_gc_state *st, uint64_t tweak_base)
{
    /* Every wire is written before it is read, so labels need no clearing. */
    st->next_gate = st->ands_done = st->nbatch = 0;
    st->tweak_base = tweak_base;
}

void ovl_gc_state_free(ovl_gc_state *st)
{
    /* Labels and Δ are the garbler's secrets; the evaluator's are its inputs'. */
    if (st->w != NULL)
        ovl_free_secret(st->w, ((size_t)st->nslots + 3) * sizeof *st->w);
    if (st->scratch != NULL)
        ovl_free_secret(st->scratch, GC_SCRATCH * sizeof *st->scratch);
    free(st->ops);
    free(st->out_slot);
    free(st->batch);
    sodium_memzero(&st->delta, sizeof st->delta);
    memset(st, 0, sizeof *st);
}

static ovl_block tweak(const ovl_gc_state *st, uint64_t k)
{
    return ovl_block_make(st->tweak_id, st->tweak_base + k);
}

/* The scratch of a batch (wiped when the state is freed): the hash inputs x,
 * π(x) and π(π(x) ⊕ tweak), 4 blocks per gate each for the garbler (A0,
 * A0 ⊕ Δ, B0, B0 ⊕ Δ), 2 for the evaluator (A, B). The arrays start a few
 * blocks apart from a multiple of 4 KiB, so the loads of one never wait on
 * stores to another that only look alike in their low address bits. */
static ovl_block *scratch_x(const ovl_gc_state *st) { return st->scratch; }
static ovl_block *scratch_p(const ovl_gc_state *st) { return st->scratch + GC_SCRATCH_STRIDE; }
static ovl_block *scratch_y(const ovl_gc_state *st) { return st->scratch + 2 * GC_SCRATCH_STRIDE; }

/* y[j] = p[j] ⊕ tweak of block j, where each gate's `per` blocks are hashed
 * under its two tweaks (id, 2k) and (id, 2k + 1), half of them each: the
 * tweaks come from a counter in a register, not from memory. The stream never
 * wraps (ovl_tweak_take), so a 64-bit add is the tweak's counter + 1. */
static void xor_tweaks(ovl_block *y, const ovl_block *p, uint32_t n, unsigned per, ovl_block tw)
{
    const ovl_block one = ovl_block_make(0, 1), two = ovl_block_make(0, 2);
    unsigned half = per / 2;
    for (uint32_t k = 0; k < n; k++) {
        ovl_block tw1 = _mm_add_epi64(tw, one);
        for (unsigned i = 0; i < half; i++) {
            y[per * k + i] = ovl_block_xor(p[per * k + i], tw);
            y[per * k + half + i] = ovl_block_xor(p[per * k + half + i], tw1);
        }
        tw = _mm_add_epi64(tw, two);
    }
}

/* The hashes of a batch: p = π(x), y = π(p ⊕ tweak); H = p ⊕ y, taken by the
 * caller as it builds or reads the tables. */
static ovl_err hash_batch(ovl_gc_state *st, unsigned per)
{
    ovl_err rc = OVL_OK;
    uint32_t n = st->nbatch;
    ovl_block *x = scratch_x(st), *p = scratch_p(st), *y = scratch_y(st);
    OVL_TRY(ovl_aes_ecb(&st->hash->pi, p, x, (size_t)per * n));
    xor_tweaks(y, p, n, per, tweak(st, 2 * (uint64_t)(st->ands_done - n)));
    OVL_TRY(ovl_aes_ecb(&st->hash->pi, y, y, (size_t)per * n));
done:
    return rc;
}

/* Garbler side of a batch: 4 hashes per gate, one table out per gate. */
static ovl_err flush_garble(ovl_gc_state *st, uint8_t *tables)
{
    ovl_err rc = OVL_OK;
    uint32_t n = st->nbatch;
    const ovl_block *x = scratch_x(st), *p = scratch_p(st), *y = scratch_y(st);
    ovl_block d = st->delta, *w = st->w;
    const uint32_t *out = st->batch;
    OVL_TRY(hash_batch(st, 4));
    for (uint32_t k = 0; k < n; k++) {
        ovl_block a0 = x[4 * k], b0 = x[4 * k + 2];
        ovl_block ha0 = ovl_block_xor(p[4 * k], y[4 * k]);
        ovl_block ha1 = ovl_block_xor(p[4 * k + 1], y[4 * k + 1]);
        ovl_block hb0 = ovl_block_xor(p[4 * k + 2], y[4 * k + 2]);
        ovl_block hb1 = ovl_block_xor(p[4 * k + 3], y[4 * k + 3]);
        unsigned pa = ovl_block_lsb(a0), pb = ovl_block_lsb(b0);
        ovl_block tg = ovl_block_xor(ovl_block_xor(ha0, ha1), ovl_block_select(pb, d));
        ovl_block wg = ovl_block_xor(ha0, ovl_block_select(pa, tg));
        ovl_block te = ovl_block_xor(ovl_block_xor(hb0, hb1), a0);
        ovl_block we = ovl_block_xor(hb0, ovl_block_select(pb, ovl_block_xor(te, a0)));
        w[out[k]] = ovl_block_xor(wg, we);
        ovl_block_store(tables + 32 * (size_t)k, tg);
        ovl_block_store(tables + 32 * (size_t)k + 16, te);
    }
done:
    return rc;
}

/* Evaluator side: 2 hashes per gate, one table in per gate. */
static ovl_err flush_evaluate(ovl_gc_state *st, const uint8_t *tables)
{
    ovl_err rc = OVL_OK;
    uint32_t n = st->nbatch;
    const ovl_block *x = scratch_x(st), *p = scratch_p(st), *y = scratch_y(st);
    ovl_block *w = st->w;
    const uint32_t *out = st->batch;
    OVL_TRY(hash_batch(st, 2));
    for (uint32_t k = 0; k < n; k++) {
        ovl_block a = x[2 * k], b = x[2 * k + 1];
        ovl_block ha = ovl_block_xor(p[2 * k], y[2 * k]);
        ovl_block hb = ovl_block_xor(p[2 * k + 1], y[2 * k + 1]);
        ovl_block tg = ovl_block_load(tables + 32 * (size_t)k);
        ovl_block te = ovl_block_load(tables + 32 * (size_t)k + 16);
        ovl_block wg = ovl_block_xor(ha, ovl_block_select(ovl_block_lsb(a), tg));
        ovl_block we = ovl_block_xor(hb, ovl_block_select(ovl_block_lsb(b), ovl_block_xor(te, a)));
        w[out[k]] = ovl_block_xor(wg, we);
    }
done:
    return rc;
}

typedef struct {
    ovl_buf *out;        /* garbler */
    const uint8_t *in;   /* evaluator */
    uint32_t budget;     /* tables this call may produce or consume */
    uint32_t used;
} gc_io;

static ovl_err flush(ovl_gc_state *st, gc_io *io)
{
    ovl_err rc = OVL_OK;
    uint8_t *p;
    if (st->nbatch == 0)
        return OVL_OK;
    if (st->garbler) {
        OVL_TRY(ovl_buf_reserve(io->out, (size_t)st->nbatch * OVL_GC_TABLE_BYTES, &p));
        OVL_TRY(flush_garble(st, p));
    } else {
        OVL_TRY(flush_evaluate(st, io->in));
        io->in += (size_t)st->nbatch * OVL_GC_TABLE_BYTES;
    }
    st->nbatch = 0;
done:
    return rc;
}

/* The gate walk, in execution order. An AND gate joins the batch: its input
 * labels are gathered now (the slots it frees may be written before the batch
 * is hashed); the garbler's hash inputs are A0, A0 ⊕ Δ, B0, B0 ⊕ Δ, the
 * evaluator's A and B. A gate reading an AND output still in the batch (the
 * batch holds the ANDs numbered from `first` on, so exactly when its dep
 * exceeds `first`) flushes it first, as does an AND gate finding the batch
 * full. Free gates are out = w[a] ⊕ w[b] without a branch on their type. The
 * walk keeps its cursor, the slot array and the batch in locals: a label
 * store may alias any field of st, which would otherwise be reloaded after
 * every gate. `garbler` is a constant at each call, so each side gets its own
 * loop. */
static inline __attribute__((always_inline)) ovl_err walk(ovl_gc_state *st, gc_io *io,
                                                          const bool garbler)
{
    ovl_err rc = OVL_OK;
    const ovl_gc_op *ops = st->ops;
    ovl_block *w = st->w, *x = scratch_x(st), d = st->delta;
    uint32_t *batch = st->batch;
    uint32_t g = st->next_gate, end = st->c->ngates, used = io->used, budget = io->budget;
    uint32_t nb = st->nbatch, first = st->ands_done - nb;
    while (g < end) {
        const ovl_gc_op o = ops[g];
        if ((o.meta >> 1) > first || ((o.meta & 1u) && nb == GC_BATCH)) {
            OVL_TRY(flush(st, io));
            first += nb;
            nb = 0;
        }
        if (o.meta & 1u) {
            if (used == budget)
                break;
            ovl_block a = w[o.a], b = w[o.b];
            if (garbler) {
                x[4 * nb] = a, x[4 * nb + 1] = ovl_block_xor(a, d);
                x[4 * nb + 2] = b, x[4 * nb + 3] = ovl_block_xor(b, d);
            } else {
                x[2 * nb] = a, x[2 * nb + 1] = b;
            }
            batch[nb++] = o.out;
            st->nbatch = nb;
            st->ands_done = first + nb;
            used++;
        } else {
            w[o.out] = ovl_block_xor(w[o.a], w[o.b]);
        }
        g++;
    }
    OVL_TRY(flush(st, io));
done:
    st->next_gate = g;
    io->used = used;
    return rc;
}

static ovl_err run(ovl_gc_state *st, gc_io *io)
{
    return st->garbler ? walk(st, io, true) : walk(st, io, false);
}

ovl_err ovl_gc_garble(ovl_gc_state *st, ovl_buf *out, uint32_t max_tables, uint32_t *ntables)
{
    gc_io io = {.out = out, .budget = max_tables};
    ovl_err rc = st->garbler ? run(st, &io) : ovl_err_set(OVL_ERR_INTERNAL, "garble: not a garbler");
    *ntables = io.used;
    return rc;
}

ovl_err ovl_gc_evaluate(ovl_gc_state *st, const uint8_t *tables, uint32_t ntables)
{
    if (st->garbler)
        return ovl_err_set(OVL_ERR_INTERNAL, "evaluate: not an evaluator");
    if (ntables > st->c->nand - st->ands_done)
        return ovl_err_set(OVL_ERR_PROTOCOL,
                           "garbled tables: %u sent, but the circuit has only %u AND gates left",
                           ntables, st->c->nand - st->ands_done);
    gc_io io = {.in = tables, .budget = ntables};
    return run(st, &io);
}

/* The one branch on whether an output label is valid. Its outcome is public
 * (an invalid label fails the run), so it is kept apart, never inlined, and
 * named in tests/ct/ct.supp; each path returns a constant, so nothing after
 * it depends on a secret. */
__attribute__((noinline)) static ovl_err label_verdict(unsigned valid, bool forged, uint32_t i)
{
    if (valid)
        return OVL_OK;
    if (forged)
        return ovl_err_set(OVL_ERR_CRYPTO, "garbled circuit: output label %u from the evaluator "
                                           "is neither of the wire's labels (a forged output)", i);
    return ovl_err_set(OVL_ERR_CRYPTO, "garbled circuit: output bit %u matches neither label "
                                       "(tables or input labels were altered)", i);
}

/* Output tags (SPEC §GC.5): the first 8 bytes of H(label, (id, base + 2·nand +
 * i)) for the m outputs i0 .. i0 + m - 1 (m <= GC_BATCH), `per` labels each,
 * read from the scratch's x[per·k + j]: one hashed batch instead of two
 * small AES calls per label. */
static ovl_err out_tags(ovl_gc_state *st, uint8_t (*tags)[OVL_GC_TAG_BYTES], uint32_t i0,
                        uint32_t m, unsigned per)
{
    ovl_err rc = OVL_OK;
    const ovl_block *x = scratch_x(st), one = ovl_block_make(0, 1);
    ovl_block *p = scratch_p(st), *y = scratch_y(st);
    ovl_block tw = tweak(st, 2 * (uint64_t)st->c->nand + i0);
    uint8_t tmp[16];
    OVL_TRY(ovl_aes_ecb(&st->hash->pi, p, x, (size_t)per * m));
    for (uint32_t k = 0; k < m; k++, tw = _mm_add_epi64(tw, one))
        for (unsigned j = 0; j < per; j++)
            y[per * k + j] = ovl_block_xor(p[per * k + j], tw);
    OVL_TRY(ovl_aes_ecb(&st->hash->pi, y, y, (size_t)per * m));
    for (size_t k = 0; k < (size_t)per * m; k++) {
        ovl_block_store(tmp, ovl_block_xor(p[k], y[k]));
        memcpy(tags[k], tmp, OVL_GC_TAG_BYTES);
    }
done:
    sodium_memzero(tmp, sizeof tmp);
    return rc;
}

ovl_err ovl_gc_decode_info(ovl_gc_state *st, uint8_t *permute, uint8_t (*tags)[2][OVL_GC_TAG_BYTES])
{
    ovl_err rc = OVL_OK;
    ovl_block *x = scratch_x(st);
    OVL_ENSURE(st->garbler && ovl_gc_state_done(st), OVL_ERR_INTERNAL,
               "decode info before the circuit was garbled");
    for (uint32_t i0 = 0; i0 < st->c->out_bits; i0 += GC_BATCH) {
        uint32_t m = st->c->out_bits - i0 < GC_BATCH ? st->c->out_bits - i0 : GC_BATCH;
        for (uint32_t k = 0; k < m; k++) {
            ovl_block z = st->w[st->out_slot[i0 + k]];
            unsigned p = ovl_block_lsb(z);
            /* x[2k] has lsb 0, x[2k + 1] lsb 1 (lsb Δ = 1): the order reveals only
             * the permute bit, and is chosen without a secret-dependent index. */
            x[2 * k] = ovl_block_xor(z, ovl_block_select(p, st->delta));
            x[2 * k + 1] = ovl_block_xor(x[2 * k], st->delta);
            permute[i0 + k] = (uint8_t)p;
        }
        OVL_TRY(out_tags(st, tags[i0], i0, m, 2));
    }
done:
    return rc;
}

/* 1 when two check tags are equal, without a branch on their bytes: one
 * 8-byte word each (sodium_memcmp, a call per tag, was 3 % of a run). */
static inline unsigned tag_eq(const uint8_t a[OVL_GC_TAG_BYTES], const uint8_t b[OVL_GC_TAG_BYTES])
{
    _Static_assert(OVL_GC_TAG_BYTES == 8, "a tag is one 64-bit word");
    uint64_t x, y;
    memcpy(&x, a, 8);
    memcpy(&y, b, 8);
    uint64_t d = x ^ y;
    return (unsigned)(1u ^ ((d | (0 - d)) >> 63));
}

ovl_err ovl_gc_decode(ovl_gc_state *st, uint8_t *bits, const uint8_t *permute,
                      const uint8_t (*tags)[2][OVL_GC_TAG_BYTES])
{
    ovl_err rc = OVL_OK;
    uint8_t mine[GC_BATCH][OVL_GC_TAG_BYTES];
    ovl_block *x = scratch_x(st);
    OVL_ENSURE(!st->garbler && ovl_gc_state_done(st), OVL_ERR_INTERNAL,
               "decode before the circuit was evaluated");
    for (uint32_t i0 = 0; i0 < st->c->out_bits; i0 += GC_BATCH) {
        uint32_t m = st->c->out_bits - i0 < GC_BATCH ? st->c->out_bits - i0 : GC_BATCH;
        for (uint32_t k = 0; k < m; k++)
            x[k] = st->w[st->out_slot[i0 + k]];
        OVL_TRY(out_tags(st, mine, i0, m, 1));
        for (uint32_t k = 0; k < m; k++) {
            uint32_t i = i0 + k;
            unsigned s = ovl_block_lsb(x[k]);
            /* Both tags compared, the one matching the label's lsb kept: no index by a secret. */
            unsigned eq0 = tag_eq(mine[k], tags[i][0]);
            unsigned eq1 = tag_eq(mine[k], tags[i][1]);
            OVL_TRY(label_verdict((eq0 & (s ^ 1)) | (eq1 & s), false, i));
            bits[i] = (uint8_t)(s ^ (permute[i] & 1));
        }
    }
done:
    sodium_memzero(mine, sizeof mine);
    return rc;
}

ovl_block ovl_gc_output_label(const ovl_gc_state *st, uint32_t i)
{
    return st->w[st->out_slot[i]];
}

ovl_err ovl_gc_check_label(ovl_block zero, ovl_block delta, ovl_block label, uint32_t i,
                           uint8_t *bit)
{
    unsigned is0 = ovl_block_eq(label, zero), is1 = ovl_block_eq(label, ovl_block_xor(zero, delta));
    *bit = (uint8_t)is1;
    return label_verdict(is0 | is1, true, i);
}

ovl_err ovl_gc_check_output(const ovl_gc_state *st, uint32_t i, ovl_block label, uint8_t *bit)
{
    return ovl_gc_check_label(st->w[st->out_slot[i]], st->delta, label, i, bit);
}
