/* overlap: the OPRF batches of circuit PSI as engine jobs (SPEC.md §4.1), so
 * that every core works: the runner's blinding and finalization, the
 * contributor's evaluation. Everything drawn from the run's stream is drawn
 * on the engine's thread when a job is made, in entry order, so that seeded
 * runs replay byte for byte however the workers interleave. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/guard.h"
#include "core/mem.h"
#include "cpsi/state.h"

typedef enum { CJ_BLIND, CJ_EVAL, CJ_FINAL, CJ_STORE, CJ_ENCODE, CJ_DECODE } cpsi_job_kind;

typedef struct {
    ovl_job base;
    const ovl_cpsi *p; /* read only while the job is out */
    ovl_cpsi *own;     /* ENCODE, DECODE: the fields the step owns (SPEC.md §4) */
    cpsi_job_kind kind;
    size_t seq;
    uint32_t start, count;       /* entries (STORE: identifiers) start .. start + count - 1 */
    uint8_t *in;                 /* BLIND: pad inputs; EVAL, FINAL: the peer's elements */
    ovl_block *keys;             /* STORE: this job's slice of the store's entries */
    uint64_t *vals;
    ovl_buf frame;               /* BLIND, EVAL: the frame to send */
    uint8_t (*f)[OVL_OPRF_OUT];  /* FINAL: the OPRF value of each entry */
} cpsi_job;

static void job_free(ovl_job *job)
{
    cpsi_job *j = (cpsi_job *)job;
    if (j == NULL)
        return;
    if (j->in != NULL)
        ovl_free_secret(j->in, (size_t)j->count * OVL_OPRF_ELEM);
    ovl_free_secret(j->f, (size_t)j->count * sizeof *j->f);
    ovl_buf_free(&j->frame);
    free(j);
}

/* ---- on a worker ---- */

/* The inputs of entries start .. start + count − 1: the identifier in the
 * entry's bin, or (pads, BLIND only) the pad input drawn for it. */
static ovl_err entry_inputs(const cpsi_job *j, const uint8_t **x, size_t *len)
{
    const ovl_cpsi *p = j->p;
    for (uint32_t i = 0; i < j->count; i++) {
        uint32_t b = p->entry_bin[j->start + i];
        if (b == OVL_CUCKOO_EMPTY) {
            x[i] = j->in + (size_t)i * OVL_OPRF_ELEM;
            len[i] = OVL_OPRF_ELEM;
        } else {
            uint32_t item = p->ck.slot[b];
            x[i] = p->cfg.ids[item];
            len[i] = p->cfg.id_len[item];
        }
    }
    return OVL_OK;
}

static void run_blind(cpsi_job *j)
{
    const ovl_cpsi *p = j->p;
    uint8_t *body = j->frame.data + j->frame.wpos - (size_t)j->count * OVL_OPRF_ELEM;
    const uint8_t **x = calloc(j->count ? j->count : 1, sizeof *x);
    size_t *len = calloc(j->count ? j->count : 1, sizeof *len);
    if (x == NULL || len == NULL) {
        ovl_job_fail(&j->base, OVL_ERR_NOMEM, "cpsi: out of memory");
    } else if (entry_inputs(j, x, len) != OVL_OK ||
               ovl_oprf_blind_batch(body, p->blind[j->start], x, len, j->count) != OVL_OK) {
        ovl_job_fail(&j->base, OVL_ERR_CRYPTO, "cpsi: blinding entries %u.. failed", j->start);
    }
    free(x);
    free(len);
}

/* Entry e is evaluated under k_{⌊e/P⌋+1}: a batch splits where the key changes. */
static void run_eval(cpsi_job *j)
{
    const ovl_cpsi *p = j->p;
    uint8_t *body = j->frame.data + j->frame.wpos - (size_t)j->count * OVL_OPRF_ELEM;
    for (uint32_t i = 0, n; i < j->count; i += n) {
        uint32_t e = j->start + i;
        size_t bad;
        n = p->P - e % p->P;
        if (n > j->count - i)
            n = j->count - i;
        if (ovl_oprf_evaluate_batch(body + (size_t)i * OVL_OPRF_ELEM, &bad, p->key[e / p->P],
                                    j->in + (size_t)i * OVL_OPRF_ELEM, n) != OVL_OK) {
            ovl_job_fail(&j->base, OVL_ERR_CRYPTO, "BLIND element %u is not a valid group element",
                         e + (uint32_t)bad);
            return;
        }
    }
}

