/* The aggregate runner (SPEC.md §5.1, §5.5-§5.7): it holds the groups,
 * sends them padded and blinded, matches the contributor's tags against its
 * own, adds the matched ciphertexts homomorphically, masks each group's sum
 * and combines the shares of the groups that pass the threshold. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "aggregate/state.h"
#include "core/guard.h"
#include "core/mem.h"
#include "core/sort.h"
#include "crypto/share.h"

#define CT_BATCH 64u
#define SUM_CHUNK 2048u
#define DUMMY UINT32_MAX

/* ---- layout (SPEC.md §5.1) ---- */

static size_t padded(size_t k)
{
    size_t s = OVL_AGG_PAD_MIN;
    while (s < k)
        s *= 2;
    return s;
}

/* SPEC.md §5.1: partitions in random order, each padded with dummies and
 * shuffled. */
ovl_err agg_runner_layout(ovl_agg *a)
{
    ovl_err rc = OVL_OK;
    size_t P = a->cfg.ngroups;
    OVL_ENSURE(P <= OVL_AGG_MAX_GROUPS, OVL_ERR_LIMIT, "%zu groups exceed the cap of %u", P,
               OVL_AGG_MAX_GROUPS);
    OVL_TRY(agg_alloc_layout(a, P));
    OVL_TRY(ovl_calloc((void **)&a->order, P ? P : 1, sizeof *a->order));
    for (size_t i = 0; i < P; i++)
        a->order[i] = (uint32_t)i;
    ovl_rng_shuffle_u32(&a->rng, a->order, P);
    OVL_TRY(ovl_calloc((void **)&a->pos_of, P ? P : 1, sizeof *a->pos_of));
    for (size_t i = 0; i < P; i++)
        a->pos_of[a->order[i]] = (uint32_t)i;
    for (size_t p = 0; p < P; p++) {
        size_t g = a->order[p], k = a->cfg.group_start[g + 1] - a->cfg.group_start[g];
        a->psize[p] = (uint32_t)padded(k);
        a->poff[p + 1] = a->poff[p] + a->psize[p];
        OVL_ENSURE(a->poff[p + 1] <= UINT32_MAX, OVL_ERR_LIMIT, "too many group memberships");
    }
    a->N = a->poff[P];
    OVL_TRY(ovl_calloc((void **)&a->slot_src, a->N ? (size_t)a->N : 1, sizeof *a->slot_src));
    for (size_t p = 0; p < P; p++) {
        size_t g = a->order[p], first = a->cfg.group_start[g];
        size_t k = a->cfg.group_start[g + 1] - first;
        for (size_t j = 0; j < a->psize[p]; j++)
            a->slot_src[a->poff[p] + j] = j < k ? (uint32_t)(first + j) : DUMMY;
        ovl_rng_shuffle_u32(&a->rng, a->slot_src + a->poff[p], a->psize[p]);
    }
done:
    return rc;
}

/* SPEC.md §5.1: an identifier in two groups would have the same
 * double-blinded element in both partitions, so the runner would learn which
 * combination of groups each matched identifier belongs to (§7). */
ovl_err agg_runner_disjoint(const ovl_agg *a)
{
    ovl_err rc = OVL_OK;
    size_t total = a->cfg.ngroups ? a->cfg.group_start[a->cfg.ngroups] : 0;
    uint8_t *ids = NULL;
    OVL_TRY(ovl_calloc((void **)&ids, total ? total : 1, 32));
    if (total > 0)
        memcpy(ids, a->cfg.memb, total * 32);
    OVL_TRY(ovl_sort_fixed(ids, total, 32));
    OVL_ENSURE(ovl_find_adjacent_dup(ids, total, 32) == SIZE_MAX, OVL_ERR_INPUT,
               "an identifier has rows in more than one group (different --group-by values): "
               "aggregate groups must be disjoint, since overlapping groups would reveal which "
               "identifiers matched; keep one group per identifier or run one analysis per group");
done:
    free(ids);
    return rc;
}

