/* Fuzzes element decoding: peer-supplied bytes through validate and
 * scalar_mult on every arithmetic. Neither may crash, and they must agree:
 * scalar_mult succeeds exactly on the encodings validate accepts, its output
 * validates, and the multi-buffer back ends (AVX-512 IFMA where the CPU has
 * it, and its emulation) give libsodium's bytes and verdicts lane by lane.
 * Inputs of 64 bytes or more also go through the one-way map on each. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto/group.h"
#include "crypto/r255x8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A fixed non-zero scalar, reduced (< L), so s*P is never the identity. */
static const uint8_t scalar[OVL_GROUP_MAX_SCALAR] = {0x2a, 0x17, 0x05, 0x99, 0x01};

/* Lane i holds the input with byte i flipped in its low bit (lane 0: as is). */
static void compare_x8(const ovl_r255x8 *x, const ovl_group *g, const uint8_t p[32])
{
    uint8_t pts[8 * 32], out[8 * 32], want[32];
    for (int i = 0; i < 8; i++) {
        memcpy(pts + 32 * i, p, 32);
        if (i > 0)
            pts[32 * i + (size_t)(i * 5) % 32] ^= 1;
    }
    unsigned v = x->validate(pts), m = x->scalar_mult(out, scalar, 0, pts);
    for (int i = 0; i < 8; i++) {
        int ok = g->scalar_mult(want, scalar, pts + 32 * i) == OVL_OK;
        if (!ok)
            memset(want, 0, sizeof want);
        if (ok != (int)((m >> i) & 1) || ok != (int)((v >> i) & 1) ||
            memcmp(want, out + 32 * i, 32) != 0)
            abort();
    }
}

static void compare_map(const ovl_r255x8 *x, const uint8_t *data)
{
    uint8_t h[8 * 64], out[8 * 32], want[32];
    for (int i = 0; i < 8; i++)
        memcpy(h + 64 * i, data, 64);
    h[64 * 3] ^= 0x80;
    x->from_hash(out, h);
    for (int i = 0; i < 8; i++) {
        crypto_core_ristretto255_from_hash(want, h + 64 * i);
        if (memcmp(want, out + 32 * i, 32) != 0)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        if (ovl_crypto_init() != OVL_OK)
            abort();
        ready = 1;
    }
    const ovl_group *g = ovl_group_default();
    uint8_t p[OVL_GROUP_MAX_ELEM] = {0}, out[OVL_GROUP_MAX_ELEM];
    memcpy(p, data, size < g->elem_len ? size : g->elem_len);

    ovl_err valid = g->validate(p);
    ovl_err mult = g->scalar_mult(out, scalar, p);
    if ((valid == OVL_OK) != (mult == OVL_OK))
        abort();
    if (mult == OVL_OK && g->validate(out) != OVL_OK)
        abort();

    const ovl_r255x8 *backs[2] = {&ovl_r255x8_emu,
                                  ovl_arith_ifma_supported() ? &ovl_r255x8_ifma : NULL};
    for (int b = 0; b < 2 && backs[b] != NULL; b++) {
        compare_x8(backs[b], g, p);
        if (size >= 64)
            compare_map(backs[b], data);
    }
    return 0;
}
