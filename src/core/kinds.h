/* overlap: the kinds of analysis every layer names: roles, modes, reveal
 * settings and aggregate functions. Each is one row of a table in kinds.c
 * (name, wire value, policy keyword, template syntax, how the engine reduces
 * it), so adding one is a row there; code looks a row up instead of
 * switching over the values. Protocols and policy both include this. */
#ifndef OVERLAP_KINDS_H
#define OVERLAP_KINDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* Enum values are wire values (protocols/psi/SPEC.md §4.1,
 * protocols/setup/SPEC.md). */
typedef enum { OVL_ROLE_LISTENER = 0, OVL_ROLE_CONNECTOR = 1 } ovl_role;

typedef enum {
    OVL_MODE_INTERSECTION = 1,
    OVL_MODE_CARDINALITY = 2,
    OVL_MODE_AGGREGATE = 3
} ovl_mode;

typedef enum {
    OVL_REVEAL_BOTH = 0,
    OVL_REVEAL_LISTENER = 1,
    OVL_REVEAL_CONNECTOR = 2
} ovl_reveal;

/* Aggregate functions, as bits so a policy can hold a set of them. */
typedef enum {
    OVL_FN_COUNT = 1,
    OVL_FN_COUNT_DISTINCT = 2,
    OVL_FN_SUM = 4,
    OVL_FN_AVG = 8
} ovl_aggfn;

typedef struct {
    ovl_role role;
    const char *name; /* "listener" */
} ovl_role_kind;

typedef struct {
    ovl_mode mode;
    const char *name;           /* --mode, audit entries: "intersection" */
    const char *policy_section; /* the policy rules that govern it: "list" */
    bool reveals_size;          /* its output is the number of shared identifiers */
    bool aggregates;            /* runs the aggregate engine, with a row threshold */
} ovl_mode_kind;

typedef struct {
    ovl_reveal reveal;
    const char *name; /* --reveal: "both" */
    bool to_listener, to_connector;
} ovl_reveal_kind;

/* What a template's call of the function takes. */
typedef enum {
    OVL_AGG_ARG_STAR,     /* COUNT(*) */
    OVL_AGG_ARG_DISTINCT, /* COUNT(DISTINCT a.<join column>) */
    OVL_AGG_ARG_VALUE     /* SUM(b.<value column>): a value column of the value side */
} ovl_agg_arg;

/* How a group's released figure comes out of the engine's sums. */
typedef enum {
    OVL_REDUCE_ROWS,       /* the value side's matched rows (sum of row counts) */
    OVL_REDUCE_IDENTIFIERS, /* the group's matched identifiers */
    OVL_REDUCE_SUM,        /* the column's sum */
    OVL_REDUCE_MEAN        /* the column's sum over the matched rows */
} ovl_agg_reduce;

typedef struct {
    ovl_aggfn fn;          /* wire value in requests (setup/SPEC.md) */
    const char *keyword;   /* policy "aggregation.functions": "COUNT_DISTINCT" */
    const char *call;      /* template function name: "COUNT" */
    ovl_agg_arg arg;       /* template syntax of its argument */
    const char *label;     /* default output column: "count_distinct" (+ "_<column>") */
    ovl_agg_reduce reduce; /* how the engine's result is reduced */
} ovl_aggfn_kind;

extern const ovl_role_kind ovl_role_kinds[];
extern const ovl_mode_kind ovl_mode_kinds[];
extern const ovl_reveal_kind ovl_reveal_kinds[];
extern const ovl_aggfn_kind ovl_aggfn_kinds[];
extern const size_t ovl_nrole_kinds, ovl_nmode_kinds, ovl_nreveal_kinds, ovl_naggfn_kinds;

/* The row of a value, or NULL when it is none (a peer's unknown wire value). */
const ovl_mode_kind *ovl_mode_kind_of(unsigned mode);
const ovl_reveal_kind *ovl_reveal_kind_of(unsigned reveal);
const ovl_aggfn_kind *ovl_aggfn_kind_of(unsigned fn);
/* The first function a template calls by this name (any case), or NULL. */
const ovl_aggfn_kind *ovl_aggfn_by_call(const char *call);
/* The function a policy names (exact keyword), or NULL. */
const ovl_aggfn_kind *ovl_aggfn_by_keyword(const char *keyword);

const char *ovl_role_name(ovl_role r);     /* "unknown" for none */
const char *ovl_mode_name(ovl_mode m);
const char *ovl_reveal_name(ovl_reveal r);
const char *ovl_aggfn_name(ovl_aggfn f);   /* the policy keyword: "COUNT", ...; "?" for none */
ovl_err ovl_mode_parse(ovl_mode *out, const char *s) OVL_MUST_USE;
ovl_err ovl_reveal_parse(ovl_reveal *out, const char *s) OVL_MUST_USE;
/* Whether the party in `role` receives output under `reveal`. */
bool ovl_reveal_includes(ovl_reveal reveal, ovl_role role);
/* Whether a mode's output is the intersection's size; whether it aggregates
 * (false for values that are no mode). */
bool ovl_mode_reveals_size(ovl_mode m);
bool ovl_mode_aggregates(ovl_mode m);
/* Whether the function reads a value column (SUM, AVG). */
bool ovl_aggfn_reads_values(ovl_aggfn f);

#endif