/* ---- jobs (worker threads: read-only engine state, own output) ---- */

static void run_blind(ovl_job *job)
{
    agg_job *j = (agg_job *)job;
    const ovl_agg *a = j->a;
    uint8_t *out = agg_frame_body(j);
    for (size_t i = 0; i < j->count; i++) {
        size_t s = j->start + i;
        uint32_t src = a->slot_src[s];
        ovl_err rc;
        if (src == DUMMY) {
            /* SPEC.md §5.1: a dummy is a hash of secret randomness, a uniform element. */
            uint8_t msg[40];
            memcpy(msg, a->secret_key, 32);
            for (int b = 0; b < 8; b++)
                msg[32 + b] = (uint8_t)((uint64_t)s >> (56 - 8 * b));
            rc = a->g->hash_to_group(out + i * a->g->elem_len, msg, sizeof msg,
                                     (const uint8_t *)a->dst_dummy, strlen(a->dst_dummy));
            sodium_memzero(msg, sizeof msg);
        } else {
            rc = agg_blind_id(a, out + i * a->g->elem_len, a->cfg.memb[src]);
        }
        if (rc != OVL_OK) {
            agg_job_error(j, OVL_ERR_CRYPTO, "blinding an own element failed", s);
            return;
        }
    }
}

static void run_peer_values(ovl_job *job)
{
    agg_job *j = (agg_job *)job;
    const ovl_agg *a = j->a;
    size_t elen = a->g->elem_len, entry = elen + a->ct_len;
    uint8_t d[OVL_GROUP_MAX_ELEM];
    mpz_t ct;
    mpz_init(ct);
    for (size_t i = 0; i < j->count; i++) {
        const uint8_t *e = j->in + i * entry;
        size_t idx = j->start + i;
        if (a->g->scalar_mult(d, a->scalar, e) != OVL_OK) {
            agg_job_error(j, OVL_ERR_PROTOCOL, "the peer sent an invalid group element", idx);
            break;
        }
        if (ovl_paillier_ct_from_bytes(ct, a->pk, e + elen, a->ct_len) != OVL_OK) {
            agg_job_error(j, OVL_ERR_PROTOCOL, "the peer sent an invalid Paillier ciphertext", idx);
            break;
        }
        ovl_tagger_tag(&a->tags, a->ctags + idx * a->ell, a->ell, d, a->g->elem_len);
        memcpy(a->cts + idx * a->ct_len, e + elen, a->ct_len);
    }
    mpz_clear(ct);
}

static void run_sum(ovl_job *job)
{
    agg_job *j = (agg_job *)job;
    const ovl_agg *a = j->a;
    const uint32_t *list = a->match + a->match_off[j->seq] + j->start;
    mpz_t ct;
    mpz_init(ct);
    for (size_t i = 0; i < j->count; i++) {
        /* Validated on receipt (run_peer_values). */
        mpz_import(ct, a->ct_len, 1, 1, 1, 0, a->cts + (size_t)list[i] * a->ct_len);
        if (i == 0)
            mpz_set(j->acc, ct);
        else if (ovl_paillier_add(j->acc, a->pk, j->acc, ct) != OVL_OK) {
            agg_job_error(j, OVL_ERR_INTERNAL, "homomorphic addition failed", i);
            break;
        }
    }
    mpz_clear(ct);
}

/* SPEC.md §5.6: a passing group's masked sum, or an encryption of a random
 * value for a suppressed group; the two are indistinguishable. */
