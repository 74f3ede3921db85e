/* overlap: the conditions-across-parties part of the aggregate plan
 * (protocols/aggregate/CONDITIONS.md §7): its canonical wire encoding, read
 * through a bounded reader that checks every field before anything is used,
 * the re-orientation of a condition for the party that runs (§2.2), and the
 * circuit shape it gives (mpc/pairs.h). */
#ifndef OVL_PROTOCOLS_AGGREGATE_PAIRPLAN_H
#define OVL_PROTOCOLS_AGGREGATE_PAIRPLAN_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"
#include "mpc/pairs.h"

#define OVL_PC_PLAN_MAX_NAME 128u
#define OVL_PC_PLAN_MAX_DECIMALS 18u

typedef enum { OVL_PC_TYPE_DATE = 0, OVL_PC_TYPE_INT = 1, OVL_PC_TYPE_DECIMAL = 2 } ovl_pc_type;

typedef struct {
    uint8_t op;       /* ovl_pc_op */
    uint8_t type;     /* ovl_pc_type */
    uint8_t width;    /* 17 for dates, 2..64 otherwise */
    uint8_t decimals; /* decimals only */
    int32_t lo, hi;   /* the contributor's offsets in days (dates only; hi for BETWEEN only) */
    char r_col[OVL_PC_PLAN_MAX_NAME + 1];
    char c_col[OVL_PC_PLAN_MAX_NAME + 1];
} ovl_pc_plan_cond;

typedef struct {
    uint8_t nconds; /* 0..OVL_PC_MAX_CONDS; 0: no conditions, nothing else follows */
    ovl_pc_plan_cond conds[OVL_PC_MAX_CONDS];
    uint8_t cap_rows; /* 1..OVL_PC_MAX_CAP */
    char r_order[OVL_PC_PLAN_MAX_NAME + 1]; /* "" = input order */
    char c_order[OVL_PC_PLAN_MAX_NAME + 1];
    /* The template's aliases of the runner's and the contributor's tables,
     * for an owner's own errors naming a condition only: not encoded (a plan
     * read from the wire has them empty, and they take no part in it). */
    char r_alias[OVL_PC_PLAN_MAX_NAME + 1];
    char c_alias[OVL_PC_PLAN_MAX_NAME + 1];
} ovl_pc_plan;

/* Checks every field (OVL_ERR_MALFORMED naming it). */
ovl_err ovl_pc_plan_check(const ovl_pc_plan *p) OVL_MUST_USE;
ovl_err ovl_pc_plan_write(ovl_buf *b, const ovl_pc_plan *p) OVL_MUST_USE;
/* Reads exactly one encoded plan part from b (the rest of b is left). */
ovl_err ovl_pc_plan_read(ovl_pc_plan *p, ovl_buf *b) OVL_MUST_USE;
/* The same condition with the two parties' roles exchanged: `r op c + a`
 * becomes `c op' r - a`, a BETWEEN `c + lo <= r <= c + hi` becomes
 * `r - hi <= c <= r - lo` (columns swapped). Used when the runner reads the
 * template's JOIN table. */
void ovl_pc_cond_mirror(ovl_pc_plan_cond *c);
/* Whether the condition holds for runner word r and contributor word c, as
 * integers (day numbers or scaled values), offsets applied: the reference
 * the circuit is tested against. */
bool ovl_pc_cond_holds(const ovl_pc_plan_cond *cond, int64_t r, int64_t c);
/* The bin circuit's shape for this plan and the parties' group counts. */
ovl_err ovl_pc_plan_shape(ovl_pc_shape *s, const ovl_pc_plan *p, uint32_t groups_r,
                          uint32_t groups_c) OVL_MUST_USE;

#endif
