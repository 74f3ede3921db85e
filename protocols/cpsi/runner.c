/* overlap: the runner's side of circuit PSI (SPEC.md §5.2, §6): cuckoo
 * table, the bins' OPRF inputs, decoding of the key-value
 * store into each bin's check value and masked payload. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/guard.h"
#include "core/mem.h"
#include "cpsi/state.h"

/* SEED leaves right after our HELLO, before any OPRF_BASE. */
static ovl_err queue_seed(ovl_cpsi *p)
{
    uint8_t body[27];
    size_t len = 18;
    memcpy(body, p->ck.seed, 16);
    body[16] = (uint8_t)(p->words >> 8);
    body[17] = (uint8_t)p->words;
    if (p->G > 0) {
        for (int i = 0; i < 4; i++)
            body[18 + i] = (uint8_t)(p->G >> (24 - 8 * i));
        body[22] = (uint8_t)p->w;
        len = 23;
    }
    if (p->gate > 0) { /* only then, so that other runs keep their bytes */
        for (int i = 0; i < 4; i++)
            body[23 + i] = (uint8_t)(p->gate >> (24 - 8 * i));
        len = sizeof body;
    }
    return cpsi_queue_frame(p, OVL_CPSI_SEED, body, len);
}

ovl_err cpsi_runner_setup(ovl_cpsi *p)
{
    ovl_err rc = OVL_OK;
    OVL_TRY(ovl_cuckoo_build(&p->ck, p->digest, p->cfg.nids, &p->rng));
    OVL_ENSURE(p->ck.bins == p->bins, OVL_ERR_INTERNAL, "cpsi: cuckoo table of %u bins, not %u",
               p->ck.bins, p->bins);
    OVL_TRY(ovl_calloc((void **)&p->bin_d, p->bins, sizeof *p->bin_d));
    OVL_TRY(ovl_calloc((void **)&p->fval, p->bins, sizeof *p->fval));
    /* An empty bin asks for the OPRF at a random point: its value, and so
     * its decoded check value, is then as random as a non-member's. */
    ovl_rng_bytes(&p->rng, p->bin_d, (size_t)p->bins * sizeof *p->bin_d);
    for (uint32_t b = 0; b < p->bins; b++)
        if (p->ck.slot[b] != OVL_CUCKOO_EMPTY)
            p->bin_d[b] = p->digest[p->ck.slot[b]];
    p->okvs_expect = ovl_okvs_wire_len(3u * (size_t)p->n_c, p->sw);
    /* whole from the start: grown by doubling, it was copied and faulted in
     * again at every step (a 2^20 run's store is 458 MB) */
    OVL_TRY(ovl_buf_alloc(&p->okvs_in, p->okvs_expect, p->okvs_expect));
    OVL_TRY(queue_seed(p));
    OVL_TRY(cpsi_oprf_setup(p));
done:
    return rc;
}

/* The evaluator's bits of bin b: t', then the bit words q' unpadded (bit k
 * of the packed words at position k). With a gate stride, an ungated bit of
 * q' is not an input but this party's share itself (SPEC.md §6.6). */
static void bin_input(ovl_cpsi *p, uint32_t b, const uint64_t *d, const uint64_t *pads)
{
    size_t in_bits = cpsi_evaluator_bits(p), gw = (size_t)p->G * p->w, L = p->words;
    uint8_t *in = p->gc_in + (size_t)b * in_bits, *beta = p->beta + (size_t)b * gw;
    ovl_bits_from_u64(in, p->sigma, (d[0] ^ pads[0]) & cpsi_sigma_mask(p));
    for (size_t k = 0, g = 0; k < gw; k++) {
        uint8_t q = (uint8_t)(((d[1 + L + k / 64] ^ pads[1 + L + k / 64]) >> (k % 64)) & 1u);
        if (cpsi_gated(p, k))
            in[p->sigma + g++] = q;
        else
            beta[k] = q;
    }
    for (uint32_t l = 0; l < p->words; l++)
        p->vec[(size_t)b * p->words + l] = d[1 + l] - pads[1 + l];
}

