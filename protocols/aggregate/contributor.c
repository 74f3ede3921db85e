/* The aggregate contributor (SPEC.md §5.2-§5.4): it holds the value
 * columns under its own Paillier key, re-blinds the runner's elements and
 * returns their tags partition by partition, sends its identifiers blinded
 * with their encrypted value vectors, and decrypts the masked sums. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "aggregate/state.h"
#include "core/guard.h"
#include "core/mem.h"
#include "core/sort.h"
#include "crypto/share.h"

#define SUM_BOUND ((uint64_t)1 << 62) /* SPEC.md §5.4 */

/* ---- setup ---- */

/* SPEC.md §5.4: every group sum must decode exactly. */
ovl_err agg_contributor_bound(const ovl_agg *a)
{
    size_t w = 1 + a->cfg.nvalues;
    for (size_t c = 0; c < a->cfg.nvalues; c++) {
        uint64_t total = 0;
        for (size_t i = 0; i < a->cfg.nids; i++) {
            int64_t v = a->cfg.vectors[i * w + 1 + c];
            uint64_t mag = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
            if (mag >= SUM_BOUND - total)
                return ovl_err_set(OVL_ERR_LIMIT,
                                   "value column '%s': the sums over identifiers can reach 2^62 "
                                   "(in units of 10^-%u); aggregates this large cannot be "
                                   "computed exactly, refusing",
                                   a->cfg.values[c].name, a->cfg.values[c].decimals);
            total += mag;
        }
    }
    return OVL_OK;
}

ovl_err agg_contributor_setup(ovl_agg *a)
{
    ovl_err rc = OVL_OK;
    OVL_TRY(agg_contributor_bound(a));
    if (a->cfg.test_key != NULL) {
        a->sk = a->cfg.test_key;
    } else if (a->cfg.test_seed != NULL) {
        uint8_t seed[OVL_PAILLIER_SEED_BYTES];
        ovl_rng_bytes(&a->rng, seed, sizeof seed);
        rc = ovl_paillier_keygen_from_seed_for_tests(&a->sk_owned, a->cfg.paillier_bits, seed);
        sodium_memzero(seed, sizeof seed);
        OVL_TRY(rc);
        a->sk = a->sk_owned;
    } else {
        OVL_TRY(ovl_paillier_keygen(&a->sk_owned, a->cfg.paillier_bits));
        a->sk = a->sk_owned;
    }
    a->pk = ovl_paillier_sk_public(a->sk);
    OVL_ENSURE(ovl_paillier_pk_bits(a->pk) == a->cfg.paillier_bits, OVL_ERR_USAGE,
               "the test key has the wrong size");
    a->values = a->cfg.values;
    a->nvalues = a->cfg.nvalues;
    a->m = a->cfg.nids;
    OVL_TRY(agg_make_packing(a));
    OVL_TRY(ovl_calloc((void **)&a->perm, a->cfg.nids ? a->cfg.nids : 1, sizeof *a->perm));
    for (size_t i = 0; i < a->cfg.nids; i++)
        a->perm[i] = (uint32_t)i;
    ovl_rng_shuffle_u32(&a->rng, a->perm, a->cfg.nids);
done:
    return rc;
}

/* ---- jobs (worker threads: read-only engine state, own output) ---- */

static void run_encrypt(ovl_job *job)
{
    agg_job *j = (agg_job *)job;
    const ovl_agg *a = j->a;
    size_t w = 1 + a->nvalues, elen = a->g->elem_len, entry = elen + a->ct_len;
    uint8_t *out = agg_frame_body(j);
    mpz_t m, ct;
    mpz_inits(m, ct, NULL);
    for (size_t i = 0; i < j->count; i++) {
        size_t pos = j->start + i, id = a->perm[pos];
        uint8_t *e = out + i * entry;
        ovl_err rc = agg_blind_id(a, e, a->cfg.ids[id]);
        if (rc == OVL_OK)
            rc = ovl_paillier_pack(m, &a->pack, a->bits, a->cfg.vectors + id * w, w);
        if (rc == OVL_OK)
            rc = agg_encrypt_item(a, ct, m, 'v', pos);
        if (rc != OVL_OK) {
            agg_job_error(j, rc, "encrypting an own value vector failed", pos);
            break;
        }
        if ((rc = agg_put_ct(e + elen, a->ct_len, ct)) != OVL_OK) {
            agg_job_error(j, rc, "serialising a ciphertext failed", pos);
            break;
        }
    }
    mpz_clears(m, ct, NULL);
}

