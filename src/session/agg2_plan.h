/* overlap: the analysis of an aggregates v2 run compiled into the engine's
 * plan (protocols/aggregate/plan.h, SPEC.md §4.1), from a template or
 * from the ad-hoc options, so that both parties state the same plan bytes.
 *
 * The same analysis gives the same plan by either path: an ad-hoc run
 * --group-by g,week(contributor:d) --values contributor:v:2 --min-rows 5 is
 *   -- decimals c.v 2
 *   SELECT r.g AS g, DATE_TRUNC('week', c.d) AS week_d, COUNT(DISTINCT r.id) AS matched,
 *          COUNT(*) AS rows, SUM(c.v) AS sum_v, AVG(c.v) AS avg_v
 *   FROM runner_table r JOIN contributor_table c ON r.id = c.id
 *   GROUP BY 1, 2 HAVING COUNT(DISTINCT r.id) >= 5
 * Plan order: dimensions in select order; value columns in the order the
 * select list first reads them (COUNT(col), SUM, AVG); outputs in select
 * order, a dimension as a bare DIM. */
#ifndef OVL_SESSION_AGG2_PLAN_H
#define OVL_SESSION_AGG2_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "aggregate/plan.h"
#include "aggregate/release.h"
#include "core/error.h"
#include "core/kinds.h"
#include "policy/adhoc.h"
#include "policy/template.h"

/* Width of a condition's integer or decimal words (CONDITIONS.md §2.1). */
#define OVL_AGG2_COND_BITS 48u

/* runner_party, receiver_party: the template's party index (0 the FROM
 * table, 1 the JOIN table) of the runner (the cuckoo-hashing party) and of
 * the party receiving the released cells. Value columns take the
 * template's "-- decimals". Conditions across parties become the plan's
 * pairs part (CONDITIONS.md §7), the runner's column on the left: dates
 * (17-bit day numbers) when written with an INTERVAL, otherwise integers, or
 * decimals at the larger scale either column declares (OVL_AGG2_COND_BITS
 * wide); the engine decides whether it runs them. A template beyond the
 * plan's caps is OVL_ERR_INPUT naming it. */
ovl_err ovl_agg2_plan_from_template(ovl_agg2_plan *out, const ovl_template *t, int runner_party,
                                    int receiver_party) OVL_MUST_USE;

/* An ad-hoc analysis as a negotiated request carries it (adhoc.h's item
 * spellings). Outputs: the dimensions (named by their column, or
 * <unit>_<column>), matched = COUNT(DISTINCT id), rows = COUNT(*), then per
 * value entry sum_<col> (SUM), avg_<col> (AVG) or count_<col> (COUNT). */
typedef struct {
    const char *const *group_by; /* [runner:|contributor:]COL or day|week|month(...) */
    size_t ngroup_by;
    const char *const *values; /* [runner:|contributor:]COL */
    const ovl_aggfn *fns;      /* per value entry: OVL_FN_SUM, OVL_FN_AVG or OVL_FN_COUNT */
    const unsigned *decimals;  /* per value entry */
    size_t nvalues;
    uint64_t having; /* the requested minimum per cell (0: none) */
    int receiver;    /* OVL_ADHOC_SIDE_RUNNER or OVL_ADHOC_SIDE_CONTRIBUTOR */
} ovl_agg2_adhoc;

ovl_err ovl_agg2_plan_from_adhoc(ovl_agg2_plan *out, const ovl_agg2_adhoc *a) OVL_MUST_USE;

/* The same from the command line: --group-by and --values text (either may
 * be NULL), each value column asked for its SUM and AVG as before version 2.
 * OVL_ERR_USAGE naming the option. */
ovl_err ovl_agg2_plan_from_options(ovl_agg2_plan *out, const char *group_by, const char *values,
                                   uint64_t having, int receiver) OVL_MUST_USE;

/* ---- group labels (SPEC §5.2), built by each owner from its rows ---- */

/* The label of one row's group for `side` (OVL_AGG2_SIDE_R or _C): for each
 * of that side's dimensions in plan order, u16 length then the bytes of
 * cells[i] (DATE_TRUNC applied by this owner: YYYY-MM-DD of the period's
 * first day), at most OVL_AGG2_LABEL_MAX bytes in all. A cell that is not a
 * date where one is truncated, or a label too long, is OVL_ERR_INPUT naming
 * the column, never the value. */
ovl_err ovl_agg2_group_label(uint8_t out[static OVL_AGG2_LABEL_MAX], size_t *len,
                             const ovl_agg2_plan *p, unsigned side, const char *const *cells,
                             const size_t *cell_len) OVL_MUST_USE;
/* Field i of a label (the side's i-th dimension value): false when the
 * label holds no such field or is malformed (a peer's label, after opening). */
bool ovl_agg2_label_field(const uint8_t *label, size_t len, unsigned i, const uint8_t **field,
                          size_t *field_len);

#endif