/* Pads are only validated; the real entries are finalized in one batch,
 * compacted into k of the job's slots. */
static void run_final(cpsi_job *j)
{
    const ovl_cpsi *p = j->p;
    size_t n = j->count ? j->count : 1, k = 0, bad = 0;
    const uint8_t **x = calloc(n, sizeof *x);
    size_t *len = calloc(n, sizeof *len);
    uint32_t *at = calloc(n, sizeof *at);
    uint8_t *r = calloc(n, OVL_OPRF_SCALAR), *el = calloc(n, OVL_OPRF_ELEM);
    uint8_t(*f)[OVL_OPRF_OUT] = calloc(n, OVL_OPRF_OUT);
    if (!x || !len || !at || !r || !el || !f) {
        ovl_job_fail(&j->base, OVL_ERR_NOMEM, "cpsi: out of memory");
        goto done;
    }
    for (uint32_t i = 0; i < j->count; i++) {
        uint32_t e = j->start + i, b = p->entry_bin[e];
        const uint8_t *z = j->in + (size_t)i * OVL_OPRF_ELEM;
        if (b == OVL_CUCKOO_EMPTY) {
            if (ovl_group_default()->validate(z) != OVL_OK) {
                ovl_job_fail(&j->base, OVL_ERR_CRYPTO,
                             "EVAL element %u is not a valid group element", e);
                goto done;
            }
            continue;
        }
        uint32_t item = p->ck.slot[b];
        x[k] = p->cfg.ids[item];
        len[k] = p->cfg.id_len[item];
        memcpy(r + k * OVL_OPRF_SCALAR, p->blind[e], OVL_OPRF_SCALAR);
        memcpy(el + k * OVL_OPRF_ELEM, z, OVL_OPRF_ELEM);
        at[k++] = i;
    }
    if (ovl_oprf_finalize_batch(f, &bad, r, x, len, el, k) != OVL_OK) {
        ovl_job_fail(&j->base, OVL_ERR_CRYPTO, "EVAL element %u is not a valid group element",
                     j->start + (bad < k ? at[bad] : 0));
        goto done;
    }
    for (size_t i = 0; i < k; i++)
        memcpy(j->f[at[i]], f[i], OVL_OPRF_OUT);
done:
    free(x);
    free(len);
    free(at);
    ovl_free_secret(r, n * OVL_OPRF_SCALAR);
    free(el);
    ovl_free_secret(f, n * OVL_OPRF_OUT);
}

static void run_store(cpsi_job *j)
{
    ovl_err rc = cpsi_store_entries(j->p, j->start, j->count, j->keys, j->vals);
    if (rc != OVL_OK)
        ovl_job_fail(&j->base, rc, "%s", ovl_err_detail());
}

/* C's store encoding: while it is out, nothing else draws from the run's
 * stream (the garbling starts after it), so the bytes are those of a run that
 * encoded on the engine's thread. */
static void run_encode(cpsi_job *j)
{
    ovl_cpsi *p = j->own;
    size_t n = 3u * (size_t)p->n_c;
    ovl_err rc = ovl_okvs_encode(&p->okvs, p->st_keys, p->st_vals, n, p->sw, &p->rng);
    if (rc != OVL_OK)
        ovl_job_fail(&j->base, rc, "%s", ovl_err_detail());
}

static void run_decode(cpsi_job *j)
{
    ovl_err rc = cpsi_runner_decode(j->own);
    if (rc != OVL_OK)
        ovl_job_fail(&j->base, rc, "%s", ovl_err_detail());
}

static void job_run(ovl_job *job)
{
    cpsi_job *j = (cpsi_job *)job;
    if (j->kind == CJ_ENCODE)
        run_encode(j);
    else if (j->kind == CJ_DECODE)
        run_decode(j);
    else if (j->kind == CJ_STORE)
        run_store(j);
    else if (j->kind == CJ_BLIND)
        run_blind(j);
    else if (j->kind == CJ_EVAL)
        run_eval(j);
    else
        run_final(j);
}

/* ---- on the engine's thread ---- */

