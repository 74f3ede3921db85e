/* Writes vectors/psi.json (protocols/psi/SPEC.md §9), aggregate.json (aggregates,
 * protocols/aggregate/SPEC.md §12), mpc.json (the OT layer, src/mpc/SPEC.md §1-§7),
 * gc.json (src/mpc/SPEC.md §GC.9), cpsi.json (protocols/cpsi/SPEC.md), mpsi.json
 * (protocols/mpsi/SPEC.md) and pairs.json (protocols/aggregate/CONDITIONS.md §4). */
#include <stdio.h>

#include "psi_vectors.h"
#include "mpc_vectors.h"
#include "gc_vectors.h"
#include "cpsi_vectors.h"
#include "mpsi_vectors.h"
#include "pairs_vectors.h"
#include "agg2_vectors.h"

/* One row per vector file. */
static const struct {
    const char *file;
    json_t *(*build)(void);
} docs[] = {
    {"psi.json", pv_document},
    {"mpc.json", mv_document},
    {"gc.json", gv_document},
    {"cpsi.json", cv_document},
    {"mpsi.json", mpv_document},
    {"pairs.json", pcv_document},
    {"aggregate.json", a2v_document},
};

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen_vectors DIR\n");
        return 2;
    }
    if (ovl_crypto_init() != OVL_OK)
        return 1;
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", argv[1], docs[i].file);
        json_t *doc = docs[i].build();
        int rc = json_dump_file(doc, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        json_decref(doc);
        if (rc != 0) {
            fprintf(stderr, "gen_vectors: cannot write %s\n", path);
            return 1;
        }
        printf("wrote %s\n", path);
    }
    return 0;
}
