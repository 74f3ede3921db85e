/* The analysis negotiation parsers (protocols/setup/SPEC.md §3) on arbitrary bytes. */
#include <stdint.h>
#include <stdlib.h>

#include "setup/negotiate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ovl_nego n;
    if (ovl_nego_parse(&n, data, size) == OVL_OK) {
        /* What parses re-serialises and parses again to the same fields. */
        ovl_buf b;
        if (ovl_buf_alloc(&b, 256, OVL_FRAME_HDR + OVL_REQUEST_MAX) != OVL_OK)
            abort();
        if (ovl_nego_write(&b, &n) == OVL_OK) {
            ovl_nego again;
            if (ovl_nego_parse(&again, b.data + OVL_FRAME_HDR, b.wpos - OVL_FRAME_HDR) != OVL_OK)
                abort();
            if (again.nparams != n.nparams || again.nvalues != n.nvalues ||
                again.connector_set != n.connector_set)
                abort();
            ovl_nego_clear(&again);
        }
        ovl_buf_free(&b);
        ovl_nego_clear(&n);
    }
    ovl_owner_terms t;
    uint64_t s;
    (void)ovl_terms_parse(&t, &s, data, size);
    return 0;
}
