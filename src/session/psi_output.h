/* overlap: a PSI-family result (this party's matched rows, or the count),
 * written atomically — one writer for two-party and multi-party runs. */
#ifndef OVL_SESSION_PSI_OUTPUT_H
#define OVL_SESSION_PSI_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "core/kinds.h"
#include "io/load.h"

typedef struct {
    const char *out;                     /* output spec (file or database) */
    bool replace;
    void (*writing)(const char *temp_path); /* told the temporary path, then NULL */
    ovl_mode mode;                       /* intersection: rows; else the count */
    const char *table, *query;           /* the table the rows are read from again */
    const ovl_idtable *ids;
} ovl_psi_output;

/* matched is ignored outside intersection mode. */
ovl_err ovl_psi_output_write(const ovl_psi_output *o, const bool *matched,
                             uint64_t count) OVL_MUST_USE;

#endif