bool cpsi_is_job(const ovl_job *job) { return job->run == job_run; }

void cpsi_jobs_free(ovl_cpsi *p)
{
    ovl_order_free(&p->out_order, job_free);
    ovl_job_queue_clear(&p->pending, job_free);
    ovl_job_queue_clear(&p->own_store, job_free);
}

static ovl_err new_job(ovl_cpsi *p, cpsi_job_kind kind, uint32_t start, uint32_t count,
                       cpsi_job **out)
{
    ovl_err rc = OVL_OK;
    cpsi_job *j = NULL;
    OVL_TRY(ovl_calloc((void **)&j, 1, sizeof *j));
    j->base.run = job_run;
    j->p = p;
    j->kind = kind;
    j->start = start;
    j->count = count;
    if (kind != CJ_STORE && kind != CJ_ENCODE && kind != CJ_DECODE)
        OVL_TRY(ovl_calloc((void **)&j->in, count ? count : 1, OVL_OPRF_ELEM));
    *out = j;
    j = NULL;
done:
    job_free((ovl_job *)j);
    return rc;
}

/* The next BLIND batch: its scalars and pad inputs drawn now, in entry order. */
static ovl_err make_blind(ovl_cpsi *p, ovl_job **out)
{
    ovl_err rc = OVL_OK;
    cpsi_job *j = NULL;
    uint8_t *body;
    uint32_t k = 3u * p->P - p->blind_made;
    if (k > OVL_CPSI_ELEMS_PER_FRAME)
        k = OVL_CPSI_ELEMS_PER_FRAME;
    OVL_TRY(new_job(p, CJ_BLIND, p->blind_made, k, &j));
    OVL_TRY(ovl_frame_batch_new(&j->frame, OVL_CPSI_BLIND, k, OVL_OPRF_ELEM, &body));
    for (uint32_t i = 0; i < k; i++) {
        uint32_t e = p->blind_made + i;
        OVL_TRY(ovl_oprf_scalar(p->blind[e], &p->rng));
        /* a pad: r·H(random) is as uniform as any real blinded element */
        if (p->entry_bin[e] == OVL_CUCKOO_EMPTY)
            ovl_rng_bytes(&p->rng, j->in + (size_t)i * OVL_OPRF_ELEM, OVL_OPRF_ELEM);
    }
    p->blind_made += k;
    j->seq = ovl_order_seq(&p->out_order);
    *out = &j->base;
    j = NULL;
done:
    job_free((ovl_job *)j);
    return rc;
}

ovl_err cpsi_jobs_take(ovl_cpsi *p, ovl_job **out)
{
    ovl_err rc = OVL_OK;
    *out = NULL;
    if (p->jobs_out >= CPSI_JOBS_MAX)
        return OVL_OK;
    *out = ovl_job_queue_pop(&p->pending);
    /* The runner waits on our evaluations of its frames, not on our own
     * entries: those go only when no frame of its waits, and two at a time,
     * so an evaluation made now queues behind at most two of them. */
    if (*out == NULL && p->store_out < CPSI_STORE_JOBS_OUT) {
        *out = ovl_job_queue_pop(&p->own_store);
        if (*out != NULL)
            p->store_out++;
    }
    if (*out == NULL && p->cfg.runner && p->blind_made < 3u * p->P &&
        ovl_order_window(&p->out_order) < CPSI_WINDOW &&
        ovl_buf_remaining(&p->q) < CPSI_PUMP_LOW(p))
        OVL_TRY(make_blind(p, out));
    if (*out != NULL)
        p->jobs_out++;
done:
    return rc;
}

/* A peer's batch (BLIND at the contributor, EVAL at the runner) becomes a job. */
ovl_err cpsi_jobs_put_peer(ovl_cpsi *p, uint32_t start, uint32_t count, const uint8_t *el)
{
    ovl_err rc = OVL_OK;
    cpsi_job *j = NULL;
    uint8_t *body;
    bool runner = p->cfg.runner;
    OVL_ENSURE(runner || ovl_order_window(&p->out_order) < CPSI_WINDOW, OVL_ERR_INTERNAL,
               "cpsi: input fed while the engine asked for none");
    OVL_TRY(new_job(p, runner ? CJ_FINAL : CJ_EVAL, start, count, &j));
    memcpy(j->in, el, (size_t)count * OVL_OPRF_ELEM);
    if (runner) {
        OVL_TRY(ovl_calloc((void **)&j->f, count ? count : 1, sizeof *j->f));
    } else {
        OVL_TRY(ovl_frame_batch_new(&j->frame, OVL_CPSI_EVAL, count, OVL_OPRF_ELEM, &body));
        j->seq = ovl_order_seq(&p->out_order);
    }
    ovl_job_queue_push(&p->pending, &j->base);
    j = NULL;
done:
    job_free((ovl_job *)j);
    return rc;
}

