/* overlap: the OT-based OPRF of circuit PSI (oprf.h, SPEC.md §4). */
#include <string.h>

#include <sodium.h>

#include "cpsi/oprf.h"

static const char out_key[] = "overlap-cpsi-v2 oprf";

ovl_err ovl_oprf_code(ovl_aes *kc, const ovl_block *d, size_t n, ovl_block *out)
{
    for (size_t i = 0; i < n; i++)
        for (unsigned k = 0; k < OVL_OPRF_BLOCKS; k++)
            out[OVL_OPRF_BLOCKS * i + k] = ovl_block_xor(d[i], ovl_block_make(0, k));
    return ovl_aes_ecb(kc, out, out, n * OVL_OPRF_BLOCKS);
}

void ovl_oprf_out(uint8_t out[static OVL_OPRF_OUT], uint32_t bin,
                  const ovl_block row[static OVL_OPRF_BLOCKS])
{
    uint8_t in[4 + 16 * OVL_OPRF_BLOCKS];
    for (int i = 0; i < 4; i++)
        in[i] = (uint8_t)(bin >> (8 * i));
    for (unsigned k = 0; k < OVL_OPRF_BLOCKS; k++)
        ovl_block_store(in + 4 + 16 * k, row[k]);
    crypto_generichash(out, OVL_OPRF_OUT, in, sizeof in, (const uint8_t *)out_key,
                       sizeof out_key - 1);
    sodium_memzero(in, sizeof in);
}

void ovl_oprf_eval(uint8_t out[static OVL_OPRF_OUT], uint32_t bin,
                   const ovl_block q[static OVL_OPRF_BLOCKS],
                   const ovl_block code[static OVL_OPRF_BLOCKS],
                   const ovl_block s[static OVL_OPRF_BLOCKS])
{
    ovl_block row[OVL_OPRF_BLOCKS];
    for (unsigned k = 0; k < OVL_OPRF_BLOCKS; k++)
        row[k] = ovl_block_xor(q[k], ovl_block_and(code[k], s[k]));
    ovl_oprf_out(out, bin, row);
    sodium_memzero(row, sizeof row);
}
