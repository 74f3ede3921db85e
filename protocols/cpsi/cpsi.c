/* overlap: the circuit-PSI engine (cpsi.h, SPEC.md §5–§8): HELLO, frame
 * dispatch, the garbled σ-bit equality and the output. The runner's and the
 * contributor's steps live in runner.c and contributor.c, the conversion of
 * match bits into shares of match × payload in share_phase.c. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/guard.h"
#include "core/mem.h"
#include "cpsi/state.h"
#include "mpc/hash.h"

static const char digest_label[] = "overlap-cpsi-v1-identifier";

uint32_t ovl_cpsi_bins(uint64_t n) { return ovl_cuckoo_bins((size_t)n); }

uint32_t ovl_cpsi_sigma(uint32_t bins)
{
    uint32_t lg = 0;
    while (lg < 32 && ((uint64_t)1 << lg) < bins)
        lg++;
    return 40u + lg;
}

uint64_t cpsi_sigma_mask(const ovl_cpsi *p)
{
    return p->sigma >= 64 ? UINT64_MAX : (((uint64_t)1 << p->sigma) - 1u);
}

void cpsi_digest(ovl_block *out, const uint8_t *id, size_t len)
{
    uint8_t d[16];
    crypto_generichash_state st;
    crypto_generichash_init(&st, (const uint8_t *)digest_label, sizeof digest_label - 1, sizeof d);
    crypto_generichash_update(&st, id, len);
    crypto_generichash_final(&st, d, sizeof d);
    *out = ovl_block_load(d);
    sodium_memzero(d, sizeof d);
}

ovl_err cpsi_derive(const uint8_t f[static OVL_OPRF_OUT], ovl_block *key, uint64_t *pads,
                    uint32_t npads)
{
    *key = ovl_block_load(f);
    return ovl_prg_once(f + 16, (uint8_t *)pads, npads * sizeof *pads);
}

void cpsi_queue_room(ovl_cpsi *p, size_t n)
{
    if (p->q.wpos + n > p->q.max && p->q.rpos > 0)
        ovl_buf_compact(&p->q);
}

ovl_err cpsi_queue_frame(ovl_cpsi *p, uint8_t type, const uint8_t *body, size_t len)
{
    ovl_err rc = OVL_OK;
    size_t mark;
    cpsi_queue_room(p, OVL_FRAME_HDR + len);
    OVL_TRY(ovl_frame_begin(&p->q, type, &mark));
    OVL_TRY(ovl_buf_put_bytes(&p->q, body, len));
    OVL_TRY(ovl_frame_end(&p->q, mark));
done:
    return rc;
}

/* ---- creation ---- */

uint64_t ovl_cpsi_entry_words(uint32_t words, uint32_t bit_groups, uint32_t bit_width)
{
    uint64_t bits = (uint64_t)bit_groups * (bit_groups ? bit_width : 0u);
    return 1u + (uint64_t)words + (bits + 63u) / 64u;
}

/* The bit payload's words of one entry: the entry less its tag and arithmetic words. */
static uint32_t bit_words(const ovl_cpsi_config *c)
{
    return (uint32_t)(ovl_cpsi_entry_words(0, c->bit_groups, c->bit_width) - 1u);
}

static uint32_t store_words(const ovl_cpsi_config *c)
{
    uint32_t L = c->mode == OVL_MODE_AGGREGATE ? c->words : 0u;
    return (uint32_t)ovl_cpsi_entry_words(L, c->bit_groups, c->bit_width);
}

/* The share phase's products (none with a gate stride: vec is the result). */
static size_t value_words(const ovl_cpsi *p)
{
    return p->gate > 0 ? 0u : (size_t)p->bins * p->out_words;
}

/* The flags φ are made only when every bit is gated. */
static size_t flag_bits(const ovl_cpsi *p) { return p->gate == 0 ? p->G : 0u; }

size_t cpsi_garbler_bits(const ovl_cpsi *p)
{
    return (size_t)p->sigma + 1u + 2u * (size_t)p->ng + flag_bits(p);
}

size_t cpsi_evaluator_bits(const ovl_cpsi *p) { return (size_t)p->sigma + p->ng; }

/* Every field derived from the payload's shape. */
static void set_bit_shape(ovl_cpsi *p, const ovl_cpsi_config *c)
{
    p->G = c->bit_groups;
    p->w = c->bit_groups ? c->bit_width : 0u;
    p->gate = c->bit_groups ? c->bit_gate_every : 0u;
    uint32_t gw = p->G * p->w;
    p->ng = p->gate == 0 ? gw : (gw + p->gate - 1u) / p->gate;
    p->nbw = bit_words(c);
    p->sw = store_words(c);
}

