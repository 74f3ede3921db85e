/* overlap: analysis templates, a small SQL dialect that maps onto the PSI
 * and aggregate protocols (grammar in src/policy/GRAMMAR.md).
 *
 * Parsing yields a plan: which party (table alias) filters which of its
 * columns how (run locally before blinding), the dimensions (columns of
 * either party, optionally truncated to a day, week or month), the
 * aggregates over either party's columns, arithmetic on aggregates in the
 * select list, and the HAVING threshold on COUNT(DISTINCT join column).
 * Errors point at line:column and quote the construct, e.g.
 *   attribution.sql:4:12: SUM(a.x * b.y): expressions inside aggregates cannot be computed privately
 *
 * The canonical form re-renders the parsed template (keywords upper-case,
 * single spaces, comments dropped, parameter declarations sorted); its
 * SHA-256 is the template hash that owners approve. */
#ifndef OVERLAP_TEMPLATE_H
#define OVERLAP_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "io/datetrunc.h"
#include "policy/policy.h"

#define OVL_TPL_MAX_BYTES (64u * 1024u)
#define OVL_TPL_MAX_ITEMS 64u      /* select items, filters, params, IN values each */
#define OVL_TPL_MAX_IDENT 128u     /* bytes in an identifier */
#define OVL_TPL_MAX_LITERAL 256u   /* bytes in a literal or parameter value */
#define OVL_TPL_MAX_PAIRS 8u       /* conditions across parties (CONDITIONS.md) */
#define OVL_TPL_MAX_INTERVAL 36500 /* |INTERVAL| in days */
#define OVL_TPL_DEFAULT_CAP_ROWS 4u
#define OVL_TPL_MAX_CAP_ROWS 8u
#define OVL_TPL_MAX_XTOK 32u       /* tokens of one select-list expression (postfix) */
#define OVL_TPL_MAX_DECIMALS 18u   /* -- decimals alias.col N, and decimal literals */

typedef enum {
    OVL_PARAM_STRING = 1,
    OVL_PARAM_INTEGER,
    OVL_PARAM_DECIMAL,
    OVL_PARAM_DATE
} ovl_param_type;

const char *ovl_param_type_name(ovl_param_type t);

typedef struct {
    char *name;
    ovl_param_type type;
    char **allowed; /* canonical values; nallowed == 0: any value of the type */
    size_t nallowed;
} ovl_tpl_param;

typedef enum {
    OVL_CMP_EQ = 1,
    OVL_CMP_NE,
    OVL_CMP_LT,
    OVL_CMP_LE,
    OVL_CMP_GT,
    OVL_CMP_GE,
    OVL_CMP_BETWEEN, /* values[0] <= x <= values[1] */
    OVL_CMP_IN       /* x equals one of values */
} ovl_cmp_op;

/* A literal (type from its spelling: 'text' string, 12 integer, 1.5
 * decimal, DATE '2026-07-01' date) or a :parameter (type from its declaration). */
typedef struct {
    bool is_param;
    ovl_param_type type;
    char *text; /* literal value (unquoted) or parameter name */
} ovl_tpl_value;

typedef struct {
    int party; /* 0 or 1: index into ovl_template.table/alias */
    char *column;
    ovl_cmp_op op;
    ovl_tpl_value *values;
    size_t nvalues;
} ovl_tpl_filter;

/* DATE_TRUNC units (ovl_trunc, the aggregate plan's values, SPEC §4.1)
 * and ovl_date_trunc, the owner's truncation of a cell: io/datetrunc.h,
 * which the table loader uses too. */

/* "day", "week", "month" (any case) to the unit; OVL_TRUNC_NONE for others. */
ovl_trunc ovl_trunc_parse(const char *unit);
const char *ovl_trunc_name(ovl_trunc t); /* "day", ...; "" for none */

/* Days since 1970-01-01 of a valid YYYY-MM-DD (proleptic Gregorian), and back. */
bool ovl_date_days(int64_t *days, const char *ymd);
void ovl_date_format(char out[static 11], int64_t days);

typedef struct {
    int party;
    char *column;
    ovl_trunc trunc; /* DATE_TRUNC(unit, column); OVL_TRUNC_NONE: the column itself */
    char *output;    /* output column name (AS, the column name, or <unit>_<column>) */
} ovl_tpl_dim;

/* COUNT is COUNT(*) without a column and COUNT(alias.col), its non-NULL
 * values, with one. */
typedef struct {
    ovl_aggfn fn;
    int party;    /* -1 for COUNT(*) */
    char *column; /* NULL for COUNT(*) */
    char *output;
} ovl_tpl_agg;

static inline bool ovl_tpl_agg_star(const ovl_tpl_agg *a)
{
    return a->fn == OVL_FN_COUNT && a->column == NULL;
}

/* Arithmetic on aggregates in the select list, computed from the released
 * values (SPEC §1): a postfix sequence of tokens. */
typedef enum {
    OVL_TPL_X_AGG = 1, /* agg */
    OVL_TPL_X_INT,     /* value */
    OVL_TPL_X_DEC,     /* value * 10^-decimals */
    OVL_TPL_X_ADD,
    OVL_TPL_X_SUB,
    OVL_TPL_X_MUL,
    OVL_TPL_X_DIV,
    OVL_TPL_X_NULLIF0 /* NULLIF(x, 0) */
} ovl_tpl_xop;

