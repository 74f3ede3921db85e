/* HELLO, the session setup every overlap protocol starts with
 * (protocols/common/SPEC.md §3): both parties send it at once and check that
 * they agree on version, suite, mode, reveal and analysis parameters. */
#ifndef OVL_PROTOCOLS_HELLO_H
#define OVL_PROTOCOLS_HELLO_H

#include <stdint.h>

#include "core/buf.h"
#include "common/frame.h"
#include "common/proto.h"

#define OVL_PROTOCOL_VERSION 1u
#define OVL_HELLO_TYPE 0x01u
#define OVL_HELLO_NONCE_LEN 32u
#define OVL_HELLO_PARAMS_MAX (64u * 1024u)

typedef struct {
    uint16_t version;
    uint16_t suite;
    uint8_t mode;
    uint8_t reveal;
    uint8_t role;
    uint64_t set_size;
    uint8_t nonce[OVL_HELLO_NONCE_LEN];
    const uint8_t *params; /* borrowed: the sender's statement of the analysis */
    uint32_t params_len;
} ovl_hello;

/* Appends the HELLO frame (header included). */
ovl_err ovl_hello_write(ovl_buf *out, const ovl_hello *h) OVL_MUST_USE;
/* Parses a HELLO payload; h->params points into payload. */
ovl_err ovl_hello_parse(ovl_hello *h, const uint8_t *payload, size_t len) OVL_MUST_USE;
/* Checks the peer's HELLO against ours and the local cap on the peer's set
 * size; the detail names the first disagreement. */
ovl_err ovl_hello_check(const ovl_hello *mine, const ovl_hello *peer,
                        uint64_t max_peer_set) OVL_MUST_USE;
/* The same checks for a protocol in which each party states its own side of
 * the analysis (aggregates): reveal and params are left to the protocol,
 * which compares the two statements itself (SPEC.md §3.2). */
ovl_err ovl_hello_check_own_statement(const ovl_hello *mine, const ovl_hello *peer,
                                      uint64_t max_peer_set) OVL_MUST_USE;
/* After a negotiated analysis: the peer's HELLO must announce the set size
 * it negotiated. */
ovl_err ovl_hello_check_negotiated(const ovl_hello *peer, uint64_t negotiated) OVL_MUST_USE;

#endif
