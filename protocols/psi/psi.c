/* The PSI engine: SPEC.md §5 (computation) and §6 (state machine). */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/guard.h"
#include "core/mem.h"
#include "core/sort.h"
#include "common/engine.h"
#include "psi/psi.h"

/* Completed-but-unsent batches wait in output windows this large; the job and
 * input limits below keep every outstanding sequence number inside them. */
#define RING 64u
#define PENDING_MAX 8u
#define TAG_LABEL "overlap-v1 psi tag"
#define MATCH_BUCKET_LOG2 2u /* about 4 peer tags per bucket when matching */
#define MATCH_BITS_MAX 24u   /* bucket index from the first 4 tag bytes (OVL_PSI_TAG_MIN >= 4) */

enum { JOB_OWN = 1, JOB_PEER = 2 };

typedef struct psi_job {
    ovl_job base;
    const struct ovl_psi *psi;
    int kind;
    size_t seq, start, count;
    uint8_t *in;   /* JOB_PEER: copy of the received elements */
    ovl_buf frame; /* JOB_OWN: the complete ELEMENTS frame */
} psi_job;

struct ovl_psi {
    ovl_engine eng; /* state, failure, HELLO, transcript (common/SPEC.md §6) */
    ovl_psi_config cfg;
    const ovl_group *g;
    uint8_t scalar[OVL_GROUP_MAX_SCALAR];
    ovl_rng rng;
    const uint8_t *dst;
    size_t dst_len;
    ovl_tagger tags; /* label and transcript absorbed */
    uint64_t n, m;
    size_t ell;
    bool i_get, peer_gets;
    uint32_t *perm; /* send position -> index into cfg.ids */

    size_t running; /* jobs handed out and not yet finished */
    bool prefer_own;

    size_t own_next; /* next send position to put in a job */
    ovl_order own;   /* our ELEMENTS frames, in send order */
    uint64_t own_sent;

    uint64_t peer_recv, peer_done;
    ovl_order peer;        /* the peer's batches, until their tags have left */
    ovl_job_queue pending; /* the peer's batches waiting for a worker */
    uint8_t *peer_tags; /* m * ell, position order until sorted */
    uint64_t tags_sent;
    bool peer_sorted;

    uint8_t *own_tags; /* n * ell, tags of our elements in our send order */
    uint64_t own_tags_recv;

    bool finish_sent, finish_recv;
    bool *matched;
    uint64_t count;
};

static const char dst_ristretto[] = "OVERLAP-V1-PSI-ristretto255_XMD:SHA-512_R255MAP_RO_";
static const char dst_p256[] = "OVERLAP-V1-PSI-P256_XMD:SHA-256_SSWU_RO_";

ovl_err ovl_psi_dst(const ovl_group *g, const uint8_t **dst, size_t *len)
{
    const char *s = g->id == OVL_SUITE_RISTRETTO255_SHA512 ? dst_ristretto
                    : g->id == OVL_SUITE_P256_SHA256       ? dst_p256
                                                           : NULL;
    if (s == NULL)
        return ovl_err_set(OVL_ERR_INTERNAL, "no PSI DST for suite %s", g->name);
    *dst = (const uint8_t *)s;
    *len = strlen(s);
    return OVL_OK;
}

static unsigned ceil_log2(uint64_t x)
{
    unsigned k = 0;
    while (k < 64 && (1ull << k) < x)
        k++;
    return k;
}

size_t ovl_psi_tag_len_for(uint64_t n, uint64_t m)
{
    /* SPEC.md §5.3: n*m pairs may collide, each with probability 2^-8l. */
    unsigned bits = 40 + ceil_log2(n ? n : 1) + ceil_log2(m ? m : 1);
    size_t len = (bits + 7) / 8;
    if (len < OVL_PSI_TAG_MIN)
        len = OVL_PSI_TAG_MIN;
    return len > OVL_PSI_TAG_MAX ? OVL_PSI_TAG_MAX : len;
}

