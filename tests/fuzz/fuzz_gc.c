/* Fuzzes the garbled-circuit engine's frame parsers from both sides: the
 * peer's frames (layout: tests/fuzz/gc_fuzz.h) are fed one by one, the
 * target's answers pulled and dropped. Any input must end in OK or an error
 * with a printable one-line detail, never a crash, leak or overread. */
#include <stdlib.h>

#include "../fuzz/gc_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void drain(ovl_gc *g, ovl_buf *scratch)
{
    bool have = true;
    while (have) {
        ovl_buf_clear(scratch);
        if (ovl_gc_ops.pull(g, scratch, &have) != OVL_OK)
            return;
    }
}

static void check_detail(void)
{
    for (const char *d = ovl_err_detail(); *d; d++)
        if ((unsigned char)*d < 0x20 || (unsigned char)*d >= 0x7f)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ovl_gc *g = NULL;
    ovl_rng rng;
    ovl_buf in, scratch;
    if (size < 1 || ovl_buf_alloc(&scratch, 4096, (size_t)16 << 20) != OVL_OK)
        return 0;
    ovl_gc_role role = (data[0] & 1) ? OVL_GC_GARBLER : OVL_GC_EVALUATOR;
    if (gcf_new(&g, data[0], role, &rng) != OVL_OK)
        abort();
    drain(g, &scratch);
    ovl_buf_reader(&in, data + 1, size - 1);
    for (;;) {
        uint8_t type;
        ovl_buf payload;
        bool complete = false;
        if (ovl_frame_parse(&in, OVL_FRAME_MAX_PAYLOAD, &type, &payload, &complete) != OVL_OK ||
            !complete || !ovl_gc_ops.wants_input(g))
            break;
        ovl_err e = ovl_gc_ops.feed(g, type, ovl_buf_rptr(&payload), ovl_buf_remaining(&payload));
        if (e != OVL_OK) {
            check_detail();
            /* A failed engine stays failed. */
            if (ovl_gc_ops.feed(g, type, NULL, 0) == OVL_OK || ovl_gc_ops.done(g))
                abort();
            break;
        }
        drain(g, &scratch);
    }
    if (ovl_gc_ops.done(g)) {
        bool learns = role == OVL_GC_GARBLER ? ((data[0] >> 1) % 3) >= 1 : ((data[0] >> 1) % 3) != 1;
        if (learns && ovl_gc_output(g, 0) == NULL)
            abort();
    }
    ovl_gc_free(g);
    ovl_buf_free(&scratch);
    ovl_rng_wipe(&rng);
    return 0;
}