/* The bit payload's public parameters, and the contributor's counts
 * against its width (SPEC.md §6.5). */
static ovl_err check_bit_config(const ovl_cpsi_config *c)
{
    ovl_err rc = OVL_OK;
    OVL_ENSURE(c->mode == OVL_MODE_AGGREGATE, OVL_ERR_USAGE,
               "circuit PSI: a bit payload needs --mode aggregate");
    OVL_ENSURE(c->bit_groups <= OVL_CPSI_MAX_BIT_GROUPS, OVL_ERR_USAGE,
               "circuit PSI: %u bit-payload groups exceed the cap of %u", c->bit_groups,
               OVL_CPSI_MAX_BIT_GROUPS);
    OVL_ENSURE(c->bit_width >= 1 && c->bit_width <= OVL_CPSI_MAX_BIT_WIDTH, OVL_ERR_USAGE,
               "circuit PSI: bit width %u outside 1..%u", c->bit_width, OVL_CPSI_MAX_BIT_WIDTH);
    OVL_ENSURE(c->runner || c->nids == 0 || c->bit_counts != NULL, OVL_ERR_USAGE,
               "circuit PSI: the contributor gave no counts for its bit payload");
    OVL_ENSURE(c->bit_gate_every <= (uint64_t)c->bit_groups * c->bit_width, OVL_ERR_USAGE,
               "circuit PSI: a gate every %u bits of a %u-bit payload", c->bit_gate_every,
               c->bit_groups * c->bit_width);
    if (c->runner)
        goto done;
    for (size_t i = 0; i < c->nids * c->bit_groups; i++)
        OVL_ENSURE(c->bit_counts[i] >> c->bit_width == 0, OVL_ERR_INPUT,
                   "circuit PSI: a row count in bit-payload group %zu does not fit %u bits",
                   i % c->bit_groups, c->bit_width);
done:
    return rc;
}

static ovl_err check_config(const ovl_cpsi_config *c)
{
    ovl_err rc = OVL_OK;
    OVL_ENSURE(c->mode == OVL_MODE_CARDINALITY || c->mode == OVL_MODE_AGGREGATE, OVL_ERR_USAGE,
               "circuit PSI runs --mode cardinality or aggregate");
    OVL_ENSURE(c->nids <= OVL_CPSI_MAX_SET, OVL_ERR_LIMIT,
               "%zu identifiers exceed circuit PSI's cap of %u", c->nids, OVL_CPSI_MAX_SET);
    OVL_ENSURE(c->nids == 0 || (c->ids != NULL && c->id_len != NULL), OVL_ERR_USAGE,
               "circuit PSI: no identifiers given");
    OVL_ENSURE(c->test_queue_mark == 0 ||
                   (c->test_queue_mark >= ((size_t)4 << 20) &&
                    c->test_queue_mark <= CPSI_QUEUE_MAX / 2),
               OVL_ERR_USAGE, "circuit PSI: a test queue mark outside 4 MiB..32 MiB");
    if (c->mode == OVL_MODE_AGGREGATE) {
        /* without arithmetic words the bit payload alone is the output */
        uint32_t least = c->bit_groups > 0 ? 0u : 1u;
        OVL_ENSURE(c->words >= least && c->words <= OVL_CPSI_MAX_WORDS, OVL_ERR_USAGE,
                   "circuit PSI: %u payload words outside %u..%u", c->words, least,
                   OVL_CPSI_MAX_WORDS);
        OVL_ENSURE(c->runner || c->nids == 0 || c->words == 0 || c->payload != NULL,
                   OVL_ERR_USAGE, "circuit PSI: the contributor gave no payload");
    }
    if (c->bit_groups > 0)
        OVL_TRY(check_bit_config(c));
    else
        OVL_ENSURE(c->bit_gate_every == 0, OVL_ERR_USAGE,
                   "circuit PSI: a gate stride without a bit payload");
    OVL_ENSURE(store_words(c) <= OVL_OKVS_MAX_WORDS, OVL_ERR_USAGE,
               "circuit PSI: %u payload words and %u bit-payload words exceed the store's cap "
               "of %u words per entry (1 + L + ceil(G_C*w_C/64) <= %u)",
               c->words, store_words(c) - 1u - c->words, OVL_OKVS_MAX_WORDS, OVL_OKVS_MAX_WORDS);
    for (size_t i = 0; i < c->nids; i++)
        OVL_ENSURE(c->id_len[i] <= OVL_OPRF_MAX_INPUT, OVL_ERR_INPUT,
                   "identifier %zu is %zu bytes long (at most %u)", i + 1, c->id_len[i],
                   OVL_OPRF_MAX_INPUT);
done:
    return rc;
}

