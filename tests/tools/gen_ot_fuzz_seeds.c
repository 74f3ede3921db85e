/* Writes seed inputs for the OT fuzz target (tests/fuzz/corpus/ot/): for each
 * selector of tests/fuzz/ot_fuzz.h, the message an honest seeded peer sends.
 * Usage: gen_ot_fuzz_seeds DIR */
#include <stdio.h>

#include "../fuzz/ot_fuzz.h"
#include "crypto/group.h"
#include "mpc/shares.h"
#include "ot_harness.h"

static const char *const names[OF_SELECTORS] = {"base", "ext_u", "ext_chal", "ext_proof",
                                                "chosen", "share_cot", "share_open"};
static ovl_buf rec[OF_SELECTORS];

static void keep(void *arg, const char *step, ovl_buf *msg)
{
    (void)arg;
    int sel = strcmp(step, "base1") == 0   ? OF_BASE
              : strcmp(step, "u") == 0     ? OF_EXT_U
              : strcmp(step, "chal") == 0  ? OF_EXT_CHAL
              : strcmp(step, "proof") == 0 ? OF_EXT_PROOF
                                           : -1;
    if (sel >= 0 && rec[sel].wpos == 0 && ovl_buf_put_bytes(&rec[sel], msg->data, msg->wpos) != OVL_OK)
        abort();
}

int main(int argc, char **argv)
{
    static const uint8_t seed[32] = {'s', 'e', 'e', 'd', 's'};
    uint8_t ch[(OF_N + 7) / 8] = {0xa5, 0x3c};
    ovl_block m0[OF_N] = {{0}}, m1[OF_N] = {{0}};
    uint64_t corr[OF_N * OF_SHARE_L] = {0}, s[OF_N * OF_SHARE_L], mine[OF_OPEN_N] = {9, 8, 7, 6};
    ovl_cot *bs, *br;
    ot_pair p;
    int bad = 0;

    if (argc != 2 || ovl_crypto_init() != OVL_OK) {
        fprintf(stderr, "usage: gen_ot_fuzz_seeds DIR\n");
        return 2;
    }
    for (int i = 0; i < OF_SELECTORS; i++)
        if (ot_msg_new(&rec[i]) != OVL_OK)
            return 1;
    if (ot_pair_new(&p, seed, NULL, NULL, keep, NULL) != OVL_OK ||
        ot_cot_run(&p, 0, ch, OF_N, &bs, &br, keep, NULL) != OVL_OK ||
        ovl_ot_send_chosen(bs, m0, m1, &rec[OF_CHOSEN]) != OVL_OK)
        return 1;
    ovl_cot_free(bs);
    ovl_cot_free(br);
    if (ot_cot_run(&p, 0, ch, OF_N, &bs, &br, NULL, NULL) != OVL_OK ||
        ovl_share_cot_send(bs, OF_SHARE_W, OF_SHARE_L, corr, s, &rec[OF_SHARE]) != OVL_OK ||
        ovl_share_open_write(OF_SHARE_W, mine, OF_OPEN_N, &rec[OF_OPEN]) != OVL_OK)
        return 1;
    ovl_cot_free(bs);
    ovl_cot_free(br);
    ot_pair_free(&p);
    for (int i = 0; i < OF_SELECTORS; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", argv[1], names[i]);
        FILE *f = fopen(path, "wb");
        if (f == NULL) {
            bad = 1;
            continue;
        }
        fputc(i, f);
        fwrite(rec[i].data, 1, rec[i].wpos, f);
        bad |= fclose(f) != 0;
        ovl_buf_free(&rec[i]);
    }
    return bad;
}