/* ---- creation ---- */

static ovl_err make_perm(ovl_psi *p)
{
    ovl_err rc = ovl_calloc((void **)&p->perm, p->cfg.nids, sizeof *p->perm);
    if (rc != OVL_OK)
        return rc;
    for (size_t i = 0; i < p->cfg.nids; i++)
        p->perm[i] = (uint32_t)i;
    ovl_rng_shuffle_u32(&p->rng, p->perm, p->cfg.nids);
    return OVL_OK;
}

static ovl_err make_hello(ovl_psi *p)
{
    ovl_hello h = {
        .version = OVL_PROTOCOL_VERSION,
        .suite = (uint16_t)p->g->id,
        .mode = (uint8_t)p->cfg.mode,
        .reveal = (uint8_t)p->cfg.reveal,
        .role = (uint8_t)p->cfg.role,
        .set_size = p->cfg.nids,
        .params = p->cfg.params,
        .params_len = p->cfg.params_len,
    };
    return ovl_engine_hello_init(&p->eng, p->cfg.role, &h, &p->rng);
}

ovl_err ovl_psi_new(ovl_psi **out, const ovl_psi_config *cfg)
{
    ovl_err rc = OVL_OK;
    ovl_psi *p = NULL;
    *out = NULL;
    /* Cardinality runs on circuit PSI (protocols/cpsi/SPEC.md §6.4): here a
     * receiver that blinds its elements differently could test every one. */
    OVL_ENSURE(cfg->mode == OVL_MODE_INTERSECTION, OVL_ERR_USAGE,
               "the ECDH PSI protocol runs --mode intersection only (cardinality runs on "
               "circuit PSI, protocols/cpsi)");
    OVL_ENSURE(cfg->group != NULL, OVL_ERR_USAGE, "no group suite given");
    OVL_ENSURE(cfg->nids <= UINT32_MAX, OVL_ERR_LIMIT, "%zu identifiers exceed the protocol's cap",
               cfg->nids);
    OVL_TRY(ovl_calloc((void **)&p, 1, sizeof *p));
    p->cfg = *cfg;
    if (p->cfg.max_peer_set == 0)
        p->cfg.max_peer_set = OVL_PSI_DEFAULT_MAX_PEER_SET;
    if (p->cfg.batch == 0 || p->cfg.batch > OVL_PSI_BATCH_MAX)
        p->cfg.batch = OVL_PSI_BATCH_DEFAULT;
    if (p->cfg.max_jobs == 0 || p->cfg.max_jobs > RING / 2)
        p->cfg.max_jobs = 8;
    p->g = cfg->group;
    p->prefer_own = true;
    ovl_engine_rng_init(&p->rng, cfg->test_seed, "overlap-v1 psi test");
    OVL_TRY(ovl_order_init(&p->own, RING));
    OVL_TRY(ovl_order_init(&p->peer, RING));
    OVL_TRY(ovl_psi_dst(p->g, &p->dst, &p->dst_len));
    OVL_TRY(ovl_engine_scalar(p->g, p->scalar, &p->rng, cfg->test_seed != NULL));
    OVL_TRY(make_perm(p));
    OVL_TRY(make_hello(p));
    p->n = cfg->nids;
    p->i_get = ovl_reveal_includes(cfg->reveal, cfg->role);
    p->peer_gets = ovl_reveal_includes(cfg->reveal, cfg->role == OVL_ROLE_LISTENER
                                                        ? OVL_ROLE_CONNECTOR
                                                        : OVL_ROLE_LISTENER);
    *out = p;
    p = NULL;
done:
    ovl_psi_free(p);
    return rc;
}

static void job_free(ovl_job *job)
{
    psi_job *j = (psi_job *)job;
    if (j == NULL)
        return;
    free(j->in);
    ovl_buf_free(&j->frame);
    free(j);
}

