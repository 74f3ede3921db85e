#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/guard.h"
#include "core/mem.h"
#include "core/pool.h"

struct ovl_pool {
    size_t nthreads;
    pthread_t *threads;
    pthread_mutex_t mu;
    pthread_cond_t work_cv, idle_cv;
    ovl_job_queue queued, finished;
    size_t active; /* submitted and not yet finished */
    bool stop;
    /* Jobs in `finished`, readable without the lock: the driver asks for
     * finished jobs on every turn of its loop, and most turns there are none.
     * The pipe holds one byte exactly while this is non-zero (written and
     * read under the lock), so poll wakes the driver and nothing is read
     * per turn. */
    atomic_size_t nfinished;
    int pipe_rd, pipe_wr;
};

size_t ovl_cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (size_t)n : 1;
}

static void *worker(void *arg)
{
    ovl_pool *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && p->queued.head == NULL)
            pthread_cond_wait(&p->work_cv, &p->mu);
        if (p->queued.head == NULL)
            break;
        ovl_job *j = ovl_job_queue_pop(&p->queued);
        pthread_mutex_unlock(&p->mu);
        j->run(j);
        pthread_mutex_lock(&p->mu);
        ovl_job_queue_push(&p->finished, j);
        p->active--;
        if (p->active == 0)
            pthread_cond_broadcast(&p->idle_cv);
        if (atomic_fetch_add(&p->nfinished, 1) == 0) {
            char c = 1;
            ssize_t w = write(p->pipe_wr, &c, 1);
            (void)w;
        }
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

ovl_err ovl_pool_new(ovl_pool **out, size_t threads)
{
    ovl_err rc = OVL_OK;
    ovl_pool *p = NULL;
    int fds[2] = {-1, -1};
    OVL_TRY(ovl_calloc((void **)&p, 1, sizeof *p));
    p->pipe_rd = p->pipe_wr = -1;
    atomic_init(&p->nfinished, 0);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work_cv, NULL);
    pthread_cond_init(&p->idle_cv, NULL);
    if (threads > 0) {
        OVL_ENSURE(pipe(fds) == 0, OVL_ERR_IO, "cannot create a pipe: %s", strerror(errno));
        p->pipe_rd = fds[0];
        p->pipe_wr = fds[1];
        fcntl(p->pipe_rd, F_SETFL, O_NONBLOCK);
        fcntl(p->pipe_wr, F_SETFL, O_NONBLOCK);
        OVL_TRY(ovl_calloc((void **)&p->threads, threads, sizeof *p->threads));
        for (size_t i = 0; i < threads; i++) {
            OVL_ENSURE(pthread_create(&p->threads[i], NULL, worker, p) == 0, OVL_ERR_INTERNAL,
                       "cannot start worker thread %zu", i + 1);
            p->nthreads++;
        }
    }
    *out = p;
    p = NULL;
done:
    ovl_pool_free(p);
    return rc;
}

void ovl_pool_free(ovl_pool *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_broadcast(&p->work_cv);
    pthread_mutex_unlock(&p->mu);
    for (size_t i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    if (p->pipe_rd >= 0)
        close(p->pipe_rd);
    if (p->pipe_wr >= 0)
        close(p->pipe_wr);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->work_cv);
    pthread_cond_destroy(&p->idle_cv);
    free(p->threads);
    free(p);
}

void ovl_pool_submit(ovl_pool *p, ovl_job *job)
{
    job->rc = OVL_OK;
    job->detail[0] = '\0';
    if (p->nthreads == 0) {
        job->run(job);
        ovl_job_queue_push(&p->finished, job);
        return;
    }
    pthread_mutex_lock(&p->mu);
    ovl_job_queue_push(&p->queued, job);
    p->active++;
    pthread_cond_signal(&p->work_cv);
    pthread_mutex_unlock(&p->mu);
}

ovl_job *ovl_pool_collect(ovl_pool *p)
{
    if (p->nthreads == 0)
        return ovl_job_queue_pop(&p->finished);
    if (atomic_load(&p->nfinished) == 0)
        return NULL;
    pthread_mutex_lock(&p->mu);
    ovl_job *j = ovl_job_queue_pop(&p->finished);
    if (j != NULL && atomic_fetch_sub(&p->nfinished, 1) == 1) {
        char sink[64];
        while (read(p->pipe_rd, sink, sizeof sink) > 0) {
        }
    }
    pthread_mutex_unlock(&p->mu);
    return j;
}

void ovl_pool_drain(ovl_pool *p)
{
    if (p->nthreads == 0)
        return;
    pthread_mutex_lock(&p->mu);
    while (p->active > 0)
        pthread_cond_wait(&p->idle_cv, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

int ovl_pool_fd(const ovl_pool *p) { return p->pipe_rd; }
size_t ovl_pool_threads(const ovl_pool *p) { return p->nthreads; }
