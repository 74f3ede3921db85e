/* The negotiation engine (protocols/setup/SPEC.md §3): REQUEST and TERMS
 * before the analysis, COSIGN after it, as a transport-free engine driven
 * like every other protocol (src/core/proto.h).
 *
 * The engine moves and checks the messages; what an owner decides is not its
 * business. The caller passes that in as callbacks: the connector's own
 * policy check before its request leaves, the listener's verdict on the
 * peer's request (policy, budgets, its input), the connector's agreement
 * once the terms arrive, and the verified co-signature for the audit log.
 * A callback's error fails the engine; the driver then sends the peer an
 * ABORT carrying its category and one-line detail.
 *
 * Connector:  REQUEST ->            <- TERMS        (done)
 * Listener:   <- REQUEST  (judge)   TERMS ->        (done)
 * Both, after the analysis (ovl_negotiator_cosign):  COSIGN ->  <- COSIGN */
#ifndef OVL_PROTOCOLS_NEGOTIATOR_H
#define OVL_PROTOCOLS_NEGOTIATOR_H

#include <stdbool.h>
#include <stdint.h>

#include "core/proto.h"
#include "net/identity.h"
#include "setup/negotiate.h"

typedef struct {
    /* Connector, before REQUEST leaves: checks this party's own policy and
     * fills request->connector_terms and request->connector_set. */
    ovl_err (*prepare)(void *arg, ovl_nego *request);
    /* Listener, on the peer's REQUEST: judges it and gives this owner's
     * terms and set size. It may take over the request's contents (the
     * engine clears what is left). */
    ovl_err (*judge)(void *arg, ovl_nego *request, ovl_owner_terms *terms, uint64_t *set_size);
    /* Connector, on TERMS: the listener's terms and set size. */
    ovl_err (*agree)(void *arg, const ovl_owner_terms *terms, uint64_t set_size);
    /* Both: the peer's signature of the transcript, verified. */
    ovl_err (*cosigned)(void *arg, const uint8_t sig[OVL_SIG_LEN]);
    void *arg;
} ovl_nego_callbacks;

typedef struct {
    ovl_role role;
    ovl_nego *request; /* connector: the request to send (borrowed) */
    /* Listener: a peer that opens with anything but REQUEST (HELLO, from a
     * plain `run`) does not negotiate. With `plain_refusal` NULL the engine
     * is then done without a request and keeps that frame for the analysis
     * engine, which judges it; otherwise the peer is refused with
     * OVL_ERR_POLICY and this reason. */
    const char *plain_refusal;
    const ovl_identity *self; /* signs the co-signature */
    const ovl_pubkey *peer;   /* verifies the peer's */
    ovl_nego_callbacks cb;
} ovl_negotiator_config;

typedef struct ovl_negotiator ovl_negotiator;

extern const ovl_proto_ops ovl_negotiator_ops;

ovl_err ovl_negotiator_new(ovl_negotiator **out, const ovl_negotiator_config *cfg) OVL_MUST_USE;
/* Starts the co-signature exchange over `transcript` (the analysis engine's
 * transcript hash, first 32 bytes), after a completed negotiation. */
ovl_err ovl_negotiator_cosign(ovl_negotiator *n, const uint8_t transcript[OVL_NEGO_HASH_LEN])
    OVL_MUST_USE;
/* Whether the analysis was negotiated (false: the listener's peer opened
 * with HELLO). */
bool ovl_negotiator_negotiated(const ovl_negotiator *n);
/* The mode a non-negotiating peer's HELLO stated (0 if none was parsed). */
ovl_mode ovl_negotiator_plain_mode(const ovl_negotiator *n);
/* Listener whose peer did not negotiate: appends the peer's first frame
 * (HELLO, normally; header included), to be fed to the analysis engine first. */
ovl_err ovl_negotiator_take_first(ovl_negotiator *n, ovl_buf *out) OVL_MUST_USE;
void ovl_negotiator_free(ovl_negotiator *n);

#endif