void ovl_psi_free(ovl_psi *p)
{
    if (p == NULL)
        return;
    ovl_order_free(&p->own, job_free);
    ovl_order_free(&p->peer, job_free);
    ovl_job_queue_clear(&p->pending, job_free);
    ovl_engine_free(&p->eng);
    free(p->perm);
    free(p->peer_tags);
    free(p->own_tags);
    free(p->matched);
    ovl_rng_wipe(&p->rng);
    ovl_tagger_wipe(&p->tags);
    sodium_memzero(p->scalar, sizeof p->scalar);
    free(p);
}

/* ---- jobs (run on worker threads: read-only access to the engine) ---- */

/* Elements go through the group in runs this long: the suite's batch calls
 * may work on several at once (eight lanes of AVX-512 IFMA). */
enum { GROUP_RUN = 64 };

static void run_own(psi_job *j)
{
    const ovl_psi *p = j->psi;
    size_t elen = p->g->elem_len, bad;
    /* Frame layout: header, u32 count, elements (reserved in job_take). */
    uint8_t *out = j->frame.data + OVL_FRAME_HDR + 4;
    uint8_t h[GROUP_RUN * OVL_GROUP_MAX_ELEM];
    const uint8_t *ids[GROUP_RUN];
    for (size_t i = 0; i < j->count; i += GROUP_RUN) {
        size_t n = j->count - i < GROUP_RUN ? j->count - i : GROUP_RUN;
        for (size_t k = 0; k < n; k++)
            ids[k] = p->cfg.ids[p->perm[j->start + i + k]];
        ovl_err rc = p->g->hash_to_group_batch(h, ids, 32, n, p->dst, p->dst_len);
        if (rc == OVL_OK)
            rc = p->g->scalar_mult_batch(out + i * elen, &bad, p->scalar, 0, h, n);
        if (rc != OVL_OK) {
            ovl_job_fail(&j->base, OVL_ERR_CRYPTO, "blinding an own element failed");
            break;
        }
    }
    sodium_memzero(h, sizeof h);
}

static void run_peer(psi_job *j)
{
    const ovl_psi *p = j->psi;
    size_t elen = p->g->elem_len, bad = 0;
    uint8_t d[GROUP_RUN * OVL_GROUP_MAX_ELEM];
    for (size_t i = 0; i < j->count; i += GROUP_RUN) {
        size_t n = j->count - i < GROUP_RUN ? j->count - i : GROUP_RUN;
        if (p->g->scalar_mult_batch(d, &bad, p->scalar, 0, j->in + i * elen, n) != OVL_OK) {
            ovl_job_fail(&j->base, OVL_ERR_PROTOCOL,
                         "the peer sent an invalid group element (element %zu of its set)",
                         j->start + i + bad + 1);
            return;
        }
        for (size_t k = 0; k < n; k++)
            ovl_tagger_tag(&p->tags, p->peer_tags + (j->start + i + k) * p->ell, p->ell,
                           d + k * elen, elen);
    }
}

static void job_run(ovl_job *job)
{
    psi_job *j = (psi_job *)job;
    if (j->kind == JOB_OWN)
        run_own(j);
    else
        run_peer(j);
}

static ovl_err new_own_job(ovl_psi *p, psi_job **out)
{
    ovl_err rc = OVL_OK;
    psi_job *j = NULL;
    size_t count = p->n - p->own_next;
    if (count > p->cfg.batch)
        count = p->cfg.batch;
    uint8_t *space;
    OVL_TRY(ovl_calloc((void **)&j, 1, sizeof *j));
    j->base.run = job_run;
    j->psi = p;
    j->kind = JOB_OWN;
    j->start = p->own_next;
    j->count = count;
    OVL_TRY(ovl_frame_batch_new(&j->frame, OVL_PSI_ELEMENTS, count, p->g->elem_len, &space));
    j->seq = ovl_order_seq(&p->own);
    p->own_next += count;
    *out = j;
    j = NULL;
done:
    job_free((ovl_job *)j);
    return rc;
}

