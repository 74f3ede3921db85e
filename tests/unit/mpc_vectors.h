/* Builds the "ot" section of vectors/mpc.json: two seeded parties run the
 * base OTs, one COT batch per direction, a random OT, a chosen-message OT
 * and a 64-bit value × vector product; every message and the outputs are
 * recorded in hex (src/mpc/SPEC.md §3–§6). Used by the generator
 * (tests/tools/gen_vectors.c) and by tests/unit/test_mpc_vectors.c. */
#ifndef OVL_MPC_VECTORS_H
#define OVL_MPC_VECTORS_H

#include <jansson.h>
#include <stdlib.h>

#include "core/mem.h"
#include "mpc/shares.h"
#include "ot_harness.h"
#include "vectors_json.h"

typedef struct {
    json_t *log; /* object: step -> hex */
    int round;
} mv_rec;

static inline void mv_record(void *arg, const char *step, ovl_buf *msg)
{
    mv_rec *r = arg;
    char key[32];
    snprintf(key, sizeof key, "%s%s", step, r->round ? "_dir1" : "");
    json_object_set_new(r->log, key, vj_hex(msg->data, msg->wpos));
}

#define MV_N 100
#define MV_CHECK(e)                                                                                \
    do {                                                                                           \
        if ((e) != OVL_OK) {                                                                       \
            fprintf(stderr, "mpc vectors: %s failed: %s\n", #e, ovl_err_detail());                \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static inline json_t *mv_ot_section(void)
{
    static const uint8_t seed[32] = {'o', 'v', 'e', 'r', 'l', 'a', 'p', '-', 'm', 'p', 'c'};
    /* party 1's Δ is chosen (lsb 1, as a garbler's); party 0's is drawn */
    ovl_block delta1 = ovl_block_make(0x0f1e2d3c4b5a6978u, 0x8796a5b4c3d2e1f1u);
    uint8_t ch[(MV_N + 7) / 8];
    ovl_block m0[MV_N], m1[MV_N], m[MV_N];
    ovl_cot *bs, *br;
    ovl_buf msg;
    ot_pair p;
    json_t *sec = json_object(), *msgs = json_object();
    mv_rec rec = {msgs, 0};

    for (size_t i = 0; i < sizeof ch; i++)
        ch[i] = (uint8_t)(0x5a ^ (i * 37));
    json_object_set_new(sec, "description",
                        json_string("src/mpc/SPEC.md: base OTs, a COT batch per direction, "
                                    "random OT, chosen OT, 64-bit value x vector"));
    json_object_set_new(sec, "seed", vj_hex(seed, sizeof seed));
    json_object_set_new(sec, "rng_labels", json_string("ot party 0 / ot party 1"));
    json_object_set_new(sec, "n", json_integer(MV_N));
    json_object_set_new(sec, "choices", vj_hex(ch, sizeof ch));
    MV_CHECK(ot_pair_new(&p, seed, NULL, &delta1, mv_record, &rec));
    {
        uint8_t d[16];
        ovl_block_store(d, ovl_ot_delta(p.ot[1]));
        json_object_set_new(sec, "delta_party1", vj_hex(d, 16));
    }
    /* direction 0: random OT on top */
    MV_CHECK(ot_cot_run(&p, 0, ch, MV_N, &bs, &br, mv_record, &rec));
    MV_CHECK(ovl_rot_send(bs, m0, m1));
    MV_CHECK(ovl_rot_recv(br, m));
    json_object_set_new(sec, "rot_m0", vj_hex(m0, sizeof m0));
    json_object_set_new(sec, "rot_m1", vj_hex(m1, sizeof m1));
    json_object_set_new(sec, "rot_receiver", vj_hex(m, sizeof m));
    ovl_cot_free(bs);
    ovl_cot_free(br);
    /* direction 1: raw COT outputs, then a second batch for chosen OT */
    rec.round = 1;
    MV_CHECK(ot_cot_run(&p, 1, ch, MV_N, &bs, &br, mv_record, &rec));
    json_object_set_new(sec, "cot_q_dir1", vj_hex(ovl_cot_blocks(bs), MV_N * 16));
    json_object_set_new(sec, "cot_t_dir1", vj_hex(ovl_cot_blocks(br), MV_N * 16));
    ovl_cot_free(bs);
    ovl_cot_free(br);
    for (size_t j = 0; j < MV_N; j++) {
        m0[j] = ovl_block_make(j, 0);
        m1[j] = ovl_block_make(j, 1);
    }
    MV_CHECK(ot_cot_run(&p, 1, ch, MV_N, &bs, &br, NULL, NULL));
    MV_CHECK(ot_msg_new(&msg));
    MV_CHECK(ovl_ot_send_chosen(bs, m0, m1, &msg));
    json_object_set_new(msgs, "chosen_dir1_batch1", vj_hex(msg.data, msg.wpos));
    MV_CHECK(ovl_ot_recv_chosen(br, &msg, m));
    json_object_set_new(sec, "chosen_receiver", vj_hex(m, sizeof m));
    ovl_cot_free(bs);
    ovl_cot_free(br);
    /* value × vector: party 0 knows 2 values of 50 bits, party 1 two 2-word vectors */
    {
        uint64_t a[2] = {0x3ffffffff1234u, 0x0123456789abu}, v[4] = {3, 0xffffffffffffffffu,
                                                                         0x8000000000000001u, 7};
        uint64_t s0[4], s1[4];
        uint8_t bits[(100 + 7) / 8];
        ovl_share_value_bits(bits, a, 2, 50);
        MV_CHECK(ot_cot_run(&p, 1, bits, 100, &bs, &br, NULL, NULL));
        ovl_buf_clear(&msg);
        MV_CHECK(ovl_share_mul_send(bs, 64, 2, 50, v, s1, &msg));
        json_object_set_new(msgs, "share_cot_dir1_batch2", vj_hex(msg.data, msg.wpos));
        MV_CHECK(ovl_share_mul_recv(br, 64, 2, 50, &msg, s0));
        json_object_set_new(sec, "mul_values", vj_hex(a, sizeof a));
        json_object_set_new(sec, "mul_vectors", vj_hex(v, sizeof v));
        json_object_set_new(sec, "mul_share_party0", vj_hex(s0, sizeof s0));
        json_object_set_new(sec, "mul_share_party1", vj_hex(s1, sizeof s1));
        ovl_cot_free(bs);
        ovl_cot_free(br);
    }
    json_object_set_new(sec, "messages", msgs);
    ovl_buf_free(&msg);
    ot_pair_free(&p);
    return sec;
}

static inline json_t *mv_document(void)
{
    json_t *doc = json_object();
    json_object_set_new(doc, "ot", mv_ot_section());
    return doc;
}

#endif