static ovl_err mask_one(const ovl_agg *a, size_t pos, mpz_t ct, mpz_t share)
{
    ovl_err rc = OVL_OK;
    mpz_t t, z;
    mpz_inits(t, z, NULL);
    if (a->matched[pos] >= a->threshold) {
        if (a->cfg.test_seed == NULL) {
            OVL_TRY(ovl_paillier_mask(ct, share, a->pk, a->acc[pos]));
            goto done;
        }
        OVL_TRY(agg_random_residue(a, t, 't', pos));
        OVL_TRY(ovl_paillier_add_plain(ct, a->pk, a->acc[pos], t));
        OVL_TRY(agg_encrypt_item(a, z, z, 'z', pos)); /* E(0): rerandomises */
        OVL_TRY(ovl_paillier_add(ct, a->pk, ct, z));
        mpz_sub(share, ovl_paillier_pk_modulus(a->pk), t);
        mpz_mod(share, share, ovl_paillier_pk_modulus(a->pk));
    } else {
        OVL_TRY(agg_random_residue(a, t, 'u', pos));
        OVL_TRY(agg_encrypt_item(a, ct, t, 'e', pos));
        mpz_set_ui(share, 0);
    }
done:
    mpz_clears(t, z, NULL);
    return rc;
}

static void run_mask(ovl_job *job)
{
    agg_job *j = (agg_job *)job;
    const ovl_agg *a = j->a;
    uint8_t *out = agg_frame_body(j);
    mpz_t ct, share;
    mpz_inits(ct, share, NULL);
    for (size_t i = 0; i < j->count; i++) {
        ovl_err rc = mask_one(a, j->start + i, ct, share);
        if (rc == OVL_OK)
            rc = agg_put_ct(out + i * a->ct_len, a->ct_len, ct);
        if (rc == OVL_OK)
            rc = agg_put_ct(j->shares + i * a->share_len, a->share_len, share);
        if (rc != OVL_OK) {
            agg_job_error(j, OVL_ERR_INTERNAL, "masking a group sum failed", j->start + i);
            break;
        }
    }
    mpz_clears(ct, share, NULL);
}

ovl_err agg_runner_own_job(ovl_agg *a, size_t seq, agg_job **out)
{
    size_t start = seq * AGG_ELEM_BATCH, count = (size_t)a->N - start;
    if (count > AGG_ELEM_BATCH)
        count = AGG_ELEM_BATCH;
    return agg_job_with_frame(a, out, J_BLIND, run_blind, OVL_AGG_ELEMENTS, seq, start, count,
                              a->g->elem_len);
}

/* ---- receiving ---- */

ovl_err agg_runner_start(ovl_agg *a)
{
    ovl_err rc = OVL_OK;
    OVL_TRY(ovl_calloc((void **)&a->rtags, a->N ? (size_t)a->N : 1, a->ell));
    OVL_TRY(ovl_order_init(&a->own, (size_t)((a->N + AGG_ELEM_BATCH - 1) / AGG_ELEM_BATCH)));
done:
    return rc;
}

static ovl_err on_key(ovl_agg *a, ovl_buf *r)
{
    ovl_err rc = OVL_OK;
    OVL_ENSURE(!a->key_recv, OVL_ERR_PROTOCOL, "the peer sent a second KEY");
    rc = ovl_paillier_pk_read(&a->peer_pk, r);
    if (rc != OVL_OK)
        OVL_FAIL(ovl_err_wrap(OVL_ERR_PROTOCOL, "the peer's Paillier key: "));
    OVL_TRY(ovl_buf_expect_end(r));
    OVL_ENSURE(ovl_paillier_pk_bits(a->peer_pk) == a->bits, OVL_ERR_PROTOCOL,
               "the peer's Paillier key has %u bits, the session states %u",
               ovl_paillier_pk_bits(a->peer_pk), a->bits);
    a->pk = a->peer_pk;
    a->ct_len = ovl_paillier_ct_len(a->pk);
    a->share_len = ovl_share_len(ovl_paillier_pk_modulus(a->pk));
    OVL_TRY(agg_make_packing(a));
    OVL_TRY(ovl_calloc((void **)&a->ctags, a->m ? (size_t)a->m : 1, a->ell));
    OVL_TRY(ovl_calloc((void **)&a->cts, a->m ? (size_t)a->m : 1, a->ct_len));
    a->key_recv = true;
done:
    return rc;
}

