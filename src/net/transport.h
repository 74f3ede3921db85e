/* overlap: mutually authenticated TLS 1.3 connections with pinned peer keys.
 *
 * Each side presents a self-signed certificate for its Ed25519 identity key;
 * the handshake succeeds only when the peer's certificate key equals one of
 * the pinned public keys. There is no plaintext mode.
 *
 * Connections are non-blocking underneath: the caller drives both directions
 * at once (so two peers sending large messages cannot deadlock) with
 * ovl_conn_read_some / ovl_conn_write_some and waits with ovl_conn_wait. */
#ifndef OVERLAP_TRANSPORT_H
#define OVERLAP_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "net/identity.h"

typedef struct ovl_listener ovl_listener;
typedef struct ovl_conn ovl_conn;

/* Binds and listens on "HOST:PORT" ("[::1]:7700" for IPv6). */
ovl_err ovl_listen(ovl_listener **out, const char *hostport) OVL_MUST_USE;
/* The bound port (useful with port 0 in tests). */
uint16_t ovl_listener_port(const ovl_listener *l);
int ovl_listener_fd(const ovl_listener *l);
void ovl_listener_close(ovl_listener *l);

/* Accepts connections until one completes a TLS 1.3 handshake with a peer
 * whose key is among `peers`. Connections that fail (port scans, wrong key,
 * not TLS) are closed and logged as one line to stderr; the wait goes on.
 * Fails with OVL_ERR_TIMEOUT when none succeeds within timeout_ms (0: wait
 * forever). Each handshake is itself bounded by handshake_ms. */
ovl_err ovl_accept(ovl_conn **out, ovl_listener *l, const ovl_identity *self,
                   const ovl_pubkey *peers, size_t npeers, int timeout_ms,
                   int handshake_ms) OVL_MUST_USE;
/* One attempt on an already accepted socket (used by serve's workers). Takes
 * ownership of fd on every path: it is closed on failure. */
ovl_err ovl_accept_fd(ovl_conn **out, int fd, const char *peer_label, const ovl_identity *self,
                      const ovl_pubkey *peers, size_t npeers, int handshake_ms) OVL_MUST_USE;

/* A peer pinned by fingerprint only ("SHA256:<hex>"), as policies list them. */
typedef struct {
    char fpr[OVL_FPR_LEN];
    char name[OVL_NAME_MAX + 1];
} ovl_fpr_pin;

/* Like ovl_accept_fd, but accepts any peer whose key fingerprint is listed;
 * ovl_conn_peer then holds the presented key and the listed name. */
ovl_err ovl_accept_fd_fpr(ovl_conn **out, int fd, const char *peer_label,
                          const ovl_identity *self, const ovl_fpr_pin *peers, size_t npeers,
                          int handshake_ms) OVL_MUST_USE;

/* Connects to "HOST:PORT", retrying refused connections until timeout_ms,
 * then runs the handshake pinning `peer`. */
ovl_err ovl_connect(ovl_conn **out, const char *hostport, const ovl_identity *self,
                    const ovl_pubkey *peer, int timeout_ms) OVL_MUST_USE;

/* The authenticated peer's key (one of the pinned ones). */
const ovl_pubkey *ovl_conn_peer(const ovl_conn *c);
/* "host:port" of the peer, for messages. */
const char *ovl_conn_label(const ovl_conn *c);

/* Non-blocking I/O. *n is the number of bytes moved (0 when it would block).
 * read_some fails with OVL_ERR_PEER_CLOSED on EOF/reset. */
ovl_err ovl_conn_read_some(ovl_conn *c, uint8_t *p, size_t cap, size_t *n) OVL_MUST_USE;
ovl_err ovl_conn_write_some(ovl_conn *c, const uint8_t *p, size_t len, size_t *n) OVL_MUST_USE;
/* True when decrypted bytes, or a whole record not yet decrypted, are already
 * buffered (poll would not show them). */
bool ovl_conn_pending(const ovl_conn *c);
/* Waits until the connection may be readable (always waited for) or, when
 * want_write, writable, or timeout_ms passes (then *ready is false). */
ovl_err ovl_conn_wait(ovl_conn *c, bool want_write, int timeout_ms, bool *ready) OVL_MUST_USE;
/* The socket, for callers that poll it beside other descriptors: poll for
 * POLLIN always, and POLLOUT while ovl_conn_wants_write says so. */
int ovl_conn_fd(const ovl_conn *c);
/* True when the last read or write stopped because TLS must write first. */
bool ovl_conn_wants_write(const ovl_conn *c);
/* Sends close_notify (best effort) and frees. NULL is fine. */
void ovl_conn_close(ovl_conn *c);

/* Bytes of TLS records moved, for --summary. */
uint64_t ovl_conn_bytes_sent(const ovl_conn *c);
uint64_t ovl_conn_bytes_received(const ovl_conn *c);

#endif
