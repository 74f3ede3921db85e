/* Replays every run of vectors/aggregate.json and compares each frame byte for byte. */
#include <stdlib.h>

#include "agg_vectors.h"
#include "test.h"

static int compare(json_t *want_doc, json_t *got_doc, bool report)
{
    int diffs = 0;
    json_t *want = json_object_get(want_doc, "runs"), *got = json_object_get(got_doc, "runs");
    if (report)
        EXPECT_TRUE(json_is_array(want) && json_array_size(want) == json_array_size(got) &&
                    json_array_size(got) >= 2);
    for (size_t i = 0; i < json_array_size(got) && i < json_array_size(want); i++) {
        json_t *w = json_array_get(want, i), *g = json_array_get(got, i), *v;
        const char *key;
        json_object_foreach(g, key, v)
        {
            bool same = json_equal(v, json_object_get(w, key));
            diffs += !same;
            if (report)
                OVL_T_RECORD(same, "vectors/aggregate.json run %zu: field '%s' differs", i, key);
        }
        if (report)
            EXPECT_EQ(json_object_size(w), json_object_size(g));
    }
    return diffs;
}

static void committed_vectors_match(void)
{
    json_error_t err;
    json_t *want = json_load_file("vectors/aggregate.json", 0, &err);
    EXPECT_TRUE(want != NULL);
    if (want != NULL) {
        json_t *got = av_document();
        compare(want, got, true);
        /* One flipped hex digit must be noticed. */
        json_t *frames = json_object_get(json_array_get(json_object_get(want, "runs"), 0),
                                         "contributor_frames");
        char *s = strdup(json_string_value(json_array_get(frames, 1)));
        s[20] = s[20] == '0' ? '1' : '0';
        json_array_set_new(frames, 1, json_string(s));
        free(s);
        EXPECT_EQ(compare(want, got, false), 1);
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