static ovl_err on_values(ovl_agg *a, ovl_buf *r)
{
    ovl_err rc = OVL_OK;
    uint32_t count;
    OVL_ENSURE(a->key_recv, OVL_ERR_PROTOCOL, "the peer sent VALUES before its KEY");
    OVL_TRY(agg_read_entries(r, "VALUES", OVL_AGG_CT_BATCH_MAX, a->g->elem_len + a->ct_len,
                         a->m - a->values_recv, &count));
    OVL_TRY(agg_queue_input(a, J_PEER_VALUES, run_peer_values, (size_t)a->values_recv, r, count));
    a->values_recv += count;
done:
    return rc;
}

static ovl_err on_tags(ovl_agg *a, ovl_buf *r)
{
    ovl_err rc = OVL_OK;
    uint32_t count;
    OVL_TRY(agg_read_entries(r, "TAGS", OVL_AGG_BATCH_MAX, a->ell, a->N - a->rtags_recv, &count));
    memcpy(a->rtags + a->rtags_recv * a->ell, ovl_buf_rptr(r), (size_t)count * a->ell);
    a->rtags_recv += count;
done:
    return rc;
}

static ovl_err on_shares(ovl_agg *a, ovl_buf *r)
{
    ovl_err rc = OVL_OK;
    uint32_t count;
    OVL_TRY(agg_read_entries(r, "SHARES", OVL_AGG_CT_BATCH_MAX, a->share_len,
                         a->sums_sent - a->shares_recv, &count));
    for (uint32_t i = 0; i < count; i++) {
        rc = ovl_share_read(a->peer_share[a->shares_recv + i], r, ovl_paillier_pk_modulus(a->pk));
        if (rc != OVL_OK)
            OVL_FAIL(ovl_err_wrap(OVL_ERR_PROTOCOL, "the peer's share: "));
    }
    a->shares_recv += count;
done:
    return rc;
}

ovl_err agg_runner_feed(ovl_agg *a, uint8_t type, ovl_buf *r)
{
    switch (type) {
    case OVL_AGG_KEY: return on_key(a, r);
    case OVL_AGG_VALUES: return on_values(a, r);
    case OVL_AGG_TAGS: return on_tags(a, r);
    case OVL_AGG_SHARES: return on_shares(a, r);
    default:
        return ovl_err_set(OVL_ERR_PROTOCOL, "the peer sent frame type 0x%02x, which a contributor "
                           "never sends", type);
    }
}

/* ---- matching and sums (SPEC.md §5.5, §5.6) ---- */

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static ovl_err index_contributor(ovl_agg *a, uint8_t **recs_out)
{
    ovl_err rc = OVL_OK;
    size_t w = a->ell + 4, m = (size_t)a->m;
    uint8_t *recs = NULL;
    OVL_TRY(ovl_calloc((void **)&recs, m ? m : 1, w));
    for (size_t i = 0; i < m; i++) {
        memcpy(recs + i * w, a->ctags + i * a->ell, a->ell);
        for (int b = 0; b < 4; b++)
            recs[i * w + a->ell + (size_t)b] = (uint8_t)(i >> (24 - 8 * b));
    }
    OVL_TRY(ovl_sort_fixed(recs, m, w));
    for (size_t i = 1; i < m; i++)
        OVL_ENSURE(memcmp(recs + (i - 1) * w, recs + i * w, a->ell) != 0, OVL_ERR_PROTOCOL,
                   "the peer sent the same identifier twice");
    *recs_out = recs;
    recs = NULL;
done:
    free(recs);
    return rc;
}

static ovl_err queue_sums(ovl_agg *a)
{
    ovl_err rc = OVL_OK;
    for (size_t p = 0; p < a->P; p++) {
        if (a->matched[p] < a->threshold)
            continue;
        for (size_t s = 0; s < a->matched[p]; s += SUM_CHUNK) {
            agg_job *j = NULL;
            size_t n = a->matched[p] - s < SUM_CHUNK ? (size_t)a->matched[p] - s : SUM_CHUNK;
            OVL_TRY(agg_job_new(a, &j, J_SUM, run_sum, p, s, n));
            mpz_init(j->acc);
            j->acc_init = true;
            ovl_job_queue_push(&a->pending, &j->base);
            a->sum_left++;
        }
    }
done:
    return rc;
}

