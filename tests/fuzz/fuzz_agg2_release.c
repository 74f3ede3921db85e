/* Fuzzes the aggregate v2 receiver's RELEASE reader and what follows it
 * (protocols/aggregate/release.h): the first bytes choose the layout's group
 * counts and the passing positions, the rest is the helper's RELEASE payload.
 * Reading must never crash or over-read; an accepted payload holds exactly
 * one record per passing position; classifying and opening labels of the
 * opened records (whatever their values) never fails or crashes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate/release.h"
#include "core/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    ovl_agg2_layout l = {1u + data[0] % 4u, 1u + data[1] % 4u, 2, 2, 3, 3, data[0] >> 7, 0};
    size_t k = ovl_agg2_prod_cells(&l), w = ovl_agg2_record_width(&l), want = 0;
    uint8_t pass[16];
    for (size_t i = 0; i < k; i++) {
        pass[i] = (uint8_t)((((uint32_t)data[3] << 8 | data[2]) >> i) & 1u);
        want += pass[i];
    }
    uint64_t own[16 * 14] = {0}, opened[16 * 14];
    for (size_t i = 0; i < k * w; i++)
        own[i] = (uint64_t)i * 0x9e3779b97f4a7c15u;
    ovl_buf in;
    size_t r = 0;
    ovl_buf_reader(&in, data + 4, size - 4);
    if (ovl_agg2_release_read(&in, own, w, pass, k, opened, &r) != OVL_OK) {
        if (r != 0)
            abort();
        return 0;
    }
    if (r != want || ovl_buf_remaining(&in) != 0)
        abort();
    uint8_t ok[16], th[32] = {0}, ct[OVL_AGG2_LABEL_CT], key[OVL_AGG2_KEY_LEN];
    uint8_t label[OVL_AGG2_LABEL_MAX];
    if (ovl_agg2_release_classify(ok, opened, r, &l, 2) > r)
        abort();
    memset(ct, 0, sizeof ct);
    memcpy(ct, data + 4, size - 4 < sizeof ct ? size - 4 : sizeof ct);
    for (size_t i = 0; i < r; i++) {
        size_t len = 1;
        ovl_agg2_record_key(key, opened + i * w, &l);
        if (!ovl_agg2_label_open(label, &len, ct, key, (uint32_t)i, th) && len != 0)
            abort();
    }
    return 0;
}
