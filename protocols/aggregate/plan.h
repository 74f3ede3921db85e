/* overlap: the compiled analysis of aggregates version 2, its canonical wire
 * encoding and the public shapes it fixes (protocols/aggregate/SPEC.md
 * §2, §4.1). Both parties state the same plan bytes in HELLO; the reader
 * checks every field before anything is used and accepts only the canonical
 * encoding, so write(read(x)) == x for every x it accepts.
 *
 * Encoding (big-endian):
 *   having u64 | receiver u8 | dims_R u8 | dims_C u8
 *   dims[dims_R + dims_C] in plan order: side u8 | trunc u8 | len u8 | name
 *   value_cols u8 | cols[]: side u8 | decimals u8 | len u8 | name
 *   outputs u8 | outputs[]: len u8 | name | ntok u8 | tokens[]
 *     token: op u8, then COUNT/SUM/AVG: col u8; DIM: dim u8;
 *            INT: value i64; DEC: value i64 | decimals u8; others: nothing
 *   pair conditions (pairplan.h's encoding: nconds u8, then only if > 0 ...)
 * An output is a postfix expression that leaves exactly one value, or a bare
 * DIM (the output is that dimension's value). Names are 1..128 bytes with no
 * NUL byte. */
#ifndef OVL_PROTOCOLS_AGGREGATE_PLAN_H
#define OVL_PROTOCOLS_AGGREGATE_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aggregate/pairplan.h"
#include "core/buf.h"
#include "core/error.h"

#define OVL_AGG2_PLAN_MAX 16384u      /* encoded bytes (AggParams2 plan_len) */
#define OVL_AGG2_PLAN_MAX_DIMS 16u    /* dimension columns per party */
#define OVL_AGG2_PLAN_MAX_COLS 32u    /* value columns, both parties together */
#define OVL_AGG2_PLAN_MAX_OUTPUTS 64u /* select-list entries */
#define OVL_AGG2_PLAN_MAX_TOKENS 32u  /* tokens of one output expression */
#define OVL_AGG2_PLAN_MAX_NAME 128u
#define OVL_AGG2_PLAN_MAX_DECIMALS 18u

typedef enum { OVL_AGG2_SIDE_R = 0, OVL_AGG2_SIDE_C = 1 } ovl_agg2_side;
typedef enum {
    OVL_AGG2_TRUNC_NONE = 0,
    OVL_AGG2_TRUNC_DAY = 1,
    OVL_AGG2_TRUNC_WEEK = 2,
    OVL_AGG2_TRUNC_MONTH = 3
} ovl_agg2_trunc;

typedef enum {
    OVL_AGG2_OP_COUNT_DISTINCT = 1,
    OVL_AGG2_OP_COUNT_STAR = 2,
    OVL_AGG2_OP_COUNT = 3,   /* COUNT(col) */
    OVL_AGG2_OP_SUM = 4,     /* SUM(col) */
    OVL_AGG2_OP_AVG = 5,     /* AVG(col) */
    OVL_AGG2_OP_INT = 6,     /* integer literal */
    OVL_AGG2_OP_DEC = 7,     /* decimal literal value · 10^-decimals */
    OVL_AGG2_OP_ADD = 8,
    OVL_AGG2_OP_SUB = 9,
    OVL_AGG2_OP_MUL = 10,
    OVL_AGG2_OP_DIV = 11,
    OVL_AGG2_OP_NULLIF0 = 12, /* NULLIF(x, 0) */
    OVL_AGG2_OP_DIM = 13      /* a bare dimension output: dims[arg] */
} ovl_agg2_op;

typedef struct {
    uint8_t side;  /* ovl_agg2_side */
    uint8_t trunc; /* ovl_agg2_trunc */
    char name[OVL_AGG2_PLAN_MAX_NAME + 1];
} ovl_agg2_dim;

typedef struct {
    uint8_t side;     /* ovl_agg2_side */
    uint8_t decimals; /* 0..18 */
    char name[OVL_AGG2_PLAN_MAX_NAME + 1];
} ovl_agg2_col;

