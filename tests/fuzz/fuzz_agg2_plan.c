/* Fuzz target: the aggregate v2 plan codec (aggregate/plan.h) over arbitrary
 * bytes. An accepted plan is canonical: writing it back gives exactly the
 * bytes it was read from; its shapes (k_R, k_C, s*, W) stay within the
 * caps the engine sizes its buffers by. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate/plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ovl_agg2_plan p;
    ovl_buf w;
    if (ovl_agg2_plan_read(&p, data, size) != OVL_OK)
        return 0;
    if (ovl_buf_alloc(&w, 64, OVL_AGG2_PLAN_MAX) != OVL_OK)
        abort();
    if (ovl_agg2_plan_write(&p, &w) != OVL_OK || w.wpos != size || memcmp(w.data, data, size))
        abort();
    ovl_buf_free(&w);
    if (ovl_agg2_plan_k_r(&p) > 2 * OVL_AGG2_PLAN_MAX_COLS ||
        ovl_agg2_plan_k_c(&p) > 2 * OVL_AGG2_PLAN_MAX_COLS ||
        ovl_agg2_plan_record_words(&p) != 7 + ovl_agg2_plan_star(&p) + ovl_agg2_plan_k_r(&p) +
                                               ovl_agg2_plan_k_c(&p))
        abort();
    for (uint32_t i = 0; i < p.ncols; i++)
        if (ovl_agg2_plan_count_word(&p, i) == UINT32_MAX ||
            (ovl_agg2_plan_col_summed(&p, i) &&
             ovl_agg2_plan_sum_word(&p, i) != ovl_agg2_plan_count_word(&p, i) + 1))
            abort();
    ovl_agg2_plan_free(&p);
    return 0;
}