static ovl_err make_hello(ovl_cpsi *p)
{
    ovl_hello h = {
        .version = OVL_PROTOCOL_VERSION,
        .suite = OVL_SUITE_RISTRETTO255_SHA512,
        .mode = (uint8_t)p->cfg.mode,
        .reveal = (uint8_t)p->cfg.reveal,
        .role = (uint8_t)p->cfg.role,
        .set_size = p->cfg.nids,
        .params = p->cfg.params,
        .params_len = p->cfg.params_len,
    };
    return ovl_engine_hello_init(&p->eng, p->cfg.role, &h, &p->rng);
}

ovl_err ovl_cpsi_new(ovl_cpsi **out, const ovl_cpsi_config *cfg)
{
    ovl_err rc = OVL_OK;
    ovl_cpsi *p = NULL;
    *out = NULL;
    OVL_TRY(check_config(cfg));
    OVL_TRY(ovl_calloc((void **)&p, 1, sizeof *p));
    p->cfg = *cfg;
    if (p->cfg.max_peer_set == 0 || p->cfg.max_peer_set > OVL_CPSI_MAX_SET)
        p->cfg.max_peer_set = OVL_CPSI_MAX_SET;
    p->words = cfg->mode == OVL_MODE_AGGREGATE ? cfg->words : 0u;
    p->out_words = cfg->mode == OVL_MODE_AGGREGATE ? cfg->words : 1u;
    set_bit_shape(p, cfg);
    ovl_engine_rng_init(&p->rng, cfg->test_seed, "overlap-v1 cpsi test");
    OVL_TRY(ovl_buf_alloc(&p->q, 4096, CPSI_QUEUE_MAX));
    OVL_TRY(ovl_calloc((void **)&p->digest, cfg->nids ? cfg->nids : 1, sizeof *p->digest));
    for (size_t i = 0; i < cfg->nids; i++)
        cpsi_digest(&p->digest[i], cfg->ids[i], cfg->id_len[i]);
    const ovl_reveal_kind *rk = ovl_reveal_kind_of(cfg->reveal);
    OVL_ENSURE(rk != NULL, OVL_ERR_USAGE, "circuit PSI: unknown reveal setting %d",
               (int)cfg->reveal);
    bool listener_gets = rk->to_listener, connector_gets = rk->to_connector;
    p->i_get = cfg->role == OVL_ROLE_LISTENER ? listener_gets : connector_gets;
    p->peer_gets = cfg->role == OVL_ROLE_LISTENER ? connector_gets : listener_gets;
    /* The count is opened only to a party that is the only OT sender's peer
     * and the garbled circuit's evaluator: the runner (SPEC.md §6.4, §9). */
    OVL_ENSURE(cfg->mode != OVL_MODE_CARDINALITY || (cfg->runner ? p->i_get : p->peer_gets),
               OVL_ERR_USAGE,
               "circuit PSI: --reveal %s gives the count to the contributor alone; the party "
               "that receives the count must be the runner (protocols/cpsi/SPEC.md §6.4)",
               rk->name);
    OVL_TRY(make_hello(p));
    *out = p;
    p = NULL;
done:
    ovl_cpsi_free(p);
    return rc;
}

static void free_batches(ovl_cot **b, uint32_t n)
{
    if (b == NULL)
        return;
    for (uint32_t i = 0; i < n; i++)
        ovl_cot_free(b[i]);
    free(b);
}

