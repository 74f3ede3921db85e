/* overlap: the threshold comparison circuit (threshold.h, SPEC.md §8.2). */
#include "aggregate/threshold.h"

#include "core/guard.h"

ovl_err ovl_agg2_threshold_circuit(ovl_circuit *out, uint64_t threshold)
{
    ovl_err rc = OVL_OK;
    ovl_cb cb;
    uint32_t a[OVL_AGG2_D_BITS], b[OVL_AGG2_D_BITS], s[OVL_AGG2_D_BITS];
    OVL_ENSURE(threshold >= OVL_AGG2_MIN_THRESHOLD && threshold <= OVL_AGG2_MAX_THRESHOLD,
               OVL_ERR_USAGE, "aggregate threshold %llu outside %u .. %u",
               (unsigned long long)threshold, OVL_AGG2_MIN_THRESHOLD, OVL_AGG2_MAX_THRESHOLD);
    ovl_cb_init(&cb, 0);
    uint32_t wa = ovl_cb_input(&cb, OVL_AGG2_D_BITS), wb = ovl_cb_input(&cb, OVL_AGG2_D_BITS);
    for (uint32_t i = 0; i < OVL_AGG2_D_BITS; i++) {
        a[i] = wa + i;
        b[i] = wb + i;
    }
    ovl_cb_add(&cb, s, a, b, OVL_AGG2_D_BITS);
    uint32_t pass = ovl_cb_ge_const(&cb, s, threshold, OVL_AGG2_D_BITS);
    ovl_cb_output(&cb, &pass, 1);
    rc = ovl_cb_finish(&cb, out); /* frees the builder */
done:
    return rc;
}

void ovl_agg2_threshold_bits(uint8_t bits[static OVL_AGG2_D_BITS], uint64_t share)
{
    ovl_bits_from_u64(bits, OVL_AGG2_D_BITS, share & 0xffffffffu);
}
