/* The aggregate engine proper: SPEC.md §6 (state machine) on the engine kit
 * of protocols/common. It creates the run, hands out jobs and takes them
 * back, admits frames and pulls them in order; the work of each role lives
 * in runner.c and contributor.c, the HELLO statement in params.c. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "aggregate/state.h"
#include "core/guard.h"
#include "core/mem.h"
#include "crypto/share.h"
#include "psi/psi.h"

#define PENDING_MAX 8u
#define DEFAULT_MAX_PEER_SET (1ull << 26)

/* ---- randomness ---- */

/* Test mode only: reproducible bytes for item `index` of stream `label`. */
static void test_stream(const ovl_agg *a, uint8_t label, uint64_t index, uint8_t *out, size_t len)
{
    uint8_t msg[9], sub[32], nonce[crypto_stream_chacha20_NONCEBYTES] = {0};
    msg[0] = label;
    for (int i = 0; i < 8; i++)
        msg[1 + i] = (uint8_t)(index >> (56 - 8 * i));
    crypto_generichash(sub, sizeof sub, msg, sizeof msg, a->secret_key, sizeof a->secret_key);
    crypto_stream_chacha20(out, len, nonce, sub);
    sodium_memzero(sub, sizeof sub);
}

static size_t r_bytes(const ovl_agg *a)
{
    return (a->bits == 2048u ? OVL_PAILLIER_R_BITS_2048 : OVL_PAILLIER_R_BITS_3072) / 8u;
}

ovl_err agg_encrypt_item(const ovl_agg *a, mpz_t ct, const mpz_t m, uint8_t label,
                         uint64_t index)
{
    uint8_t r[64];
    if (a->cfg.test_seed == NULL)
        return a->sk ? ovl_paillier_sk_encrypt(ct, a->sk, m) : ovl_paillier_encrypt(ct, a->pk, m);
    test_stream(a, label, index, r, r_bytes(a));
    ovl_err rc = ovl_paillier_encrypt_with_exponent_for_tests(ct, a->pk, m, r, r_bytes(a));
    sodium_memzero(r, sizeof r);
    return rc;
}

ovl_err agg_random_residue(const ovl_agg *a, mpz_t out, uint8_t label, uint64_t index)
{
    uint8_t buf[OVL_PAILLIER_N_MAX_BYTES + 16];
    size_t len = a->bits / 8u + 16u; /* 128 extra bits make the reduction bias negligible */
    if (a->cfg.test_seed == NULL)
        return ovl_share_random(out, ovl_paillier_pk_modulus(a->pk));
    test_stream(a, label, index, buf, len);
    mpz_import(out, len, 1, 1, 1, 0, buf);
    mpz_mod(out, out, ovl_paillier_pk_modulus(a->pk));
    sodium_memzero(buf, sizeof buf);
    return OVL_OK;
}

/* ---- creation ---- */

static ovl_err make_dst(ovl_agg *a)
{
    const char *suite = a->g->id == OVL_SUITE_RISTRETTO255_SHA512 ? "ristretto255_XMD:SHA-512_R255MAP_RO_"
                        : a->g->id == OVL_SUITE_P256_SHA256     ? "P256_XMD:SHA-256_SSWU_RO_"
                                                                : NULL;
    if (suite == NULL)
        return ovl_err_set(OVL_ERR_INTERNAL, "no aggregate DST for suite %s", a->g->name);
    snprintf(a->dst, sizeof a->dst, "OVERLAP-V1-AGG-%s", suite);
    snprintf(a->dst_dummy, sizeof a->dst_dummy, "OVERLAP-V1-AGG-DUMMY-%s", suite);
    return OVL_OK;
}

ovl_err agg_alloc_layout(ovl_agg *a, size_t P)
{
    ovl_err rc = OVL_OK;
    a->P = P;
    OVL_TRY(ovl_calloc((void **)&a->psize, P ? P : 1, sizeof *a->psize));
    OVL_TRY(ovl_calloc((void **)&a->poff, P + 1, sizeof *a->poff));
done:
    return rc;
}

