/* Fuzzes the Paillier ciphertext and public-key readers under a fixed test key.
 * The first input byte picks the reader; the rest is its input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gmp.h>

#include "core/buf.h"
#include "crypto/paillier.h"

static ovl_paillier_sk *fuzz_sk;

static void fuzz_key_free(void)
{
    ovl_paillier_sk_free(fuzz_sk);
    fuzz_sk = NULL;
}

/* The key lives in sodium_malloc memory, which LeakSanitizer does not scan, so
 * it is made before the first input and freed at exit. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const uint8_t seed[OVL_PAILLIER_SEED_BYTES] = {'f', 'u', 'z', 'z'};
    (void)argc, (void)argv;
    if (ovl_paillier_init() != OVL_OK ||
        ovl_paillier_keygen_from_seed_for_tests(&fuzz_sk, 2048, seed) != OVL_OK)
        abort();
    atexit(fuzz_key_free);
    return 0;
}

/* An accepted ciphertext decrypts to a residue and re-serialises to its input. */
static void fuzz_ct(const ovl_paillier_sk *sk, const uint8_t *data, size_t size)
{
    const ovl_paillier_pk *pk = ovl_paillier_sk_public(sk);
    uint8_t back[OVL_PAILLIER_CT_MAX_BYTES];
    ovl_buf r, w;
    mpz_t ct, m;
    mpz_inits(ct, m, NULL);
    ovl_buf_reader(&r, data, size);
    if (ovl_paillier_ct_read(ct, &r, pk) == OVL_OK) {
        if (ovl_paillier_decrypt(m, sk, ct) != OVL_OK ||
            mpz_cmp(m, ovl_paillier_pk_modulus(pk)) >= 0)
            abort();
        ovl_buf_writer(&w, back, sizeof back);
        if (ovl_paillier_ct_write(&w, pk, ct) != OVL_OK ||
            memcmp(back, data, ovl_paillier_ct_len(pk)) != 0)
            abort();
    }
    mpz_clears(ct, m, NULL);
}

/* An accepted public key re-serialises to the bytes it consumed. */
static void fuzz_pk(const uint8_t *data, size_t size)
{
    ovl_paillier_pk *pk = NULL;
    uint8_t back[OVL_PAILLIER_PK_MAX_BYTES];
    ovl_buf r, w;
    ovl_buf_reader(&r, data, size);
    if (ovl_paillier_pk_read(&pk, &r) == OVL_OK) {
        ovl_buf_writer(&w, back, sizeof back);
        if (ovl_paillier_pk_write(&w, pk) != OVL_OK || w.wpos != r.rpos ||
            memcmp(back, data, w.wpos) != 0)
            abort();
        ovl_paillier_pk_free(pk);
    } else if (pk != NULL) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const ovl_paillier_sk *sk = fuzz_sk;
    if (size < 1)
        return 0;
    if (data[0] & 1)
        fuzz_pk(data + 1, size - 1);
    else
        fuzz_ct(sk, data + 1, size - 1);
    return 0;
}
