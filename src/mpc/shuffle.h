/* overlap: oblivious shuffle of additively shared records by Permute+Share on
 * the Waksman network (protocols/aggregate/SPEC.md §8.1; Mohassel–Sadeghian,
 * Eurocrypt 2013).
 *
 * One pass: the permuter P knows a permutation π (dest[i] = where record i
 * goes); the helper S knows nothing of it. Records are `width` words over
 * Z_2^64, shared x = x_P + x_S. S masks its shares with fresh uniform words
 * per slot and sends them (MASKED); for every switch of the network, in order,
 * one chosen-message OT of 2·width words lets P, choosing with its switch bit,
 * move its masked values to fresh masks without learning them; at the end P's
 * values are π(x_S) plus S's final masks, so P holds π(x_P) + π(x_S) + m and S
 * holds −m: fresh shares of π(x). The chosen OT is a COT with correlation
 * M1 − M0 (SHARE_COT) plus the word vector M0 − s (CHOSEN_FIX, kind 0x08).
 * Two passes with the permuter's role swapped leave a permutation neither
 * party knows.
 *
 * Nothing here opens a value, and nothing checks values: a party that
 * deviates corrupts the shares, it is not detected (SPEC §10.3). */
#ifndef OVL_MPC_SHUFFLE_H
#define OVL_MPC_SHUFFLE_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"
#include "crypto/rng.h"
#include "mpc/ot.h"
#include "mpc/permnet.h"

#define OVL_OTMSG_CHOSEN_FIX 0x08
#define OVL_SHUFFLE_MAX_WIDTH 128u /* 2·width words per OT <= OVL_SHARE_MAX_WORDS */

/* The switches one COT batch may carry for records of `width` words: one
 * SHARE_COT and one CHOSEN_FIX of at most 2^20 bytes each. */
size_t ovl_shuffle_batch_max(size_t width);
/* CHOSEN_FIX length for n switches. */
size_t ovl_shuffle_fix_msg_len(size_t n, size_t width);

typedef struct ovl_shuffle_helper ovl_shuffle_helper;
typedef struct ovl_shuffle_perm ovl_shuffle_perm;

/* S: draws the masks and writes its masked shares (n·width words) to masked,
 * to be sent to P. share (n·width) is S's input share; net, rng borrowed. */
ovl_err ovl_shuffle_helper_new(ovl_shuffle_helper **out, const ovl_permnet *net, size_t width,
                               ovl_rng *rng, const uint64_t *share, uint64_t *masked) OVL_MUST_USE;
/* S, as sender of a verified COT batch of k switches (the next ones): writes
 * SHARE_COT and CHOSEN_FIX. */
ovl_err ovl_shuffle_helper_batch(ovl_shuffle_helper *h, ovl_cot *b, ovl_buf *share_msg,
                                 ovl_buf *fix_msg) OVL_MUST_USE;
/* S, after every switch: its share of π(x), n·width words. */
ovl_err ovl_shuffle_helper_finish(ovl_shuffle_helper *h, uint64_t *share) OVL_MUST_USE;
void ovl_shuffle_helper_free(ovl_shuffle_helper *h);

/* P: routes dest (secret) and takes S's masked shares (n·width words). */
ovl_err ovl_shuffle_perm_new(ovl_shuffle_perm **out, const ovl_permnet *net, size_t width,
                             const uint32_t *dest, const uint64_t *masked) OVL_MUST_USE;
/* P: the choice bits (packed, bit j at choices[j/8] >> j%8) of switches
 * first .. first + k - 1, to start their COT batch with; a batch may be
 * started before the earlier ones are moved (they are used in order). */
ovl_err ovl_shuffle_perm_choices(const ovl_shuffle_perm *p, size_t first, size_t k,
                                 uint8_t *choices) OVL_MUST_USE;
/* P, as receiver of that batch: reads SHARE_COT and CHOSEN_FIX, moves its values. */
ovl_err ovl_shuffle_perm_batch(ovl_shuffle_perm *p, ovl_cot *b, ovl_buf *share_msg,
                               ovl_buf *fix_msg) OVL_MUST_USE;
/* P, after every switch: its share of π(x) from its input share own. */
ovl_err ovl_shuffle_perm_finish(ovl_shuffle_perm *p, const uint64_t *own,
                                uint64_t *share) OVL_MUST_USE;
void ovl_shuffle_perm_free(ovl_shuffle_perm *p);

#endif
