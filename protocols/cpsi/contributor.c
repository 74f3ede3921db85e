/* overlap: the contributor's side of circuit PSI (SPEC.md §5.3, §6): the
 * programmed key-value store mapping F(h_j(y), y) to (check value, masked
 * payload) of bin h_j(y). */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/guard.h"
#include "core/mem.h"
#include "cpsi/state.h"

static ovl_err queue_store(ovl_cpsi *p);

/* The bit payload's secrets of every bin, drawn after the others (so a run
 * without it draws what it always did): the masks μ of the bit words and the
 * output masks ρ, which are this party's XOR shares of β and φ. With a gate
 * stride (SPEC.md §6.6) an ungated bit's share is its mask μ itself: only the
 * gated bits and their ρ are circuit inputs, and there is no φ. */
static ovl_err draw_bit_secrets(ovl_cpsi *p)
{
    ovl_err rc = OVL_OK;
    size_t in_bits = cpsi_garbler_bits(p), gw = (size_t)p->G * p->w, ng = p->ng;
    size_t nf = p->gate == 0 ? p->G : 0u;
    OVL_TRY(ovl_calloc((void **)&p->mu, (size_t)p->bins * p->nbw, sizeof *p->mu));
    ovl_rng_bytes(&p->rng, p->mu, (size_t)p->bins * p->nbw * sizeof *p->mu);
    ovl_rng_bytes(&p->rng, p->beta, (size_t)p->bins * gw);
    if (nf > 0)
        ovl_rng_bytes(&p->rng, p->phi, (size_t)p->bins * nf);
    for (uint32_t b = 0; b < p->bins; b++) {
        uint8_t *in = p->gc_in + b * in_bits + p->sigma + 1u, *beta = p->beta + b * gw;
        uint64_t *mu = p->mu + (size_t)b * p->nbw;
        if (gw % 64 != 0) /* the last word's spare bits stay 0 */
            mu[p->nbw - 1] &= ~(UINT64_MAX << (gw % 64));
        for (size_t k = 0, g = 0; k < gw; k++) {
            uint8_t m = (uint8_t)((mu[k / 64] >> (k % 64)) & 1u);
            if (!cpsi_gated(p, k)) {
                beta[k] = m;
                continue;
            }
            beta[k] &= 1u;
            in[g] = m;
            in[ng + g] = beta[k];
            g++;
        }
        for (size_t c = 0; c < nf; c++) {
            p->phi[b * nf + c] &= 1u;
            in[2 * ng + c] = p->phi[b * nf + c];
        }
    }
done:
    return rc;
}

/* Per bin: a random σ-bit check value t and mask bit r (the garbler's
 * inputs) and a random mask vector m, our additive share of the payload. */
static ovl_err draw_bin_secrets(ovl_cpsi *p)
{
    ovl_err rc = OVL_OK;
    size_t in_bits = cpsi_garbler_bits(p);
    p->gc_in_len = (size_t)p->bins * in_bits;
    OVL_TRY(ovl_calloc((void **)&p->gc_in, p->gc_in_len, 1));
    ovl_rng_bytes(&p->rng, p->vec, (size_t)p->bins * p->words * sizeof *p->vec);
    for (uint32_t b = 0; b < p->bins; b++) {
        uint64_t t, r;
        ovl_rng_bytes(&p->rng, &t, sizeof t);
        ovl_rng_bytes(&p->rng, &r, sizeof r);
        ovl_bits_from_u64(p->gc_in + b * in_bits, p->sigma, t & cpsi_sigma_mask(p));
        p->gc_in[b * in_bits + p->sigma] = (uint8_t)(r & 1u);
        p->match[b] = (uint8_t)(r & 1u);
        sodium_memzero(&t, sizeof t);
    }
    if (p->G > 0)
        OVL_TRY(draw_bit_secrets(p));
done:
    return rc;
}

