#include <stdarg.h>
#include <stdio.h>

#include "core/job.h"

void ovl_job_queue_clear(ovl_job_queue *q, void (*free_job)(ovl_job *))
{
    ovl_job *j;
    while ((j = ovl_job_queue_pop(q)) != NULL)
        free_job(j);
}

void ovl_job_fail(ovl_job *j, ovl_err e, const char *fmt, ...)
{
    va_list ap;
    j->rc = e;
    va_start(ap, fmt);
    vsnprintf(j->detail, sizeof j->detail, fmt, ap);
    va_end(ap);
}

ovl_err ovl_job_result(const ovl_job *j)
{
    if (j->rc == OVL_OK)
        return OVL_OK;
    return ovl_err_set(j->rc, "%s", j->detail);
}
