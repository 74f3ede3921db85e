/* overlap: a data owner's policy for one table (analysis rules).
 *
 * One JSON file per owner and table. Everything not allowed is refused.
 * Unknown keys, duplicate keys, wrong types and out-of-range values are
 * errors naming the file and the key path, e.g.
 *   retail.policy.json: aggregation.min_rows: must be an integer from 2 to 100000
 *
 * Schema (every key shown is required unless marked optional):
 * {
 *   "version": 1,
 *   "table": {
 *     "name": "purchases",            templates name the table by this (FROM purchases AS p)
 *     "source": "purchases.csv",      optional: the table it describes, a CSV path or a
 *                                     database spec (io/dbspec.h); "file" is the old name
 *     "allow_query": true,            optional (default true): false requires a named
 *                                     table, refusing --query
 *     "columns": ["email", ...]       every column of the table; all other lists are subsets
 *   },
 *   "join": [                         columns usable as join keys
 *     {"column": "email", "normalize": "email"|"phone"|"none", "prehashed": false}
 *   ],
 *   "peers": [                        who may connect at all
 *     {"name": "advertiser", "fingerprint": "SHA256:<64 hex>"}
 *   ],
 *   "list": {                         intersection mode (row-level output)
 *     "allowed": false,
 *     "columns": [],                  this table's columns the partner's output may contain
 *     "receivers": []                 fingerprints of peers that may receive output
 *   },
 *   "aggregation": {                  every aggregate: ad-hoc or from a template
 *     "adhoc": false,                 may a peer ask for an aggregate without a template
 *     "functions": ["COUNT", "COUNT_DISTINCT", "SUM", "AVG"],
 *     "dimensions": [],               columns usable in GROUP BY and WHERE
 *     "aggregates": [],               columns usable inside SUM / AVG
 *     "min_rows": 100,                2..100000: smaller output groups are suppressed
 *     "receivers": [],                fingerprints of peers that may receive results
 *     "allow_cardinality": false,     may the intersection size be revealed
 *     "join_conditions": [],          optional: columns allowed in conditions comparing
 *                                     them with the peer's columns on each joined row
 *                                     (protocols/aggregate/CONDITIONS.md); absent = none
 *     "max_cells": 1000,              optional, 1..65536 (default 1000): the largest group
 *                                     space (runner groups x contributor groups) a run may
 *                                     have; refused before any data-derived byte
 *                                     (protocols/aggregate/SPEC.md §4.2, §10.3)
 *     "max_rows_per_identifier": 7,   optional, 1..65535 (default 7): this table's rows of
 *                                     one identifier in one group; its bit length is the
 *                                     public count width w (SPEC §2)
 *     "value_bits": 40                optional, 2..48 (default 40): every per-identifier,
 *                                     per-group sum of a value column is below 2^(v-1) in
 *                                     magnitude (SPEC §2)
 *   },
 *   "custom": {                       analysis templates this owner approved
 *     "templates": [{"name": "attribution", "sha256": "<64 hex canonical hash>"}]
 *   },
 *   "budget": {                       optional; absent = no limit
 *     "runs_per_day": 20,             per peer, rolling 24 hours, 1..1000000
 *     "runs_per_template_per_day": 5  per peer and analysis, 1..1000000
 *   },
 *   "differencing": {"refuse_small_differences": true}   optional, default false
 * }
 * The owner itself may always receive output of its own runs; whether the
 * peer accepts that is the peer's policy's business. */
#ifndef OVERLAP_POLICY_H
#define OVERLAP_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/kinds.h"
#include "net/identity.h"
#include "io/table.h"

#define OVL_POLICY_MAX_BYTES (1u << 20)
#define OVL_POLICY_MAX_LIST 1024u  /* entries in any one list */
#define OVL_POLICY_MAX_NAME 256u   /* bytes in a column, table or peer name */
#define OVL_MIN_ROWS_LO 2u
#define OVL_MIN_ROWS_HI 100000u
#define OVL_BUDGET_MAX 1000000u
#define OVL_HASH_LEN 32
#define OVL_MAX_CELLS_DEFAULT 1000u  /* aggregation.max_cells (SPEC §4.1) */
#define OVL_MAX_CELLS_HI 65536u
#define OVL_MAX_ROWS_PER_ID_DEFAULT 7u /* aggregation.max_rows_per_identifier: w = 3 */
#define OVL_MAX_ROWS_PER_ID_HI 65535u  /* w <= 16 */
#define OVL_VALUE_BITS_DEFAULT 40u   /* aggregation.value_bits */
#define OVL_VALUE_BITS_LO 2u
#define OVL_VALUE_BITS_HI 48u

