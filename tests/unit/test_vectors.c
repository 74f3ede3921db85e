/* Replays every run of vectors/psi.json and compares each frame byte for byte. */
#include <stdlib.h>

#include "crypto/r255x8.h"
#include "psi_vectors.h"
#include "test.h"

static json_t *load(const char *path)
{
    json_error_t err;
    json_t *doc = json_load_file(path, 0, &err);
    if (doc == NULL)
        fprintf(stderr, "cannot read %s: %s (line %d)\n", path, err.text, err.line);
    return doc;
}

/* Returns the number of differing fields; records failures when `report`. */
static int compare_runs(json_t *want_doc, json_t *got_doc, bool report)
{
    int diffs = 0;
    json_t *want = json_object_get(want_doc, "runs");
    json_t *got = json_object_get(got_doc, "runs");
    if (report) {
        EXPECT_TRUE(json_is_array(want) && json_array_size(want) == json_array_size(got));
        EXPECT_TRUE(json_array_size(want) >= 4);
    }
    for (size_t i = 0; i < json_array_size(got) && i < json_array_size(want); i++) {
        json_t *w = json_array_get(want, i), *g = json_array_get(got, i);
        const char *key;
        json_t *v;
        json_object_foreach(g, key, v)
        {
            bool same = json_equal(v, json_object_get(w, key));
            diffs += !same;
            if (report)
                OVL_T_RECORD(same, "vectors/psi.json run %zu (%s): field '%s' differs", i,
                             json_string_value(json_object_get(g, "name")), key);
        }
        if (report)
            EXPECT_EQ(json_object_size(w), json_object_size(g));
    }
    return diffs;
}

static void committed_vectors_match(void)
{
    json_t *want = load("vectors/psi.json");
    EXPECT_TRUE(want != NULL);
    if (want == NULL)
        return;
    json_t *got = pv_document();
    compare_runs(want, got, true);
    json_decref(got);
    json_decref(want);
}

/* The same frames on each arithmetic (README "Arithmetic back end"): the
 * engines' batch calls on AVX-512 IFMA where the CPU has it, and libsodium. */
static void vectors_on_each_arith(void)
{
    const ovl_arith modes[] = {OVL_ARITH_IFMA, OVL_ARITH_PORTABLE};
    for (size_t i = 0; i < 2; i++) {
        if (ovl_arith_select(modes[i]) != 0) {
            EXPECT_TRUE(!ovl_arith_ifma_supported());
            continue;
        }
        committed_vectors_match();
    }
    EXPECT_EQ(ovl_arith_select(OVL_ARITH_AUTO), 0);
}

static void altered_vector_detected(void)
{
    json_t *want = load("vectors/psi.json");
    if (want == NULL) {
        EXPECT_TRUE(want != NULL);
        return;
    }
    /* Flip one hex digit of the first frame: the comparison must notice. */
    json_t *run = json_array_get(json_object_get(want, "runs"), 0);
    json_t *frames = json_object_get(run, "listener_frames");
    char *s = strdup(json_string_value(json_array_get(frames, 1)));
    s[20] = s[20] == '0' ? '1' : '0';
    json_array_set_new(frames, 1, json_string(s));
    free(s);
    json_t *got = pv_document();
    EXPECT_EQ(compare_runs(want, got, false), 1);
    json_decref(got);
    json_decref(want);
}

int main(void)
{
    if (ovl_crypto_init() != OVL_OK)
        return 1;
    RUN(committed_vectors_match);
    RUN(vectors_on_each_arith);
    RUN(altered_vector_detected);
    return ovl_t_summary("test_vectors");
}
