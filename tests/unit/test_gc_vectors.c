/* Replays every run of vectors/gc.json and compares each field (frames byte
 * for byte); the AES run's output must be FIPS-197 C.1 and OpenSSL's. */
#include "gc_vectors.h"
#include "test.h"

static int compare(json_t *want_doc, json_t *got_doc, bool report)
{
    int diffs = 0;
    json_t *want = json_object_get(want_doc, "runs"), *got = json_object_get(got_doc, "runs");
    if (report)
        EXPECT_TRUE(json_is_array(want) && json_array_size(want) == json_array_size(got) &&
                    json_array_size(got) >= 4);
    for (size_t i = 0; i < json_array_size(got) && i < json_array_size(want); i++) {
        json_t *w = json_array_get(want, i), *g = json_array_get(got, i), *v;
        const char *key;
        json_object_foreach(g, key, v)
        {
            bool same = json_equal(v, json_object_get(w, key));
            diffs += !same;
            if (report)
                OVL_T_RECORD(same, "vectors/gc.json run %zu: field '%s' differs", i, key);
        }
        if (report)
            EXPECT_EQ(json_object_size(w), json_object_size(g));
    }
    return diffs;
}

static void committed_vectors_match(void)
{
    json_error_t err;
    json_t *want = json_load_file("vectors/gc.json", 0, &err);
    EXPECT_TRUE(want != NULL);
    if (want == NULL)
        return;
    json_t *got = gv_document();
    compare(want, got, true);
    /* The AES outputs are the standard's and OpenSSL's. */
    json_t *aes = json_array_get(json_object_get(got, "runs"), 3);
    const char *o0 = json_string_value(json_array_get(json_object_get(aes, "outputs"), 0));
    EXPECT_STR_EQ(o0 ? o0 : "", "69c4e0d86a7b0430d8cdb78070b4c55a");
    uint8_t key[16], pt[16], ct[16];
    char hex[33];
    for (int i = 0; i < 16; i++) {
        key[i] = (uint8_t)(0xa0 + i);
        pt[i] = (uint8_t)(0xff - 3 * i);
    }
    gct_aes128(ct, key, pt);
    ovl_hex_encode(hex, ct, 16);
    const char *o1 = json_string_value(json_array_get(json_object_get(aes, "outputs"), 1));
    EXPECT_STR_EQ(o1 ? o1 : "", hex);
    /* A2B: (0x5a + 0x2f) ^ 0xc3 over 8 bits. */
    const char *a = json_string_value(
        json_array_get(json_object_get(json_array_get(json_object_get(got, "runs"), 0), "outputs"), 0));
    snprintf(hex, sizeof hex, "%02x", ((0x5a + 0x2f) & 0xff) ^ 0xc3);
    EXPECT_STR_EQ(a ? a : "", hex);
    /* One flipped hex digit in a frame must be noticed. */
    json_t *frames = json_object_get(json_array_get(json_object_get(want, "runs"), 0),
                                     "garbler_frames");
    const char *f1 = json_string_value(json_array_get(frames, 1));
    if (f1 != NULL) {
        char *s = strdup(f1);
        s[20] = s[20] == '0' ? '1' : '0';
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
    return ovl_t_summary("test_gc_vectors");
}
