/* The session setup of multi-party PSI (protocols/mpsi/SPEC.md §3.2, §3.4):
 * each member's JOIN to the hub, the hub's member LIST, the verdict and
 * start frames, and the co-signatures collected after the run. Codecs only,
 * transport-free; the session layer (src/session/mpsi_run.c) moves them. */
#ifndef OVL_PROTOCOLS_MPSI_SETUP_H
#define OVL_PROTOCOLS_MPSI_SETUP_H

#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/kinds.h"
#include "io/table.h"
#include "mpsi/mpsi.h"
#include "net/identity.h"

#define OVL_MPSI_SETUP_VERSION 1u

/* Setup frame types (SPEC.md §3.4); 0x30..0x36 are the run's. */
enum {
    OVL_MPSI_JOIN = 0x38,  /* member -> hub: what it states */
    OVL_MPSI_LIST = 0x39,  /* hub -> member: the member list and the analysis */
    OVL_MPSI_READY = 0x3a, /* member -> hub: the list and analysis are acceptable */
    OVL_MPSI_GO = 0x3b,    /* hub -> member: every member is ready */
    OVL_MPSI_SIGN = 0x3c,  /* member -> hub: its co-signature once its part is done */
    OVL_MPSI_SIGS = 0x3d   /* hub -> member: every member's co-signature */
};

/* What a member states: the analysis and its set size. */
typedef struct {
    unsigned members;
    ovl_mode mode;
    ovl_reveal reveal;
    ovl_norm norm;
    uint64_t size;
    uint8_t nonce[32];
} ovl_mpsi_join;

/* The member list: index 0 is the hub (listener). */
typedef struct {
    unsigned members;
    unsigned index; /* the member the list is sent to */
    ovl_mode mode;
    ovl_reveal reveal;
    ovl_norm norm;
    uint8_t pk[OVL_MPSI_MAX_MEMBERS][OVL_PK_LEN];
    uint64_t size[OVL_MPSI_MAX_MEMBERS];
    uint8_t nonce[OVL_MPSI_MAX_MEMBERS][32];
    char name[OVL_MPSI_MAX_MEMBERS][OVL_NAME_MAX + 1];
} ovl_mpsi_list;

ovl_err ovl_mpsi_join_write(ovl_buf *out, const ovl_mpsi_join *j) OVL_MUST_USE;
ovl_err ovl_mpsi_join_read(ovl_mpsi_join *j, const uint8_t *p, size_t len) OVL_MUST_USE;
ovl_err ovl_mpsi_list_write(ovl_buf *out, const ovl_mpsi_list *l) OVL_MUST_USE;
ovl_err ovl_mpsi_list_read(ovl_mpsi_list *l, const uint8_t *p, size_t len) OVL_MUST_USE;

/* sid = SHA-256("overlap-v1 mpsi session" || the list without its index):
 * the same at every member, bound into every protocol value (§3.2). */
ovl_err ovl_mpsi_list_session(uint8_t sid[32], const ovl_mpsi_list *l) OVL_MUST_USE;
/* The transcript hash every member co-signs once its part of the run is
 * done (§3.4): SHA-256("overlap-v1 mpsi done" || sid). */
void ovl_mpsi_done_hash(uint8_t out[32], const uint8_t sid[32]);

ovl_err ovl_mpsi_sign_write(ovl_buf *out, const uint8_t sig[OVL_SIG_LEN]) OVL_MUST_USE;
ovl_err ovl_mpsi_sign_read(uint8_t sig[OVL_SIG_LEN], const uint8_t *p, size_t len) OVL_MUST_USE;
ovl_err ovl_mpsi_sigs_write(ovl_buf *out, unsigned members,
                            const uint8_t (*sigs)[OVL_SIG_LEN]) OVL_MUST_USE;
/* Exactly `members` signatures; the caller checks them against the list. */
ovl_err ovl_mpsi_sigs_read(uint8_t (*sigs)[OVL_SIG_LEN], unsigned members, const uint8_t *p,
                           size_t len) OVL_MUST_USE;

#endif
