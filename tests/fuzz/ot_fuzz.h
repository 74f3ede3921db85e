/* Shared by tests/fuzz/fuzz_ot.c and its seed generator
 * (tests/tools/gen_ot_fuzz_seeds.c). An input is a selector byte, then one
 * message for the parser it selects (src/mpc/SPEC.md §3–§6):
 *   0 OT_BASE    1 EXT_U      2 EXT_CHAL   3 EXT_PROOF
 *   4 OT_CHOSEN  5 SHARE_COT  6 SHARE_OPEN                                   */
#ifndef OVL_OT_FUZZ_H
#define OVL_OT_FUZZ_H

enum {
    OF_BASE = 0,
    OF_EXT_U = 1,
    OF_EXT_CHAL = 2,
    OF_EXT_PROOF = 3,
    OF_CHOSEN = 4,
    OF_SHARE = 5,
    OF_OPEN = 6,
    OF_SELECTORS = 7
};
#define OF_N 16         /* OTs per fuzzed batch */
#define OF_SHARE_W 64   /* SHARE_COT word width */
#define OF_SHARE_L 2    /* SHARE_COT words per OT */
#define OF_OPEN_N 4     /* SHARE_OPEN shares */

#endif
