/* Fuzzes the HELLO parser and the agreement check. An accepted HELLO must
 * re-serialise to exactly the bytes it came from, and the check against a
 * fixed local HELLO must return a defined verdict without reading outside
 * the parameters. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "common/proto.h"
#include "common/hello.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_roundtrip(const ovl_hello *h, const uint8_t *data, size_t size)
{
    ovl_buf w;
    if (ovl_buf_alloc(&w, 128, OVL_FRAME_HDR + 128 + OVL_HELLO_PARAMS_MAX) != OVL_OK)
        abort();
    if (ovl_hello_write(&w, h) != OVL_OK || w.wpos != OVL_FRAME_HDR + size ||
        w.data[0] != OVL_HELLO_TYPE || memcmp(w.data + OVL_FRAME_HDR, data, size) != 0)
        abort();
    ovl_buf_free(&w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t params[] = "psi/1 id=sha256 normalize=email";
    ovl_hello peer;
    ovl_hello mine = {
        .version = OVL_PROTOCOL_VERSION,
        .suite = 1,
        .mode = OVL_MODE_INTERSECTION,
        .reveal = OVL_REVEAL_BOTH,
        .role = OVL_ROLE_LISTENER,
        .set_size = 1000,
        .params = params,
        .params_len = sizeof params - 1,
    };
    /* A heap copy so ASan sees any read past the end of the payload. */
    uint8_t *copy = malloc(size ? size : 1);
    if (copy == NULL)
        abort();
    memcpy(copy, data, size);
    ovl_err rc = ovl_hello_parse(&peer, copy, size);
    if (rc == OVL_OK) {
        if (peer.version != OVL_PROTOCOL_VERSION || peer.params_len > OVL_HELLO_PARAMS_MAX ||
            (peer.params_len && (peer.params < copy || peer.params + peer.params_len > copy + size)))
            abort();
        check_roundtrip(&peer, copy, size);
        ovl_err c = ovl_hello_check(&mine, &peer, 1u << 20);
        if (c != OVL_OK && c != OVL_ERR_POLICY && c != OVL_ERR_PROTOCOL && c != OVL_ERR_LIMIT)
            abort();
        if (c == OVL_OK && (peer.set_size > (1u << 20) || peer.role == mine.role))
            abort();
    } else if (rc != OVL_ERR_PROTOCOL && rc != OVL_ERR_LIMIT) {
        abort();
    }
    free(copy);
    return 0;
}
