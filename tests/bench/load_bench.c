/* Loads one table the way a run does (io/load.h: every row's identifier,
 * one value column summed per identifier) and prints one JSON line with the
 * row counts and the wall seconds of the load, for tests/bench/bench.py's
 * table-source section (CSV against SQLite and PostgreSQL). Peak RSS is
 * measured by the caller (wait4).
 *
 *   load_bench SPEC [--query "SELECT ..."] [--join COL] [--values COL:D]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "io/load.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    const char *query = NULL, *join = "email", *values = NULL;
    ovl_value_col *cols = NULL;
    size_t ncols = 0;
    if (argc < 2) {
        fprintf(stderr, "usage: load_bench SPEC [--query Q] [--join COL] [--values COL:D]\n");
        return 2;
    }
    for (int i = 2; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--query") == 0)
            query = argv[i + 1];
        else if (strcmp(argv[i], "--join") == 0)
            join = argv[i + 1];
        else if (strcmp(argv[i], "--values") == 0)
            values = argv[i + 1];
    }
    if (values != NULL && ovl_value_cols_parse(&cols, &ncols, values) != OVL_OK) {
        fprintf(stderr, "load_bench: %s\n", ovl_err_detail());
        return 2;
    }
    ovl_load_spec want = {.query = query, .join = join, .norm = OVL_NORM_EMAIL,
                          .values = cols, .nvalues = ncols};
    ovl_table_input in;
    int64_t *vec = NULL;
    double t0 = now();
    ovl_err rc = ovl_table_load(&in, argv[1], &want);
    if (rc == OVL_OK && ncols > 0)
        rc = ovl_value_vectors(&vec, &in.values, cols, &in.ids);
    double t1 = now();
    if (rc != OVL_OK) {
        fprintf(stderr, "load_bench: %s\n", ovl_err_detail());
        ovl_value_cols_free(cols, ncols);
        return 3;
    }
    int64_t total = 0;
    for (size_t i = 0; vec != NULL && i < in.ids.nids; i++)
        total += vec[i * (1 + ncols) + 1];
    printf("{\"rows\": %zu, \"skipped\": %zu, \"distinct\": %zu, \"sum\": %lld, \"seconds\": %.4f}\n",
           in.ids.nrows, in.ids.skipped, in.ids.nids, (long long)total, t1 - t0);
    free(vec);
    ovl_table_input_free(&in);
    ovl_value_cols_free(cols, ncols);
    return 0;
}
