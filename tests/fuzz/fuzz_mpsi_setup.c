/* Fuzzes the multi-party setup parsers (protocols/mpsi/setup.h): the first
 * byte picks JOIN, LIST or SIGS, the rest is its payload. Parsing must never
 * crash or over-read; an accepted JOIN or LIST writes back to the same bytes,
 * and a list's session id is computable. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/frame.h"
#include "mpsi/setup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same(const ovl_buf *w, const uint8_t *p, size_t n)
{
    if (w->wpos != OVL_FRAME_HDR + n || memcmp(w->data + OVL_FRAME_HDR, p, n) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ovl_buf w;
    if (size < 1 || ovl_buf_alloc(&w, 64, 8192) != OVL_OK)
        return 0;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    if (data[0] % 3 == 0) {
        ovl_mpsi_join j;
        if (ovl_mpsi_join_read(&j, p, n) == OVL_OK) {
            if (ovl_mpsi_join_write(&w, &j) != OVL_OK)
                abort();
            same(&w, p, n);
        }
    } else if (data[0] % 3 == 1) {
        ovl_mpsi_list l;
        uint8_t sid[32];
        if (ovl_mpsi_list_read(&l, p, n) == OVL_OK) {
            if (ovl_mpsi_list_write(&w, &l) != OVL_OK || ovl_mpsi_list_session(sid, &l) != OVL_OK)
                abort();
            same(&w, p, n);
        }
    } else {
        uint8_t sigs[OVL_MPSI_MAX_MEMBERS][OVL_SIG_LEN];
        (void)ovl_mpsi_sigs_read(sigs, 3u + n % 8u, p, n);
    }
    ovl_buf_free(&w);
    return 0;
}