typedef struct {
    uint8_t op;       /* ovl_agg2_op */
    uint8_t arg;      /* column (COUNT, SUM, AVG) or dimension (DIM) index */
    uint8_t decimals; /* DEC only */
    int64_t value;    /* INT, DEC only */
} ovl_agg2_token;

typedef struct {
    char name[OVL_AGG2_PLAN_MAX_NAME + 1];
    uint8_t ntok;
    ovl_agg2_token tok[OVL_AGG2_PLAN_MAX_TOKENS];
} ovl_agg2_output;

typedef struct {
    uint64_t having;  /* HAVING COUNT(DISTINCT id) >= having; 0: none */
    uint8_t receiver; /* 0 the runner, 1 the contributor */
    uint8_t ndims;    /* in plan order, both parties' (each side <= 16) */
    ovl_agg2_dim dims[2 * OVL_AGG2_PLAN_MAX_DIMS];
    uint8_t ncols;    /* in plan order, both parties' */
    ovl_agg2_col cols[OVL_AGG2_PLAN_MAX_COLS];
    uint8_t noutputs;
    ovl_agg2_output outputs[OVL_AGG2_PLAN_MAX_OUTPUTS];
    ovl_pc_plan pairs; /* pair conditions (CONDITIONS.md); nconds = 0 in version 2 */
} ovl_agg2_plan;

/* Checks every field (OVL_ERR_MALFORMED naming it). */
ovl_err ovl_agg2_plan_check(const ovl_agg2_plan *p) OVL_MUST_USE;
/* Appends the canonical encoding (checks first). */
ovl_err ovl_agg2_plan_write(const ovl_agg2_plan *p, ovl_buf *out) OVL_MUST_USE;
/* Reads exactly one plan from len bytes (trailing bytes are MALFORMED). On
 * failure *p is zeroed. */
ovl_err ovl_agg2_plan_read(ovl_agg2_plan *p, const uint8_t *data, size_t len) OVL_MUST_USE;
/* The plan holds no allocation; wipes it for symmetry with the readers. */
void ovl_agg2_plan_free(ovl_agg2_plan *p);

/* ---- The public shapes (SPEC §2). */
/* The party's value columns in plan order are its ident table's columns
 * (ident.h: (non-NULL count, sum) per column). */
uint32_t ovl_agg2_plan_cols_of(const ovl_agg2_plan *p, unsigned side);
/* Whether column i (plan index) is summed or averaged: it then has a sum word. */
bool ovl_agg2_plan_col_summed(const ovl_agg2_plan *p, uint32_t col);
/* k_R / k_C: value words per group of that side's columns. */
uint32_t ovl_agg2_plan_words(const ovl_agg2_plan *p, unsigned side);
static inline uint32_t ovl_agg2_plan_k_r(const ovl_agg2_plan *p)
{
    return ovl_agg2_plan_words(p, OVL_AGG2_SIDE_R);
}
static inline uint32_t ovl_agg2_plan_k_c(const ovl_agg2_plan *p)
{
    return ovl_agg2_plan_words(p, OVL_AGG2_SIDE_C);
}
/* s*: 1 when an output uses COUNT(*). */
uint32_t ovl_agg2_plan_star(const ovl_agg2_plan *p);
/* W = 7 + s* + k_R + k_C words per cell record. */
uint32_t ovl_agg2_plan_record_words(const ovl_agg2_plan *p);
/* The party's dimension columns (plan order among its own). */
uint32_t ovl_agg2_plan_dims_of(const ovl_agg2_plan *p, unsigned side);
/* Word index, within its own side's k words, of column i's non-NULL count
 * and of its sum (UINT32_MAX: no such column, or not summed). */
uint32_t ovl_agg2_plan_count_word(const ovl_agg2_plan *p, uint32_t col);
uint32_t ovl_agg2_plan_sum_word(const ovl_agg2_plan *p, uint32_t col);

#endif