static ovl_err psi_job_take(void *proto, ovl_job **out)
{
    ovl_psi *p = proto;
    ovl_err rc = OVL_OK;
    psi_job *j = NULL;
    *out = NULL;
    if (p->eng.state != OVL_ENGINE_RUN || p->running >= p->cfg.max_jobs)
        return p->eng.state == OVL_ENGINE_FAILED ? p->eng.failure : OVL_OK;
    bool own_ok = p->own_next < p->n && ovl_order_window(&p->own) < p->cfg.max_jobs;
    bool peer_ok = p->pending.head != NULL;
    if (own_ok && (!peer_ok || p->prefer_own))
        OVL_TRY(new_own_job(p, &j));
    else if (peer_ok)
        j = (psi_job *)ovl_job_queue_pop(&p->pending);
    if (j != NULL) {
        /* Alternate so neither our blinding nor the peer's replies starve. */
        p->prefer_own = !p->prefer_own;
        p->running++;
        *out = &j->base;
    }
done:
    return ovl_engine_end(&p->eng, rc);
}

static ovl_err psi_job_finish(void *proto, ovl_job *job)
{
    ovl_psi *p = proto;
    psi_job *j = (psi_job *)job;
    ovl_err rc = OVL_OK;
    p->running--;
    OVL_TRY(ovl_job_result(job));
    if (j->kind == JOB_OWN) {
        OVL_TRY(ovl_order_put(&p->own, j->seq, job));
        return OVL_OK;
    }
    p->peer_done += j->count;
    free(j->in); /* only the batch's place in the order is still needed */
    j->in = NULL;
    OVL_TRY(ovl_order_put(&p->peer, j->seq, job));
    j = NULL;
    /* Batches whose tags are not sent one by one leave the window as soon
     * as they and all before them are done. */
    if (!p->peer_gets)
        while ((job = ovl_order_take(&p->peer)) != NULL)
            job_free(job);
    return OVL_OK;
done:
    job_free((ovl_job *)j);
    return ovl_engine_fail(&p->eng, rc);
}

/* ---- receiving ---- */

static ovl_err on_hello(ovl_psi *p, const uint8_t *payload, size_t len)
{
    ovl_err rc = OVL_OK;
    ovl_hello peer;
    const ovl_hello_rules rules = {
        .max_peer_set = p->cfg.max_peer_set,
        .expect_peer_set = p->cfg.expect_peer_set,
        .peer_set_expected = p->cfg.peer_set_expected,
    };
    OVL_TRY(ovl_engine_hello_recv(&p->eng, &rules, payload, len, &peer));
    p->m = peer.set_size;
    p->ell = ovl_psi_tag_len_for(p->n, p->m);
    ovl_tagger_init(&p->tags, TAG_LABEL, p->eng.transcript);
    OVL_TRY(ovl_calloc((void **)&p->peer_tags, (size_t)p->m, p->ell));
    if (p->i_get)
        OVL_TRY(ovl_calloc((void **)&p->own_tags, (size_t)p->n, p->ell));
    p->eng.state = OVL_ENGINE_RUN;
done:
    return rc;
}

