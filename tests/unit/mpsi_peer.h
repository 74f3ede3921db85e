/* A hostile (or hand-driven) multi-party PSI member for tests and the fuzz
 * target: KEY payloads, pair keys and sealed frames computed from
 * protocols/mpsi/SPEC.md §4.1-§4.2 alone, not from the engine, so that what
 * such a member sends reaches the checks behind the seal (and the engine is
 * checked against the spec's key schedule). */
#ifndef OVL_MPSI_PEER_H
#define OVL_MPSI_PEER_H

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/frame.h"

static inline void mp_derive(uint8_t out[32], const uint8_t base[32], const char *label,
                             unsigned a, unsigned b)
{
    crypto_generichash_state st;
    uint8_t ab[2] = {(uint8_t)a, (uint8_t)b};
    crypto_generichash_init(&st, base, 32, 32);
    crypto_generichash_update(&st, (const uint8_t *)label, strlen(label));
    crypto_generichash_update(&st, ab, 2);
    crypto_generichash_final(&st, out, 32);
}

/* KEY payload (§4.1): eph_pk ‖ Ed25519 signature by the identity key sk. */
static inline void mp_key_payload(uint8_t out[96], const uint8_t sid[32], unsigned idx,
                                  const uint8_t eph_pk[32], const uint8_t sk[64])
{
    uint8_t msg[84];
    memcpy(msg, "overlap-v1 mpsi key", 19);
    memcpy(msg + 19, sid, 32);
    msg[51] = (uint8_t)idx;
    memcpy(msg + 52, eph_pk, 32);
    memcpy(out, eph_pk, 32);
    crypto_sign_detached(out + 32, NULL, msg, sizeof msg, sk);
}

/* key_{me→them} (§4.1). */
static inline void mp_pair_key(uint8_t out[32], const uint8_t sid[32], unsigned me,
                               const uint8_t my_sk[32], const uint8_t my_pk[32], unsigned them,
                               const uint8_t their_pk[32])
{
    uint8_t dh[32], base[32];
    crypto_generichash_state st;
    if (crypto_scalarmult(dh, my_sk, their_pk) != 0)
        abort();
    crypto_generichash_init(&st, sid, 32, 32);
    crypto_generichash_update(&st, (const uint8_t *)"mpsi pair", 9);
    crypto_generichash_update(&st, dh, 32);
    crypto_generichash_update(&st, me < them ? my_pk : their_pk, 32);
    crypto_generichash_update(&st, me < them ? their_pk : my_pk, 32);
    crypto_generichash_final(&st, base, 32);
    mp_derive(out, base, "dir", me, them);
}

/* The sealed payload of a frame (§4.2): body under key with sequence seq. */
static inline uint8_t *mp_seal(size_t *out_len, uint8_t type, unsigned from, unsigned to,
                               uint64_t seq, const uint8_t key[32], const uint8_t *body,
                               size_t len)
{
    uint8_t nonce[12] = {0}, ad[3] = {type, (uint8_t)from, (uint8_t)to};
    uint8_t *ct = malloc(len + 16);
    if (ct == NULL)
        abort();
    for (int b = 0; b < 8; b++)
        nonce[4 + b] = (uint8_t)(seq >> (56 - 8 * b));
    crypto_aead_chacha20poly1305_ietf_encrypt(ct, NULL, body, len, ad, 3, NULL, nonce, key);
    *out_len = len + 16;
    return ct;
}

/* Appends a whole frame (header included) to a relay queue. */
static inline void mp_put_frame(ovl_buf *q, uint8_t type, const uint8_t *p, size_t len)
{
    uint8_t hdr[5] = {type, (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
                      (uint8_t)len};
    if (ovl_buf_put_bytes(q, hdr, 5) != OVL_OK || ovl_buf_put_bytes(q, p, len) != OVL_OK)
        abort();
}

/* A CHAIN body (§4): origin, hop, offset, count, elements. */
static inline uint8_t *mp_chain_body(size_t *len, unsigned origin, unsigned hop, uint32_t off,
                                     const uint8_t *elems, uint32_t n)
{
    uint8_t *b = malloc(10 + (size_t)n * 32);
    if (b == NULL)
        abort();
    b[0] = (uint8_t)origin;
    b[1] = (uint8_t)hop;
    for (int i = 0; i < 4; i++) {
        b[2 + i] = (uint8_t)(off >> (24 - 8 * i));
        b[6 + i] = (uint8_t)(n >> (24 - 8 * i));
    }
    memcpy(b + 10, elems, (size_t)n * 32);
    *len = 10 + (size_t)n * 32;
    return b;
}

#endif
