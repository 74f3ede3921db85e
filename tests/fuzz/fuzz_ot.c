/* Fuzzes every message parser of the OT layer (layout: ot_fuzz.h). Two
 * seeded pairs of parties are set up once: `lone` feeds EXT_U and EXT_CHAL
 * to one end only (which moves that end's column PRGs ahead of its peer's),
 * `duo` runs honest batches in lockstep up to the message being fuzzed. No
 * input may crash, leak or be accepted when malformed; a failed input leaves
 * its direction broken, which is reset between inputs (sequence numbers too)
 * so every input meets a usable parser. */
#include <stdlib.h>
#include <string.h>

#include "crypto/group.h"
#include "mpc/ot_internal.h"
#include "mpc/shares.h"
#include "ot_fuzz.h"
#include "ot_harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ot_pair lone, duo;
static ovl_ot *writer;     /* party 0 after writing OT_BASE: reads fuzzed OT_BASE */
static ovl_ot writer_snap; /* its state before any read */

static void setup(void)
{
    static const uint8_t seed[32] = {'f', 'u', 'z', 'z'};
    static ovl_rng rng;
    static ovl_tweak_space sp;
    ovl_buf m;
    if (ovl_crypto_init() != OVL_OK || ot_pair_new(&lone, seed, NULL, NULL, NULL, NULL) != OVL_OK ||
        ot_pair_new(&duo, seed, NULL, NULL, NULL, NULL) != OVL_OK)
        abort();
    ovl_rng_init_seeded(&rng, seed, "fuzz writer");
    ovl_tweak_space_init(&sp, NULL);
    if (ovl_ot_new(&writer, 0, NULL, &rng, &sp) != OVL_OK || ot_msg_new(&m) != OVL_OK ||
        ovl_ot_base_write(writer, &m) != OVL_OK)
        abort();
    writer_snap = *writer;
    ovl_buf_free(&m);
}

static void reset(void)
{
    ot_pair *pairs[2] = {&lone, &duo};
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < 2; i++) {
            pairs[k]->ot[i]->broken_send = pairs[k]->ot[i]->broken_recv = false;
            pairs[k]->ot[i]->send_seq = pairs[k]->ot[i]->recv_seq = 0;
        }
}

static void fuzz_base(ovl_buf *in)
{
    /* Restores the written-but-unread state; keys from a successful read are released. */
    *writer = writer_snap;
    if (ovl_ot_base_read(writer, in) == OVL_OK && !ovl_ot_ready(writer))
        abort();
    for (unsigned i = 0; i < OVL_OT_KAPPA; i++) {
        ovl_prg_free(&writer->send_prg[i]);
        ovl_prg_free(&writer->recv_prg[i][0]);
        ovl_prg_free(&writer->recv_prg[i][1]);
    }
}

static void fuzz_batch(uint8_t sel, ovl_buf *in)
{
    uint8_t ch[(OF_N + 7) / 8] = {0xa5, 0x3c};
    ovl_cot *bs = NULL, *br = NULL;
    ovl_buf u, chal, proof, out;
    ovl_block m[OF_N];
    uint64_t w[OF_N * OF_SHARE_L];
    if (ot_msg_new(&u) != OVL_OK || ot_msg_new(&chal) != OVL_OK ||
        ot_msg_new(&proof) != OVL_OK || ot_msg_new(&out) != OVL_OK)
        abort();
    if (sel == OF_EXT_U) {
        (void)ovl_cot_send_start(&bs, lone.ot[0], in, &out);
        goto done;
    }
    if (sel == OF_EXT_CHAL) {
        if (ovl_cot_recv_start(&br, lone.ot[0], ch, OF_N, &u) != OVL_OK)
            abort();
        (void)ovl_cot_recv_prove(br, in, &out);
        goto done;
    }
    if (ovl_cot_recv_start(&br, duo.ot[1], ch, OF_N, &u) != OVL_OK ||
        ovl_cot_send_start(&bs, duo.ot[0], &u, &chal) != OVL_OK)
        abort();
    if (sel == OF_EXT_PROOF) {
        if (ovl_cot_send_verify(bs, in) == OVL_OK && ovl_cot_blocks(bs) == NULL)
            abort();
        goto done;
    }
    if (ovl_cot_recv_prove(br, &chal, &proof) != OVL_OK || ovl_cot_send_verify(bs, &proof) != OVL_OK)
        abort();
    if (sel == OF_CHOSEN)
        (void)ovl_ot_recv_chosen(br, in, m);
    else
        (void)ovl_share_cot_recv(br, OF_SHARE_W, OF_SHARE_L, in, w);
done:
    ovl_cot_free(bs);
    ovl_cot_free(br);
    ovl_buf_free(&u);
    ovl_buf_free(&chal);
    ovl_buf_free(&proof);
    ovl_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    ovl_buf in;
    uint64_t mine[OF_OPEN_N] = {1, 2, 3, 4}, sum[OF_OPEN_N];
    if (!ready) {
        setup();
        ready = 1;
    }
    if (size < 1)
        return 0;
    reset();
    ovl_buf_reader(&in, data + 1, size - 1);
    switch (data[0] % OF_SELECTORS) {
    case OF_BASE:
        fuzz_base(&in);
        break;
    case OF_OPEN:
        (void)ovl_share_open_read(OF_SHARE_W, mine, OF_OPEN_N, &in, sum);
        break;
    default:
        fuzz_batch(data[0] % OF_SELECTORS, &in);
        break;
    }
    return 0;
}
