/* Replays every run of vectors/gc.json and compares each field (frames byte
 * for byte); the AES run's output must be FIPS-197 C.1 and OpenSSL's. */
#include "gc_vectors.h"
#include "test.h"
#include "vectors_check.h"

/* The AES outputs are the standard's and OpenSSL's; A2B adds and masks. */
static void ideal_outputs(json_t *got)
{
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
}

/* Every field replays, the outputs are right, one flipped hex digit in a frame is noticed. */
static void committed_vectors_match(void)
{
    vc_replay("vectors/gc.json", gv_document, 4, SIZE_MAX, ideal_outputs, "garbler_frames", 20);
}

int main(void)
{
    if (ovl_crypto_init() != OVL_OK)
        return 1;
    RUN(committed_vectors_match);
    return ovl_t_summary("test_gc_vectors");
}
