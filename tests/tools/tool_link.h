/* The pinned TLS link the test tools (bristol2pc, hostile_peer) open to
 * their peer: listen and accept one pinned
 * connection, or connect, both with the tool's timeout. The listening port
 * goes to stderr so a test that asked for port 0 can find it. */
#ifndef OVL_TOOL_LINK_H
#define OVL_TOOL_LINK_H

#include <stdio.h>

#include "net/identity.h"
#include "net/transport.h"

/* Exactly one of `listen` and `connect` is set; `*l` is the caller's to close. */
static inline ovl_err tl_link(const char *tool, const ovl_identity *self, const ovl_pubkey *pin,
                              const char *listen, const char *connect, unsigned long timeout,
                              ovl_conn **conn, ovl_listener **l)
{
    int ms = (int)timeout * 1000;
    if (listen == NULL)
        return ovl_connect(conn, connect, self, pin, ms);
    ovl_err rc = ovl_listen(l, listen);
    if (rc != OVL_OK)
        return rc;
    fprintf(stderr, "%s: listening on port %u\n", tool, ovl_listener_port(*l));
    return ovl_accept(conn, *l, self, pin, 1, ms, ms);
}

/* The same after loading the tool's identity and the peer's pinned key. */
static inline ovl_err tl_link_files(const char *tool, const char *identity, const char *peer,
                                    const char *listen, const char *connect,
                                    unsigned long timeout, ovl_conn **conn, ovl_listener **l)
{
    ovl_identity *self = NULL;
    ovl_pubkey pin;
    ovl_err rc = ovl_identity_load(&self, identity);
    if (rc == OVL_OK)
        rc = ovl_pubkey_load(&pin, peer);
    if (rc == OVL_OK)
        rc = tl_link(tool, self, &pin, listen, connect, timeout, conn, l);
    ovl_identity_free(self);
    return rc;
}

#endif
