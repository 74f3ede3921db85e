/* An owner's rows for conditions across parties (protocols/aggregate/
 * CONDITIONS.md §3), from its table as the session loaded it for the plan:
 * what the engine's ovl_agg2_config.pair_rows points at. Internal to
 * src/session/; run before any peer is contacted. */
#ifndef OVL_SESSION_PAIR_ROWS_H
#define OVL_SESSION_PAIR_ROWS_H

#include <stddef.h>
#include <stdint.h>

#include "aggregate/pairrows.h"
#include "aggregate/plan.h"
#include "io/load.h"
#include "io/textcols.h"

#define OVL_PAIR_TEXT_COLS (OVL_PC_MAX_CONDS + 1u)

/* The columns this side (0 runner, 1 contributor) reads as text: each
 * condition's own column in plan order, then the cap's ordering column when
 * the plan names one. Returns their number. */
size_t ovl_pair_text_cols(const char *cols[static OVL_PAIR_TEXT_COLS], const ovl_agg2_plan *plan,
                          unsigned side);

/* From the loaded table `in` (its values are this side's plan columns in plan
 * order, agg2_prep's load spec), the text of ovl_pair_text_cols (`text`, one
 * row per data row) and each data row's group in the engine's numbering
 * (`row_group`, UINT32_MAX: not a row of the analysis): the capped rows with
 * their plan words (per own column [not NULL] and, when summed, the value).
 * Every kept row's summed values must fit value_bits (the owner's
 * aggregation.value_bits: rows are encoded one by one), else OVL_ERR_INPUT
 * naming file:line and column, never the value. With kept not NULL
 * (in->ids.nrows bytes), kept[r] = 1 for each data row the NULL rule and the
 * cap keep: the rows the owner's other widths then apply to (agg2_prep.h). */
ovl_err ovl_pair_rows_build(ovl_pc_owner_rows *out, uint8_t *kept, const ovl_agg2_plan *plan,
                            unsigned side, const ovl_table_input *in, const ovl_text_table *text,
                            const uint32_t *row_group, uint32_t value_bits) OVL_MUST_USE;

#endif