static uint64_t check_value(const ovl_cpsi *p, uint32_t b)
{
    return ovl_bits_to_u64(p->gc_in + (size_t)b * cpsi_garbler_bits(p), p->sigma);
}

/* The bits of y's counts, bit j of group c at c·w + j of the packed words. */
static void pack_counts(const ovl_cpsi *p, size_t y, uint64_t *bits)
{
    const uint16_t *n = p->cfg.bit_counts + y * p->G;
    memset(bits, 0, p->nbw * sizeof *bits);
    for (uint32_t c = 0; c < p->G; c++)
        for (uint32_t j = 0; j < p->w; j++) {
            size_t k = (size_t)c * p->w + j;
            bits[k / 64] |= (uint64_t)((n[c] >> j) & 1u) << (k % 64);
        }
}

/* The spare entry's value H_s(F || j): keyed with the OPRF key s, which the
 * runner does not hold. Derived from F alone, a runner holding F (y in its
 * bin) could decode the spare entry too and compare it with the bin's own:
 * equal exactly when y ∈ Y (SPEC.md §6.1). */
static void spare_value(const ovl_cpsi *p, uint8_t f[OVL_OPRF_OUT], unsigned j)
{
    uint8_t in[OVL_OPRF_OUT + 1], key[16 * OVL_OPRF_BLOCKS];
    for (unsigned k = 0; k < OVL_OPRF_BLOCKS; k++)
        ovl_block_store(key + 16 * k, p->s[k]);
    memcpy(in, f, OVL_OPRF_OUT);
    in[OVL_OPRF_OUT] = (uint8_t)j;
    crypto_generichash(f, OVL_OPRF_OUT, in, sizeof in, key, sizeof key);
    sodium_memzero(in, sizeof in);
    sodium_memzero(key, sizeof key);
}

/* F(h_j(y), y) for the three functions; when two functions of y pick the
 * same bin, the later one's value is a spare (spare_value), so the store's
 * keys stay distinct and the runner can look the spare up nowhere. */
static void entry_values(const ovl_cpsi *p, const uint32_t *cand, const ovl_block *code,
                         uint8_t f[OVL_CUCKOO_HASHES][OVL_OPRF_OUT])
{
    for (unsigned j = 0; j < OVL_CUCKOO_HASHES; j++) {
        uint32_t b = cand[j];
        ovl_oprf_eval(f[j], b, p->qrows + (size_t)b * OVL_OPRF_BLOCKS, code, p->s);
        for (unsigned i = 0; i < j; i++)
            if (cand[i] == b) {
                spare_value(p, f[j], j);
                break;
            }
    }
}

/* One entry per identifier y and function j: key and pads from
 * F(h_j(y), y), value (t_b ⊕ pad_0, payload(y) − m_b + pad_l,
 * bits(y) ⊕ μ_b ⊕ pad) for b = h_j(y). Runs in a job on identifiers
 * y0 .. y0 + n − 1, writing only their entries (keys and vals point at
 * entry 3·y0). */
