/* Writes seed inputs for the garbled-circuit fuzz target
 * (tests/fuzz/corpus/gc/): for each selector, every frame the honest peer
 * sent in a complete seeded run (layout: tests/fuzz/gc_fuzz.h).
 * Usage: gen_gc_seeds DIR */
#include <stdio.h>

#include "../fuzz/gc_fuzz.h"
#include "crypto/group.h"
#include "psi_harness.h"

int main(int argc, char **argv)
{
    int bad = 0;
    if (argc != 2 || ovl_crypto_init() != OVL_OK) {
        fprintf(stderr, "usage: gen_gc_seeds DIR\n");
        return 2;
    }
    for (unsigned sel = 0; sel < 6; sel++) {
        ovl_gc *e[2] = {NULL, NULL};
        ovl_rng rng[2];
        hx_side s[2];
        if (gcf_new(&e[0], (uint8_t)sel, OVL_GC_GARBLER, &rng[0]) != OVL_OK ||
            gcf_new(&e[1], (uint8_t)sel, OVL_GC_EVALUATOR, &rng[1]) != OVL_OK)
            return 1;
        hx_init(&s[0], &ovl_gc_ops, e[0]);
        hx_init(&s[1], &ovl_gc_ops, e[1]);
        hx_run(&s[0], &s[1], NULL, NULL);
        if (s[0].rc != OVL_OK || s[1].rc != OVL_OK || !ovl_gc_ops.done(e[0]) ||
            !ovl_gc_ops.done(e[1])) {
            fprintf(stderr, "selector %u: the honest run failed: %s%s\n", sel, s[0].detail,
                    s[1].detail);
            bad = 1;
        } else {
            /* The target is the garbler when bit 0 is set: it hears the evaluator. */
            const ovl_buf *log = &s[(sel & 1) ? 1 : 0].log;
            char path[512];
            snprintf(path, sizeof path, "%s/session-%02x", argv[1], sel);
            FILE *f = fopen(path, "wb");
            if (f == NULL) {
                bad = 1;
            } else {
                fputc((int)sel, f);
                fwrite(log->data, 1, log->wpos, f);
                bad |= fclose(f) != 0;
            }
        }
        ovl_gc_free(e[0]);
        ovl_gc_free(e[1]);
        hx_free(&s[0]);
        hx_free(&s[1]);
    }
    return bad;
}
