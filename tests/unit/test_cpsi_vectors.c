/* Replays every run of vectors/cpsi.json and compares each field (frames
 * byte for byte or by digest); the opened values must be the ideal ones. */
#include "cpsi_vectors.h"
#include "test.h"

static int compare(json_t *want_doc, json_t *got_doc, bool report)
{
    int diffs = 0;
    json_t *want = json_object_get(want_doc, "runs"), *got = json_object_get(got_doc, "runs");
    if (report)
        EXPECT_TRUE(json_is_array(want) && json_array_size(want) == json_array_size(got) &&
                    json_array_size(got) == 3);
    for (size_t i = 0; i < json_array_size(got) && i < json_array_size(want); i++) {
        json_t *w = json_array_get(want, i), *g = json_array_get(got, i), *v;
        const char *key;
        json_object_foreach(g, key, v)
        {
            bool same = json_equal(v, json_object_get(w, key));
            diffs += !same;
            if (report)
                OVL_T_RECORD(same, "vectors/cpsi.json run %zu: field '%s' differs", i, key);
        }
        if (report)
            EXPECT_EQ(json_object_size(w), json_object_size(g));
    }
    return diffs;
}

static void committed_vectors_match(void)
{
    json_error_t err;
    json_t *want = json_load_file("vectors/cpsi.json", 0, &err);
    EXPECT_TRUE(want != NULL);
    if (want == NULL)
        return;
    json_t *got = cv_document(), *runs = json_object_get(got, "runs");
    compare(want, got, true);
    /* the ideal outputs: counts and matched bins are the common identifiers */
    json_t *r0 = json_array_get(runs, 0), *r1 = json_array_get(runs, 1),
           *r2 = json_array_get(runs, 2);
    EXPECT_EQ(json_integer_value(json_object_get(r0, "count")), 5);
    EXPECT_EQ(json_integer_value(json_object_get(r0, "matched_bins")), 5);
    EXPECT_EQ(json_integer_value(json_object_get(r1, "matched_bins")), 7);
    EXPECT_EQ(json_integer_value(json_object_get(r2, "count")), 0);
    EXPECT_TRUE(json_is_true(json_object_get(r1, "completed")));
    /* one flipped digit in a frame is noticed */
    json_t *frames = json_object_get(json_array_get(json_object_get(want, "runs"), 0),
                                     "runner_frames");
    const char *f1 = json_string_value(json_array_get(frames, 1));
    if (f1 != NULL) {
        char *s = strdup(f1);
        s[12] = s[12] == '0' ? '1' : '0';
        json_array_set_new(frames, 1, json_string(s));
        free(s);
        EXPECT_EQ(compare(want, got, false), 1);
    }
    json_decref(got);
    json_decref(want);
}

int main(void)
{
    if (ovl_crypto_init() != OVL_OK)
        return 1;
    RUN(committed_vectors_match);
    return ovl_t_summary("test_cpsi_vectors");
}