ovl_err cpsi_jobs_put_store(ovl_cpsi *p)
{
    ovl_err rc = OVL_OK;
    size_t w = p->sw;
    for (uint64_t y = 0; y < p->n_c; y += CPSI_STORE_CHUNK) {
        cpsi_job *j = NULL;
        uint64_t k = p->n_c - y < CPSI_STORE_CHUNK ? p->n_c - y : CPSI_STORE_CHUNK;
        OVL_TRY(new_job(p, CJ_STORE, (uint32_t)y, (uint32_t)k, &j));
        j->keys = p->st_keys + 3u * y;
        j->vals = p->st_vals + 3u * y * w;
        ovl_job_queue_push(&p->own_store, &j->base);
    }
done:
    return rc;
}

/* One whole-table step (C's encoding, R's decoding) as a job. */
ovl_err cpsi_jobs_put_table(ovl_cpsi *p, bool encode)
{
    ovl_err rc = OVL_OK;
    cpsi_job *j = NULL;
    OVL_TRY(new_job(p, encode ? CJ_ENCODE : CJ_DECODE, 0, 0, &j));
    j->own = p;
    ovl_job_queue_push(&p->pending, &j->base);
done:
    return rc;
}

/* Frames that finished in sequence join the send queue. */
static ovl_err drain_frames(ovl_cpsi *p)
{
    ovl_err rc = OVL_OK;
    cpsi_job *j;
    while ((j = (cpsi_job *)ovl_order_take(&p->out_order)) != NULL) {
        cpsi_queue_room(p, ovl_buf_len(&j->frame));
        rc = ovl_buf_put_bytes(&p->q, j->frame.data, ovl_buf_len(&j->frame));
        if (rc == OVL_OK) {
            if (p->cfg.runner)
                p->blind_sent += j->count;
            else
                p->eval_queued += j->count;
        }
        job_free(&j->base);
        OVL_TRY(rc);
    }
done:
    return rc;
}

ovl_err cpsi_jobs_finish(ovl_cpsi *p, ovl_job *job)
{
    ovl_err rc = OVL_OK;
    cpsi_job *j = (cpsi_job *)job;
    p->jobs_out--;
    OVL_TRY(ovl_job_result(job));
    if (j->kind == CJ_ENCODE || j->kind == CJ_DECODE) {
        bool encode = j->kind == CJ_ENCODE;
        job_free(job);
        job = NULL;
        OVL_TRY(encode ? cpsi_contrib_encoded(p) : cpsi_runner_decoded(p));
        goto done;
    }
    if (j->kind == CJ_STORE) {
        p->store_out--;
        p->store_done += j->count;
        job_free(job);
        job = NULL;
        if (p->store_done == p->n_c)
            OVL_TRY(cpsi_contrib_store_done(p));
        goto done;
    }
    if (j->kind == CJ_FINAL) {
        for (uint32_t i = 0; i < j->count; i++) {
            uint32_t b = p->entry_bin[j->start + i];
            if (b != OVL_CUCKOO_EMPTY)
                memcpy(p->fval[b], j->f[i], OVL_OPRF_OUT);
        }
        p->final_done += j->count;
        if (p->final_done == 3u * p->P)
            sodium_memzero(p->blind, 3u * (size_t)p->P * sizeof *p->blind);
        job_free(job);
        job = NULL;
        OVL_TRY(cpsi_runner_after_final(p));
        goto done;
    }
    OVL_TRY(ovl_order_put(&p->out_order, j->seq, job));
    job = NULL;
    OVL_TRY(drain_frames(p));
    if (!p->cfg.runner)
        OVL_TRY(cpsi_contrib_after_eval(p));
done:
    job_free(job);
    return rc;
}