void ovl_cpsi_free(ovl_cpsi *p)
{
    if (p == NULL)
        return;
    size_t bins = p->bins, L = p->words;
    ovl_engine_free(&p->eng);
    ovl_buf_free(&p->q);
    cpsi_jobs_free(p);
    ovl_free_secret(p->digest, (p->cfg.nids ? p->cfg.nids : 1) * sizeof *p->digest);
    ovl_cuckoo_free(&p->ck);
    cpsi_oprf_free(p);
    ovl_free_secret(p->bin_d, bins * sizeof *p->bin_d);
    ovl_free_secret(p->fval, bins * sizeof *p->fval);
    ovl_buf_free(&p->okvs_in);
    ovl_okvs_free(&p->okvs);
    ovl_okvs_plan_free(&p->okvs_plan);
    cpsi_store_scratch_free(p);
    if (p->circ_live)
        ovl_circuit_free(&p->circ);
    ovl_free_secret(p->gc_in, p->gc_in_len);
    ovl_gc_free(p->gc);
    ovl_free_secret(p->match, bins);
    ovl_free_secret(p->vec, (bins * L > 0 ? bins * L : 1) * sizeof *p->vec);
    ovl_free_secret(p->value, value_words(p) * sizeof *p->value);
    ovl_free_secret(p->conv, (size_t)p->batch * sizeof *p->conv);
    ovl_free_secret(p->beta, bins * p->G * p->w);
    ovl_free_secret(p->phi, bins * flag_bits(p));
    ovl_free_secret(p->mu, bins * p->nbw * sizeof *p->mu);
    free_batches(p->send_b, p->nbatch);
    free_batches(p->recv_b, p->nbatch);
    ovl_ot_free(p->ot);
    sodium_memzero(&p->recv_sum, sizeof p->recv_sum);
    sodium_memzero(&p->send_sum, sizeof p->send_sum);
    ovl_rng_wipe(&p->rng);
    free(p);
}

/* ---- the garbled equality (SPEC.md §6.2) ---- */

/* The bit payload's gates (SPEC.md §6.5): per group c and bit j,
 * β = eq ∧ (q ⊕ μ) masked by ρ (G·w ANDs), and the flag φ as the OR of the
 * group's unmasked β (w − 1 ANDs each, OR(a, b) = ¬(¬a ∧ ¬b)) masked by its ρ.
 * With a gate stride only the ng gated bits are inputs, and no flag (§6.6). */
static void build_bits(ovl_cpsi *p, ovl_cb *cb, uint32_t eq, uint32_t mu, uint32_t rho,
                       uint32_t q, uint32_t *ob, uint32_t *of)
{
    uint32_t gw = p->G * p->w;
    if (p->gate > 0) {
        for (uint32_t k = 0; k < p->ng; k++)
            ob[k] = ovl_cb_xor(cb, ovl_cb_and(cb, eq, ovl_cb_xor(cb, q + k, mu + k)), rho + k);
        return;
    }
    for (uint32_t c = 0; c < p->G; c++) {
        uint32_t acc = 0;
        for (uint32_t j = 0; j < p->w; j++) {
            uint32_t k = c * p->w + j;
            uint32_t bb = ovl_cb_and(cb, eq, ovl_cb_xor(cb, q + k, mu + k));
            ob[k] = ovl_cb_xor(cb, bb, rho + k);
            acc = j == 0 ? bb
                         : ovl_cb_inv(cb, ovl_cb_and(cb, ovl_cb_inv(cb, acc), ovl_cb_inv(cb, bb)));
        }
        of[c] = ovl_cb_xor(cb, acc, rho + gw + c);
    }
}

/* Inputs: garbler t (σ), r (1) [, μ (G·w), ρ (G·w + G)]; evaluator t' (σ)
 * [, q (G·w)]. Outputs: eq ⊕ r [, β (G·w), φ (G)]. */
static ovl_err build_equality(ovl_cpsi *p)
{
    ovl_err rc = OVL_OK;
    ovl_cb cb;
    uint32_t a[64], b[64], mu = 0, rho = 0, q = 0, ng = p->ng, nf = (uint32_t)flag_bits(p);
    uint32_t *ob = NULL, *of = NULL;
    ovl_cb_init(&cb, 0);
    OVL_TRY(ovl_calloc((void **)&ob, ng ? ng : 1, sizeof *ob));
    OVL_TRY(ovl_calloc((void **)&of, nf ? nf : 1, sizeof *of));
    uint32_t t = ovl_cb_input(&cb, p->sigma), r = ovl_cb_input(&cb, 1);
    if (p->G > 0) {
        mu = ovl_cb_input(&cb, ng);
        rho = ovl_cb_input(&cb, ng + nf);
    }
    uint32_t u = ovl_cb_input(&cb, p->sigma);
    if (p->G > 0)
        q = ovl_cb_input(&cb, ng);
    for (uint32_t i = 0; i < p->sigma; i++) {
        a[i] = t + i;
        b[i] = u + i;
    }
    uint32_t eq = ovl_cb_eq(&cb, a, b, p->sigma);
    uint32_t o = ovl_cb_xor(&cb, eq, r);
    if (p->G > 0)
        build_bits(p, &cb, eq, mu, rho, q, ob, of);
    ovl_cb_output(&cb, &o, 1);
    if (p->G > 0) {
        ovl_cb_output(&cb, ob, ng);
        if (nf > 0)
            ovl_cb_output(&cb, of, nf);
    }
    OVL_TRY(ovl_cb_finish(&cb, &p->circ));
    p->circ_live = true;
done:
    free(ob);
    free(of);
    ovl_cb_free(&cb);
    return rc;
}