static ovl_err on_elements(ovl_psi *p, const uint8_t *payload, size_t len)
{
    ovl_err rc = OVL_OK;
    psi_job *j = NULL;
    ovl_buf r;
    uint32_t count;
    size_t elen = p->g->elem_len;
    ovl_buf_reader(&r, payload, len);
    OVL_TRY(ovl_frame_read_count(&r, "ELEMENTS", OVL_PSI_BATCH_MAX, &count));
    OVL_ENSURE(count <= p->m - p->peer_recv, OVL_ERR_PROTOCOL,
               "the peer sent more elements than the %llu it announced",
               (unsigned long long)p->m);
    OVL_ENSURE(ovl_buf_remaining(&r) == (size_t)count * elen, OVL_ERR_PROTOCOL,
               "ELEMENTS frame from the peer has %zu bytes for %u elements",
               ovl_buf_remaining(&r), count);
    OVL_ENSURE(ovl_order_window(&p->peer) < RING, OVL_ERR_INTERNAL,
               "input fed while the engine asked for none");
    OVL_TRY(ovl_calloc((void **)&j, 1, sizeof *j));
    OVL_TRY(ovl_calloc((void **)&j->in, count, elen));
    memcpy(j->in, ovl_buf_rptr(&r), (size_t)count * elen);
    j->base.run = job_run;
    j->psi = p;
    j->kind = JOB_PEER;
    j->seq = ovl_order_seq(&p->peer);
    j->start = (size_t)p->peer_recv;
    j->count = count;
    p->peer_recv += count;
    ovl_job_queue_push(&p->pending, &j->base);
    j = NULL;
done:
    job_free((ovl_job *)j);
    return rc;
}

static ovl_err on_tags(ovl_psi *p, const uint8_t *payload, size_t len)
{
    ovl_err rc = OVL_OK;
    ovl_buf r;
    uint32_t count;
    ovl_buf_reader(&r, payload, len);
    OVL_ENSURE(p->i_get, OVL_ERR_PROTOCOL,
               "the peer sent result tags although --reveal %s gives this party no output",
               ovl_reveal_name(p->cfg.reveal));
    OVL_TRY(ovl_frame_read_count(&r, "TAGS", OVL_PSI_BATCH_MAX, &count));
    OVL_ENSURE(count <= p->own_sent - p->own_tags_recv, OVL_ERR_PROTOCOL,
               "the peer sent tags for elements it has not been sent");
    OVL_ENSURE(ovl_buf_remaining(&r) == (size_t)count * p->ell, OVL_ERR_PROTOCOL,
               "TAGS frame from the peer has %zu bytes for %u tags of %zu bytes",
               ovl_buf_remaining(&r), count, p->ell);
    memcpy(p->own_tags + p->own_tags_recv * p->ell, ovl_buf_rptr(&r), (size_t)count * p->ell);
    p->own_tags_recv += count;
done:
    return rc;
}

static ovl_err complete(ovl_psi *p);

static ovl_err on_finish(ovl_psi *p, size_t len)
{
    ovl_err rc = OVL_OK;
    OVL_ENSURE(len == 0, OVL_ERR_PROTOCOL, "malformed FINISH frame from the peer");
    OVL_ENSURE(p->peer_recv == p->m, OVL_ERR_PROTOCOL,
               "the peer finished after sending %llu of the %llu elements it announced",
               (unsigned long long)p->peer_recv, (unsigned long long)p->m);
    OVL_ENSURE(!p->i_get || p->own_tags_recv == p->n, OVL_ERR_PROTOCOL,
               "the peer finished after returning %llu of %llu result tags",
               (unsigned long long)p->own_tags_recv, (unsigned long long)p->n);
    p->finish_recv = true;
    if (p->finish_sent)
        OVL_TRY(complete(p));
done:
    return rc;
}

static ovl_err psi_feed(void *proto, uint8_t type, const uint8_t *payload, size_t len)
{
    ovl_psi *p = proto;
    ovl_err rc = ovl_engine_admit(&p->eng, type, payload, len);
    if (rc != OVL_OK)
        return rc;
    if (p->eng.state == OVL_ENGINE_SETUP) {
        OVL_TRY(on_hello(p, payload, len));
        goto done;
    }
    OVL_ENSURE(p->eng.state == OVL_ENGINE_RUN && !p->finish_recv, OVL_ERR_PROTOCOL,
               "the peer sent frame type 0x%02x after FINISH", type);
    switch (type) {
    case OVL_PSI_ELEMENTS:
        OVL_TRY(on_elements(p, payload, len));
        break;
    case OVL_PSI_TAGS:
        OVL_TRY(on_tags(p, payload, len));
        break;
    case OVL_PSI_FINISH:
        OVL_TRY(on_finish(p, len));
        break;
    case OVL_HELLO_TYPE:
        OVL_FAIL(ovl_err_set(OVL_ERR_PROTOCOL, "the peer sent a second HELLO"));
    default:
        OVL_FAIL(ovl_err_set(OVL_ERR_PROTOCOL, "the peer sent unknown frame type 0x%02x", type));
    }
done:
    return ovl_engine_end(&p->eng, rc);
}