/* Peer elements go through the group in runs this long (the suite's batch
 * call may take several at once: eight lanes of AVX-512 IFMA). */
enum { GROUP_RUN = 64 };

static void run_peer_elems(ovl_job *job)
{
    agg_job *j = (agg_job *)job;
    const ovl_agg *a = j->a;
    size_t elen = a->g->elem_len, bad = 0;
    uint8_t d[GROUP_RUN * OVL_GROUP_MAX_ELEM];
    for (size_t i = 0; i < j->count; i += GROUP_RUN) {
        size_t n = j->count - i < GROUP_RUN ? j->count - i : GROUP_RUN;
        if (a->g->scalar_mult_batch(d, &bad, a->scalar, 0, j->in + i * elen, n) != OVL_OK) {
            agg_job_error(j, OVL_ERR_PROTOCOL, "the peer sent an invalid group element",
                          j->start + i + bad);
            return;
        }
        for (size_t k = 0; k < n; k++)
            ovl_tagger_tag(&a->tags, a->ptags + (j->start + i + k) * a->dlen, a->dlen,
                           d + k * elen, elen);
    }
}

static void run_decrypt(ovl_job *job)
{
    agg_job *j = (agg_job *)job;
    const ovl_agg *a = j->a;
    uint8_t *out = agg_frame_body(j);
    mpz_t ct, m;
    mpz_inits(ct, m, NULL);
    for (size_t i = 0; i < j->count; i++) {
        if (ovl_paillier_ct_from_bytes(ct, a->pk, j->in + i * a->ct_len, a->ct_len) != OVL_OK) {
            agg_job_error(j, OVL_ERR_PROTOCOL, "the peer sent an invalid Paillier ciphertext",
                      j->start + i);
            break;
        }
        if (ovl_paillier_decrypt(m, a->sk, ct) != OVL_OK ||
            agg_put_ct(out + i * a->share_len, a->share_len, m) != OVL_OK) {
            agg_job_error(j, OVL_ERR_PROTOCOL, "the peer sent an undecryptable ciphertext",
                      j->start + i);
            break;
        }
    }
    mpz_clears(ct, m, NULL);
}

ovl_err agg_contributor_own_job(ovl_agg *a, size_t seq, agg_job **out)
{
    size_t start = seq * AGG_VALUES_BATCH, count = a->cfg.nids - start;
    if (count > AGG_VALUES_BATCH)
        count = AGG_VALUES_BATCH;
    return agg_job_with_frame(a, out, J_ENCRYPT, run_encrypt, OVL_AGG_VALUES, seq, start, count,
                              a->g->elem_len + a->ct_len);
}

/* ---- receiving ---- */

/* SPEC.md §5.3: records long enough that two of the N distinct elements
 * collide with probability below 2^-40, and at least a tag long. */
static size_t dedup_len(uint64_t n, size_t ell)
{
    unsigned lg = 0;
    while (lg < 64 && ((uint64_t)1 << lg) < n)
        lg++;
    size_t len = (40u + 2u * lg + 7u) / 8u;
    return len > ell ? len : ell;
}

ovl_err agg_contributor_start(ovl_agg *a)
{
    a->dlen = dedup_len(a->N, a->ell);
    a->ct_len = ovl_paillier_ct_len(a->pk);
    a->share_len = ovl_share_len(ovl_paillier_pk_modulus(a->pk));
    return ovl_order_init(&a->own, (a->cfg.nids + AGG_VALUES_BATCH - 1) / AGG_VALUES_BATCH);
}