/* The π key of a sub-protocol: both parties derive it from the transcript. */
void cpsi_sub_key(uint8_t out[16], const ovl_cpsi *p, const char *label)
{
    uint8_t h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const uint8_t *)label, strlen(label) + 1);
    crypto_hash_sha256_update(&st, p->eng.transcript, sizeof p->eng.transcript);
    crypto_hash_sha256_final(&st, h);
    memcpy(out, h, 16);
}

/* The contributor garbles (inputs: its check value t and mask bit r), the
 * runner evaluates (input: its decoded check value) and learns eq ⊕ r. */
ovl_err cpsi_start_gc(ovl_cpsi *p, const uint8_t *input)
{
    ovl_err rc = OVL_OK;
    OVL_TRY(build_equality(p));
    cpsi_sub_key(p->gc_pi, p, "overlap-cpsi-v1 gc pi");
    ovl_gc_config gc = {
        .role = p->cfg.runner ? OVL_GC_EVALUATOR : OVL_GC_GARBLER,
        .party = (unsigned)p->cfg.role,
        .circuit = &p->circ,
        .garbler_inputs = p->G > 0 ? 4u : 2u,
        .instances = p->bins,
        .reveal = OVL_GC_REVEAL_EVALUATOR,
        .input = input,
        .rng = &p->rng,
        .pi_key = p->gc_pi,
        .fold_garbler_inputs = true,
    };
    OVL_TRY(ovl_gc_new(&p->gc, &gc));
done:
    return rc;
}

/* The evaluator's outputs: eq ⊕ r, then β and φ masked by the garbler's ρ
 * (with a gate stride the gated β only: the others were decoded, §6.6). */
static void take_outputs(ovl_cpsi *p)
{
    size_t gw = (size_t)p->G * p->w, nf = flag_bits(p);
    for (uint32_t i = 0; i < p->bins; i++) {
        const uint8_t *o = ovl_gc_output(p->gc, i);
        p->match[i] = o[0] & 1u;
        for (size_t k = 0; k < gw; k += p->gate ? p->gate : 1u)
            p->beta[i * gw + k] = o[1 + (p->gate ? k / p->gate : k)] & 1u;
        for (size_t c = 0; c < nf; c++)
            p->phi[i * nf + c] = o[1 + p->ng + c] & 1u;
    }
}

static ovl_err after_gc(ovl_cpsi *p)
{
    ovl_err rc = OVL_OK;
    if (p->gc == NULL || p->ot != NULL || p->ot_skipped || !ovl_gc_ops.done(p->gc))
        return OVL_OK;
    if (p->cfg.runner)
        take_outputs(p);
    if (p->words == 0 && p->cfg.mode != OVL_MODE_CARDINALITY) {
        /* no arithmetic payload: the circuit's outputs are the result */
        p->products_done = true;
        p->ot_skipped = true;
        goto done;
    }
    if (p->gate > 0) {
        /* §6.6: with a gate stride the words are shared as the store gives
         * them too (R's p', C's m: vec is the result), for an outer
         * computation that multiplies them by the gated bits: no share phase */
        p->products_done = true;
        p->ot_skipped = true;
        goto done;
    }
    OVL_TRY(cpsi_shares_start(p));
done:
    return rc;
}

/* ---- receiving ---- */

static ovl_err own_statement(void *arg, const ovl_hello *mine, const ovl_hello *peer)
{
    (void)arg, (void)mine, (void)peer;
    return OVL_OK;
}

ovl_err ovl_cpsi_set_shape(ovl_cpsi *p, uint32_t words, uint32_t bit_groups, uint32_t bit_width,
                           uint32_t bit_gate_every)
{
    ovl_err rc = OVL_OK;
    OVL_ENSURE(p->cfg.runner && p->cfg.mode == OVL_MODE_AGGREGATE && p->bins == 0 &&
                   p->vec == NULL,
               OVL_ERR_USAGE, "circuit PSI: the payload shape is set by the runner, in check_peer");
    ovl_cpsi_config c = p->cfg;
    c.words = words;
    c.bit_groups = bit_groups;
    c.bit_width = bit_width;
    c.bit_gate_every = bit_gate_every;
    OVL_TRY(check_config(&c));
    p->cfg = c;
    /* every field ovl_cpsi_new derives from the shape */
    p->words = words;
    p->out_words = words;
    set_bit_shape(p, &c);
done:
    return rc;
}

