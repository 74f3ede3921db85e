/* overlap: circuit PSI's engine jobs (SPEC.md §4), so that every core works:
 * the contributor's store entries (its OPRF evaluations) in slices, its
 * encoding of the store and the runner's decoding. Nothing in a job draws
 * from the run's stream except the encoding, during which nothing else runs,
 * so seeded runs replay byte for byte however the workers interleave. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/guard.h"
#include "core/mem.h"
#include "cpsi/state.h"

typedef enum { CJ_STORE, CJ_ENCODE, CJ_ASSIGN, CJ_DECODE } cpsi_job_kind;

typedef struct {
    ovl_job base;
    const ovl_cpsi *p; /* read only while the job is out */
    ovl_cpsi *own;     /* ENCODE, DECODE: the fields the step owns (DECODE: its bins') */
    cpsi_job_kind kind;
    uint32_t start, count;       /* STORE: identifiers start .. start + count - 1; ASSIGN:
                                    words; DECODE: bins */
    ovl_block *keys;             /* STORE: this job's slice of the store's entries */
    uint64_t *vals;
} cpsi_job;

static void job_free(ovl_job *job)
{
    cpsi_job *j = (cpsi_job *)job;
    free(j);
}

/* ---- on a worker ---- */

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
    ovl_err rc = ovl_okvs_plan_make(&p->okvs, &p->okvs_plan, p->st_keys, n, p->sw, &p->rng);
    if (rc != OVL_OK)
        ovl_job_fail(&j->base, rc, "%s", ovl_err_detail());
}

/* Words start .. start + count − 1 of every entry's row: the jobs of one
 * store write disjoint words of the table. */
static void run_assign(cpsi_job *j)
{
    ovl_cpsi *p = j->own;
    ovl_okvs_plan_assign(&p->okvs, &p->okvs_plan, p->st_vals, j->start, j->start + j->count);
}

static void run_decode(cpsi_job *j)
{
    ovl_err rc = cpsi_runner_decode(j->own, j->start, j->count);
    if (rc != OVL_OK)
        ovl_job_fail(&j->base, rc, "%s", ovl_err_detail());
}

static void job_run(ovl_job *job)
{
    cpsi_job *j = (cpsi_job *)job;
    if (j->kind == CJ_ENCODE)
        run_encode(j);
    else if (j->kind == CJ_ASSIGN)
        run_assign(j);
    else if (j->kind == CJ_DECODE)
        run_decode(j);
    else
        run_store(j);
}

/* ---- on the engine's thread ---- */

bool cpsi_is_job(const ovl_job *job) { return job->run == job_run; }

void cpsi_jobs_free(ovl_cpsi *p)
{
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
    *out = j;
done:
    return rc;
}

ovl_err cpsi_jobs_take(ovl_cpsi *p, ovl_job **out)
{
    *out = NULL;
    if (p->jobs_out >= CPSI_JOBS_MAX)
        return OVL_OK;
    *out = ovl_job_queue_pop(&p->pending);
    if (*out == NULL && p->store_out < CPSI_STORE_JOBS_OUT) {
        *out = ovl_job_queue_pop(&p->own_store);
        if (*out != NULL)
            p->store_out++;
    }
    if (*out != NULL)
        p->jobs_out++;
    return OVL_OK;
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

ovl_err cpsi_jobs_put_table(ovl_cpsi *p)
{
    ovl_err rc = OVL_OK;
    cpsi_job *j = NULL;
    OVL_TRY(new_job(p, CJ_ENCODE, 0, 0, &j));
    j->own = p;
    ovl_job_queue_push(&p->pending, &j->base);
done:
    return rc;
}

ovl_err cpsi_jobs_put_decode(ovl_cpsi *p)
{
    ovl_err rc = OVL_OK;
    uint32_t per = (p->bins + CPSI_DECODE_JOBS - 1u) / CPSI_DECODE_JOBS;
    for (uint32_t b = 0; b < p->bins; b += per) {
        cpsi_job *j = NULL;
        OVL_TRY(new_job(p, CJ_DECODE, b, p->bins - b < per ? p->bins - b : per, &j));
        j->own = p;
        ovl_job_queue_push(&p->pending, &j->base);
        p->decode_left++;
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
    if (j->kind == CJ_ENCODE) {
        /* the table's words in two halves, one job each */
        uint32_t half = (p->sw + 1u) / 2u;
        job_free(job);
        job = NULL;
        for (uint32_t w0 = 0; w0 < p->sw; w0 += half) {
            cpsi_job *a = NULL;
            OVL_TRY(new_job(p, CJ_ASSIGN, w0, p->sw - w0 < half ? p->sw - w0 : half, &a));
            a->own = p;
            ovl_job_queue_push(&p->pending, &a->base);
            p->assign_left++;
        }
        goto done;
    }
    if (j->kind == CJ_ASSIGN) {
        job_free(job);
        job = NULL;
        if (--p->assign_left == 0) {
            ovl_okvs_plan_free(&p->okvs_plan);
            OVL_TRY(cpsi_contrib_encoded(p));
        }
        goto done;
    }
    if (j->kind == CJ_DECODE) {
        job_free(job);
        job = NULL;
        if (--p->decode_left == 0)
            OVL_TRY(cpsi_runner_decoded(p));
        goto done;
    }
    p->store_out--;
    p->store_done += j->count;
    job_free(job);
    job = NULL;
    if (p->store_done == p->n_c)
        OVL_TRY(cpsi_contrib_store_done(p));
done:
    job_free(job);
    return rc;
}