/* Check value t', masked payload p' and masked bit words q' of bins
 * b0 .. b0 + n − 1: the store decoded under the bin's OPRF value, its pads
 * removed (SPEC.md §6.1, §6.5). Runs in a job writing only those bins. */
ovl_err cpsi_runner_decode(ovl_cpsi *p, uint32_t b0, uint32_t n)
{
    ovl_err rc = OVL_OK;
    size_t w = p->sw, nn = n ? n : 1;
    ovl_block *keys = NULL;
    uint64_t *dec = NULL, *pads = NULL;
    OVL_TRY(ovl_calloc((void **)&pads, w, sizeof *pads));
    OVL_TRY(ovl_calloc((void **)&keys, nn, sizeof *keys));
    OVL_TRY(ovl_calloc((void **)&dec, nn * w, sizeof *dec));
    for (uint32_t i = 0; i < n; i++)
        keys[i] = ovl_block_load(p->fval[b0 + i]); /* κ(f), §6.1 */
    OVL_TRY(ovl_okvs_view_decode(&p->okvs_view, dec, keys, n));
    for (uint32_t i = 0; i < n; i++) {
        OVL_TRY(cpsi_derive(p->fval[b0 + i], &keys[i], pads, (uint32_t)w));
        bin_input(p, b0 + i, dec + (size_t)i * w, pads);
    }
done:
    ovl_free_secret(pads, w * sizeof *pads);
    ovl_free_secret(keys, nn * sizeof *keys);
    ovl_free_secret(dec, nn * w * sizeof *dec);
    return rc;
}

ovl_err cpsi_runner_on_okvs(ovl_cpsi *p, const uint8_t *payload, size_t len)
{
    ovl_err rc = OVL_OK;
    OVL_ENSURE(p->oprf_base_got, OVL_ERR_PROTOCOL,
               "OKVS arrived before the contributor's OPRF_BASE (frames out of order)");
    OVL_ENSURE(p->gc == NULL, OVL_ERR_PROTOCOL, "OKVS after the key-value store was complete");
    OVL_ENSURE(len <= p->okvs_expect - ovl_buf_len(&p->okvs_in), OVL_ERR_PROTOCOL,
               "oversized key-value store: more than the %zu bytes agreed", p->okvs_expect);
    OVL_TRY(ovl_buf_put_bytes(&p->okvs_in, payload, len));
    OVL_TRY(cpsi_runner_after_final(p));
done:
    return rc;
}

/* The store is decoded once it is whole and every bin's OPRF value is known
 * (every OPRF_U made); either may come last. Its header is checked here;
 * the decoding runs as CPSI_DECODE_JOBS jobs over ranges of bins: while they
 * are out no frame is fed (cpsi_wants_input) and the engine's thread touches
 * neither the store nor the bins. */
ovl_err cpsi_runner_after_final(ovl_cpsi *p)
{
    ovl_err rc = OVL_OK;
    if (p->u_rows < p->bins || p->gc != NULL || p->table_job ||
        ovl_buf_len(&p->okvs_in) < p->okvs_expect)
        return OVL_OK;
    OVL_TRY(ovl_okvs_view_init(&p->okvs_view, p->okvs_in.data, ovl_buf_len(&p->okvs_in),
                               3u * (size_t)p->n_c, p->sw));
    p->gc_in_len = (size_t)p->bins * cpsi_evaluator_bits(p);
    OVL_TRY(ovl_calloc((void **)&p->gc_in, p->gc_in_len, 1));
    p->table_job = true;
    OVL_TRY(cpsi_jobs_put_decode(p));
done:
    return rc;
}

ovl_err cpsi_runner_decoded(ovl_cpsi *p)
{
    ovl_free_secret(p->fval, (size_t)p->bins * sizeof *p->fval);
    p->fval = NULL;
    ovl_free_secret(p->bin_d, (size_t)p->bins * sizeof *p->bin_d);
    p->bin_d = NULL;
    ovl_buf_free(&p->okvs_in);
    return cpsi_start_gc(p, p->gc_in);
}
