/* Replays every run of vectors/aggregate.json (aggregates version 2) and
 * compares each field; every run completes and releases what it states. */
#include "agg2_vectors.h"
#include "test.h"
#include "vectors_check.h"

static void ideal_outputs(json_t *got)
{
    json_t *runs = json_object_get(got, "runs");
    for (size_t i = 0; i < json_array_size(runs); i++) {
        json_t *r = json_array_get(runs, i);
        EXPECT_TRUE(json_is_true(json_object_get(r, "completed")));
        EXPECT_EQ(json_integer_value(json_object_get(r, "released")),
                  (json_int_t)json_array_size(json_object_get(r, "released_rows")));
        /* every released row reaches the threshold */
        json_t *rows = json_object_get(r, "released_rows"), *row;
        size_t k;
        json_array_foreach(rows, k, row)
            EXPECT_TRUE(json_integer_value(json_array_get(row, 2)) >=
                        json_integer_value(json_object_get(r, "threshold")));
    }
}

static void committed_vectors_match(void)
{
    vc_replay("vectors/aggregate.json", a2v_document, 4, 4, ideal_outputs, "contributor_frames",
              20);
}

int main(void)
{
    if (ovl_crypto_init() != OVL_OK)
        return 1;
    RUN(committed_vectors_match);
    return ovl_t_summary("test_agg2_vectors");
}
