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

ovl_err ovl_psi_output_write(const ovl_psi_output *o, const bool *matched, uint64_t count)
{
    ovl_err rc = OVL_OK;
    ovl_outfile *out = NULL;
    OVL_TRY(ovl_output_open(&out, o->out, o->replace));
    if (o->writing)
        o->writing(ovl_outfile_temp_path(out));
    if (o->mode == OVL_MODE_INTERSECTION)
        OVL_TRY(ovl_table_write_matched(out, o->table, o->query, o->ids, matched));
    else
        OVL_TRY(write_count(out, count));
    rc = ovl_outfile_commit(out);
    out = NULL;
done:
    ovl_outfile_abort(out);
    if (o->writing)
        o->writing(NULL);
    return rc;
}