/* The caps that depend on the announced sizes (SPEC.md §2), checked before
 * any data-derived frame: the circuit's inputs and outputs, and the memory
 * the payload takes in the bins and the store. */
static ovl_err check_sizes(const ovl_cpsi *p)
{
    ovl_err rc = OVL_OK;
    size_t out_bits = 1u + (size_t)p->ng + flag_bits(p);
    uint64_t rows = 3u * ((13u * 3u * p->n_c + 29u) / 30u + 8u);
    /* beta holds every payload bit, gated or not (the ungated are decoded into it) */
    uint64_t bytes = 8u * (2u * (uint64_t)p->bins * p->words + rows * p->sw + 3u * p->n_c * p->sw) +
                     (uint64_t)p->bins * (cpsi_garbler_bits(p) + 1u + (uint64_t)p->G * p->w +
                                          flag_bits(p));
    OVL_ENSURE(cpsi_garbler_bits(p) <= OVL_GC_MAX_IO_BITS, OVL_ERR_POLICY,
               "circuit PSI: %u bit-payload groups of %u bits need %zu garbler input bits per "
               "bin, over the garbled circuit's cap of %u", p->G, p->w, cpsi_garbler_bits(p),
               OVL_GC_MAX_IO_BITS);
    OVL_ENSURE((uint64_t)p->bins * out_bits <= OVL_GC_MAX_OUTPUT_BYTES, OVL_ERR_POLICY,
               "circuit PSI: %u bins of %zu output bits exceed the garbled circuit's cap of "
               "%zu output bytes (fewer bit-payload groups or a smaller set)", p->bins, out_bits,
               OVL_GC_MAX_OUTPUT_BYTES);
    OVL_ENSURE(bytes <= OVL_CPSI_MAX_PAYLOAD_BYTES, OVL_ERR_POLICY,
               "circuit PSI: %u payload words over %u bins and a store of %u words per entry "
               "for %llu identifiers need %llu MiB, over the cap of %llu MiB",
               p->words, p->bins, p->sw, (unsigned long long)p->n_c,
               (unsigned long long)(bytes >> 20),
               (unsigned long long)(OVL_CPSI_MAX_PAYLOAD_BYTES >> 20));
done:
    return rc;
}

static ovl_err on_hello(ovl_cpsi *p, const uint8_t *payload, size_t len)
{
    ovl_err rc = OVL_OK;
    ovl_hello peer;
    /* With an outer protocol's checks, each party states its own side of the
     * analysis: params are left to check_peer, not compared byte for byte. */
    const ovl_hello_rules rules = {
        .max_peer_set = p->cfg.max_peer_set,
        .statement = p->cfg.check_peer != NULL ? own_statement : NULL,
        .expect_peer_set = p->cfg.expect_peer_set,
        .peer_set_expected = p->cfg.peer_set_expected,
    };
    OVL_TRY(ovl_engine_hello_recv(&p->eng, &rules, payload, len, &peer));
    /* the outer protocol's checks come before anything data-derived */
    if (p->cfg.check_peer != NULL)
        OVL_TRY(p->cfg.check_peer(p->cfg.check_ctx, &peer));
    p->n_r = p->cfg.runner ? p->cfg.nids : peer.set_size;
    p->n_c = p->cfg.runner ? peer.set_size : p->cfg.nids;
    p->bins = ovl_cpsi_bins(p->n_r);
    p->sigma = ovl_cpsi_sigma(p->bins);
    OVL_TRY(check_sizes(p));
    OVL_TRY(ovl_calloc((void **)&p->match, p->bins, 1));
    size_t nvec = (size_t)p->bins * p->words;
    OVL_TRY(ovl_calloc((void **)&p->vec, nvec ? nvec : 1, sizeof *p->vec));
    OVL_TRY(ovl_calloc((void **)&p->value, value_words(p) ? value_words(p) : 1, sizeof *p->value));
    OVL_TRY(ovl_calloc((void **)&p->beta, (size_t)p->bins * p->G * p->w, 1));
    if (flag_bits(p) > 0)
        OVL_TRY(ovl_calloc((void **)&p->phi, (size_t)p->bins * flag_bits(p), 1));
    if (p->cfg.runner)
        OVL_TRY(cpsi_runner_setup(p));
    p->eng.state = OVL_ENGINE_RUN;
done:
    return rc;
}

