/* A modified evaluator that runs its own, honest OT receiver but announces a
 * COT batch smaller than the one its instances need: the garbler must refuse
 * the batch (its size is public, SPEC §GC.6) before it garbles instances whose
 * input labels would lie past the batch's rows. */
#include <sodium.h>

#include "core/frame.h"
#include "crypto/rng.h"
#include "mpc/circuit.h"
#include "mpc/gc.h"
#include "mpc/hash.h"
#include "mpc/ot.h"
#include "psi_harness.h"
#include "test.h"

enum { INSTANCES = 64, WIDTH = 8 };

/* Pulls the next frame of g: its type and a pointer to its payload in buf. */
static ovl_err pull_frame(ovl_gc *g, ovl_buf *buf, uint8_t *type, const uint8_t **payload,
                          size_t *len)
{
    bool have = false;
    ovl_buf_clear(buf);
    ovl_err rc = ovl_gc_ops.pull(g, buf, &have);
    if (rc != OVL_OK)
        return rc;
    if (!have || buf->wpos < OVL_FRAME_HDR)
        return ovl_err_set(OVL_ERR_INTERNAL, "test: no frame to pull");
    *type = buf->data[0];
    *len = (size_t)buf->data[1] << 24 | (size_t)buf->data[2] << 16 |
           (size_t)buf->data[3] << 8 | buf->data[4];
    *payload = buf->data + OVL_FRAME_HDR;
    return OVL_OK;
}

static void test_short_batch(void)
{
    ovl_circuit c;
    ovl_rng rng[2];
    ovl_gc *g = NULL, *honest = NULL;
    ovl_ot *ot = NULL;
    ovl_cot *b = NULL;
    ovl_tweak_space sp;
    ovl_buf f = {0}, msg = {0}, in;
    uint8_t gin[INSTANCES * 2 * WIDTH] = {0}, ein[INSTANCES * WIDTH] = {0}, type = 0;
    uint8_t choice = 1;
    const uint8_t *pl = NULL;
    size_t len = 0;

    EXPECT_OK(ovl_circuit_a2b(&c, WIDTH));
    ovl_rng_init_system(&rng[0]);
    ovl_rng_init_system(&rng[1]);
    ovl_gc_config gc = {.role = OVL_GC_GARBLER, .party = 0, .circuit = &c, .garbler_inputs = 2,
                        .instances = INSTANCES, .reveal = OVL_GC_REVEAL_EVALUATOR,
                        .input = gin, .rng = &rng[0]};
    ovl_gc_config ec = gc;
    ec.role = OVL_GC_EVALUATOR;
    ec.party = 1;
    ec.input = ein;
    ec.rng = &rng[1];
    EXPECT_OK(ovl_gc_new(&g, &gc));
    EXPECT_OK(ovl_gc_new(&honest, &ec));
    EXPECT_OK(ovl_buf_alloc(&f, 64, OVL_FRAME_HDR + OVL_FRAME_MAX_PAYLOAD));
    EXPECT_OK(ovl_buf_alloc(&msg, 64, OVL_FRAME_MAX_PAYLOAD));

    /* The evaluator's GC_SETUP is the honest one; its OTs are its own. */
    EXPECT_OK(pull_frame(honest, &f, &type, &pl, &len));
    EXPECT_EQ(type, OVL_GC_SETUP);
    EXPECT_OK(ovl_gc_ops.feed(g, type, pl, len));
    ovl_tweak_space_init(&sp, NULL);
    EXPECT_OK(ovl_ot_new(&ot, 1, NULL, &rng[1], &sp));
    EXPECT_OK(ovl_ot_base_write(ot, &msg));
    EXPECT_OK(ovl_gc_ops.feed(g, OVL_GC_OT_BASE, msg.data, msg.wpos));
    EXPECT_OK(pull_frame(g, &f, &type, &pl, &len));
    EXPECT_EQ(type, OVL_GC_SETUP);
    EXPECT_OK(pull_frame(g, &f, &type, &pl, &len));
    EXPECT_EQ(type, OVL_GC_OT_BASE);
    ovl_buf_reader(&in, pl, len);
    EXPECT_OK(ovl_ot_base_read(ot, &in));

    /* One COT where INSTANCES × WIDTH are due. */
    ovl_buf_clear(&msg);
    EXPECT_OK(ovl_cot_recv_start(&b, ot, &choice, 1, &msg));
    ovl_err rc = ovl_gc_ops.feed(g, OVL_GC_OT_U, msg.data, msg.wpos);
    OVL_T_RECORD(rc == OVL_ERR_PROTOCOL, "short OT batch: garbler got %s (%s), want PROTOCOL",
                 ovl_err_name(rc), rc == OVL_OK ? "accepted" : ovl_err_detail());
    if (rc == OVL_OK) {
        /* Finish the batch honestly: the garbler then garbles every instance
         * from rows the batch does not have. */
        EXPECT_OK(pull_frame(g, &f, &type, &pl, &len));
        ovl_buf_reader(&in, pl, len);
        ovl_buf_clear(&msg);
        EXPECT_OK(ovl_cot_recv_prove(b, &in, &msg));
        EXPECT_OK(ovl_gc_ops.feed(g, OVL_GC_OT_PROOF, msg.data, msg.wpos));
        for (int i = 0; i < 4 * INSTANCES && pull_frame(g, &f, &type, &pl, &len) == OVL_OK; i++)
            ;
    }
    ovl_cot_free(b);
    ovl_ot_free(ot);
    ovl_gc_free(g);
    ovl_gc_free(honest);
    ovl_buf_free(&f);
    ovl_buf_free(&msg);
    ovl_circuit_free(&c);
}

