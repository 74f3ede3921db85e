/* The negotiation engine as a whole session (protocols/setup/negotiator.h):
 * arbitrary frames from the peer, in either role, through REQUEST, TERMS and
 * the co-signature exchange. The engine must fail cleanly, never crash, and
 * stay failed once it failed.
 * Input: [flags u8] then frames [type u8][len u16 big-endian][payload]. Flag
 * bit 0: connector; bit 1: the listener refuses plain peers; bit 2: the
 * owner's callbacks refuse. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/group.h"
#include "setup/negotiator.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ovl_identity *self_id, *peer_id;

static ovl_err prepare(void *arg, ovl_nego *r)
{
    if (*(const bool *)arg)
        return ovl_err_set(OVL_ERR_POLICY, "refused");
    r->connector_set = 10;
    return OVL_OK;
}

static ovl_err judge(void *arg, ovl_nego *r, ovl_owner_terms *t, uint64_t *set_size)
{
    (void)r;
    if (*(const bool *)arg)
        return ovl_err_set(OVL_ERR_POLICY, "refused");
    memset(t, 0, sizeof *t);
    *set_size = 20;
    return OVL_OK;
}

static ovl_err agree(void *arg, const ovl_owner_terms *t, uint64_t set_size)
{
    (void)t;
    (void)set_size;
    return *(const bool *)arg ? ovl_err_set(OVL_ERR_POLICY, "refused") : OVL_OK;
}

static ovl_err cosigned(void *arg, const uint8_t sig[OVL_SIG_LEN])
{
    (void)arg;
    (void)sig;
    return OVL_OK;
}

/* Pulls everything the engine has to send. */
static ovl_err drain(ovl_negotiator *n, ovl_buf *out)
{
    for (;;) {
        bool have = false;
        ovl_buf_clear(out);
        ovl_err rc = ovl_negotiator_ops.pull(n, out, &have);
        if (rc != OVL_OK || !have)
            return rc;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (self_id == NULL) {
        if (ovl_crypto_init() != OVL_OK || ovl_identity_generate(&self_id, "self") != OVL_OK ||
            ovl_identity_generate(&peer_id, "peer") != OVL_OK)
            abort();
    }
    if (size < 1)
        return 0;
    uint8_t flags = data[0];
    bool refuse = (flags & 4) != 0;
    ovl_nego request = {.mode = OVL_MODE_INTERSECTION, .join = {"email", "email"}};
    ovl_negotiator_config cfg = {
        .role = flags & 1 ? OVL_ROLE_CONNECTOR : OVL_ROLE_LISTENER,
        .request = &request,
        .plain_refusal = flags & 2 ? "negotiate first" : NULL,
        .self = self_id,
        .peer = ovl_identity_pub(peer_id),
        .cb = {prepare, judge, agree, cosigned, &refuse},
    };
    ovl_negotiator *n = NULL;
    ovl_buf out;
    if (ovl_negotiator_new(&n, &cfg) != OVL_OK ||
        ovl_buf_alloc(&out, 256, OVL_FRAME_HDR + OVL_FRAME_MAX_PAYLOAD) != OVL_OK)
        abort();
    ovl_err failed = drain(n, &out);
    size_t off = 1;
    while (off + 3 <= size) {
        uint8_t type = data[off];
        size_t len = (size_t)data[off + 1] << 8 | data[off + 2];
        off += 3;
        if (len > size - off)
            len = size - off;
        bool wants = ovl_negotiator_ops.wants_input(n);
        ovl_err rc = ovl_negotiator_ops.feed(n, type, data + off, len);
        off += len;
        if (failed != OVL_OK && rc == OVL_OK)
            abort(); /* a failed engine stays failed */
        if (rc == OVL_OK && !wants)
            abort(); /* input it did not ask for is never accepted */
        if (rc != OVL_OK)
            failed = rc;
        if (failed == OVL_OK && ovl_negotiator_ops.done(n) && ovl_negotiator_negotiated(n)) {
            uint8_t tr[OVL_NEGO_HASH_LEN] = {0};
            (void)ovl_negotiator_cosign(n, tr);
        }
        rc = drain(n, &out);
        if (failed == OVL_OK)
            failed = rc;
    }
    ovl_buf_free(&out);
    ovl_negotiator_free(n);
    return 0;
}
