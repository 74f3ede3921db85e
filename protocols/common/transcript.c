#include <string.h>

#include "common/transcript.h"

void ovl_transcript_hash(uint8_t out[OVL_TRANSCRIPT_LEN], const uint8_t *listener_hello,
                         size_t llen, const uint8_t *connector_hello, size_t clen)
{
    static const char label[] = "overlap-v1 transcript";
    crypto_hash_sha512_state st;
    uint8_t len8[8];
    crypto_hash_sha512_init(&st);
    crypto_hash_sha512_update(&st, (const uint8_t *)label, sizeof label - 1);
    for (int i = 0; i < 8; i++)
        len8[i] = (uint8_t)((uint64_t)llen >> (56 - 8 * i));
    crypto_hash_sha512_update(&st, len8, 8);
    crypto_hash_sha512_update(&st, listener_hello, llen);
    for (int i = 0; i < 8; i++)
        len8[i] = (uint8_t)((uint64_t)clen >> (56 - 8 * i));
    crypto_hash_sha512_update(&st, len8, 8);
    crypto_hash_sha512_update(&st, connector_hello, clen);
    crypto_hash_sha512_final(&st, out);
}

void ovl_tagger_init(ovl_tagger *t, const char *label,
                     const uint8_t transcript[OVL_TRANSCRIPT_LEN])
{
    crypto_hash_sha512_init(&t->base);
    crypto_hash_sha512_update(&t->base, (const uint8_t *)label, strlen(label));
    crypto_hash_sha512_update(&t->base, transcript, OVL_TRANSCRIPT_LEN);
}

void ovl_tagger_tag(const ovl_tagger *t, uint8_t *out, size_t len, const uint8_t *elem,
                    size_t elem_len)
{
    crypto_hash_sha512_state st = t->base;
    uint8_t h[crypto_hash_sha512_BYTES];
    crypto_hash_sha512_update(&st, elem, elem_len);
    crypto_hash_sha512_final(&st, h);
    memcpy(out, h, len);
}

void ovl_tagger_wipe(ovl_tagger *t) { sodium_memzero(&t->base, sizeof t->base); }
