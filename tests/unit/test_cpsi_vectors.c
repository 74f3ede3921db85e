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
    /* the bit payload's run: 6 matches, and a 1 in opened_phi exactly where a
     * group's count is non-zero, so as many 1s as matched (bin, group) pairs
     * with non-zero counts: checked in full by test_cpsi_bits */
    json_t *r3 = json_array_get(runs, 3);
    EXPECT_TRUE(json_is_true(json_object_get(r3, "completed")));
    EXPECT_EQ(json_integer_value(json_object_get(r3, "matched_bins")), 6);
    const char *phi = json_string_value(json_object_get(r3, "opened_phi"));
    const char *beta = json_string_value(json_object_get(r3, "opened_beta"));
    EXPECT_TRUE(phi != NULL && beta != NULL && strlen(beta) == 3 * strlen(phi));
    for (size_t i = 0; phi && beta && i < strlen(phi); i++)
        EXPECT_EQ(phi[i] == '1', beta[3 * i] == '1' || beta[3 * i + 1] == '1' ||
                                     beta[3 * i + 2] == '1');
}

/* Every field replays, the outputs are ideal, one flipped digit in a frame is noticed. */
static void committed_vectors_match(void)
{
    vc_replay("vectors/cpsi.json", cv_document, 4, 4, ideal_outputs, "runner_frames", 12);
}

int main(void)
{
    if (ovl_crypto_init() != OVL_OK)
        return 1;
    RUN(committed_vectors_match);
    return ovl_t_summary("test_cpsi_vectors");
}