static ovl_err build_matches(ovl_agg *a)
{
    ovl_err rc = OVL_OK;
    uint8_t *recs = NULL;
    size_t w = a->ell + 4, total = 0;
    OVL_TRY(index_contributor(a, &recs));
    OVL_TRY(ovl_calloc((void **)&a->matched, a->P ? a->P : 1, sizeof *a->matched));
    OVL_TRY(ovl_calloc((void **)&a->match_off, a->P + 1, sizeof *a->match_off));
    OVL_TRY(ovl_calloc((void **)&a->match, a->N ? (size_t)a->N : 1, sizeof *a->match));
    for (size_t p = 0; p < a->P; p++) {
        a->match_off[p] = (uint32_t)total;
        for (size_t s = a->poff[p]; s < a->poff[p + 1]; s++) {
            size_t k = ovl_search_prefix(recs, (size_t)a->m, w, a->rtags + s * a->ell, a->ell);
            if (k != SIZE_MAX)
                a->match[total++] = rd32(recs + k * w + a->ell);
        }
        a->matched[p] = total - a->match_off[p];
    }
    a->match_off[a->P] = (uint32_t)total;
    OVL_TRY(ovl_calloc((void **)&a->acc, a->P ? a->P : 1, sizeof *a->acc));
    OVL_TRY(ovl_calloc((void **)&a->acc_set, a->P ? a->P : 1, sizeof *a->acc_set));
    for (size_t p = 0; p < a->P; p++)
        mpz_init(a->acc[p]);
    a->matched_built = true;
    OVL_TRY(queue_sums(a));
done:
    free(recs);
    return rc;
}

static ovl_err start_masks(ovl_agg *a)
{
    ovl_err rc = OVL_OK;
    size_t njobs = (a->P + CT_BATCH - 1) / CT_BATCH;
    OVL_TRY(ovl_order_init(&a->reply, njobs));
    OVL_TRY(ovl_calloc((void **)&a->my_share, a->P ? a->P : 1, sizeof *a->my_share));
    OVL_TRY(ovl_calloc((void **)&a->peer_share, a->P ? a->P : 1, sizeof *a->peer_share));
    for (size_t p = 0; p < a->P; p++) {
        mpz_init(a->my_share[p]);
        mpz_init(a->peer_share[p]);
    }
    for (size_t k = 0; k < njobs; k++) {
        agg_job *j = NULL;
        size_t start = k * CT_BATCH, n = a->P - start < CT_BATCH ? a->P - start : CT_BATCH;
        OVL_TRY(agg_job_with_frame(a, &j, J_MASK, run_mask, OVL_AGG_SUMS,
                                   ovl_order_seq(&a->reply), start, n, a->ct_len));
        rc = ovl_calloc((void **)&j->shares, n, a->share_len);
        if (rc != OVL_OK) {
            agg_job_free((ovl_job *)j);
            goto done;
        }
        ovl_job_queue_push(&a->pending, &j->base);
    }
    a->mask_ready = true;
done:
    return rc;
}

/* SPEC.md §5.7: only passing groups' shares are combined. */
static ovl_err complete_runner(ovl_agg *a)
{
    ovl_err rc = OVL_OK;
    size_t w = 1 + a->nvalues;
    mpz_t packed;
    mpz_init(packed);
    OVL_TRY(ovl_calloc((void **)&a->results, (a->P ? a->P : 1) * w, sizeof *a->results));
    OVL_TRY(ovl_calloc((void **)&a->released, a->P ? a->P : 1, sizeof *a->released));
    for (size_t p = 0; p < a->P; p++) {
        size_t g = a->order[p];
        if (a->matched[p] < a->threshold)
            continue;
        OVL_TRY(ovl_share_combine(packed, a->peer_share[p], a->my_share[p],
                                  ovl_paillier_pk_modulus(a->pk)));
        rc = ovl_paillier_unpack(a->results + g * w, w, &a->pack, a->bits, packed, a->matched[p]);
        if (rc != OVL_OK)
            OVL_FAIL(ovl_err_wrap(OVL_ERR_PROTOCOL, "the peer's shares do not decode: "));
        a->released[g] = true;
        a->nreleased++;
    }
done:
    mpz_clear(packed);
    return rc;
}

