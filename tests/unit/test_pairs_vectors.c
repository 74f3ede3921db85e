/* Replays vectors/pairs.json and compares every field; the runner's outputs
 * XOR the contributor's masks are the attribution window's expected pairs. */
#include "pairs_vectors.h"
#include "test.h"

static void committed_vectors_match(void)
{
    json_error_t err;
    json_t *want = json_load_file("vectors/pairs.json", 0, &err);
    EXPECT_TRUE(want != NULL);
    if (want == NULL)
        return;
    json_t *got = pcv_document();
    json_t *w = json_array_get(json_object_get(want, "runs"), 0);
    json_t *g = json_array_get(json_object_get(got, "runs"), 0), *v;
    const char *key;
    EXPECT_TRUE(w != NULL && g != NULL);
    json_object_foreach(g, key, v)
        OVL_T_RECORD(json_equal(v, json_object_get(w, key)), "vectors/pairs.json: field '%s' "
                     "differs", key);
    EXPECT_EQ(json_object_size(w), json_object_size(g));
    /* Unmasked outputs: bin 0 passes (0,0) and (1,1), bin 1 nothing (its
     * second runner row is padding, its second impression padding too). */
    ovl_pc_shape s = pcv_shape();
    ovl_circuit c;
    EXPECT_OK(ovl_circuit_pairs(&c, &s));
    uint8_t gin[PCV_BINS * 75], ein[PCV_BINS * 106];
    pcv_inputs(gin, ein, &c);
    for (uint32_t b = 0; b < PCV_BINS; b++) {
        const char *hex = json_string_value(json_array_get(json_object_get(g, "outputs"), b));
        uint8_t byte = 0, bits[8];
        EXPECT_TRUE(hex != NULL && strlen(hex) == 2);
        if (hex == NULL || strlen(hex) != 2)
            continue;
        byte = (uint8_t)strtoul(hex, NULL, 16);
        ovl_bits_from_u64(bits, 5, byte);
        for (int i = 0; i < 5; i++)
            EXPECT_EQ(bits[i] ^ gin[b * 75 + 70 + i], pcv_want[b][i]);
    }
    ovl_circuit_free(&c);
    json_decref(got);
    json_decref(want);
}

int main(void)
{
    if (ovl_crypto_init() != OVL_OK)
        return 1;
    RUN(committed_vectors_match);
    return ovl_t_summary("test_pairs_vectors");
}
