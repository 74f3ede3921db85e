/* Writes seed inputs for the PSI fuzz target (tests/fuzz/corpus/psi/): for
 * each selector, the frames an honest seeded peer sends after its HELLO in
 * a complete run (layout: tests/fuzz/psi_fuzz.h). Usage: gen_fuzz_seeds DIR */
#include <stdio.h>

#include "../fuzz/psi_fuzz.h"
#include "psi_harness.h"

static int write_seed(const char *dir, uint8_t sel, const ovl_buf *log)
{
    char path[512];
    /* The first frame in the log is the honest peer's HELLO: skip it. */
    size_t hello = OVL_FRAME_HDR + ((size_t)log->data[1] << 24 | (size_t)log->data[2] << 16 |
                                    (size_t)log->data[3] << 8 | log->data[4]);
    snprintf(path, sizeof path, "%s/session-%02x", dir, sel);
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return 1;
    fputc(sel, f);
    fwrite(log->data + hello, 1, log->wpos - hello, f);
    return fclose(f) != 0;
}

int main(int argc, char **argv)
{
    int bad = 0;
    if (argc != 2 || ovl_crypto_init() != OVL_OK) {
        fprintf(stderr, "usage: gen_fuzz_seeds DIR\n");
        return 2;
    }
    for (unsigned sel = 0; sel < 16; sel++) {
        if (((sel >> 1) & 3) == 3)
            continue; /* same reveal as selector - 2 */
        ovl_psi *e[2] = {NULL, NULL};
        hx_side s[2];
        if (pf_new(&e[0], (uint8_t)sel, OVL_ROLE_LISTENER) != OVL_OK ||
            pf_new(&e[1], (uint8_t)sel, OVL_ROLE_CONNECTOR) != OVL_OK)
            return 1;
        hx_init(&s[0], &ovl_psi_ops, e[0]);
        hx_init(&s[1], &ovl_psi_ops, e[1]);
        hx_run(&s[0], &s[1], NULL, NULL);
        int honest = pf_target_role((uint8_t)sel) == OVL_ROLE_LISTENER ? 1 : 0;
        if (s[0].rc != OVL_OK || s[1].rc != OVL_OK || !ovl_psi_ops.done(e[0]) ||
            !ovl_psi_ops.done(e[1])) {
            fprintf(stderr, "selector %02x: the honest run failed: %s%s\n", sel, s[0].detail,
                    s[1].detail);
            bad = 1;
        } else {
            bad |= write_seed(argv[1], (uint8_t)sel, &s[honest].log);
        }
        hx_free(&s[0]);
        hx_free(&s[1]);
        ovl_psi_free(e[0]);
        ovl_psi_free(e[1]);
    }
    return bad;
}
