/* overlap: an owner's rows for cross-party conditions (protocols/aggregate/
 * CONDITIONS.md §2.1, §3): day numbers and condition words with their range
 * checks, and the deterministic per-identifier cap. All of it runs locally,
 * before the peer is contacted; nothing here is sent. */
#ifndef OVL_PROTOCOLS_AGGREGATE_PAIRROWS_H
#define OVL_PROTOCOLS_AGGREGATE_PAIRROWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aggregate/pairplan.h"
#include "aggregate/pairs_phase.h"
#include "core/error.h"

#define OVL_PC_EPOCH "1900-01-01"  /* day number 0 */
#define OVL_PC_LAST_DAY 131071u    /* 2258-11-11: 17 bits */
#define OVL_PC_MAX_OFFSET 36500    /* |INTERVAL| in days */
#define OVL_PC_MAX_ROW_CAP 8u      /* -- cap rows N: 1..8 */
#define OVL_PC_DEFAULT_ROW_CAP 4u

/* A strict `YYYY-MM-DD` calendar date (no other spelling) between
 * 1900-01-01 and 2258-11-11 to its day number. OVL_ERR_INPUT otherwise (the
 * caller prefixes file:line and column). */
ovl_err ovl_pc_day_parse(uint32_t *day, const char *s, size_t len) OVL_MUST_USE;
/* The inverse, for tests and messages: writes 10 characters and a NUL. */
void ovl_pc_day_format(char out[static 11], uint32_t day);
/* A condition word: day + offset must stay a day number (dates), value must
 * fit `width`-bit two's complement (integers and decimals, offset 0). The
 * word is returned as the circuit's unsigned bit pattern. */
ovl_err ovl_pc_word_date(uint64_t *word, uint32_t day, int32_t offset_days) OVL_MUST_USE;
ovl_err ovl_pc_word_int(uint64_t *word, int64_t value, uint32_t width) OVL_MUST_USE;

/* The cap (§3.2). Rows r = 0 .. rows-1 in input order, identifier id[r] <
 * nids, ordering key key[r] (NULL array: input order only), NULL when
 * key_null[r] is 1 (may be NULL: no NULLs). kept[r] becomes 1 for the first
 * `cap` rows of each identifier ordered by (key IS NULL, key, r), 0 for the
 * rest; *capped counts the identifiers that had more than `cap` rows. */
typedef struct {
    const uint32_t *id;
    const int64_t *key;
    const uint8_t *key_null;
    size_t rows;
    uint32_t nids;
    uint32_t cap;
} ovl_pc_cap_in;

ovl_err ovl_pc_cap_rows(uint8_t *kept, uint32_t *capped, const ovl_pc_cap_in *in) OVL_MUST_USE;

/* One owner's rows for the pairs phase, from its table after its WHERE
 * filters (CONDITIONS.md §3): per row its identifier index, group index and
 * k plan words (per own plan column: [not NULL] and, when summed, the
 * value), the text of its cell of each condition's own column (the runner's
 * r_col, the contributor's c_col; length 0: NULL) and of its ordering column
 * (NULL array: input order). Rows with a NULL condition cell are dropped
 * (the comparison is unknown); then the cap; then the kept rows grouped by
 * identifier with their circuit rows: condition words from dates (day
 * numbers), integers or decimals at the condition's scale, the
 * contributor's with the plan's offsets applied. Errors name `what`, the
 * row's line and the column, never the value, and for a cell that does not
 * fit its condition's type the condition (with the plan's aliases, when it
 * has them) and the declaration that fixes it. Only the rows the cap keeps
 * are read (§3.2). */
typedef struct {
    bool runner;
    const char *what;      /* the table, for errors ("impressions.csv") */
    size_t rows;
    uint32_t nids;
    const uint32_t *id, *group;
    const uint32_t *line;  /* input line of each row, for errors (NULL: row numbers) */
    const uint64_t *words; /* rows × k */
    uint32_t k;
    const char *const *cell[OVL_PC_MAX_CONDS]; /* condition i's cell of row r: cell[i][r] */
    const uint16_t *cell_len[OVL_PC_MAX_CONDS];
    const char *const *order;                  /* NULL: input order */
    const uint16_t *order_len;
} ovl_pc_owner_in;

typedef struct {
    uint32_t *first;
    ovl_pp_row *row;
    uint64_t *words;
    uint32_t *source;  /* per kept row, in row[]'s order: its index among the input rows */
    ovl_pp_rows v;     /* what ovl_agg2_config.pair_rows points at */
    uint32_t capped;   /* identifiers with more rows than the cap (this owner's only) */
    size_t dropped;    /* rows with a NULL condition cell */
} ovl_pc_owner_rows;

ovl_err ovl_pc_owner_rows_build(ovl_pc_owner_rows *out, const ovl_pc_plan *plan,
                                const ovl_pc_owner_in *in) OVL_MUST_USE;
void ovl_pc_owner_rows_free(ovl_pc_owner_rows *o);

#endif
