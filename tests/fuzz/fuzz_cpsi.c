/* Fuzzes the circuit-PSI engine as a hostile peer would: byte 0 picks the
 * target (bit 0: 1 = the contributor, 0 = the runner; bit 1: aggregate mode
 * with one payload word and a bit payload of 2 groups of 3 bits, else
 * cardinality); after a valid HELLO
 * from an honest seeded peer, the rest of the input is fed as frames, with
 * the target's jobs run and its output drained between frames. Nothing may
 * crash or leak; every error must name the peer's fault (never an internal
 * or usage error); a failed engine stays failed and has no output. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "cpsi/cpsi.h"
#include "crypto/group.h"
#include "engine_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t *const ids[] = {(const uint8_t *)"ann", (const uint8_t *)"bob",
                                     (const uint8_t *)"cy", (const uint8_t *)"dee",
                                     (const uint8_t *)"eve"};
static const size_t lens[] = {3, 3, 2, 3, 3};

/* The shares of a failed engine: there must be none. */
static bool has_output(void *p)
{
    ovl_cpsi_shares sh;
    return ovl_cpsi_result(p, &sh) == OVL_OK;
}

static const uint64_t payload[5] = {1, 2, 3, 4, 5};
static const uint16_t counts[10] = {0, 7, 1, 0, 7, 7, 3, 2, 0, 5};

/* gate: the bit payload's gate stride (0, or 2 or 6 of its 6 bits). */
static ovl_cpsi *make(bool runner, ovl_role role, const uint8_t *seed, bool bits, uint32_t gate)
{
    ovl_cpsi_config c = {
        .role = role,
        .runner = runner,
        .mode = bits ? OVL_MODE_AGGREGATE : OVL_MODE_CARDINALITY,
        .reveal = OVL_REVEAL_BOTH,
        .ids = ids,
        .id_len = lens,
        .nids = 5,
        .test_seed = seed,
        .payload = bits && !runner ? payload : NULL,
        .words = bits ? 1u : 0u,
        .bit_groups = bits ? 2u : 0u,
        .bit_width = bits ? 3u : 0u,
        .bit_counts = bits && !runner ? counts : NULL,
        .bit_gate_every = bits ? gate : 0u,
    };
    ovl_cpsi *p = NULL;
    if (ovl_cpsi_new(&p, &c) != OVL_OK)
        abort();
    return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t s1[32] = {1}, s2[32] = {2};
    ef_crypto_once();
    if (size < 1)
        return 0;
    bool contributor = data[0] & 1u, bits = (data[0] & 2u) != 0;
    /* bits 2-3 of the first byte: the stride, so the ungated decoding and
     * SEED's stride field are reached too */
    static const uint32_t gates[4] = {0, 2, 6, 0};
    uint32_t gate = gates[(data[0] >> 2) & 3u];
    ovl_cpsi *t = make(!contributor, OVL_ROLE_LISTENER, s1, bits, gate);
    ovl_cpsi *h = make(contributor, OVL_ROLE_CONNECTOR, s2, bits, gate);
    ef_run(&ovl_cpsi_ops, t, h, data + 1, size - 1, ef_any_peer_fault, has_output);
    ovl_cpsi_free(t);
    ovl_cpsi_free(h);
    return 0;
}