ovl_err agg_make_packing(ovl_agg *a)
{
    uint64_t terms = a->m ? a->m : 1;
    unsigned tb = 0;
    while (tb < 64 && (terms >> tb) != 0)
        tb++;
    a->pack = (ovl_paillier_packing){
        .slot_bits = OVL_AGG_VALUE_BITS + tb,
        .slots = (unsigned)(1 + a->nvalues),
        .value_bits = OVL_AGG_VALUE_BITS,
        .max_terms = terms,
    };
    ovl_err rc = ovl_paillier_packing_check(&a->pack, a->bits);
    return rc == OVL_OK ? rc : ovl_err_wrap(rc, "aggregate packing: ");
}

static ovl_err make_hello(ovl_agg *a)
{
    ovl_err rc = OVL_OK;
    ovl_buf params = {0};
    OVL_TRY(ovl_buf_alloc(&params, 256, OVL_HELLO_PARAMS_MAX));
    OVL_TRY(ovl_agg_params_encode(&params, &a->cfg));
    ovl_hello h = {
        .version = OVL_PROTOCOL_VERSION,
        .suite = (uint16_t)a->g->id,
        .mode = OVL_MODE_AGGREGATE,
        .reveal = a->cfg.contributor == (a->cfg.role == OVL_ROLE_LISTENER) ? OVL_REVEAL_CONNECTOR
                                                                           : OVL_REVEAL_LISTENER,
        .role = (uint8_t)a->cfg.role,
        .set_size = agg_is_runner(a) ? a->N : a->cfg.nids,
        .params = params.data,
        .params_len = (uint32_t)params.wpos,
    };
    OVL_TRY(ovl_engine_hello_init(&a->eng, a->cfg.role, &h, &a->rng));
done:
    ovl_buf_free(&params);
    return rc;
}

static ovl_err check_config(const ovl_agg_config *cfg)
{
    ovl_err rc = OVL_OK;
    OVL_ENSURE(cfg->group != NULL && cfg->domain != NULL, OVL_ERR_USAGE, "no group or domain");
    OVL_ENSURE(cfg->min_rows >= 1, OVL_ERR_USAGE, "--min-rows must be at least 1");
    OVL_ENSURE(cfg->paillier_bits == 2048u || cfg->paillier_bits == 3072u, OVL_ERR_USAGE,
               "--paillier-bits must be 2048 or 3072");
    if (cfg->contributor) {
        OVL_ENSURE(cfg->nvalues >= 1 && cfg->nvalues <= OVL_VALUE_COLS_MAX, OVL_ERR_USAGE,
                   "the contributor needs 1..%u value columns", OVL_VALUE_COLS_MAX);
        OVL_ENSURE(cfg->nids <= UINT32_MAX, OVL_ERR_LIMIT, "too many identifiers");
        for (size_t i = 0; i < cfg->nvalues; i++)
            OVL_ENSURE(strlen(cfg->values[i].name) >= 1 &&
                           strlen(cfg->values[i].name) <= OVL_COL_NAME_MAX &&
                           cfg->values[i].decimals <= OVL_DECIMALS_MAX,
                       OVL_ERR_USAGE, "bad value column specification");
    } else {
        OVL_ENSURE(cfg->group_by_cols <= OVL_GROUP_BY_MAX, OVL_ERR_USAGE, "too many group-by columns");
        OVL_ENSURE(cfg->ngroups == 0 || cfg->group_start != NULL, OVL_ERR_USAGE, "no groups given");
    }
done:
    return rc;
}

ovl_err ovl_agg_precheck(const ovl_agg_config *cfg)
{
    ovl_agg *a = NULL;
    ovl_err rc = check_config(cfg);
    if (rc == OVL_OK)
        rc = ovl_calloc((void **)&a, 1, sizeof *a);
    if (rc == OVL_OK) {
        a->cfg = *cfg;
        rc = cfg->contributor ? agg_contributor_bound(a) : agg_runner_disjoint(a);
    }
    free(a);
    return rc;
}

