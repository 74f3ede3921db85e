/* The fixed two-party setting shared by the PSI fuzz target and the seed
 * generator (tests/tools/gen_fuzz_seeds.c): both engines seeded, so the
 * frames an honest peer sends after HELLO are the same every time and a
 * recorded session is a valid fuzz seed that reaches the end of the run.
 *
 * A fuzz input is [selector u8][frames from the peer after its HELLO]. The
 * selector picks the reveal (bits 1-2, mod 3) and which role the engine
 * under test plays (bit 3); bit 0 is unused (intersection is the only mode). */
#ifndef OVL_PSI_FUZZ_H
#define OVL_PSI_FUZZ_H

#include <stdlib.h>
#include <string.h>

#include "crypto/group.h"
#include "psi/psi.h"

#define PF_NIDS 3
#define PF_MAX_PEER 64

static const uint8_t pf_ids[2][PF_NIDS][32] = {
    {{'a'}, {'b'}, {'c'}}, /* listener */
    {{'b'}, {'c'}, {'d'}}, /* connector: shares b and c */
};
static const uint8_t pf_seeds[2][32] = {{'L', 's', 'e', 'e', 'd'}, {'C', 's', 'e', 'e', 'd'}};
static const uint8_t pf_params[] = "psi/1 id=sha256 normalize=none";

static inline ovl_role pf_target_role(uint8_t sel)
{
    return (sel >> 3) & 1 ? OVL_ROLE_CONNECTOR : OVL_ROLE_LISTENER;
}

/* The engine playing `role` under selector `sel`. */
static inline ovl_err pf_new(ovl_psi **out, uint8_t sel, ovl_role role)
{
    ovl_psi_config cfg = {
        .role = role,
        .mode = OVL_MODE_INTERSECTION,
        .reveal = (ovl_reveal)(((sel >> 1) & 3) % 3),
        .group = ovl_group_default(),
        .ids = pf_ids[role],
        .nids = PF_NIDS,
        .max_peer_set = PF_MAX_PEER,
        .batch = 2, /* several ELEMENTS and TAGS frames even for 3 ids */
        .max_jobs = 2,
        .params = pf_params,
        .params_len = sizeof pf_params - 1,
        .test_seed = pf_seeds[role],
    };
    return ovl_psi_new(out, &cfg);
}

#endif
