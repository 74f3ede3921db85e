/* One Permute+Share pass (src/mpc/shuffle.h) between the two parties of an
 * ot_pair, shared by test_shuffle and test_agg2_pipeline: the permuter `pp`
 * holds dest, the helper 1 - pp; in[0], in[1] are the parties' shares and
 * out[0], out[1] receive the new ones. batch caps the switches per batch;
 * tamper (may be NULL) edits each FIX message before the permuter reads it. */
#ifndef OVL_TEST_SHUFFLE_PASS_H
#define OVL_TEST_SHUFFLE_PASS_H

#include <stdlib.h>

#include "core/guard.h"
#include "mpc/shuffle.h"
#include "ot_harness.h"

typedef void (*sp_tamper)(ovl_buf *fix);

static inline ovl_err sp_pass(ot_pair *pair, unsigned pp, const ovl_permnet *net, size_t w,
                              const uint32_t *dest, uint64_t *const in[2], uint64_t *out[2],
                              size_t batch, sp_tamper tamper)
{
    ovl_err rc = OVL_OK;
    unsigned hp = 1 - pp;
    uint64_t *masked = calloc((size_t)net->n * w, 8);
    uint8_t *choices = calloc(batch / 8 + 1, 1);
    ovl_shuffle_helper *h = NULL;
    ovl_shuffle_perm *p = NULL;
    ovl_buf share = {0}, fix = {0};
    OVL_ENSURE(masked && choices, OVL_ERR_NOMEM, "shuffle pass: out of memory");
    OVL_TRY(ovl_shuffle_helper_new(&h, net, w, &pair->rng[hp], in[hp], masked));
    OVL_TRY(ovl_shuffle_perm_new(&p, net, w, dest, masked));
    OVL_TRY(ovl_buf_alloc(&share, 256, 4u << 20));
    OVL_TRY(ovl_buf_alloc(&fix, 256, 4u << 20));
    for (size_t at = 0; at < net->switches;) {
        size_t k = net->switches - at < batch ? net->switches - at : batch;
        ovl_cot *bs = NULL, *br = NULL;
        OVL_TRY(ovl_shuffle_perm_choices(p, at, k, choices));
        ovl_buf_clear(&share);
        ovl_buf_clear(&fix);
        rc = ot_cot_run(pair, hp, choices, k, &bs, &br, NULL, NULL);
        if (rc == OVL_OK)
            rc = ovl_shuffle_helper_batch(h, bs, &share, &fix);
        if (rc == OVL_OK && tamper)
            tamper(&fix);
        if (rc == OVL_OK)
            rc = ovl_shuffle_perm_batch(p, br, &share, &fix);
        ovl_cot_free(bs);
        ovl_cot_free(br);
        if (rc != OVL_OK)
            goto done;
        at += k;
    }
    OVL_TRY(ovl_shuffle_helper_finish(h, out[hp]));
    OVL_TRY(ovl_shuffle_perm_finish(p, in[pp], out[pp]));
done:
    ovl_shuffle_helper_free(h);
    ovl_shuffle_perm_free(p);
    ovl_buf_free(&share);
    ovl_buf_free(&fix);
    free(masked);
    free(choices);
    return rc;
}

#endif