ovl_err ovl_agg_new(ovl_agg **out, const ovl_agg_config *cfg)
{
    ovl_err rc = OVL_OK;
    ovl_agg *a = NULL;
    *out = NULL;
    OVL_TRY(check_config(cfg));
    OVL_TRY(ovl_paillier_init());
    OVL_TRY(ovl_calloc((void **)&a, 1, sizeof *a));
    a->cfg = *cfg;
    a->bits = cfg->paillier_bits;
    if (a->cfg.max_peer_set == 0)
        a->cfg.max_peer_set = DEFAULT_MAX_PEER_SET;
    if (a->cfg.max_jobs == 0 || a->cfg.max_jobs > 64)
        a->cfg.max_jobs = 8;
    a->g = cfg->group;
    ovl_engine_rng_init(&a->rng, cfg->test_seed, "overlap-v1 aggregate test");
    OVL_TRY(make_dst(a));
    ovl_rng_bytes(&a->rng, a->secret_key, sizeof a->secret_key);
    OVL_TRY(ovl_engine_scalar(a->g, a->scalar, &a->rng, cfg->test_seed != NULL));
    if (cfg->contributor)
        OVL_TRY(agg_contributor_setup(a));
    else {
        OVL_TRY(agg_runner_disjoint(a));
        OVL_TRY(agg_runner_layout(a));
    }
    OVL_TRY(make_hello(a));
    *out = a;
    a = NULL;
done:
    ovl_agg_free(a);
    return rc;
}

void agg_job_free(ovl_job *job)
{
    agg_job *j = (agg_job *)job;
    if (j == NULL)
        return;
    free(j->in);
    free(j->shares);
    ovl_buf_free(&j->frame);
    if (j->acc_init)
        mpz_clear(j->acc);
    free(j);
}