typedef struct {
    ovl_tpl_xop op;
    ovl_tpl_agg agg; /* X_AGG (its output unused) */
    int64_t value;   /* X_INT, X_DEC */
    unsigned decimals;
} ovl_tpl_xtok;

typedef struct {
    char *output; /* AS name (required) */
    ovl_tpl_xtok *tok;
    size_t ntok;
} ovl_tpl_expr;

/* The select list in order: each entry one of dims[], aggs[] or exprs[]. */
typedef enum { OVL_TPL_ITEM_DIM = 1, OVL_TPL_ITEM_AGG, OVL_TPL_ITEM_EXPR } ovl_tpl_item_kind;
typedef struct {
    ovl_tpl_item_kind kind;
    size_t index;
} ovl_tpl_item;

/* "-- decimals alias.col N": the fixed-point scale of a value column
 * (SPEC §5.1); undeclared columns have 0. */
typedef struct {
    int party;
    char *column;
    unsigned decimals;
} ovl_tpl_scale;

/* A condition across parties on each joined row, in canonical orientation
 * (protocols/aggregate/CONDITIONS.md §2.2): party 0's column on the left,
 * offsets in days on party 1's column: column[0] op column[1] + offset[0],
 * or for BETWEEN column[1] + offset[0] <= column[0] <= column[1] + offset[1]. */
typedef struct {
    ovl_cmp_op op; /* EQ .. GE or BETWEEN */
    char *column[2];
    int32_t offset[2];
    bool interval; /* written with INTERVAL */
    bool dates;    /* compares dates: written with INTERVAL or naming a column of -- dates */
} ovl_tpl_pair;

/* "-- dates alias.col, ...": columns that hold dates YYYY-MM-DD, so that the
 * conditions naming them compare dates (CONDITIONS.md §2.1). */
typedef struct {
    int party;
    char *column;
} ovl_tpl_datecol;

typedef struct {
    char *label;
    char *table[2]; /* table names as written in FROM / JOIN */
    char *alias[2];
    char *join_column[2];
    ovl_tpl_param *params;
    size_t nparams;
    ovl_tpl_filter *filters;
    size_t nfilters;
    ovl_tpl_dim *dims; /* in SELECT order; of either party */
    size_t ndims;
    ovl_tpl_agg *aggs; /* the select list's plain aggregates, in order */
    size_t naggs;
    ovl_tpl_expr *exprs; /* the select list's arithmetic on aggregates, in order */
    size_t nexprs;
    ovl_tpl_item *items; /* the select list */
    size_t nitems;
    ovl_tpl_scale *scales; /* -- decimals declarations */
    size_t nscales;
    ovl_tpl_datecol *dates; /* -- dates declarations */
    size_t ndates;
    /* The party of every dimension / of every SUM and AVG column, when it is
     * one party; -1 when there are none or both parties'. */
    int group_party;
    int value_party;
    uint64_t threshold; /* HAVING COUNT(DISTINCT ...) >= k; 0 without HAVING */
    ovl_tpl_pair *pairs; /* ON / WHERE conditions across parties */
    size_t npairs;
    uint32_t cap_rows;    /* -- cap rows N: rows per identifier per party (with pairs) */
    char *cap_order[2];   /* each party's cap ordering column; NULL: input order */
    unsigned functions; /* ovl_aggfn bits used */
    char *canonical;
    uint8_t hash[OVL_HASH_LEN];
} ovl_template;

/* A supplied parameter value (--param name=value). */
typedef struct {
    const char *name;
    const char *value;
} ovl_param_value;

ovl_err ovl_template_parse(ovl_template **out, const char *label, const char *text,
                           size_t len) OVL_MUST_USE;
ovl_err ovl_template_load(ovl_template **out, const char *path) OVL_MUST_USE;
void ovl_template_free(ovl_template *t);

/* The output column name of select item `item` (< nitems). */
const char *ovl_template_output(const ovl_template *t, size_t item);

/* The declared decimals of a party's column (0 when undeclared). */
unsigned ovl_template_decimals(const ovl_template *t, int party, const char *column);

/* Whether a party's column is declared in -- dates. */
bool ovl_template_is_date(const ovl_template *t, int party, const char *column);

/* Index (0/1) of the party reading `table_name`, or -1. */
int ovl_template_party(const ovl_template *t, const char *table_name);

/* Checks supplied values against the declarations: every declared parameter
 * given exactly once, nothing undeclared, each value of its type and in its
 * allowed list. OVL_ERR_POLICY naming the parameter. */
ovl_err ovl_template_check_params(const ovl_template *t, const ovl_param_value *vals,
                                  size_t n) OVL_MUST_USE;
/* Validates one value against a type (used for parameters and allowed lists). */
bool ovl_param_value_ok(ovl_param_type type, const char *value);

/* Evaluates a filter on one cell of the filtering party's table. Numeric and
 * date comparisons treat a cell that is not of the type as not matching.
 * Parameters must have been checked with ovl_template_check_params. */
ovl_err ovl_tpl_filter_match(const ovl_tpl_filter *f, const ovl_param_value *vals, size_t n,
                             const char *cell, size_t cell_len, bool *match) OVL_MUST_USE;

#endif