/* ---- sending ---- */

static ovl_err put_tags(ovl_psi *p, ovl_buf *out, size_t start, size_t count)
{
    ovl_err rc = OVL_OK;
    size_t mark;
    OVL_TRY(ovl_frame_begin(out, OVL_PSI_TAGS, &mark));
    OVL_TRY(ovl_buf_put_u32(out, (uint32_t)count));
    OVL_TRY(ovl_buf_put_bytes(out, p->peer_tags + start * p->ell, count * p->ell));
    OVL_TRY(ovl_frame_end(out, mark));
    p->tags_sent += count;
done:
    return rc;
}

/* Sorts the peer's tags once they are final and no longer needed in order
 * (SPEC.md §5.4); a repeated tag means the peer repeated an element. */
static ovl_err finalize_peer(ovl_psi *p)
{
    ovl_err rc = ovl_sort_fixed(p->peer_tags, (size_t)p->m, p->ell);
    if (rc != OVL_OK)
        return rc;
    if (ovl_find_adjacent_dup(p->peer_tags, (size_t)p->m, p->ell) != SIZE_MAX)
        return ovl_err_set(OVL_ERR_PROTOCOL, "the peer sent the same element twice");
    p->peer_sorted = true;
    return OVL_OK;
}

static bool peer_all_done(const ovl_psi *p)
{
    return p->peer_recv == p->m && p->peer_done == p->m;
}

static ovl_err pull_stream(ovl_psi *p, ovl_buf *out, bool *have)
{
    ovl_err rc = OVL_OK;
    psi_job *j = (psi_job *)ovl_order_take(&p->own);
    if (j != NULL) {
        OVL_TRY(ovl_buf_put_bytes(out, j->frame.data, j->frame.wpos));
        p->own_sent += j->count;
        *have = true;
        goto done;
    }
    if (p->peer_gets && (j = (psi_job *)ovl_order_take(&p->peer)) != NULL) {
        OVL_TRY(put_tags(p, out, j->start, j->count));
        *have = true;
        goto done;
    }
    if (!p->peer_sorted && peer_all_done(p) && (!p->peer_gets || p->tags_sent == p->m))
        OVL_TRY(finalize_peer(p));
    if (!p->finish_sent && p->peer_sorted && p->own_sent == p->n &&
        (!p->peer_gets || p->tags_sent == p->m)) {
        OVL_TRY(ovl_frame_empty(out, OVL_PSI_FINISH));
        p->finish_sent = true;
        *have = true;
        if (p->finish_recv)
            OVL_TRY(complete(p));
    }
done:
    job_free((ovl_job *)j);
    return rc;
}

static ovl_err psi_pull(void *proto, ovl_buf *out, bool *have)
{
    ovl_psi *p = proto;
    ovl_err rc = ovl_engine_pull(&p->eng, out, have);
    if (rc != OVL_OK || *have)
        return rc;
    if (p->eng.state == OVL_ENGINE_RUN)
        OVL_TRY(pull_stream(p, out, have));
done:
    return ovl_engine_end(&p->eng, rc);
}

/* ---- result (SPEC.md §5.5) ---- */

/* Tags are hash outputs, so their leading bits spread them evenly over
 * buckets of about four. Looking each own tag up in its bucket touches two
 * cache lines, where a binary search over the whole sorted array misses the
 * cache at most of its twenty-odd levels. */
_Static_assert(OVL_PSI_TAG_MIN >= 4, "bucket_of reads four tag bytes");