ovl_err agg_runner_advance(ovl_agg *a)
{
    ovl_err rc = OVL_OK;
    if (a->eng.state != OVL_ENGINE_RUN)
        return OVL_OK;
    if (!a->matched_built && a->key_recv && a->rtags_recv == a->N && a->values_recv == a->m &&
        a->values_done == a->m)
        OVL_TRY(build_matches(a));
    if (a->matched_built && !a->mask_ready && a->sum_left == 0)
        OVL_TRY(start_masks(a));
    if (a->mask_ready && a->results == NULL && a->shares_recv == a->P)
        OVL_TRY(complete_runner(a));
done:
    return rc;
}

/* ---- sending ---- */

static ovl_err put_layout(ovl_agg *a, ovl_buf *out)
{
    ovl_err rc = OVL_OK;
    size_t mark;
    OVL_TRY(ovl_frame_begin(out, OVL_AGG_LAYOUT, &mark));
    OVL_TRY(ovl_buf_put_u32(out, (uint32_t)a->P));
    for (size_t p = 0; p < a->P; p++)
        OVL_TRY(ovl_buf_put_u32(out, a->psize[p]));
    OVL_TRY(ovl_frame_end(out, mark));
    a->layout_sent = true;
done:
    return rc;
}

/* SPEC.md §4.9: how many groups were released, for the contributor's audit log. */
static ovl_err put_finish(ovl_agg *a, ovl_buf *out)
{
    ovl_err rc = OVL_OK;
    size_t mark;
    OVL_TRY(ovl_frame_begin(out, OVL_AGG_FINISH, &mark));
    OVL_TRY(ovl_buf_put_u32(out, (uint32_t)a->nreleased));
    OVL_TRY(ovl_frame_end(out, mark));
done:
    return rc;
}

ovl_err agg_runner_pull(ovl_agg *a, ovl_buf *out, bool *have)
{
    ovl_err rc = OVL_OK;
    if (!a->layout_sent) {
        OVL_TRY(put_layout(a, out));
        *have = true;
        goto done;
    }
    OVL_TRY(agg_pull_order(&a->own, out, have, NULL));
    if (*have)
        goto done;
    if (a->mask_ready) {
        OVL_TRY(agg_pull_order(&a->reply, out, have, &a->sums_sent));
        if (*have)
            goto done;
    }
    if (a->results != NULL && !a->finish_sent) {
        OVL_TRY(put_finish(a, out));
        a->finish_sent = true;
        a->eng.state = OVL_ENGINE_DONE;
        *have = true;
    }
done:
    return rc;
}

/* ---- result ---- */

ovl_err ovl_agg_group_result(const ovl_agg *a, size_t g, uint64_t *matched, bool *released,
                             const int64_t **sums)
{
    if (a->eng.state != OVL_ENGINE_DONE)
        return ovl_err_set(OVL_ERR_INTERNAL, "aggregate result requested before the run completed");
    if (!agg_is_runner(a))
        return ovl_err_set(OVL_ERR_POLICY, "the contributor receives no output");
    if (g >= a->P)
        return ovl_err_set(OVL_ERR_USAGE, "no group %zu", g);
    size_t p = a->pos_of[g];
    *matched = a->matched[p];
    *released = a->released[g];
    *sums = a->released[g] ? a->results + g * (1 + a->nvalues) : NULL;
    return OVL_OK;
}

