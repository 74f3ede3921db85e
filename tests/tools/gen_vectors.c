/* Writes vectors/psi.json (see protocols/psi/SPEC.md §9), vectors/aggregate.json and
 * vectors/mpc.json (src/mpc/SPEC.md). */
#include <stdio.h>

#include "psi_vectors.h"
#include "agg_vectors.h"
#include "mpc_vectors.h"

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
    snprintf(path, sizeof path, "%s/mpc.json", argv[1]);
    doc = mv_document();
    rc = json_dump_file(doc, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(doc);
    if (rc != 0) {
        fprintf(stderr, "gen_vectors: cannot write %s\n", path);
        return 1;
    }
    printf("wrote %s\n", path);
    return 0;
}
