/* Regenerates vectors/mpc.json's "ot" section from its seeds and compares it
 * field by field; checks the recorded outputs against the OT and share
 * functionalities so the file cannot drift into self-consistency alone. */
#include <sodium.h>

#include "mpc_vectors.h"
#include "test.h"

static size_t unhex(json_t *sec, const char *key, void *out, size_t cap)
{
    const char *s = json_string_value(json_object_get(sec, key));
    size_t n = s == NULL ? 0 : strlen(s) / 2;
    if (s == NULL || n > cap || ovl_hex_decode(out, n, s, 2 * n) != OVL_OK)
        return 0;
    return n;
}

static void committed_ot_vectors_match(void)
{
    json_error_t err;
    json_t *want = json_load_file("vectors/mpc.json", 0, &err);
    EXPECT_TRUE(want != NULL);
    if (want == NULL)
        return;
    json_t *w = json_object_get(want, "ot"), *g = mv_ot_section(), *v;
    const char *key;
    json_object_foreach(g, key, v)
    {
        OVL_T_RECORD(json_equal(v, json_object_get(w, key)),
                     "vectors/mpc.json ot: field '%s' differs", key);
    }
    EXPECT_EQ(json_object_size(w), json_object_size(g));
    /* one flipped hex digit is noticed */
    json_t *copy = json_deep_copy(w);
    char *s = strdup(json_string_value(json_object_get(copy, "rot_m0")));
    s[3] = s[3] == '0' ? '1' : '0';
    json_object_set_new(copy, "rot_m0", json_string(s));
    free(s);
    EXPECT_TRUE(!json_equal(copy, g));
    json_decref(copy);

    /* the recorded outputs satisfy the functionalities */
    static uint8_t ch[13], q[1600], t[1600], r0[1600], r1[1600], rr[1600], d[16];
    static uint64_t a[2], vec[4], s0[4], s1[4];
    EXPECT_EQ(unhex(w, "choices", ch, sizeof ch), 13);
    EXPECT_EQ(unhex(w, "delta_party1", d, sizeof d), 16);
    EXPECT_EQ(unhex(w, "cot_q_dir1", q, sizeof q), 1600);
    EXPECT_EQ(unhex(w, "cot_t_dir1", t, sizeof t), 1600);
    EXPECT_EQ(unhex(w, "rot_m0", r0, sizeof r0), 1600);
    EXPECT_EQ(unhex(w, "rot_m1", r1, sizeof r1), 1600);
    EXPECT_EQ(unhex(w, "rot_receiver", rr, sizeof rr), 1600);
    size_t bad = 0;
    for (size_t j = 0; j < 100; j++) {
        unsigned b = (ch[j / 8] >> (j % 8)) & 1u;
        for (size_t k = 0; k < 16; k++) {
            bad += t[16 * j + k] != (uint8_t)(q[16 * j + k] ^ (b ? d[k] : 0));
            bad += rr[16 * j + k] != (b ? r1 : r0)[16 * j + k];
        }
    }
    EXPECT_EQ(bad, 0);
    EXPECT_EQ(unhex(w, "mul_values", a, sizeof a), sizeof a);
    EXPECT_EQ(unhex(w, "mul_vectors", vec, sizeof vec), sizeof vec);
    EXPECT_EQ(unhex(w, "mul_share_party0", s0, sizeof s0), sizeof s0);
    EXPECT_EQ(unhex(w, "mul_share_party1", s1, sizeof s1), sizeof s1);
    for (size_t k = 0; k < 2; k++)
        for (size_t l = 0; l < 2; l++)
            EXPECT_TRUE(s0[2 * k + l] + s1[2 * k + l] == a[k] * vec[2 * k + l]);
    json_decref(g);
    json_decref(want);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    RUN(committed_ot_vectors_match);
    return ovl_t_summary("test_mpc_vectors");
}
