/* Fuzzes a multi-party PSI member (protocols/mpsi/SPEC.md) behind its seal:
 * member 0 of a 3-member run (seeded) receives valid KEYs from members 1 and
 * 2, whose ephemeral keys this target holds, so it derives the pair keys as
 * §4.1 says and seals each record of the input as §4.2 says. The records are
 * what hostile members 1 and 2 send after their KEYs:
 *   [from u8][type u8][len u16][body]   (from: 1 or 2; body: the plaintext)
 * and, when a record's from byte has bit 7 set, a raw (unsealed) frame.
 * No input may crash the member; after any failure it stays failed. */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/frame.h"
#include "mpsi/mpsi.h"
#include "mpsi_peer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void feed_key(ovl_mpsi *m, unsigned from, const uint8_t sid[32], const uint8_t eph[32],
                     const uint8_t sk[64])
{
    uint8_t p[96];
    mp_key_payload(p, sid, from, eph, sk);
    if (ovl_mpsi_feed(m, from, 0x31, p, sizeof p) != OVL_OK)
        abort();
}

static void drain(ovl_mpsi *m)
{
    ovl_buf f;
    bool have = true;
    unsigned to;
    while (have) {
        if (ovl_buf_alloc(&f, 64, OVL_FRAME_HDR + OVL_FRAME_MAX_PAYLOAD) != OVL_OK)
            abort();
        if (ovl_mpsi_pull(m, &f, &to, &have) != OVL_OK)
            have = false;
        ovl_buf_free(&f);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool init;
    if (!init) {
        if (ovl_crypto_init() != OVL_OK)
            abort();
        init = true;
    }
    uint8_t pk[3][32], sk[3][64], sid[32], seed[32] = {3}, ids[3][32];
    uint8_t eph_sk[3][32], eph_pk[3][32], key[3][32];
    uint64_t sizes[3] = {3, 2, 2}, seq[3] = {0};
    for (unsigned i = 0; i < 3; i++) {
        uint8_t s[32] = {(uint8_t)(i + 1)};
        crypto_sign_seed_keypair(pk[i], sk[i], s);
        memset(eph_sk[i], 0x40 + (int)i, 32);
        crypto_scalarmult_base(eph_pk[i], eph_sk[i]);
        memset(ids[i], (int)i, 32);
    }
    memset(sid, 0x5a, sizeof sid);
    ovl_mpsi_config c = {.members = 3, .self = 0, .mode = size && (data[0] & 1)
                                                              ? OVL_MODE_CARDINALITY
                                                              : OVL_MODE_INTERSECTION,
                         .reveal = OVL_REVEAL_BOTH, .group = ovl_group_default(),
                         .ids = (const uint8_t(*)[32])ids, .nids = 3, .set_sizes = sizes,
                         .member_pk = (const uint8_t(*)[32])pk, .sign_sk = sk[0],
                         .session = sid, .test_seed = seed};
    ovl_mpsi *m = NULL;
    if (ovl_mpsi_new(&m, &c) != OVL_OK)
        abort();
    /* member 0's KEY to member 1 carries its ephemeral key */
    ovl_buf f;
    bool have;
    unsigned to;
    if (ovl_buf_alloc(&f, 128, 256) != OVL_OK || ovl_mpsi_pull(m, &f, &to, &have) != OVL_OK ||
        !have || f.wpos != 5 + 96)
        abort();
    memcpy(eph_pk[0], f.data + 5, 32);
    ovl_buf_free(&f);
    for (unsigned i = 1; i < 3; i++) {
        mp_pair_key(key[i], sid, i, eph_sk[i], eph_pk[i], 0, eph_pk[0]);
        feed_key(m, i, sid, eph_pk[i], sk[i]);
    }
    drain(m);
    bool failed = false;
    size_t pos = size ? 1 : 0;
    while (pos + 4 <= size) {
        unsigned from = data[pos] & 0x7f, raw = data[pos] & 0x80;
        uint8_t type = data[pos + 1];
        size_t len = (size_t)data[pos + 2] << 8 | data[pos + 3];
        pos += 4;
        if (len > size - pos)
            len = size - pos;
        ovl_err e;
        if (raw || from < 1 || from > 2) {
            e = ovl_mpsi_feed(m, from, type, data + pos, len);
        } else {
            size_t ctlen;
            uint8_t *ct = mp_seal(&ctlen, type, from, 0, seq[from]++, key[from], data + pos, len);
            e = ovl_mpsi_feed(m, from, type, ct, ctlen);
            free(ct);
        }
        pos += len;
        if (failed && e == OVL_OK)
            abort(); /* a failed member stays failed */
        failed |= e != OVL_OK;
        drain(m);
    }
    if (failed && ovl_mpsi_done(m))
        abort();
    ovl_mpsi_free(m);
    return 0;
}
