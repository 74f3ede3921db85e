/* The PAIRS phase of the aggregate v2 core (CONDITIONS.md §4.3): the bin
 * circuit of every cuckoo bin, garbled by the contributor with its inputs
 * folded (its share of its rows, its fresh output masks) and evaluated by the
 * runner (its rows, its share of the contributor's), output to the runner
 * only. The bins go in chunks of at most PAIRS_CHUNK, one garbled-circuit
 * engine each, started by both parties as soon as the previous chunk is done
 * on their side (frames arrive in order, so the peer's next chunk never
 * overtakes this one). After the last chunk each party holds its XOR shares
 * z of every pair-cell bit and flag, and PRODUCTS follows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate/agg2_core_state.h"
#include "core/guard.h"
#include "core/mem.h"

#define PAIRS_CHUNK 16384u /* bins per garbled run: bounds the circuit inputs held */

static size_t chunk_bins(const agg2_core *c)
{
    size_t most = ovl_pp_gc_bins_max(&c->pp);
    return most < PAIRS_CHUNK ? most : PAIRS_CHUNK;
}

static void chunk_free(agg2_core *c)
{
    size_t in_bits = c->in.runner ? ovl_pp_evaluator_bits(&c->pp) : ovl_pp_garbler_bits(&c->pp);
    ovl_gc_free(c->pgc);
    c->pgc = NULL;
    ovl_free_secret(c->pgc_in, c->pgc_in ? chunk_bins(c) * in_bits : 0);
    c->pgc_in = NULL;
}

static ovl_err chunk_start(agg2_core *c)
{
    ovl_err rc = OVL_OK;
    const ovl_pp_layout *l = &c->pp;
    size_t step = chunk_bins(c), ob = ovl_pp_out_bits(l), at = c->pairs_at;
    size_t in_bits = c->in.runner ? ovl_pp_evaluator_bits(l) : ovl_pp_garbler_bits(l);
    char label[48];
    uint8_t pi[16];
    c->pairs_cnt = c->in.bins - at < step ? c->in.bins - at : step;
    OVL_TRY(ovl_calloc((void **)&c->pgc_in, step * in_bits, 1));
    const uint8_t *crow = c->in.crow + at * ovl_pp_contrib_bits(l);
    if (c->in.runner)
        OVL_TRY(ovl_pp_evaluator_input(c->pgc_in, l, c->in.rrow + at * ovl_pp_runner_bits(l),
                                       crow, c->pairs_cnt));
    else
        OVL_TRY(ovl_pp_garbler_input(c->pgc_in, c->z + at * ob, l, crow, c->pairs_cnt,
                                     c->in.rng));
    /* each chunk's garbling under its own π key */
    snprintf(label, sizeof label, "overlap-agg2 pairs gc pi %zu", at / step);
    agg2_core_sub_key(pi, c->in.transcript, label);
    ovl_gc_config gc = {
        .role = c->in.runner ? OVL_GC_EVALUATOR : OVL_GC_GARBLER,
        .party = (unsigned)c->in.role,
        .circuit = &c->pcirc,
        .garbler_inputs = 2,
        .instances = (uint32_t)c->pairs_cnt,
        .reveal = OVL_GC_REVEAL_EVALUATOR,
        .input = c->pgc_in,
        .rng = c->in.rng,
        .pi_key = pi,
        .fold_garbler_inputs = true,
    };
    OVL_TRY(ovl_gc_new(&c->pgc, &gc));
done:
    return rc;
}

ovl_err agg2_core_pairs_start(agg2_core *c)
{
    ovl_err rc = OVL_OK;
    c->phase = CORE_PAIRS;
    OVL_TRY(ovl_circuit_pairs(&c->pcirc, &c->pp.s));
    c->pcirc_live = true;
    c->pairs_at = 0;
    if (c->in.bins == 0) {
        c->phase = CORE_PRODUCTS;
        OVL_TRY(agg2_core_advance(c));
        goto done;
    }
    OVL_TRY(chunk_start(c));
done:
    return rc;
}

ovl_err agg2_core_pairs_poll(agg2_core *c)
{
    ovl_err rc = OVL_OK;
    if (c->phase != CORE_PAIRS || c->pgc == NULL || !ovl_gc_ops.done(c->pgc))
        goto done;
    size_t ob = ovl_pp_out_bits(&c->pp);
    /* the runner's shares are its outputs; the contributor's are its masks */
    for (uint32_t i = 0; c->in.runner && i < c->pairs_cnt; i++) {
        const uint8_t *o = ovl_gc_output(c->pgc, i);
        OVL_ENSURE(o != NULL, OVL_ERR_INTERNAL, "aggregate: bin circuit %zu has no output",
                   c->pairs_at + i);
        memcpy(c->z + (c->pairs_at + i) * ob, o, ob);
    }
    chunk_free(c);
    c->pairs_at += c->pairs_cnt;
    if (c->pairs_at < c->in.bins) {
        OVL_TRY(chunk_start(c));
        goto done;
    }
    c->phase = CORE_PRODUCTS;
    OVL_TRY(agg2_core_advance(c));
done:
    return rc;
}

void agg2_core_pairs_free(agg2_core *c)
{
    if (!c->has_pairs)
        return;
    chunk_free(c);
    if (c->pcirc_live)
        ovl_circuit_free(&c->pcirc);
    c->pcirc_live = false;
    ovl_free_secret(c->z, (size_t)c->in.bins * ovl_pp_out_bits(&c->pp) + 1);
    c->z = NULL;
}
