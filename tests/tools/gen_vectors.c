/* Writes vectors/psi.json (protocols/psi/SPEC.md §9), aggregate.json and gc.json (src/mpc/SPEC.md §GC.9). */
#include <stdio.h>

#include "psi_vectors.h"
#include "agg_vectors.h"
#include "gc_vectors.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen_vectors DIR\n");
        return 2;
    }
    if (ovl_crypto_init() != OVL_OK)
        return 1;
    char path[4096];
    snprintf(path, sizeof path, "%s/psi.json", argv[1]);
    json_t *doc = pv_document();
    int rc = json_dump_file(doc, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(doc);
    if (rc != 0) {
        fprintf(stderr, "gen_vectors: cannot write %s\n", path);
        return 1;
    }
    printf("wrote %s\n", path);
    snprintf(path, sizeof path, "%s/aggregate.json", argv[1]);
    doc = av_document();
    rc = json_dump_file(doc, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(doc);
    if (rc != 0) {
        fprintf(stderr, "gen_vectors: cannot write %s\n", path);
        return 1;
    }
    printf("wrote %s\n", path);
    snprintf(path, sizeof path, "%s/gc.json", argv[1]);
    doc = gv_document();
    rc = json_dump_file(doc, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(doc);
    if (rc != 0) {
        fprintf(stderr, "gen_vectors: cannot write %s\n", path);
        return 1;
    }
    printf("wrote %s\n", path);
    return 0;
}