static ovl_err on_layout(ovl_agg *a, ovl_buf *r)
{
    ovl_err rc = OVL_OK;
    uint32_t P;
    uint64_t least = 0;
    OVL_ENSURE(!a->layout_recv, OVL_ERR_PROTOCOL, "the peer sent a second LAYOUT");
    OVL_TRY(ovl_buf_get_u32(r, &P));
    OVL_ENSURE(P <= OVL_AGG_MAX_GROUPS, OVL_ERR_PROTOCOL, "the peer announced %u groups (cap %u)",
               P, OVL_AGG_MAX_GROUPS);
    OVL_ENSURE(ovl_buf_remaining(r) == (size_t)P * 4, OVL_ERR_PROTOCOL, "malformed LAYOUT frame");
    OVL_TRY(agg_alloc_layout(a, P));
    for (size_t p = 0; p < P; p++) {
        OVL_TRY(ovl_buf_get_u32(r, &a->psize[p]));
        uint32_t s = a->psize[p];
        OVL_ENSURE(s >= OVL_AGG_PAD_MIN && (s & (s - 1)) == 0, OVL_ERR_PROTOCOL,
                   "the peer's partition %zu has size %u (not a padded size)", p, s);
        a->poff[p + 1] = a->poff[p] + s;
        /* padded(k) == s needs k > s/2 once s is past the minimum */
        least += s > OVL_AGG_PAD_MIN ? s / 2u + 1u : 0u;
    }
    OVL_ENSURE(a->poff[P] == a->N, OVL_ERR_PROTOCOL,
               "the peer's partitions hold %zu elements, its HELLO announced %llu", a->poff[P],
               (unsigned long long)a->N);
    OVL_ENSURE(!a->cfg.expect_peer_set || least <= a->cfg.peer_set_expected, OVL_ERR_PROTOCOL,
               "the peer's partitions pad at least %llu identifiers after it negotiated %llu",
               (unsigned long long)least, (unsigned long long)a->cfg.peer_set_expected);
    OVL_TRY(ovl_calloc((void **)&a->ptags, a->N ? (size_t)a->N : 1, a->dlen));
    OVL_TRY(ovl_order_init(&a->reply, P));
    a->layout_recv = true;
done:
    if (rc == OVL_ERR_MALFORMED)
        rc = ovl_err_set(OVL_ERR_PROTOCOL, "malformed LAYOUT frame from the peer");
    return rc;
}

static ovl_err on_elements(ovl_agg *a, ovl_buf *r)
{
    ovl_err rc = OVL_OK;
    uint32_t count;
    OVL_ENSURE(a->layout_recv, OVL_ERR_PROTOCOL, "the peer sent ELEMENTS before LAYOUT");
    OVL_TRY(agg_read_entries(r, "ELEMENTS", OVL_AGG_BATCH_MAX, a->g->elem_len, a->N - a->peer_recv,
                         &count));
    OVL_TRY(agg_queue_input(a, J_PEER_ELEMS, run_peer_elems, (size_t)a->peer_recv, r, count));
    a->peer_recv += count;
done:
    return rc;
}

static ovl_err on_sums(ovl_agg *a, ovl_buf *r)
{
    ovl_err rc = OVL_OK;
    uint32_t count;
    OVL_ENSURE(a->layout_recv && a->p_send == a->P && a->own.sent == a->own.cap, OVL_ERR_PROTOCOL,
               "the peer sent SUMS before it could have every tag and value");
    OVL_TRY(agg_read_entries(r, "SUMS", OVL_AGG_CT_BATCH_MAX, a->ct_len, a->P - a->sums_recv, &count));
    agg_job *j = NULL;
    size_t seq = ovl_order_seq(&a->reply);
    OVL_TRY(agg_job_with_frame(a, &j, J_DECRYPT, run_decrypt, OVL_AGG_SHARES, seq,
                               (size_t)a->sums_recv, count, a->share_len));
    rc = ovl_calloc((void **)&j->in, (size_t)count * a->ct_len, 1);
    if (rc != OVL_OK) {
        agg_job_free((ovl_job *)j);
        goto done;
    }
    memcpy(j->in, ovl_buf_rptr(r), (size_t)count * a->ct_len);
    ovl_job_queue_push(&a->pending, &j->base);
    a->sums_recv += count;
done:
    return rc;
}

static ovl_err on_finish(ovl_agg *a, ovl_buf *r)
{
    ovl_err rc = OVL_OK;
    uint32_t released = 0;
    OVL_ENSURE(ovl_buf_remaining(r) == 4 && ovl_buf_get_u32(r, &released) == OVL_OK,
               OVL_ERR_PROTOCOL, "malformed FINISH frame from the peer");
    OVL_ENSURE(a->layout_recv && a->shares_sent == a->P, OVL_ERR_PROTOCOL,
               "the peer finished before receiving every share");
    OVL_ENSURE(released <= a->P, OVL_ERR_PROTOCOL, "the peer claims %u released groups of %zu",
               released, a->P);
    a->nreleased = released; /* the runner's statement, for the audit log (SPEC.md §7) */
    a->finish_recv = true;
    a->eng.state = OVL_ENGINE_DONE;
done:
    return rc;
}

