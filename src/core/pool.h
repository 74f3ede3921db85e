/* overlap: a fixed pool of worker threads running protocol jobs.
 *
 * The driver submits jobs and collects finished ones; a pipe becomes readable
 * whenever a job finishes so the driver can poll it beside its socket. */
#ifndef OVERLAP_POOL_H
#define OVERLAP_POOL_H

#include <stddef.h>

#include "core/error.h"
#include "core/job.h"

typedef struct ovl_pool ovl_pool;

/* threads == 0 runs every job inline in ovl_pool_submit. */
ovl_err ovl_pool_new(ovl_pool **out, size_t threads) OVL_MUST_USE;
/* Waits for running jobs, then stops the threads. Unfinished jobs are
 * returned through ovl_pool_collect before this, or leak: call drain first. */
void ovl_pool_free(ovl_pool *p);
void ovl_pool_submit(ovl_pool *p, ovl_job *job);
/* A finished job, or NULL. */
ovl_job *ovl_pool_collect(ovl_pool *p);
/* Blocks until every submitted job has finished (they stay collectable). */
void ovl_pool_drain(ovl_pool *p);
/* Readable while finished jobs wait to be collected (-1 for inline pools). */
int ovl_pool_fd(const ovl_pool *p);
size_t ovl_pool_threads(const ovl_pool *p);
/* Online cores, at least 1. */
size_t ovl_cpu_count(void);

#endif
