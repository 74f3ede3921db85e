/* overlap: a template's WHERE filters on one party's table, as the row
 * filter of the one-pass loader (io/load.h). Rows are judged locally, before
 * anything is blinded. */
#ifndef OVERLAP_ROWFILTER_H
#define OVERLAP_ROWFILTER_H

#include <stddef.h>

#include "core/error.h"
#include "io/load.h"
#include "policy/template.h"

#define OVL_TPL_ROWFILTER_MAX 64u /* filters on one table */

typedef struct {
    const ovl_template *tpl;
    int party;
    const ovl_param_value *params;
    size_t nparams;
    size_t cols[OVL_TPL_ROWFILTER_MAX]; /* column index of each filter, once bound */
    const ovl_tpl_filter *filters[OVL_TPL_ROWFILTER_MAX];
    size_t n;
} ovl_tpl_rowfilter;

/* Collects the filters of `tpl` (NULL: none) that apply to `party`. */
ovl_err ovl_tpl_rowfilter_init(ovl_tpl_rowfilter *f, const ovl_template *tpl, int party,
                               const ovl_param_value *params, size_t nparams) OVL_MUST_USE;
/* The loader's filter over f (no filter when f has none); f must outlive the load. */
ovl_row_filter ovl_tpl_rowfilter_ops(ovl_tpl_rowfilter *f);

#endif