static size_t bucket_of(const uint8_t *tag, unsigned bits)
{
    uint32_t top = (uint32_t)tag[0] << 24 | (uint32_t)tag[1] << 16 | (uint32_t)tag[2] << 8 | tag[3];
    return bits == 0 ? 0 : top >> (32 - bits);
}

static ovl_err match_tags(ovl_psi *p)
{
    ovl_err rc = OVL_OK;
    unsigned bits = ceil_log2(p->m);
    bits = bits > MATCH_BUCKET_LOG2 ? bits - MATCH_BUCKET_LOG2 : 0;
    if (bits > MATCH_BITS_MAX)
        bits = MATCH_BITS_MAX;
    size_t nb = (size_t)1 << bits;
    size_t *start = NULL;
    OVL_TRY(ovl_calloc((void **)&start, nb + 1, sizeof *start));
    for (size_t i = 0; i < p->m; i++)
        start[bucket_of(p->peer_tags + i * p->ell, bits) + 1]++;
    for (size_t b = 1; b <= nb; b++)
        start[b] += start[b - 1];
    for (size_t i = 0; i < p->n; i++) {
        const uint8_t *tag = p->own_tags + i * p->ell;
        size_t b = bucket_of(tag, bits);
        if (ovl_search_fixed(p->peer_tags + start[b] * p->ell, start[b + 1] - start[b], p->ell,
                             tag) == SIZE_MAX)
            continue;
        p->count++;
        p->matched[p->perm[i]] = true;
    }
done:
    free(start);
    return rc;
}

static ovl_err complete(ovl_psi *p)
{
    ovl_err rc = OVL_OK;
    if (p->i_get) {
        OVL_TRY(ovl_calloc((void **)&p->matched, p->n ? (size_t)p->n : 1, sizeof *p->matched));
        OVL_TRY(match_tags(p));
    }
    p->eng.state = OVL_ENGINE_DONE;
done:
    return rc;
}

static bool psi_wants_input(const void *proto)
{
    const ovl_psi *p = proto;
    if (p->eng.state == OVL_ENGINE_SETUP)
        return true;
    if (p->eng.state != OVL_ENGINE_RUN)
        return false;
    return p->pending.n < PENDING_MAX && ovl_order_window(&p->peer) < RING - PENDING_MAX;
}

static bool psi_done(const void *proto)
{
    return ((const ovl_psi *)proto)->eng.state == OVL_ENGINE_DONE;
}

const ovl_proto_ops ovl_psi_ops = {
    .feed = psi_feed,
    .pull = psi_pull,
    .job_take = psi_job_take,
    .job_finish = psi_job_finish,
    .wants_input = psi_wants_input,
    .done = psi_done,
};

void ovl_psi_get_progress(const ovl_psi *p, ovl_psi_progress *out)
{
    out->own_total = p->n;
    out->own_sent = p->own_sent;
    out->peer_total = p->m;
    out->peer_done = p->peer_done;
    out->setup_done = p->eng.state == OVL_ENGINE_RUN || p->eng.state == OVL_ENGINE_DONE;
}

bool ovl_psi_receives_output(const ovl_psi *p) { return p->i_get; }
uint64_t ovl_psi_peer_set_size(const ovl_psi *p) { return p->m; }
size_t ovl_psi_tag_len(const ovl_psi *p) { return p->ell; }
const uint8_t *ovl_psi_transcript(const ovl_psi *p) { return p->eng.transcript; }

ovl_err ovl_psi_result(const ovl_psi *p, const bool **matched, uint64_t *count)
{
    if (p->eng.state != OVL_ENGINE_DONE)
        return ovl_err_set(OVL_ERR_INTERNAL, "PSI result requested before the run completed");
    if (!p->i_get)
        return ovl_err_set(OVL_ERR_POLICY, "this party receives no output (--reveal %s)",
                           ovl_reveal_name(p->cfg.reveal));
    if (matched)
        *matched = p->matched;
    *count = p->count;
    return OVL_OK;
}