static void mpz_array_free(mpz_t *v, size_t n)
{
    if (v == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        mpz_clear(v[i]);
    free(v);
}

void ovl_agg_free(ovl_agg *a)
{
    if (a == NULL)
        return;
    ovl_order_free(&a->own, agg_job_free);
    ovl_order_free(&a->reply, agg_job_free);
    ovl_job_queue_clear(&a->pending, agg_job_free);
    ovl_engine_free(&a->eng);
    agg_params_clear(&a->peer);
    ovl_paillier_sk_free(a->sk_owned);
    ovl_paillier_pk_free(a->peer_pk);
    free(a->psize);
    free(a->poff);
    free(a->order);
    free(a->pos_of);
    free(a->slot_src);
    free(a->rtags);
    free(a->ctags);
    free(a->cts);
    free(a->matched);
    free(a->match);
    free(a->match_off);
    mpz_array_free(a->acc, a->acc ? a->P : 0);
    free(a->acc_set);
    mpz_array_free(a->my_share, a->my_share ? a->P : 0);
    mpz_array_free(a->peer_share, a->peer_share ? a->P : 0);
    free(a->results);
    free(a->released);
    free(a->perm);
    free(a->ptags);
    ovl_rng_wipe(&a->rng);
    ovl_tagger_wipe(&a->tags);
    sodium_memzero(a->scalar, sizeof a->scalar);
    sodium_memzero(a->secret_key, sizeof a->secret_key);
    free(a);
}

/* ---- jobs ---- */

void agg_job_error(agg_job *j, ovl_err e, const char *what, size_t item)
{
    ovl_job_fail(&j->base, e, "%s (item %zu)", what, item + 1);
}

uint8_t *agg_frame_body(agg_job *j) { return j->frame.data + OVL_FRAME_HDR + 4; }

ovl_err agg_put_ct(uint8_t *out, size_t len, const mpz_t v)
{
    size_t used = mpz_sizeinbase(v, 256);
    if (mpz_sgn(v) < 0 || used > len)
        return ovl_err_set(OVL_ERR_INTERNAL, "value does not fit %zu bytes", len);
    memset(out, 0, len);
    if (mpz_sgn(v) > 0)
        mpz_export(out + (len - used), NULL, 1, 1, 1, 0, v);
    return OVL_OK;
}

ovl_err agg_blind_id(const ovl_agg *a, uint8_t *out, const uint8_t id[32])
{
    uint8_t h[OVL_GROUP_MAX_ELEM];
    ovl_err rc = a->g->hash_to_group(h, id, 32, (const uint8_t *)a->dst, strlen(a->dst));
    return rc == OVL_OK ? a->g->scalar_mult(out, a->scalar, h) : rc;
}

ovl_err agg_job_new(ovl_agg *a, agg_job **out, int kind, void (*run)(ovl_job *), size_t seq,
                    size_t start, size_t count)
{
    ovl_err rc = ovl_calloc((void **)out, 1, sizeof **out);
    if (rc != OVL_OK)
        return rc;
    (*out)->base.run = run;
    (*out)->a = a;
    (*out)->kind = kind;
    (*out)->seq = seq;
    (*out)->start = start;
    (*out)->count = count;
    return OVL_OK;
}

ovl_err agg_job_with_frame(ovl_agg *a, agg_job **out, int kind, void (*run)(ovl_job *),
                           uint8_t type, size_t seq, size_t start, size_t count, size_t entry)
{
    ovl_err rc = OVL_OK;
    agg_job *j = NULL;
    uint8_t *space;
    OVL_TRY(agg_job_new(a, &j, kind, run, seq, start, count));
    OVL_TRY(ovl_frame_batch_new(&j->frame, type, count, entry, &space));
    memset(space, 0, count * entry);
    *out = j;
    j = NULL;
done:
    agg_job_free((ovl_job *)j);
    return rc;
}

ovl_err agg_queue_input(ovl_agg *a, int kind, void (*run)(ovl_job *), size_t start,
                        const ovl_buf *r, uint32_t count)
{
    ovl_err rc = OVL_OK;
    agg_job *j = NULL;
    size_t len = ovl_buf_remaining(r);
    OVL_TRY(agg_job_new(a, &j, kind, run, 0, start, count));
    OVL_TRY(ovl_calloc((void **)&j->in, len ? len : 1, 1));
    memcpy(j->in, ovl_buf_rptr(r), len);
    ovl_job_queue_push(&a->pending, &j->base);
    j = NULL;
done:
    agg_job_free((ovl_job *)j);
    return rc;
}

/* The next job of the own stream, if its frames are not too far ahead. */
static ovl_err own_job(ovl_agg *a, agg_job **out)
{
    ovl_err rc = OVL_OK;
    ovl_order *s = &a->own;
    *out = NULL;
    if (s->made >= s->cap || ovl_order_window(s) >= a->cfg.max_jobs)
        return OVL_OK;
    if (agg_is_runner(a))
        OVL_TRY(agg_runner_own_job(a, s->made, out));
    else
        OVL_TRY(agg_contributor_own_job(a, s->made, out));
    (void)ovl_order_seq(s);
done:
    return rc;
}

static ovl_err agg_job_take(void *proto, ovl_job **out)
{
    ovl_agg *a = proto;
    ovl_err rc = OVL_OK;
    agg_job *j = NULL;
    *out = NULL;
    if (a->eng.state == OVL_ENGINE_FAILED)
        return a->eng.failure;
    if (a->eng.state != OVL_ENGINE_RUN || a->running >= a->cfg.max_jobs)
        return OVL_OK;
    if (agg_is_runner(a))
        OVL_TRY(agg_runner_advance(a));
    if (a->pending.head != NULL && (a->prefer_pending || a->own.made >= a->own.cap))
        j = (agg_job *)ovl_job_queue_pop(&a->pending);
    if (j == NULL)
        OVL_TRY(own_job(a, &j));
    if (j == NULL)
        j = (agg_job *)ovl_job_queue_pop(&a->pending);
    if (j != NULL) {
        a->prefer_pending = !a->prefer_pending;
        a->running++;
        *out = &j->base;
    }
done:
    return ovl_engine_end(&a->eng, rc);
}

static ovl_err agg_job_finish(void *proto, ovl_job *job)
{
    ovl_agg *a = proto;
    agg_job *j = (agg_job *)job;
    ovl_err rc = OVL_OK;
    a->running--;
    OVL_TRY(ovl_job_result(job));
    switch (j->kind) {
    case J_BLIND:
    case J_ENCRYPT:
        a->own_done += j->count;
        OVL_TRY(ovl_order_put(&a->own, j->seq, job));
        return OVL_OK;
    case J_MASK:
        for (size_t i = 0; i < j->count; i++)
            mpz_import(a->my_share[j->start + i], a->share_len, 1, 1, 1, 0,
                       j->shares + i * a->share_len);
        OVL_TRY(ovl_order_put(&a->reply, j->seq, job));
        return OVL_OK;
    case J_DECRYPT:
        OVL_TRY(ovl_order_put(&a->reply, j->seq, job));
        return OVL_OK;
    case J_PEER_ELEMS:
        a->peer_done += j->count;
        break;
    case J_PEER_VALUES:
        a->values_done += j->count;
        break;
    case J_SUM: {
        size_t pos = j->seq;
        if (!a->acc_set[pos]) {
            mpz_set(a->acc[pos], j->acc);
            a->acc_set[pos] = true;
        } else {
            rc = ovl_paillier_add(a->acc[pos], a->pk, a->acc[pos], j->acc);
        }
        a->sum_left--;
        break;
    }
    default:
        break;
    }
done:
    agg_job_free(job);
    return ovl_engine_end(&a->eng, rc);
}

/* ---- receiving ---- */

static ovl_err on_hello(ovl_agg *a, const uint8_t *payload, size_t len)
{
    ovl_err rc = OVL_OK;
    ovl_hello peer;
    /* The runner's set_size counts padded memberships: checked on LAYOUT. */
    const ovl_hello_rules rules = {
        .max_peer_set = a->cfg.max_peer_set,
        .statement = agg_params_statement,
        .arg = a,
        .expect_peer_set = a->cfg.expect_peer_set && agg_is_runner(a),
        .peer_set_expected = a->cfg.peer_set_expected,
    };
    OVL_TRY(ovl_engine_hello_recv(&a->eng, &rules, payload, len, &peer));
    if (agg_is_runner(a))
        a->m = peer.set_size;
    else
        a->N = peer.set_size;
    a->ell = ovl_psi_tag_len_for(a->N, a->m);
    ovl_tagger_init(&a->tags, AGG_TAG_LABEL, a->eng.transcript);
    if (agg_is_runner(a))
        OVL_TRY(agg_runner_start(a));
    else
        OVL_TRY(agg_contributor_start(a));
    a->eng.state = OVL_ENGINE_RUN;
done:
    return rc;
}

ovl_err agg_read_entries(ovl_buf *r, const char *what, uint32_t cap, size_t entry, uint64_t room,
                         uint32_t *count)
{
    ovl_err rc = ovl_frame_read_count(r, what, cap, count);
    if (rc != OVL_OK)
        return rc;
    if (*count > room)
        return ovl_err_set(OVL_ERR_PROTOCOL, "the peer sent more %s entries than announced", what);
    if (ovl_buf_remaining(r) != (size_t)*count * entry)
        return ovl_err_set(OVL_ERR_PROTOCOL, "%s frame from the peer has %zu bytes for %u entries",
                           what, ovl_buf_remaining(r), *count);
    return OVL_OK;
}

static ovl_err agg_feed(void *proto, uint8_t type, const uint8_t *payload, size_t len)
{
    ovl_agg *a = proto;
    ovl_buf r;
    ovl_err rc = ovl_engine_admit(&a->eng, type, payload, len);
    if (rc != OVL_OK)
        return rc;
    if (a->eng.state == OVL_ENGINE_SETUP) {
        OVL_TRY(on_hello(a, payload, len));
        goto done;
    }
    OVL_ENSURE(a->eng.state == OVL_ENGINE_RUN, OVL_ERR_PROTOCOL,
               "the peer sent frame type 0x%02x after the end", type);
    OVL_ENSURE(type != OVL_HELLO_TYPE, OVL_ERR_PROTOCOL, "the peer sent a second HELLO");
    ovl_buf_reader(&r, payload, len);
    if (agg_is_runner(a))
        OVL_TRY(agg_runner_feed(a, type, &r));
    else
        OVL_TRY(agg_contributor_feed(a, type, &r));
done:
    return ovl_engine_end(&a->eng, rc);
}

/* ---- sending ---- */

ovl_err agg_pull_order(ovl_order *o, ovl_buf *out, bool *have, uint64_t *counter)
{
    agg_job *j = (agg_job *)ovl_order_take(o);
    if (j == NULL)
        return OVL_OK;
    ovl_err rc = ovl_buf_put_bytes(out, j->frame.data, j->frame.wpos);
    if (rc == OVL_OK) {
        if (counter)
            *counter += j->count;
        *have = true;
    }
    agg_job_free(&j->base);
    return rc;
}

static ovl_err agg_pull(void *proto, ovl_buf *out, bool *have)
{
    ovl_agg *a = proto;
    ovl_err rc = ovl_engine_pull(&a->eng, out, have);
    if (rc != OVL_OK || *have)
        return rc;
    if (a->eng.state != OVL_ENGINE_RUN)
        return OVL_OK;
    if (agg_is_runner(a)) {
        OVL_TRY(agg_runner_advance(a));
        OVL_TRY(agg_runner_pull(a, out, have));
    } else {
        OVL_TRY(agg_contributor_pull(a, out, have));
    }
done:
    return ovl_engine_end(&a->eng, rc);
}

static bool agg_wants_input(const void *proto)
{
    const ovl_agg *a = proto;
    if (a->eng.state == OVL_ENGINE_SETUP)
        return true;
    return a->eng.state == OVL_ENGINE_RUN && a->pending.n < PENDING_MAX;
}

static bool agg_done(const void *proto)
{
    return ((const ovl_agg *)proto)->eng.state == OVL_ENGINE_DONE;
}

const ovl_proto_ops ovl_agg_ops = {
    .feed = agg_feed,
    .pull = agg_pull,
    .job_take = agg_job_take,
    .job_finish = agg_job_finish,
    .wants_input = agg_wants_input,
    .done = agg_done,
};

/* ---- accessors ---- */

void ovl_agg_get_progress(const ovl_agg *a, ovl_agg_progress *out)
{
    out->own_total = agg_is_runner(a) ? a->N : a->cfg.nids;
    out->own_done = a->own_done;
    out->peer_total = agg_is_runner(a) ? a->m : a->N;
    out->peer_done = agg_is_runner(a) ? a->values_done : a->peer_done;
    out->setup_done = a->eng.state == OVL_ENGINE_RUN || a->eng.state == OVL_ENGINE_DONE;
}

uint64_t ovl_agg_threshold(const ovl_agg *a) { return a->threshold; }
uint64_t ovl_agg_peer_set_size(const ovl_agg *a) { return agg_is_runner(a) ? a->m : a->N; }
size_t ovl_agg_tag_len(const ovl_agg *a) { return a->ell; }
const uint8_t *ovl_agg_transcript(const ovl_agg *a) { return a->eng.transcript; }
size_t ovl_agg_value_count(const ovl_agg *a) { return a->nvalues; }
const char *ovl_agg_value_name(const ovl_agg *a, size_t i) { return a->values[i].name; }
unsigned ovl_agg_value_decimals(const ovl_agg *a, size_t i) { return a->values[i].decimals; }
size_t ovl_agg_groups_released(const ovl_agg *a) { return a->nreleased; }
size_t ovl_agg_group_count(const ovl_agg *a) { return a->P; }