static ovl_err feed_gc(ovl_cpsi *p, uint8_t type, const uint8_t *payload, size_t len)
{
    ovl_err rc = OVL_OK;
    OVL_ENSURE(p->gc != NULL, OVL_ERR_PROTOCOL,
               "frame type 0x%02x before the key-value store was complete (truncated store "
               "or frames out of order)", type);
    OVL_TRY(ovl_gc_ops.feed(p->gc, type, payload, len));
    OVL_TRY(after_gc(p));
done:
    return rc;
}

static ovl_err dispatch(ovl_cpsi *p, uint8_t type, const uint8_t *payload, size_t len)
{
    ovl_err rc = OVL_OK;
    ovl_buf in;
    ovl_buf_reader(&in, payload, len);
    bool r = p->cfg.runner;
    switch (type) {
    case OVL_CPSI_SEED:
        OVL_ENSURE(!r, OVL_ERR_PROTOCOL, "the contributor sent SEED (a runner's frame)");
        OVL_TRY(cpsi_contrib_on_seed(p, &in));
        break;
    case OVL_CPSI_OPRF_BASE:
        OVL_TRY(cpsi_oprf_on_base(p, payload, len));
        break;
    case OVL_CPSI_OPRF_U:
        OVL_ENSURE(!r, OVL_ERR_PROTOCOL, "the contributor sent OPRF_U (a runner's frame)");
        OVL_TRY(cpsi_oprf_on_u(p, payload, len));
        break;
    case OVL_CPSI_OKVS:
        OVL_ENSURE(r, OVL_ERR_PROTOCOL, "the runner sent OKVS (a contributor's frame)");
        OVL_TRY(cpsi_runner_on_okvs(p, payload, len));
        break;
    case OVL_CPSI_OT:
        OVL_TRY(cpsi_shares_on_ot(p, payload, len));
        break;
    case OVL_CPSI_COUNT:
        OVL_TRY(cpsi_on_count(p, &in));
        break;
    case OVL_HELLO_TYPE:
        OVL_FAIL(ovl_err_set(OVL_ERR_PROTOCOL, "the peer sent a second HELLO"));
    default:
        if (type >= OVL_GC_SETUP && type <= OVL_GC_OUTPUT)
            OVL_TRY(feed_gc(p, type, payload, len));
        else
            OVL_FAIL(ovl_err_set(OVL_ERR_PROTOCOL, "the peer sent unknown frame type 0x%02x",
                                 type));
    }
done:
    return rc;
}

static ovl_err cpsi_feed(void *proto, uint8_t type, const uint8_t *payload, size_t len)
{
    ovl_cpsi *p = proto;
    ovl_err rc = ovl_engine_admit(&p->eng, type, payload, len);
    if (rc != OVL_OK)
        return rc;
    if (p->eng.state == OVL_ENGINE_SETUP)
        OVL_TRY(on_hello(p, payload, len));
    else
        OVL_TRY(dispatch(p, type, payload, len));
done:
    return ovl_engine_end(&p->eng, rc);
}

/* ---- sending ---- */

static ovl_err cpsi_pull(void *proto, ovl_buf *out, bool *have)
{
    ovl_cpsi *p = proto;
    size_t before = ovl_buf_len(out);
    ovl_err rc = ovl_engine_pull(&p->eng, out, have);
    if (rc != OVL_OK || *have)
        goto done;
    if (p->eng.state != OVL_ENGINE_RUN)
        goto done;
    if (!p->cfg.runner)
        OVL_TRY(cpsi_contrib_pump(p));
    else
        OVL_TRY(cpsi_oprf_pump(p));
    OVL_TRY(cpsi_shares_pump(p));
    if (ovl_buf_remaining(&p->q) != 0) {
        /* one whole frame: header and payload as queued */
        const uint8_t *f = ovl_buf_rptr(&p->q);
        size_t flen = OVL_FRAME_HDR + (((size_t)f[1] << 24) | ((size_t)f[2] << 16) |
                                       ((size_t)f[3] << 8) | f[4]);
        OVL_TRY(ovl_buf_put_bytes(out, f, flen));
        OVL_TRY(ovl_buf_skip(&p->q, flen));
        /* The pumps may keep the queue from ever emptying: sent bytes must
         * still go, or the buffer reaches its cap (moved only once they
         * outweigh the rest, so the moves are amortised). */
        if (ovl_buf_remaining(&p->q) == 0)
            ovl_buf_clear(&p->q);
        else if (p->q.rpos >= ovl_buf_remaining(&p->q))
            ovl_buf_compact(&p->q);
        *have = true;
        goto done;
    }
    if (p->gc != NULL) {
        OVL_TRY(ovl_gc_ops.pull(p->gc, out, have));
        OVL_TRY(after_gc(p));
    }
done:
    if (rc == OVL_OK && *have)
        p->bytes_sent += ovl_buf_len(out) - before;
    return ovl_engine_end(&p->eng, rc);
}

