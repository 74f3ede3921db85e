/* An owner's preparation for aggregates version 2, before any peer is
 * contacted (protocols/aggregate/SPEC.md §5): what to read from its table
 * for the agreed plan (its dimension columns, DATE_TRUNC included, and its
 * value columns with the plan's decimals), then its groups with their
 * labels (§5.2, sorted by bytes) and its per-identifier counts and sums
 * (aggregate/ident.h, widths checked). Internal to src/session/. */
#ifndef OVL_SESSION_AGG2_PREP_H
#define OVL_SESSION_AGG2_PREP_H

#include <stdbool.h>
#include <stdint.h>

#include "aggregate/ident.h"
#include "aggregate/plan.h"
#include "io/load.h"

typedef struct {
    /* what the table load reads (borrowed by the load spec) */
    char **group_by;
    uint8_t *trunc;
    size_t ndims;
    ovl_value_col *cols;
    uint8_t *counted_only; /* per column: COUNT(col) only, its cells need not be numbers */
    size_t ncols;
    /* the groups, sorted by label bytes */
    uint8_t **labels;
    uint16_t *label_len;
    size_t ngroups;
    ovl_agg_ident ident;
    /* per data row its group in this numbering (UINT32_MAX: not a row of the
     * analysis): the rows of conditions across parties (session/pair_rows.h) */
    uint32_t *row_group;
    size_t nrows;
} ovl_agg2_prep;

/* This side's (0 runner, 1 contributor) columns of the plan, and a load spec
 * asking for them (its join, filter and source fields are the caller's). */
ovl_err ovl_agg2_prep_columns(ovl_agg2_prep *p, const ovl_agg2_plan *plan,
                              unsigned side) OVL_MUST_USE;
void ovl_agg2_prep_load_spec(const ovl_agg2_prep *p, ovl_load_spec *want);

/* From the loaded table: groups, labels and the ident table with this
 * owner's widths and max_cells. `what` names the table in errors.
 * ovl_agg2_prep_groups then ovl_agg2_prep_ident without kept. */
ovl_err ovl_agg2_prep_build(ovl_agg2_prep *p, const ovl_table_input *in, uint32_t count_bits,
                            uint32_t value_bits, uint32_t max_cells,
                            const char *what) OVL_MUST_USE;

/* The groups, their labels and row_group, without the ident table: what
 * conditions across parties build their rows on before the cap. */
ovl_err ovl_agg2_prep_groups(ovl_agg2_prep *p, const ovl_table_input *in,
                             const char *what) OVL_MUST_USE;
/* After ovl_agg2_prep_groups: the ident table, its widths checked, over the
 * rows of the analysis or, with kept (one byte per data row), over those with
 * kept[r] = 1, the rows the cap of conditions across parties keeps
 * (CONDITIONS.md §3.2): a row the cap drops is never encoded, so it counts
 * against no width. */
ovl_err ovl_agg2_prep_ident(ovl_agg2_prep *p, const ovl_table_input *in, const uint8_t *kept,
                            uint32_t count_bits, uint32_t value_bits, uint32_t max_cells,
                            const char *what) OVL_MUST_USE;

/* After the ident table: every check of the engine that depends on this
 * owner's data and the plan alone (aggregate/agg2.h, ovl_agg2_check_own:
 * the totals against the signed 64-bit range, circuit PSI's caps), so that
 * a refusal reaches no peer (SPEC §5.1). `what` names the table. */
ovl_err ovl_agg2_prep_check(const ovl_agg2_prep *p, const ovl_agg2_plan *plan, bool runner,
                            const char *what) OVL_MUST_USE;

void ovl_agg2_prep_free(ovl_agg2_prep *p);

#endif
