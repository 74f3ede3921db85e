/* Replays every run of vectors/aggregate.json and compares each frame byte for byte. */
#include "agg_vectors.h"
#include "test.h"
#include "vectors_check.h"

static void committed_vectors_match(void)
{
    json_error_t err;
    json_t *want = json_load_file("vectors/aggregate.json", 0, &err);
    EXPECT_TRUE(want != NULL);
    if (want != NULL) {
        json_t *got = av_document();
        vc_compare_runs("vectors/aggregate.json", want, got, 2, SIZE_MAX, true);
        /* One flipped hex digit must be noticed. */
        vc_flip_noticed("vectors/aggregate.json", want, got, "contributor_frames", 20);
        json_decref(got);
        json_decref(want);
    }
}

int main(void)
{
    if (ovl_crypto_init() != OVL_OK)
        return 1;
    RUN(committed_vectors_match);
    return ovl_t_summary("test_agg_vectors");
}
