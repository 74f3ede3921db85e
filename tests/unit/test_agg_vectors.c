/* Replays every run of vectors/aggregate.json and compares each frame byte for byte. */
#include "agg_vectors.h"
#include "test.h"
#include "vectors_check.h"

/* Every field replays; one flipped hex digit must be noticed. */
static void committed_vectors_match(void)
{
    vc_replay("vectors/aggregate.json", av_document, 2, SIZE_MAX, NULL, "contributor_frames", 20);
}

int main(void)
{
    if (ovl_crypto_init() != OVL_OK)
        return 1;
    RUN(committed_vectors_match);
    return ovl_t_summary("test_agg_vectors");
}
