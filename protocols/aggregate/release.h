/* overlap: cell records, helper labels and the release of aggregates version
 * 2 (protocols/aggregate/SPEC.md §4.3, §7.4, §8.3).
 *
 * A record is a cell's product words (products.h) followed by its runner
 * index g, its contributor index c and the 32-byte key κ of the helper's
 * label of its group (4 words), all additively shared: each party puts what
 * it knows in its own share (the runner g, the contributor c, the helper κ)
 * and 0 elsewhere. After the shuffle and the comparison, the helper sends its
 * shares of the passing records (RELEASE); the receiver adds its own, opens
 * the helper's label with κ, and classifies each opened record: an
 * inconsistent one (D below T, an index out of range or repeated, a label
 * that does not open) is set aside and counted, never an error (§8.3: an
 * abort would tell the peer something about the values). */
#ifndef OVL_PROTOCOLS_AGGREGATE_RELEASE_H
#define OVL_PROTOCOLS_AGGREGATE_RELEASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aggregate/cost.h"
#include "aggregate/products.h"
#include "core/buf.h"
#include "core/error.h"
#include "crypto/rng.h"

#define OVL_AGG2_KEY_LEN 32u
#define OVL_AGG2_LABEL_CT (OVL_AGG2_LABEL_LEN + 16u) /* ciphertext and tag */
#define OVL_AGG2_LABEL_MAX (OVL_AGG2_LABEL_LEN - 2u) /* a label's bytes (u16 length first) */

/* Words per record: P + 6. */
size_t ovl_agg2_record_width(const ovl_agg2_layout *l);

/* This party's record shares (K × width) from its product shares (K × P).
 * keys: the helper's keys of its own groups (G_R or G_C of them), NULL at
 * the receiver. */
ovl_err ovl_agg2_records_build(uint64_t *rec, const ovl_agg2_layout *l, const uint64_t *cells,
                               bool runner, const uint8_t (*keys)[OVL_AGG2_KEY_LEN]) OVL_MUST_USE;

/* The helper's label of group g under a fresh key (written to key), bound to
 * g and the transcript hash th (ChaCha20-Poly1305, nonce 0: one message per
 * key). */
ovl_err ovl_agg2_label_seal(uint8_t ct[static OVL_AGG2_LABEL_CT],
                            uint8_t key[static OVL_AGG2_KEY_LEN], const uint8_t *label,
                            size_t len, uint32_t g, const uint8_t th[static 32],
                            ovl_rng *rng) OVL_MUST_USE;
/* The receiver: false when the label does not open (an inconsistency). */
bool ovl_agg2_label_open(uint8_t label[static OVL_AGG2_LABEL_MAX], size_t *len,
                         const uint8_t ct[static OVL_AGG2_LABEL_CT],
                         const uint8_t key[static OVL_AGG2_KEY_LEN], uint32_t g,
                         const uint8_t th[static 32]);
/* κ from an opened record. */
void ovl_agg2_record_key(uint8_t key[static OVL_AGG2_KEY_LEN], const uint64_t *rec,
                         const ovl_agg2_layout *l);

/* RELEASE payload: count u32, then the helper's width words of every record
 * with pass[i] = 1, ascending. */
ovl_err ovl_agg2_release_write(ovl_buf *out, const uint64_t *rec, size_t width,
                               const uint8_t *pass, size_t k) OVL_MUST_USE;
/* The receiver: exactly as many records as pass marks (PROTOCOL otherwise),
 * exactly that length (MALFORMED); opened (r × width) = helper's + own. */
ovl_err ovl_agg2_release_read(ovl_buf *in, const uint64_t *own, size_t width,
                              const uint8_t *pass, size_t k, uint64_t *opened,
                              size_t *r) OVL_MUST_USE;

/* ok[i] = 1 when opened record i is consistent: D >= T, g < G_R, c < G_C,
 * and no other record has the same (g, c). Returns the inconsistent count. */
size_t ovl_agg2_release_classify(uint8_t *ok, const uint64_t *opened, size_t r,
                                 const ovl_agg2_layout *l, uint64_t threshold);

#endif
