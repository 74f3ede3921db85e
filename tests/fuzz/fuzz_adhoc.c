/* Fuzz target: the ad-hoc aggregate's column items (policy/adhoc.h), which
 * a peer's request carries to the verifier, and the plan they compile to.
 * Input: --group-by text, a NUL byte, --values text. An accepted plan must
 * encode canonically (write(read(write(p))) == write(p)). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "policy/adhoc.h"
#include "session/agg2_plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void round_trip(const ovl_agg2_plan *p)
{
    ovl_buf a, b;
    ovl_agg2_plan q;
    if (ovl_buf_alloc(&a, 256, OVL_AGG2_PLAN_MAX) != OVL_OK)
        return;
    if (ovl_buf_alloc(&b, 256, OVL_AGG2_PLAN_MAX) != OVL_OK) {
        ovl_buf_free(&a);
        return;
    }
    if (ovl_agg2_plan_write(p, &a) != OVL_OK || ovl_agg2_plan_read(&q, a.data, ovl_buf_len(&a)) ||
        ovl_agg2_plan_write(&q, &b) != OVL_OK || ovl_buf_len(&a) != ovl_buf_len(&b) ||
        memcmp(a.data, b.data, ovl_buf_len(&a)) != 0)
        abort(); /* a compiled plan is always well formed and canonical */
    ovl_buf_free(&a);
    ovl_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 2);
    ovl_agg2_plan p;
    ovl_adhoc_dim d;
    ovl_adhoc_col c;
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = text[size + 1] = '\0';
    const char *values = text + strlen(text) + (strlen(text) < size ? 1 : 0);
    if (ovl_adhoc_dim_parse(&d, text) == OVL_OK && (strlen(d.column) == 0 || d.side > 1))
        abort();
    if (ovl_adhoc_col_parse(&c, values, true) == OVL_OK && c.decimals > OVL_TPL_MAX_DECIMALS)
        abort();
    if (ovl_adhoc_col_parse(&c, text, false) == OVL_OK && c.decimals != 0)
        abort();
    if (ovl_agg2_plan_from_options(&p, text, values, size, (int)(size & 1)) == OVL_OK)
        round_trip(&p);
    free(text);
    return 0;
}
