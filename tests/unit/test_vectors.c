/* Replays every run of vectors/psi.json and compares each frame byte for byte. */
#include "crypto/r255x8.h"
#include "psi_vectors.h"
#include "test.h"
#include "vectors_check.h"

static json_t *load(const char *path)
{
    json_error_t err;
    json_t *doc = json_load_file(path, 0, &err);
    if (doc == NULL)
        fprintf(stderr, "cannot read %s: %s (line %d)\n", path, err.text, err.line);
    return doc;
}

static void committed_vectors_match(void)
{
    json_t *want = load("vectors/psi.json");
    EXPECT_TRUE(want != NULL);
    if (want == NULL)
        return;
    json_t *got = pv_document();
    vc_compare_runs("vectors/psi.json", want, got, 4, SIZE_MAX, true);
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
    json_t *got = pv_document();
    vc_flip_noticed("vectors/psi.json", want, got, "listener_frames", 20);
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
