/* overlap: the Waksman permutation network on any n >= 1 inputs, as a program
 * of in-place switches, and its routing for a given permutation
 * (protocols/aggregate/SPEC.md §8.1).
 *
 * The network is a list of S(n) = Σ_{i=1..n} ⌈log2 i⌉ switches, each on two
 * slots of an n-slot array; a crossed switch swaps their contents. Applied in
 * order, the switches routed for dest move the content of slot i to output
 * position dest[i], read back through out_slot. The program depends on n only
 * (public); the switch bits are the secret of whoever knows the permutation.
 * The oblivious shuffle walks the program switch by switch: the permuter
 * chooses with its bits, the other party masks every slot. */
#ifndef OVL_MPC_PERMNET_H
#define OVL_MPC_PERMNET_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define OVL_PERMNET_MAX_N 65536u

typedef struct {
    uint32_t n;
    size_t switches;     /* S(n) */
    uint32_t *slot_a;    /* switches: the two slots of switch s */
    uint32_t *slot_b;
    uint32_t *out_slot;  /* n: output position j is read from slot out_slot[j] */
} ovl_permnet;

/* The program for n inputs (1 .. OVL_PERMNET_MAX_N). */
ovl_err ovl_permnet_new(ovl_permnet *net, uint32_t n) OVL_MUST_USE;
void ovl_permnet_free(ovl_permnet *net);

/* Switch bits (net->switches bytes, 0 straight / 1 crossed) sending input i
 * to output dest[i]; dest must be a permutation of 0 .. n-1 (OVL_ERR_USAGE
 * otherwise). The bits reveal the permutation: wipe them after use. */
ovl_err ovl_permnet_route(uint8_t *bits, const ovl_permnet *net, const uint32_t *dest) OVL_MUST_USE;

/* Applies the routed network to n records of `width` 64-bit words: out[dest[i]]
 * = in[i]. scratch holds n·width words. */
void ovl_permnet_apply(uint64_t *out, uint64_t *scratch, const uint64_t *in, size_t width,
                       const ovl_permnet *net, const uint8_t *bits);

#endif
