/* Replays every run of vectors/cpsi.json and compares each field (frames
 * byte for byte or by digest); the opened values must be the ideal ones. */
#include "cpsi_vectors.h"
#include "test.h"
#include "vectors_check.h"

/* The ideal outputs: counts and matched bins are the common identifiers. */
static void ideal_outputs(json_t *got)
{
    json_t *runs = json_object_get(got, "runs");
    json_t *r0 = json_array_get(runs, 0), *r1 = json_array_get(runs, 1),
           *r2 = json_array_get(runs, 2);
    EXPECT_EQ(json_integer_value(json_object_get(r0, "count")), 5);
    EXPECT_EQ(json_integer_value(json_object_get(r0, "matched_bins")), 5);
    EXPECT_EQ(json_integer_value(json_object_get(r1, "matched_bins")), 7);
    EXPECT_EQ(json_integer_value(json_object_get(r2, "count")), 0);
    EXPECT_TRUE(json_is_true(json_object_get(r1, "completed")));
}

/* Every field replays, the outputs are ideal, one flipped digit in a frame is noticed. */
static void committed_vectors_match(void)
{
    vc_replay("vectors/cpsi.json", cv_document, 3, 3, ideal_outputs, "runner_frames", 12);
}

int main(void)
{
    if (ovl_crypto_init() != OVL_OK)
        return 1;
    RUN(committed_vectors_match);
    return ovl_t_summary("test_cpsi_vectors");
}
