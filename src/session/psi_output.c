/* overlap: writing a PSI-family result (psi_output.h). */
#include "session/psi_output.h"

#include <stdio.h>

#include "core/guard.h"
#include "io/table.h"

/* A bare number in a CSV file (as always); a database table needs a column
 * name, so it gets a header row "intersection_size". */
static ovl_err write_count(ovl_outfile *out, uint64_t count)
{
    char line[64];
    int n = snprintf(line, sizeof line, "%s%llu\n",
                     ovl_outfile_is_db(out) ? "intersection_size\n" : "",
                     (unsigned long long)count);
    return ovl_outfile_write(out, line, (size_t)n);
}

typedef struct {
    const ovl_psi_output *o;
    const bool *matched;
    uint64_t count;
} psi_body;

static ovl_err write_body(ovl_outfile *out, void *arg)
{
    const psi_body *b = arg;
    if (b->o->mode == OVL_MODE_INTERSECTION)
        return ovl_table_write_matched(out, b->o->table, b->o->query, b->o->ids, b->matched);
    return write_count(out, b->count);
}

ovl_err ovl_psi_output_write(const ovl_psi_output *o, const bool *matched, uint64_t count)
{
    psi_body b = {.o = o, .matched = matched, .count = count};
    return ovl_output_write_with(o->out, o->replace, o->writing, write_body, &b);
}