static ovl_err cpsi_job_take(void *proto, ovl_job **job)
{
    ovl_cpsi *p = proto;
    *job = NULL;
    if (p->eng.state == OVL_ENGINE_FAILED)
        return p->eng.failure;
    ovl_err rc = p->eng.state == OVL_ENGINE_RUN ? cpsi_jobs_take(p, job) : OVL_OK;
    if (rc == OVL_OK && *job == NULL && p->gc != NULL)
        rc = ovl_gc_ops.job_take(p->gc, job);
    return ovl_engine_end(&p->eng, rc);
}

static ovl_err cpsi_job_finish(void *proto, ovl_job *job)
{
    ovl_cpsi *p = proto;
    ovl_err rc = OVL_OK;
    if (cpsi_is_job(job)) {
        OVL_TRY(cpsi_jobs_finish(p, job));
        goto done;
    }
    OVL_ENSURE(p->gc != NULL, OVL_ERR_INTERNAL, "circuit PSI: a job finished with no job out");
    OVL_TRY(ovl_gc_ops.job_finish(p->gc, job));
    OVL_TRY(after_gc(p));
done:
    return ovl_engine_end(&p->eng, rc);
}

static bool cpsi_wants_input(const void *proto)
{
    const ovl_cpsi *p = proto;
    if (ovl_buf_remaining(&p->q) > CPSI_MARK(p))
        return false;
    /* a whole store waits for the last OPRF values: the garbled
     * equality's frames that follow it must wait too */
    if (p->cfg.runner && p->eng.state == OVL_ENGINE_RUN && p->gc == NULL &&
        p->okvs_in.data != NULL && ovl_buf_len(&p->okvs_in) == p->okvs_expect)
        return false;
    return p->gc == NULL || p->ot != NULL || ovl_gc_ops.wants_input(p->gc);
}

static bool cpsi_done(const void *proto)
{
    const ovl_cpsi *p = proto;
    if (p->eng.state != OVL_ENGINE_RUN && p->eng.state != OVL_ENGINE_DONE)
        return false;
    return p->products_done && ovl_buf_remaining(&p->q) == 0 &&
           (p->cfg.mode != OVL_MODE_CARDINALITY || !p->i_get || p->count_got);
}

const ovl_proto_ops ovl_cpsi_ops = {
    .feed = cpsi_feed,
    .pull = cpsi_pull,
    .job_take = cpsi_job_take,
    .job_finish = cpsi_job_finish,
    .wants_input = cpsi_wants_input,
    .done = cpsi_done,
};

/* ---- output (SPEC.md §7) ---- */

ovl_err ovl_cpsi_result(const ovl_cpsi *p, ovl_cpsi_shares *out)
{
    memset(out, 0, sizeof *out);
    if (!cpsi_done(p))
        return ovl_err_set(OVL_ERR_USAGE, "circuit PSI: no result before the run completed");
    out->bins = p->bins;
    out->words = p->out_words;
    out->match = p->match;
    out->value = p->gate > 0 ? p->vec : p->value;
    out->bin_item = p->cfg.runner ? p->ck.slot : NULL;
    out->bit_groups = p->cfg.bit_groups;
    out->bit_width = p->cfg.bit_groups ? p->cfg.bit_width : 0;
    out->beta = p->beta;
    out->phi = p->phi;
    return OVL_OK;
}

bool ovl_cpsi_receives_count(const ovl_cpsi *p)
{
    return p->cfg.mode == OVL_MODE_CARDINALITY && p->i_get;
}

ovl_err ovl_cpsi_count(const ovl_cpsi *p, uint64_t *count)
{
    *count = 0;
    if (!cpsi_done(p) || !ovl_cpsi_receives_count(p))
        return ovl_err_set(OVL_ERR_USAGE, "circuit PSI: this party receives no count");
    *count = p->count;
    return OVL_OK;
}

uint64_t ovl_cpsi_peer_set_size(const ovl_cpsi *p) { return p->cfg.runner ? p->n_c : p->n_r; }

uint64_t ovl_cpsi_bytes_sent(const ovl_cpsi *p) { return p->bytes_sent; }

uint64_t ovl_cpsi_and_gates(const ovl_cpsi *p) { return p->gc ? ovl_gc_and_gates(p->gc) : 0; }

const uint8_t *ovl_cpsi_transcript(const ovl_cpsi *p) { return p->eng.transcript; }
