/* Replay checks shared by the test_*_vectors programs: a committed vector
 * document against the one regenerated from its seeds, run by run and field
 * by field, and proof that the comparison notices one altered hex digit. */
#ifndef OVL_VECTORS_CHECK_H
#define OVL_VECTORS_CHECK_H

#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

/* Returns the number of differing fields; records failures when `report`,
 * including a run count outside [min_runs, max_runs]. */
static inline int vc_compare_runs(const char *path, json_t *want_doc, json_t *got_doc,
                                  size_t min_runs, size_t max_runs, bool report)
{
    int diffs = 0;
    json_t *want = json_object_get(want_doc, "runs"), *got = json_object_get(got_doc, "runs");
    if (report) {
        EXPECT_TRUE(json_is_array(want) && json_array_size(want) == json_array_size(got));
        EXPECT_TRUE(json_array_size(got) >= min_runs && json_array_size(got) <= max_runs);
    }
    for (size_t i = 0; i < json_array_size(got) && i < json_array_size(want); i++) {
        json_t *w = json_array_get(want, i), *g = json_array_get(got, i), *v;
        const char *key, *name = json_string_value(json_object_get(g, "name"));
        json_object_foreach(g, key, v)
        {
            bool same = json_equal(v, json_object_get(w, key));
            diffs += !same;
            if (report)
                OVL_T_RECORD(same, "%s run %zu (%s): field '%s' differs", path, i,
                             name ? name : "unnamed", key);
        }
        if (report)
            EXPECT_EQ(json_object_size(w), json_object_size(g));
    }
    return diffs;
}

/* Flips the hex digit at `at` of frame 1 of run 0's `frames_key` in `want`
 * (which it alters): exactly one field must then differ from `got`. */
static inline void vc_flip_noticed(const char *path, json_t *want, json_t *got,
                                   const char *frames_key, size_t at)
{
    json_t *frames = json_object_get(json_array_get(json_object_get(want, "runs"), 0), frames_key);
    const char *f1 = json_string_value(json_array_get(frames, 1));
    EXPECT_TRUE(f1 != NULL && strlen(f1) > at);
    if (f1 == NULL || strlen(f1) <= at)
        return;
    char *s = strdup(f1);
    if (s == NULL)
        abort();
    s[at] = s[at] == '0' ? '1' : '0';
    json_array_set_new(frames, 1, json_string(s));
    free(s);
    EXPECT_EQ(vc_compare_runs(path, want, got, 0, SIZE_MAX, false), 1);
}

/* The whole replay of one vector file: `path` against `build()`'s document,
 * run counts in [min_runs, max_runs], then the test's own checks of the
 * regenerated document (`ideal`, may be NULL), then one altered digit of
 * run 0's `frames_key` frame 1 at `at` must be noticed. */
static inline void vc_replay(const char *path, json_t *(*build)(void), size_t min_runs,
                             size_t max_runs, void (*ideal)(json_t *got), const char *frames_key,
                             size_t at)
{
    json_error_t err;
    json_t *want = json_load_file(path, 0, &err);
    EXPECT_TRUE(want != NULL);
    if (want == NULL)
        return;
    json_t *got = build();
    vc_compare_runs(path, want, got, min_runs, max_runs, true);
    if (ideal != NULL)
        ideal(got);
    vc_flip_noticed(path, want, got, frames_key, at);
    json_decref(got);
    json_decref(want);
}

#endif
