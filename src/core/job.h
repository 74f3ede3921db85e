/* overlap: a unit of computation that a protocol engine hands out and a
 * worker runs, and the FIFO that engines and the worker pool keep jobs in.
 *
 * A protocol embeds ovl_job as the first member of its own job type. `run`
 * executes on a worker thread and must only write memory owned by the job;
 * the engine takes the job back on its own thread and reads rc/detail. */
#ifndef OVERLAP_JOB_H
#define OVERLAP_JOB_H

#include <stddef.h>

#include "core/error.h"

typedef struct ovl_job ovl_job;
struct ovl_job {
    void (*run)(ovl_job *job);
    ovl_job *next; /* link while the job sits in an ovl_job_queue */
    ovl_err rc;    /* set by run */
    char detail[160];
};

typedef struct {
    ovl_job *head, *tail;
    size_t n;
} ovl_job_queue;

static inline void ovl_job_queue_push(ovl_job_queue *q, ovl_job *j)
{
    j->next = NULL;
    if (q->tail)
        q->tail->next = j;
    else
        q->head = j;
    q->tail = j;
    q->n++;
}

/* The oldest job, or NULL when the queue is empty. */
static inline ovl_job *ovl_job_queue_pop(ovl_job_queue *q)
{
    ovl_job *j = q->head;
    if (j == NULL)
        return NULL;
    q->head = j->next;
    if (q->head == NULL)
        q->tail = NULL;
    q->n--;
    j->next = NULL;
    return j;
}

/* Empties the queue, handing every job to free_job. */
void ovl_job_queue_clear(ovl_job_queue *q, void (*free_job)(ovl_job *));

/* On the worker: records why the job failed (one line, never a secret). */
void ovl_job_fail(ovl_job *j, ovl_err e, const char *fmt, ...) OVL_PRINTF(3, 4);

/* On the engine's thread: OVL_OK, or the job's failure made the current error. */
ovl_err ovl_job_result(const ovl_job *j) OVL_MUST_USE;

#endif
