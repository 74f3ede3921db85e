/* Fuzz target: the template lexer and parser over arbitrary bytes. An
 * accepted template must re-parse from its canonical form to the same hash,
 * its filters are evaluated on a few cells, and its conditions across parties
 * are in range and canonical orientation, their windows not empty. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "policy/template.h"
#include "session/agg2_plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const cells[] = {"", "12", "-3.5", "2026-07-01", "north"};
    ovl_template *t = NULL, *again = NULL;
    if (ovl_template_parse(&t, "fuzz.sql", (const char *)data, size) != OVL_OK)
        return 0;
    if (ovl_template_parse(&again, "canonical.sql", t->canonical, strlen(t->canonical)) != OVL_OK ||
        memcmp(again->hash, t->hash, sizeof t->hash) != 0)
        abort(); /* the canonical form is a fixed point */
    /* Conditions across parties come with a cap, in canonical orientation. */
    if ((t->npairs > 0) != (t->cap_rows > 0) || t->cap_rows > OVL_TPL_MAX_CAP_ROWS ||
        t->npairs > OVL_TPL_MAX_PAIRS)
        abort();
    for (size_t i = 0; i < t->npairs; i++)
        if (t->pairs[i].op < OVL_CMP_EQ || t->pairs[i].op > OVL_CMP_BETWEEN ||
            !t->pairs[i].column[0] || !t->pairs[i].column[1] ||
            t->pairs[i].offset[0] > OVL_TPL_MAX_INTERVAL ||
            t->pairs[i].offset[0] < -OVL_TPL_MAX_INTERVAL ||
            t->pairs[i].offset[1] > OVL_TPL_MAX_INTERVAL ||
            t->pairs[i].offset[1] < -OVL_TPL_MAX_INTERVAL ||
            (t->pairs[i].op == OVL_CMP_BETWEEN && t->pairs[i].offset[0] > t->pairs[i].offset[1]) ||
            (t->pairs[i].interval && !t->pairs[i].dates))
            abort(); /* no empty window; an INTERVAL compares dates */
    ovl_param_value vals[OVL_TPL_MAX_ITEMS];
    for (size_t i = 0; i < t->nparams; i++)
        vals[i] = (ovl_param_value){t->params[i].name,
                                    t->params[i].nallowed ? t->params[i].allowed[0] : "1"};
    for (size_t f = 0; f < t->nfilters; f++)
        for (size_t c = 0; c < sizeof cells / sizeof cells[0]; c++) {
            bool m;
            if (ovl_tpl_filter_match(&t->filters[f], vals, t->nparams, cells[c], strlen(cells[c]),
                                     &m) != OVL_OK)
                abort();
        }
    /* Each owner's truncation of its cells never fails but on non-dates. */
    for (size_t i = 0; i < t->ndims; i++)
        for (size_t c = 0; t->dims[i].trunc != OVL_TRUNC_NONE && c < sizeof cells / sizeof cells[0];
             c++) {
            char day[11];
            if ((ovl_date_trunc(day, t->dims[i].trunc, cells[c], strlen(cells[c])) == OVL_OK) !=
                (c == 3))
                abort();
        }
    /* A template that compiles gives a well-formed, canonical plan. */
    ovl_agg2_plan plan, back;
    ovl_buf w;
    if (ovl_agg2_plan_from_template(&plan, t, 0, 1) == OVL_OK &&
        ovl_buf_alloc(&w, 256, OVL_AGG2_PLAN_MAX) == OVL_OK) {
        if (ovl_agg2_plan_write(&plan, &w) != OVL_OK ||
            ovl_agg2_plan_read(&back, w.data, ovl_buf_len(&w)) != OVL_OK ||
            back.noutputs != t->nitems)
            abort();
        ovl_buf_free(&w);
    }
    ovl_template_free(again);
    ovl_template_free(t);
    return 0;
}
