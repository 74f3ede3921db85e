/* Replays every run of vectors/mpsi.json and compares each frame byte for
 * byte, and checks each recorded result against the plain intersection. */
#include <stdlib.h>

#include "mpsi_vectors.h"
#include "test.h"

static int compare(json_t *want_doc, json_t *got_doc, bool report)
{
    int diffs = 0;
    json_t *want = json_object_get(want_doc, "runs"), *got = json_object_get(got_doc, "runs");
    if (report)
        EXPECT_TRUE(json_is_array(want) && json_array_size(want) == json_array_size(got) &&
                    json_array_size(got) >= 3);
    for (size_t i = 0; i < json_array_size(got) && i < json_array_size(want); i++) {
        json_t *w = json_array_get(want, i), *g = json_array_get(got, i), *v;
        const char *key;
        json_object_foreach(g, key, v)
        {
            bool same = json_equal(v, json_object_get(w, key));
            diffs += !same;
            if (report)
                OVL_T_RECORD(same, "vectors/mpsi.json run %zu: field '%s' differs", i, key);
        }
        if (report)
            EXPECT_EQ(json_object_size(w), json_object_size(g));
    }
    return diffs;
}

static bool listed(json_t *set, const char *s)
{
    for (size_t a = 0; a < json_array_size(set); a++)
        if (strcmp(json_string_value(json_array_get(set, a)), s) == 0)
            return true;
    return false;
}

/* The recorded results are the intersection of all sets (oracle). */
static void results_are_the_full_intersection(json_t *doc)
{
    json_t *runs = json_object_get(doc, "runs");
    for (size_t i = 0; i < json_array_size(runs); i++) {
        json_t *r = json_array_get(runs, i), *sets = json_object_get(r, "sets");
        json_t *res = json_object_get(r, "results");
        size_t k = json_array_size(sets);
        uint64_t want = 0;
        json_t *s0 = json_array_get(sets, 0);
        for (size_t a = 0; a < json_array_size(s0); a++) {
            bool all = true;
            for (size_t j = 1; j < k; j++)
                all &= listed(json_array_get(sets, j), json_string_value(json_array_get(s0, a)));
            want += all;
        }
        EXPECT_TRUE(want >= 1);
        for (size_t j = 0; j < k; j++) {
            json_t *rj = json_array_get(res, j), *rows = json_object_get(rj, "rows");
            EXPECT_TRUE(json_object_get(rj, "error") == NULL);
            if (json_object_get(rj, "count"))
                EXPECT_EQ(json_integer_value(json_object_get(rj, "count")), (json_int_t)want);
            if (rows) {
                EXPECT_EQ(json_array_size(rows), want);
                for (size_t a = 0; a < json_array_size(rows); a++)
                    for (size_t m = 0; m < k; m++)
                        EXPECT_TRUE(listed(json_array_get(sets, m),
                                           json_string_value(json_array_get(rows, a))));
            }
        }
    }
}

static void committed_vectors_match(void)
{
    json_error_t err;
    json_t *want = json_load_file("vectors/mpsi.json", 0, &err);
    EXPECT_TRUE(want != NULL);
    if (want == NULL)
        return;
    json_t *got = mpv_document();
    compare(want, got, true);
    results_are_the_full_intersection(want);
    /* One flipped hex digit must be noticed. */
    json_t *frames = json_object_get(json_array_get(json_object_get(want, "runs"), 0), "frames");
    json_t *f = json_object_get(json_array_get(frames, 5), "frame");
    char *s = strdup(json_string_value(f));
    s[20] = s[20] == '0' ? '1' : '0';
    json_object_set_new(json_array_get(frames, 5), "frame", json_string(s));
    free(s);
    EXPECT_EQ(compare(want, got, false), 1);
    json_decref(got);
    json_decref(want);
}

int main(void)
{
    if (ovl_crypto_init() != OVL_OK)
        return 1;
    RUN(committed_vectors_match);
    return ovl_t_summary("test_mpsi_vectors");
}
