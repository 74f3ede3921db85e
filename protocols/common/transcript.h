/* overlap: the transcript hash that binds a session to both HELLOs, and the
 * tags protocols derive from it (protocols/common/SPEC.md §5). */
#ifndef OVL_PROTOCOLS_TRANSCRIPT_H
#define OVL_PROTOCOLS_TRANSCRIPT_H

#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#define OVL_TRANSCRIPT_LEN 64u

/* SHA-512 over both HELLO payloads, listener's first. */
void ovl_transcript_hash(uint8_t out[OVL_TRANSCRIPT_LEN], const uint8_t *listener_hello,
                         size_t llen, const uint8_t *connector_hello, size_t clen);

/* tag(X) = SHA-512(label || transcript || X), truncated: the hash state after
 * label and transcript is kept so each tag costs one update and final. */
typedef struct {
    crypto_hash_sha512_state base;
} ovl_tagger;

void ovl_tagger_init(ovl_tagger *t, const char *label,
                     const uint8_t transcript[OVL_TRANSCRIPT_LEN]);
/* The first `len` (<= 64) digest bytes for element `elem`. Reads only *t, so
 * any number of workers may call it at once. */
void ovl_tagger_tag(const ovl_tagger *t, uint8_t *out, size_t len, const uint8_t *elem,
                    size_t elem_len);
void ovl_tagger_wipe(ovl_tagger *t);

#endif