/* Alters the first byte of the last tag pair of the first DECODE: output bit
 * WIDTH − 1 of instance 0 fails after bits 0 .. WIDTH − 2 were decoded. */
static void flip_last_tags(void *arg, int side, ovl_buf *frame, bool *drop)
{
    int *seen = arg;
    (void)drop;
    if (side == 0 && frame->wpos > OVL_FRAME_HDR && frame->data[0] == OVL_GC_DECODE &&
        (*seen)++ == 0) {
        frame->data[frame->wpos - 16] ^= 0x01;
        frame->data[frame->wpos - 8] ^= 0x01;
    }
}

/* A failed decode yields no output, not the bits decoded before the failure. */
static void test_no_partial_output(void)
{
    ovl_circuit c;
    ovl_rng rng[2];
    ovl_gc *g = NULL, *e = NULL;
    hx_side side[2];
    uint8_t gin[2 * 2 * WIDTH] = {0}, ein[2 * WIDTH] = {0};
    int seen = 0;

    EXPECT_OK(ovl_circuit_a2b(&c, WIDTH));
    ovl_rng_init_system(&rng[0]);
    ovl_rng_init_system(&rng[1]);
    ovl_gc_config gc = {.role = OVL_GC_GARBLER, .party = 0, .circuit = &c, .garbler_inputs = 2,
                        .instances = 2, .reveal = OVL_GC_REVEAL_EVALUATOR, .input = gin,
                        .rng = &rng[0]};
    ovl_gc_config ec = gc;
    ec.role = OVL_GC_EVALUATOR;
    ec.party = 1;
    ec.input = ein;
    ec.rng = &rng[1];
    EXPECT_OK(ovl_gc_new(&g, &gc));
    EXPECT_OK(ovl_gc_new(&e, &ec));
    hx_init(&side[0], &ovl_gc_ops, g);
    hx_init(&side[1], &ovl_gc_ops, e);
    hx_run(&side[0], &side[1], flip_last_tags, &seen);
    EXPECT_TRUE(seen > 0);
    EXPECT_EQ(side[1].rc, OVL_ERR_CRYPTO);
    EXPECT_TRUE(ovl_gc_output(e, 0) == NULL);
    EXPECT_TRUE(ovl_gc_output(e, 1) == NULL);
    hx_free(&side[0]);
    hx_free(&side[1]);
    ovl_gc_free(g);
    ovl_gc_free(e);
    ovl_circuit_free(&c);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    RUN(test_short_batch);
    RUN(test_no_partial_output);
    return ovl_t_summary("test_gc_batch");
}
