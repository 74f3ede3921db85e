/* Multi-party private set intersection for 3 to 10 members
 * (protocols/mpsi/SPEC.md).
 *
 * Transport-free, like every engine, but with K parties: each message the
 * engine produces carries the index of the member it is for, and each
 * message fed in carries the index of the member it came from. The hub
 * (member 0, the listener) relays between the others (SPEC.md §3). */
#ifndef OVL_PROTOCOLS_MPSI_H
#define OVL_PROTOCOLS_MPSI_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/pool.h"
#include "core/kinds.h"
#include "crypto/group.h"

#define OVL_MPSI_MIN_MEMBERS 3u
#define OVL_MPSI_MAX_MEMBERS 10u
#define OVL_MPSI_MAX_SET (1u << 24)   /* identifiers per member, by spec */
#define OVL_MPSI_BATCH 8192u          /* elements per CHAIN/BLIND frame (spec cap) */
#define OVL_MPSI_CHUNK (1u << 19)     /* table bytes per TABLE frame (spec cap) */
#define OVL_MPSI_SHARE_WORDS 2u       /* 128-bit zero shares */
#define OVL_MPSI_TAG 16u

/* Inner frame types (SPEC.md §4). */
enum {
    OVL_MPSI_KEY = 0x31,
    OVL_MPSI_CHAIN = 0x32,
    OVL_MPSI_TABLE = 0x33,
    OVL_MPSI_BLIND = 0x34,
    OVL_MPSI_TAGS = 0x35,
    OVL_MPSI_COUNT = 0x36
};

typedef struct {
    unsigned members;          /* K, 3..10 */
    unsigned self;             /* this member's index; 0 is the listener (hub) */
    ovl_mode mode;             /* intersection or cardinality */
    ovl_reveal reveal;         /* OVL_REVEAL_BOTH (every member) or OVL_REVEAL_LISTENER */
    const ovl_group *group;
    const uint8_t (*ids)[32];  /* distinct identifiers, borrowed */
    size_t nids;
    const uint64_t *set_sizes; /* every member's announced size (public, from the setup) */
    const uint8_t (*member_pk)[32]; /* every member's Ed25519 identity key, from the list */
    const char *const *names;  /* every member's name, for errors (may be NULL) */
    const uint8_t *sign_sk;    /* this member's Ed25519 secret key (64 bytes), or NULL and: */
    /* signs with a key held elsewhere (the session's identity) */
    ovl_err (*sign)(void *arg, uint8_t sig[64], const uint8_t *msg, size_t len);
    void *sign_arg;
    const uint8_t *session;    /* 32 bytes binding the member list and the analysis */
    const uint8_t *test_seed;  /* 32 bytes: deterministic secrets for tests/vectors ONLY */
    /* Worker threads for the group operations of a batch (NULL: the caller's
     * thread alone). The engine waits for them within feed, so the pool
     * must hold no one else's jobs while it runs. */
    ovl_pool *pool;
} ovl_mpsi_config;

typedef struct ovl_mpsi ovl_mpsi;

ovl_err ovl_mpsi_new(ovl_mpsi **out, const ovl_mpsi_config *cfg) OVL_MUST_USE;
void ovl_mpsi_free(ovl_mpsi *m);

/* One complete inner frame (type and payload) from member `from`. */
ovl_err ovl_mpsi_feed(ovl_mpsi *m, unsigned from, uint8_t type, const uint8_t *payload,
                      size_t len) OVL_MUST_USE;
/* Appends the next inner frame to send (header included) and its destination. */
ovl_err ovl_mpsi_pull(ovl_mpsi *m, ovl_buf *out, unsigned *to, bool *have) OVL_MUST_USE;
bool ovl_mpsi_done(const ovl_mpsi *m);

/* After done. Intersection: whether this member receives rows, and
 * matched[i] for cfg->ids[i]. Cardinality: *count (every member). */
bool ovl_mpsi_receives(const ovl_mpsi *m);
ovl_err ovl_mpsi_result(const ovl_mpsi *m, const bool **matched, uint64_t *count) OVL_MUST_USE;
/* Bytes of inner frames this member produced (for the benchmark). */
uint64_t ovl_mpsi_bytes_sent(const ovl_mpsi *m);

#endif
