/* COMPARE, RELEASE and DONE of the aggregate v2 core (SPEC §8.2–§8.3):
 * one garbled comparison per shuffled record (the helper garbles, the
 * receiver evaluates, both learn the bits), the helper's shares of the
 * passing records, and the receiver's DONE, sent whatever the opened records
 * hold: no check on combined shares aborts. */
#include <stdlib.h>
#include <string.h>

#include "aggregate/agg2_core_state.h"
#include "core/guard.h"
#include "core/mem.h"

ovl_err agg2_core_compare_start(agg2_core *c)
{
    ovl_err rc = OVL_OK;
    c->phase = CORE_COMPARE;
    OVL_TRY(ovl_agg2_threshold_circuit(&c->circ, c->in.threshold));
    c->circ_live = true;
    OVL_TRY(ovl_calloc((void **)&c->gc_in, c->K * OVL_AGG2_D_BITS, 1));
    OVL_TRY(ovl_calloc((void **)&c->pass_bits, c->K, 1));
    for (size_t i = 0; i < c->K; i++)
        ovl_agg2_threshold_bits(c->gc_in + i * OVL_AGG2_D_BITS, c->cur[i * c->W]);
    ovl_gc_config gc = {
        .role = c->in.receiver ? OVL_GC_EVALUATOR : OVL_GC_GARBLER,
        .party = (unsigned)c->in.role,
        .circuit = &c->circ,
        .garbler_inputs = 1, /* the first of the circuit's two 32-bit inputs */
        .instances = (uint32_t)c->K,
        .reveal = OVL_GC_REVEAL_BOTH,
        .input = c->gc_in,
        .rng = c->in.rng,
        .pi_key = c->gc_pi,
        .fold_garbler_inputs = true,
    };
    OVL_TRY(ovl_gc_new(&c->gc, &gc));
done:
    return rc;
}

ovl_err agg2_core_compare_poll(agg2_core *c)
{
    ovl_err rc = OVL_OK;
    if (c->phase != CORE_COMPARE || c->gc == NULL || !ovl_gc_ops.done(c->gc))
        goto done;
    c->r = 0;
    for (uint32_t i = 0; i < c->K; i++) {
        const uint8_t *o = ovl_gc_output(c->gc, i);
        OVL_ENSURE(o != NULL, OVL_ERR_INTERNAL, "aggregate: comparison %u has no output", i);
        c->pass_bits[i] = o[0] & 1u;
        c->r += c->pass_bits[i];
    }
    ovl_gc_free(c->gc);
    c->gc = NULL;
    if (c->in.receiver) {
        c->phase = CORE_RELEASE;
        goto done;
    }
    /* the helper's shares of the passing records, ascending */
    size_t mark;
    OVL_TRY(ovl_frame_begin(&c->q, OVL_AGG2_RELEASE, &mark));
    OVL_TRY(ovl_agg2_release_write(&c->q, c->cur, c->W, c->pass_bits, c->K));
    OVL_TRY(ovl_frame_end(&c->q, mark));
    c->phase = CORE_DONE_WAIT;
done:
    return rc;
}

ovl_err agg2_core_on_release(agg2_core *c, const uint8_t *payload, size_t len)
{
    ovl_err rc = OVL_OK;
    ovl_buf in;
    size_t r = 0;
    ovl_buf_reader(&in, payload, len);
    OVL_TRY(ovl_calloc((void **)&c->opened, c->r ? c->r * c->W : 1, sizeof *c->opened));
    OVL_TRY(ovl_calloc((void **)&c->ok, c->r ? c->r : 1, 1));
    OVL_TRY(ovl_agg2_release_read(&in, c->cur, c->W, c->pass_bits, c->K, c->opened, &r));
    OVL_ENSURE(r == c->r, OVL_ERR_INTERNAL, "aggregate: %zu records opened of %llu passing", r,
               (unsigned long long)c->r);
    c->inconsistent = ovl_agg2_release_classify(c->ok, c->opened, r, &c->in.l, c->in.threshold);
    OVL_TRY(agg2_core_queue(c, OVL_AGG2_DONE, NULL, 0));
    c->phase = CORE_END;
done:
    return rc;
}

ovl_err agg2_core_on_done(agg2_core *c, size_t len)
{
    ovl_err rc = OVL_OK;
    OVL_ENSURE(len == 0, OVL_ERR_MALFORMED, "aggregate: DONE carries %zu bytes (none)", len);
    c->phase = CORE_END;
done:
    return rc;
}

void agg2_core_release_free(agg2_core *c)
{
    ovl_gc_free(c->gc);
    c->gc = NULL;
    if (c->circ_live)
        ovl_circuit_free(&c->circ);
    c->circ_live = false;
    ovl_free_secret(c->gc_in, c->K * OVL_AGG2_D_BITS);
    free(c->pass_bits);
    ovl_free_secret(c->opened, (c->r ? c->r * c->W : 1) * sizeof *c->opened);
    free(c->ok);
    c->gc_in = NULL;
    c->pass_bits = NULL;
    c->opened = NULL;
    c->ok = NULL;
}