ovl_err agg_contributor_feed(ovl_agg *a, uint8_t type, ovl_buf *r)
{
    switch (type) {
    case OVL_AGG_LAYOUT: return on_layout(a, r);
    case OVL_AGG_ELEMENTS: return on_elements(a, r);
    case OVL_AGG_SUMS: return on_sums(a, r);
    case OVL_AGG_FINISH: return on_finish(a, r);
    default:
        return ovl_err_set(OVL_ERR_PROTOCOL, "the peer sent frame type 0x%02x, which a runner "
                           "never sends", type);
    }
}

/* ---- sending ---- */

/* SPEC.md §5.3: no element twice in the whole layout, within a group or
 * across groups. Overlapping groups would let the runner see which of its
 * identifiers matched (§7), so the contributor refuses them. */
static ovl_err check_disjoint(const ovl_agg *a)
{
    ovl_err rc = OVL_OK;
    uint8_t *all = NULL;
    size_t n = (size_t)a->N;
    OVL_TRY(ovl_calloc((void **)&all, n ? n : 1, a->dlen));
    memcpy(all, a->ptags, n * a->dlen);
    OVL_TRY(ovl_sort_fixed(all, n, a->dlen));
    OVL_ENSURE(ovl_find_adjacent_dup(all, n, a->dlen) == SIZE_MAX, OVL_ERR_PROTOCOL,
               "the peer sent the same element twice (its groups must be disjoint)");
done:
    free(all);
    return rc;
}

/* SPEC.md §5.3: a partition's tags leave sorted, which hides the order, and
 * only once every element of every partition has been checked. */
static ovl_err pull_tags(ovl_agg *a, ovl_buf *out, bool *have)
{
    ovl_err rc = OVL_OK;
    size_t p = a->p_send, mark;
    uint8_t *space;
    if (!a->layout_recv || p >= a->P || a->peer_done < a->N)
        return OVL_OK;
    if (!a->p_checked) {
        OVL_TRY(check_disjoint(a));
        a->p_checked = true;
    }
    uint8_t *seg = a->ptags + a->poff[p] * a->dlen;
    if (!a->p_sorted) {
        OVL_TRY(ovl_sort_fixed(seg, a->psize[p], a->dlen));
        a->p_sorted = true;
    }
    size_t n = a->psize[p] - a->p_sent_in;
    if (n > AGG_ELEM_BATCH)
        n = AGG_ELEM_BATCH;
    OVL_TRY(ovl_frame_begin(out, OVL_AGG_TAGS, &mark));
    OVL_TRY(ovl_buf_put_u32(out, (uint32_t)n));
    OVL_TRY(ovl_buf_reserve(out, n * a->ell, &space));
    for (size_t i = 0; i < n; i++)
        memcpy(space + i * a->ell, seg + (a->p_sent_in + i) * a->dlen, a->ell);
    OVL_TRY(ovl_frame_end(out, mark));
    a->p_sent_in += n;
    if (a->p_sent_in == a->psize[p]) {
        a->p_send++;
        a->p_sent_in = 0;
        a->p_sorted = false;
    }
    *have = true;
done:
    return rc;
}

ovl_err agg_contributor_pull(ovl_agg *a, ovl_buf *out, bool *have)
{
    ovl_err rc = OVL_OK;
    if (!a->key_sent) {
        size_t mark;
        OVL_TRY(ovl_frame_begin(out, OVL_AGG_KEY, &mark));
        OVL_TRY(ovl_paillier_pk_write(out, a->pk));
        OVL_TRY(ovl_frame_end(out, mark));
        a->key_sent = true;
        *have = true;
        goto done;
    }
    OVL_TRY(agg_pull_order(&a->own, out, have, NULL));
    if (*have)
        goto done;
    OVL_TRY(pull_tags(a, out, have));
    if (*have)
        goto done;
    OVL_TRY(agg_pull_order(&a->reply, out, have, &a->shares_sent));
done:
    return rc;
}
