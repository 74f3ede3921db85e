/* overlap: an owner's per-identifier counts and sums for aggregates version 2
 * (protocols/aggregate/SPEC.md §5.1).
 *
 * From its filtered rows (identifier index, group index, fixed-point values
 * with NULLs) an owner forms, for every identifier and every group the
 * identifier has rows in, the row count n(id,g) and per value column the
 * non-NULL count and the sum. Groups overlap freely: one identifier may have
 * entries in many groups. The counts and sums have public widths, checked
 * here before the peer is contacted, so that nothing computed from them in
 * the two-party phase can wrap. */
#ifndef OVL_PROTOCOLS_AGGREGATE_IDENT_H
#define OVL_PROTOCOLS_AGGREGATE_IDENT_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define OVL_AGG2_MAX_GROUPS 65536u       /* groups per party (and cells per run) */
#define OVL_AGG2_MAX_COLS 32u            /* value columns per party */
#define OVL_AGG2_MAX_COUNT_BITS 16u      /* w: rows per identifier and group < 2^w */
#define OVL_AGG2_MIN_VALUE_BITS 2u       /* v: |sum per identifier and group| < 2^(v-1) */
#define OVL_AGG2_MAX_VALUE_BITS 48u
#define OVL_AGG2_MAX_ROWS 0xfffffffeu    /* rows per party (indices are 32-bit) */

typedef struct {
    uint32_t nids;       /* distinct identifiers, indexed 0 .. nids-1 */
    uint32_t groups;     /* G, 1 .. OVL_AGG2_MAX_GROUPS */
    uint32_t cols;       /* value columns, 0 .. OVL_AGG2_MAX_COLS */
    uint32_t count_bits; /* w */
    uint32_t value_bits; /* v */
    uint32_t max_cells;  /* this owner's aggregation.max_cells (G alone must fit it) */
} ovl_agg_ident_shape;

/* The owner's rows, borrowed: row r has identifier id[r], group group[r] and,
 * for column s, value[r·cols + s] (units of 10^-decimals), NULL when
 * null[r·cols + s] is 1 (null may be NULL: no NULLs). */
typedef struct {
    const uint32_t *id;
    const uint32_t *group;
    const int64_t *value;
    const uint8_t *null;
    size_t rows;
} ovl_agg_rows;

/* Entries of identifier i are first[i] .. first[i+1]-1, groups ascending.
 * words holds 2·cols words per entry: (non-NULL count, sum) per column. */
typedef struct {
    ovl_agg_ident_shape shape;
    size_t entries;
    uint32_t *first;
    uint32_t *group;
    uint32_t *count;
    int64_t *words;
} ovl_agg_ident;

/* Builds the table and checks every count and sum against the widths (§5.1):
 * OVL_ERR_INPUT naming the group and column, never the identifier; an index
 * out of range or a shape out of its caps is OVL_ERR_USAGE; more groups than
 * max_cells is OVL_ERR_POLICY. On failure *out is empty. */
ovl_err ovl_agg_ident_build(ovl_agg_ident *out, const ovl_agg_ident_shape *shape,
                            const ovl_agg_rows *rows) OVL_MUST_USE;

/* With a peer's count width (before contacting it: the widest, 16; after
 * HELLO: the one it stated), no cell total of this owner's counts or sums can
 * leave the signed 64-bit range (§5.1): OVL_ERR_INPUT naming the column by
 * names[s], the name of this table's value column s, when given, else by s. */
ovl_err ovl_agg_ident_check_totals_named(const ovl_agg_ident *t, uint32_t peer_count_bits,
                                         const char *const *names) OVL_MUST_USE;
ovl_err ovl_agg_ident_check_totals(const ovl_agg_ident *t, uint32_t peer_count_bits) OVL_MUST_USE;

/* Wipes and frees (the counts and sums are the owner's data). */
void ovl_agg_ident_free(ovl_agg_ident *t);

#endif
