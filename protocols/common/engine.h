/* overlap: the engine kit, what every transport-free protocol engine shares
 * (protocols/common/SPEC.md §6): the state with a failure that sticks, the
 * HELLO exchange bound into the transcript, the run's secrets, and the
 * ordered output of jobs that workers finish in any order. */
#ifndef OVL_PROTOCOLS_ENGINE_H
#define OVL_PROTOCOLS_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/job.h"
#include "crypto/group.h"
#include "crypto/rng.h"
#include "common/hello.h"
#include "common/proto.h"
#include "common/transcript.h"

typedef enum {
    OVL_ENGINE_SETUP, /* HELLOs being exchanged */
    OVL_ENGINE_RUN,   /* the protocol's own messages */
    OVL_ENGINE_DONE,
    OVL_ENGINE_FAILED
} ovl_engine_state;

typedef struct {
    ovl_engine_state state;
    ovl_err failure;
    ovl_role role;
    bool hello_sent;
    ovl_buf hello_frame; /* our HELLO, header included */
    uint8_t transcript[OVL_TRANSCRIPT_LEN];
} ovl_engine;

/* Records the first failure and returns it; a failed engine stays failed. */
ovl_err ovl_engine_fail(ovl_engine *e, ovl_err rc);
/* rc itself when OVL_OK, else ovl_engine_fail(e, rc): every entry point ends so. */
static inline ovl_err ovl_engine_end(ovl_engine *e, ovl_err rc)
{
    return rc == OVL_OK ? rc : ovl_engine_fail(e, rc);
}
void ovl_engine_free(ovl_engine *e);

/* The run's random stream: the system CSPRNG, or for tests and vectors ONLY
 * a ChaCha20 stream from test_seed under `label`. */
void ovl_engine_rng_init(ovl_rng *rng, const uint8_t *test_seed, const char *label);
/* A fresh secret scalar, drawn from the system CSPRNG, or from rng when the
 * run is seeded (test mode), so that vectors replay. */
ovl_err ovl_engine_scalar(const ovl_group *g, uint8_t *scalar, ovl_rng *rng,
                          bool seeded) OVL_MUST_USE;

/* Writes our HELLO, with a nonce drawn from rng now, for ovl_engine_pull. */
ovl_err ovl_engine_hello_init(ovl_engine *e, ovl_role role, ovl_hello *h,
                              ovl_rng *rng) OVL_MUST_USE;

/* How the peer's HELLO is checked (SPEC.md §3.2). */
typedef struct {
    uint64_t max_peer_set;
    /* Set when each party states its own side of the analysis: reveal and
     * params are then compared by this callback, not byte for byte. */
    ovl_err (*statement)(void *arg, const ovl_hello *mine, const ovl_hello *peer);
    void *arg;
    bool expect_peer_set; /* the peer must announce peer_set_expected */
    uint64_t peer_set_expected;
} ovl_hello_rules;

/* Parses and checks the peer's HELLO (*peer points into payload) and binds
 * both HELLOs into e->transcript. The state stays SETUP: the engine moves to
 * RUN once its own setup is done. */
ovl_err ovl_engine_hello_recv(ovl_engine *e, const ovl_hello_rules *rules, const uint8_t *payload,
                              size_t len, ovl_hello *peer) OVL_MUST_USE;

/* The start of every feed: a failed engine returns its failure, ABORT fails
 * it with the peer's reason, and in SETUP only HELLO is accepted. On OVL_OK
 * the frame is the engine's to handle (the peer's HELLO while in SETUP). */
ovl_err ovl_engine_admit(ovl_engine *e, uint8_t type, const uint8_t *payload,
                         size_t len) OVL_MUST_USE;
/* The start of every pull (*have = false on entry): a failed engine returns
 * its failure and our HELLO leaves first. */
ovl_err ovl_engine_pull(ovl_engine *e, ovl_buf *out, bool *have) OVL_MUST_USE;

/* Ordered output: jobs get sequence numbers when made, workers finish them
 * in any order, and they leave in sequence. The window holds `cap` numbers:
 * the engine keeps made - sent below cap (a stream whose length is known and
 * small may make its whole length the window). */
typedef struct {
    ovl_job **slot;
    size_t cap;
    size_t made, sent;
} ovl_order;

ovl_err ovl_order_init(ovl_order *o, size_t cap) OVL_MUST_USE;
static inline size_t ovl_order_seq(ovl_order *o) { return o->made++; }
static inline size_t ovl_order_window(const ovl_order *o) { return o->made - o->sent; }
/* A finished job takes its place (an INTERNAL error outside the window). */
ovl_err ovl_order_put(ovl_order *o, size_t seq, ovl_job *job) OVL_MUST_USE;
/* The job next in sequence if it has finished, taken out; else NULL. */
ovl_job *ovl_order_take(ovl_order *o);
void ovl_order_free(ovl_order *o, void (*free_job)(ovl_job *));

#endif