/* Aggregate functions (ovl_aggfn, their names and syntax): core/kinds.h. */

typedef struct {
    char *column;
    ovl_norm norm;
    bool prehashed;
} ovl_policy_join;

typedef struct {
    char *name;
    char fpr[OVL_FPR_LEN];
} ovl_policy_peer;

typedef struct {
    char *name;
    uint8_t hash[OVL_HASH_LEN];
} ovl_policy_template;

typedef struct {
    char **items;
    size_t n;
} ovl_strlist;

typedef struct {
    char *label; /* the file name, for messages */
    char *table_name;
    char *table_source; /* NULL if absent; shown only through ovl_spec_redact */
    bool allow_query;   /* may rows come from a --query instead of a named table */
    ovl_strlist columns;
    ovl_policy_join *join;
    size_t njoin;
    ovl_policy_peer *peers;
    size_t npeers;
    struct {
        bool allowed;
        ovl_strlist columns;
        ovl_strlist receivers;
    } list;
    struct {
        bool adhoc;
        unsigned functions; /* ovl_aggfn bits */
        ovl_strlist dimensions;
        ovl_strlist aggregates;
        uint64_t min_rows;
        ovl_strlist receivers;
        bool allow_cardinality;
        ovl_strlist join_conditions;
        uint32_t max_cells;               /* default OVL_MAX_CELLS_DEFAULT */
        uint32_t max_rows_per_identifier; /* default OVL_MAX_ROWS_PER_ID_DEFAULT */
        uint32_t value_bits;              /* default OVL_VALUE_BITS_DEFAULT */
    } aggregation;
    ovl_policy_template *templates;
    size_t ntemplates;
    bool has_budget;
    uint64_t runs_per_day, runs_per_template_per_day;
    bool refuse_small_differences;
} ovl_policy;

/* Parses policy JSON; `label` names the file in errors (OVL_ERR_INPUT). */
ovl_err ovl_policy_parse(ovl_policy **out, const char *label, const char *text,
                         size_t len) OVL_MUST_USE;
ovl_err ovl_policy_load(ovl_policy **out, const char *path) OVL_MUST_USE;
void ovl_policy_free(ovl_policy *p);

/* Checks the table (any source spec, with serve's --query) against the policy
 * written for it: every column of
 * table.columns exists, and every aggregation.aggregates cell of a row with
 * a valid join value is a number. OVL_ERR_INPUT naming file, line and rule. */
ovl_err ovl_policy_check_table(const ovl_policy *pol, const char *spec,
                               const char *query) OVL_MUST_USE;

/* The public count width w of an owner's per-identifier row counts: the bit
 * length of its max_rows_per_identifier (1..16; SPEC §2). These three
 * take NULL for a party without a policy and give the defaults then. */
unsigned ovl_policy_count_bits(const ovl_policy *p);
unsigned ovl_policy_value_bits(const ovl_policy *p);
uint32_t ovl_policy_max_cells(const ovl_policy *p);
/* The same for a maximum not taken from a policy (a party without one). */
unsigned ovl_count_bits_of(uint32_t max_rows_per_identifier);

bool ovl_strlist_has(const ovl_strlist *l, const char *s);
/* The peer entry with this fingerprint, or NULL. */
const ovl_policy_peer *ovl_policy_peer_find(const ovl_policy *p, const char *fpr);
const ovl_policy_join *ovl_policy_join_find(const ovl_policy *p, const char *column);
/* The name under which this policy approved a template hash, or NULL. */
const char *ovl_policy_template_find(const ovl_policy *p, const uint8_t hash[OVL_HASH_LEN]);

/* A policy for the table with these columns that allows nothing, as JSON text
 * (caller frees). */
/* OVL_ERR_POLICY when the policy requires a named table (table.allow_query
 * false) and rows would come from `query` (NULL: none). */
ovl_err ovl_policy_check_query(const ovl_policy *p, const char *query) OVL_MUST_USE;
ovl_err ovl_policy_skeleton(char **out, const char *table_name, const char *table_source,
                            const char *const *columns, size_t ncolumns) OVL_MUST_USE;
/* A plain-words explanation of what the policy allows (caller frees). */
ovl_err ovl_policy_explain(char **out, const ovl_policy *p) OVL_MUST_USE;

#endif
