/* Fuzz target: the aggregate v2 HELLO statement (AggParams2, SPEC §4.1)
 * over arbitrary bytes: parsing never over-reads, and every field it accepts
 * lies within the buffer and its cap. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "aggregate/agg2_state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int inside(const uint8_t *p, size_t n, const uint8_t *data, size_t size)
{
    return n == 0 || (p >= data && p + n <= data + size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    agg2_params p;
    if (agg2_params_parse(&p, data, size) != OVL_OK)
        return 0;
    if (!inside(p.domain, p.domain_len, data, size) || !inside(p.plan, p.plan_len, data, size) ||
        !inside(p.agreement, p.agreement_len, data, size) || p.plan_len > OVL_AGG2_PLAN_MAX ||
        p.agreement_len > OVL_AGG2_MAX_AGREEMENT)
        abort();
    /* the plan inside, when it reads, is canonical too */
    static ovl_agg2_plan plan;
    if (ovl_agg2_plan_read(&plan, p.plan, p.plan_len) == OVL_OK)
        ovl_agg2_plan_free(&plan);
    return 0;
}
