/* Paillier: packing several bounded sums into one plaintext. */
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/guard.h"
#include "core/mem.h"
#include "crypto/gmp_wipe.h"
#include "crypto/paillier.h"
#include "crypto/paillier_impl.h"
#include "crypto/paillier_internal.h"
#include "crypto/share.h"

/* ---- packing ---- */

#define PACK_MAX_VALUE_BITS 63u

ovl_err ovl_paillier_packing_check(const ovl_paillier_packing *l, unsigned modulus_bits)
{
    ovl_err rc = OVL_OK;
    mpz_t t, cap;
    mpz_inits(t, cap, NULL);
    OVL_ENSURE(l->slots >= 1 && l->max_terms >= 1 && l->value_bits >= 1 &&
                   l->value_bits <= PACK_MAX_VALUE_BITS && l->slot_bits >= l->value_bits,
               OVL_ERR_LIMIT, "packing: need slots, terms >= 1 and 1 <= value bits (%u) <= 63, <= "
               "slot bits (%u)", l->value_bits, l->slot_bits);
    OVL_ENSURE(l->slot_bits < modulus_bits && l->slots < modulus_bits &&
                   (unsigned long)l->slots * l->slot_bits < modulus_bits,
               OVL_ERR_LIMIT, "packing: %u slots of %u bits do not fit a %u-bit modulus", l->slots,
               l->slot_bits, modulus_bits);
    /* The largest slot content is max_terms * (2^value_bits - 1). */
    mpz_setbit(t, l->value_bits);
    mpz_sub_ui(t, t, 1);
    mpz_import(cap, 1, 1, sizeof l->max_terms, 0, 0, &l->max_terms);
    mpz_mul(t, t, cap);
    OVL_ENSURE(mpz_sizeinbase(t, 2) <= l->slot_bits, OVL_ERR_LIMIT,
               "packing: %llu terms of %u-bit values overflow a %u-bit slot",
               (unsigned long long)l->max_terms, l->value_bits, l->slot_bits);
done:
    mpz_clears(t, cap, NULL);
    return rc;
}

ovl_err ovl_paillier_pack(mpz_t m, const ovl_paillier_packing *l, unsigned modulus_bits,
                          const int64_t *values, size_t count)
{
    ovl_err rc = OVL_OK;
    int64_t lim = (int64_t)(UINT64_C(1) << (l->value_bits - 1));
    mpz_t slot;
    mpz_init(slot);
    OVL_TRY(ovl_paillier_packing_check(l, modulus_bits));
    OVL_ENSURE(count <= l->slots, OVL_ERR_USAGE, "packing: %zu values for %u slots", count,
               l->slots);
    mpz_set_ui(m, 0);
    for (size_t i = l->slots; i-- > 0;) {
        int64_t v = i < count ? values[i] : 0;
        OVL_ENSURE(v >= -lim && v < lim, OVL_ERR_LIMIT,
                   "packing: value in slot %zu does not fit %u signed bits", i, l->value_bits);
        /* Stored value v + 2^(value_bits-1) is in [0, 2^value_bits). */
        mpz_set_si(slot, (long)v);
        mpz_add_ui(slot, slot, (unsigned long)lim);
        mpz_mul_2exp(m, m, l->slot_bits);
        mpz_add(m, m, slot);
    }
done:
    mpz_clear(slot);
    return rc;
}

ovl_err ovl_paillier_unpack(int64_t *sums, size_t count, const ovl_paillier_packing *l,
                            unsigned modulus_bits, const mpz_t m, uint64_t terms)
{
    ovl_err rc = OVL_OK;
    mpz_t slot, cap, offset;
    mpz_inits(slot, cap, offset, NULL);
    OVL_TRY(ovl_paillier_packing_check(l, modulus_bits));
    OVL_ENSURE(count <= l->slots && terms >= 1 && terms <= l->max_terms, OVL_ERR_USAGE,
               "unpacking: %zu values of %u slots, %llu of at most %llu terms", count, l->slots,
               (unsigned long long)terms, (unsigned long long)l->max_terms);
    OVL_ENSURE(mpz_sgn(m) >= 0 && mpz_sizeinbase(m, 2) <= (size_t)l->slots * l->slot_bits,
               OVL_ERR_LIMIT, "unpacking: packed value exceeds %u slots", l->slots);
    /* terms values contribute at most terms * (2^value_bits - 1) and carry an
     * offset of terms * 2^(value_bits-1). */
    mpz_import(offset, 1, 1, sizeof terms, 0, 0, &terms);
    mpz_mul_2exp(cap, offset, l->value_bits);
    mpz_sub(cap, cap, offset);
    mpz_mul_2exp(offset, offset, l->value_bits - 1);
    for (size_t i = 0; i < count; i++) {
        mpz_tdiv_q_2exp(slot, m, i * l->slot_bits);
        mpz_tdiv_r_2exp(slot, slot, l->slot_bits);
        OVL_ENSURE(mpz_cmp(slot, cap) <= 0, OVL_ERR_LIMIT,
                   "unpacking: slot %zu overflowed (more than %llu terms added?)", i,
                   (unsigned long long)terms);
        mpz_sub(slot, slot, offset);
        OVL_TRY(ovl_share_to_i64(&sums[i], slot));
    }
done:
    mpz_clears(slot, cap, offset, NULL);
    return rc;
}