ovl_err cpsi_store_entries(const ovl_cpsi *p, size_t y0, size_t n, ovl_block *keys,
                           uint64_t *vals)
{
    ovl_err rc = OVL_OK;
    size_t w = p->sw, L = p->words, nc = (n ? n : 1) * OVL_OPRF_BLOCKS;
    uint64_t *pads = NULL, *bits = NULL;
    ovl_block *code = NULL;
    uint8_t f[OVL_CUCKOO_HASHES][OVL_OPRF_OUT];
    ovl_aes kc = {0};
    OVL_TRY(ovl_calloc((void **)&pads, w, sizeof *pads));
    OVL_TRY(ovl_calloc((void **)&bits, p->nbw ? p->nbw : 1, sizeof *bits));
    OVL_TRY(ovl_calloc((void **)&code, nc, sizeof *code));
    OVL_TRY(ovl_aes_init(&kc, p->code_key));
    OVL_TRY(ovl_oprf_code(&kc, p->digest + y0, n, code));
    for (size_t y = y0; y < y0 + n; y++) {
        entry_values(p, p->cand + 3u * y, code + (y - y0) * OVL_OPRF_BLOCKS, f);
        if (p->G > 0)
            pack_counts(p, y, bits);
        for (unsigned j = 0; j < OVL_CUCKOO_HASHES; j++) {
            size_t e = 3u * y + j, k = e - 3u * y0;
            uint32_t b = p->cand[e];
            OVL_TRY(cpsi_derive(f[j], &keys[k], pads, (uint32_t)w));
            uint64_t *v = vals + k * w;
            v[0] = check_value(p, b) ^ pads[0];
            for (uint32_t l = 0; l < p->words; l++)
                v[1 + l] = p->cfg.payload[y * p->words + l] - p->vec[(size_t)b * p->words + l] +
                           pads[1 + l];
            for (uint32_t q = 0; q < p->nbw; q++)
                v[1 + L + q] = bits[q] ^ p->mu[(size_t)b * p->nbw + q] ^ pads[1 + L + q];
        }
    }
done:
    ovl_aes_free(&kc);
    sodium_memzero(f, sizeof f);
    ovl_free_secret(bits, (p->nbw ? p->nbw : 1) * sizeof *bits);
    ovl_free_secret(code, nc * sizeof *code);
    ovl_free_secret(pads, w * sizeof *pads);
    return rc;
}

/* Every identifier's entries are in: encode the store, in a job (the run's
 * stream is drawn there, after the bins' secrets, as when it was one step). */
ovl_err cpsi_contrib_store_done(ovl_cpsi *p)
{
    p->table_job = true;
    return cpsi_jobs_put_table(p);
}

ovl_err cpsi_contrib_encoded(ovl_cpsi *p)
{
    ovl_err rc = OVL_OK;
    p->table_job = false;
    p->store_ready = true;
    cpsi_store_scratch_free(p);
    OVL_TRY(queue_store(p));
done:
    return rc;
}

void cpsi_store_scratch_free(ovl_cpsi *p)
{
    size_t n = 3u * (size_t)p->n_c, w = p->sw;
    ovl_free_secret(p->st_keys, (n ? n : 1) * sizeof *p->st_keys);
    ovl_free_secret(p->st_vals, (n ? n : 1) * w * sizeof *p->st_vals);
    ovl_free_secret(p->mu, (size_t)p->bins * p->nbw * sizeof *p->mu);
    ovl_free_secret(p->cand, (n ? n : 1) * sizeof *p->cand); /* our identifiers' bins */
    ovl_free_secret(p->qrows, (size_t)p->bins * OVL_OPRF_BLOCKS * sizeof *p->qrows);
    p->qrows = NULL;
    cpsi_oprf_free(p);
    p->st_keys = NULL;
    p->st_vals = NULL;
    p->mu = NULL;
    p->cand = NULL;
}

ovl_err cpsi_contrib_on_seed(ovl_cpsi *p, ovl_buf *in)
{
    ovl_err rc = OVL_OK;
    uint8_t seed[16], width = 0;
    uint16_t words;
    uint32_t groups = 0, gate = 0;
    OVL_ENSURE(!p->seed_got, OVL_ERR_PROTOCOL, "the runner sent a second SEED");
    OVL_TRY(ovl_buf_get_bytes(in, seed, sizeof seed));
    OVL_TRY(ovl_buf_get_u16(in, &words));
    /* the bit payload's fields follow only when it is present */
    if (ovl_buf_remaining(in) != 0) {
        OVL_TRY(ovl_buf_get_u32(in, &groups));
        OVL_TRY(ovl_buf_get_u8(in, &width));
        OVL_ENSURE(groups > 0, OVL_ERR_MALFORMED, "SEED announces a bit payload of 0 groups");
        if (ovl_buf_remaining(in) != 0) {
            OVL_TRY(ovl_buf_get_u32(in, &gate));
            OVL_ENSURE(gate > 0, OVL_ERR_MALFORMED, "SEED announces a gate every 0 bits");
        }
    }
    OVL_TRY(ovl_buf_expect_end(in));
    OVL_ENSURE(words == p->words, OVL_ERR_POLICY,
               "the runner expects %u payload words per identifier, this party has %u",
               (unsigned)words, p->words);
    OVL_ENSURE(groups == p->G && width == p->w, OVL_ERR_POLICY,
               "the runner expects a bit payload of %u groups of %u bits per identifier, this "
               "party has %u of %u", groups, (unsigned)width, p->G, p->w);
    OVL_ENSURE(gate == p->gate, OVL_ERR_POLICY,
               "the runner gates every %u bits of the bit payload with the match, this party "
               "every %u (0: all)", gate, p->gate);
    p->seed_got = true;
    /* the OPRF's base OTs only once the runner's shape is accepted: a
     * refused run leaves this party's HELLO alone */
    OVL_TRY(cpsi_oprf_setup(p));
    size_t n = 3u * (size_t)p->n_c, w = p->sw;
    OVL_TRY(ovl_calloc((void **)&p->cand, n ? n : 1, sizeof *p->cand));
    OVL_TRY(ovl_cuckoo_candidates(p->cand, seed, p->bins, p->digest, (size_t)p->n_c));
    OVL_TRY(draw_bin_secrets(p));
    OVL_TRY(ovl_calloc((void **)&p->st_keys, n ? n : 1, sizeof *p->st_keys));
    OVL_TRY(ovl_calloc((void **)&p->st_vals, (n ? n : 1) * w, sizeof *p->st_vals));
    OVL_TRY(ovl_calloc((void **)&p->qrows, (size_t)p->bins * OVL_OPRF_BLOCKS, sizeof *p->qrows));
done:
    return rc;
}

ovl_err cpsi_contrib_oprf_done(ovl_cpsi *p)
{
    return p->n_c == 0 ? cpsi_contrib_store_done(p) : cpsi_jobs_put_store(p);
}

static ovl_err queue_store(ovl_cpsi *p)
{
    ovl_err rc = OVL_OK;
    p->okvs_expect = ovl_okvs_wire_len(3u * (size_t)p->n_c, p->sw);
    p->okvs_queued = true;
    p->okvs_pumping = true;
    p->okvs_at = 0;
    OVL_TRY(cpsi_contrib_pump(p));
done:
    return rc;
}

/* Queues the store's next slices while the send queue is under half full;
 * the garbled circuit starts once the last slice is queued (same frames in
 * the same order as queuing the whole store at once). */
ovl_err cpsi_contrib_pump(ovl_cpsi *p)
{
    ovl_err rc = OVL_OK;
    size_t len = p->okvs_expect, mark;
    uint8_t *body;
    if (!p->okvs_pumping)
        return OVL_OK;
    /* the queue's write position, not what is left in it: the queue is
     * reset only once drained, so its end must stay under the cap */
    while (p->okvs_at < len && ovl_buf_remaining(&p->q) < CPSI_PUMP_LOW(p)) {
        size_t k = len - p->okvs_at < OVL_CPSI_OKVS_SLICE ? len - p->okvs_at : OVL_CPSI_OKVS_SLICE;
        /* straight from the table: no second copy of it */
        cpsi_queue_room(p, OVL_FRAME_HDR + k);
        OVL_TRY(ovl_frame_begin(&p->q, OVL_CPSI_OKVS, &mark));
        OVL_TRY(ovl_buf_reserve(&p->q, k, &body));
        ovl_okvs_wire_slice(&p->okvs, p->okvs_at, k, body);
        OVL_TRY(ovl_frame_end(&p->q, mark));
        p->okvs_at += k;
    }
    if (p->okvs_at == len) {
        p->okvs_pumping = false;
        ovl_okvs_free(&p->okvs);
        OVL_TRY(cpsi_start_gc(p, p->gc_in));
    }
done:
    return rc;
}
