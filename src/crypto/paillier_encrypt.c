/* Paillier encryption (DJN short exponents over the fixed-base table, CRT
 * for the key owner, batches on threads) and CRT decryption (Paillier 1999
 * §7). */
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


/* out = x hs^r mod n^2 for x < n^2 (both n^2-wide limb arrays, out may alias
 * x), r given as r_bits/8 little-endian bytes: constant time in r and x. */
static void pk_mul_hs_pow(mp_limb_t *out, const ovl_paillier_pk *pk, const mp_limb_t *x,
                          const uint8_t *r_le)
{
    mp_limb_t acc[N2_MAX_LIMBS];
    paillier_mont_pow_table(acc, &pk->mn2, pk->windows, r_le, pk->r_bits / 8u);
    /* (hs^r R) x R^-1 = hs^r x: the Montgomery factor cancels. */
    paillier_mont_mul(out, acc, x, &pk->mn2);
    sodium_memzero(acc, sizeof acc);
}

/* out = ca * hs^r for fresh random r (out may alias ca; ca < n^2). */
void paillier_pk_mul_random_hs(mpz_t out, const ovl_paillier_pk *pk, const mpz_t ca)
{
    uint8_t r[R_MAX_BYTES];
    mp_limb_t x[N2_MAX_LIMBS];
    size_t limbs = (size_t)pk->mn2.n;
    (void)ovl_gmp_get_limbs(x, limbs, ca);
    randombytes_buf(r, pk->r_bits / 8u);
    pk_mul_hs_pow(x, pk, x, r);
    ovl_gmp_set_limbs(out, x, limbs);
    sodium_memzero(r, sizeof r);
    sodium_memzero(x, sizeof x);
}

/* g^m = (1 + n)^m = 1 + m*n mod n^2, for m in [0, n). */
void paillier_g_pow(mpz_t out, const ovl_paillier_pk *pk, const mpz_t m)
{
    mpz_mul(out, m, pk->n);
    mpz_add_ui(out, out, 1);
}

/* ---- encryption ---- */

/* ct = (1 + m n) * hs^r mod n^2, r given little-endian; ct may alias m.
 * Constant time in r; g^m is formed with mpz arithmetic (see paillier.h). */
static void encrypt_with_r(mpz_t ct, const ovl_paillier_pk *pk, const mpz_t m, const uint8_t *r_le)
{
    mp_limb_t x[N2_MAX_LIMBS];
    size_t limbs = (size_t)pk->mn2.n;
    mpz_t gm;
    mpz_init(gm);
    paillier_g_pow(gm, pk, m);
    (void)ovl_gmp_get_limbs(x, limbs, gm);
    pk_mul_hs_pow(x, pk, x, r_le);
    ovl_gmp_set_limbs(ct, x, limbs);
    sodium_memzero(x, sizeof x);
    mpz_clear(gm);
}

ovl_err ovl_paillier_encrypt(mpz_t ct, const ovl_paillier_pk *pk, const mpz_t m)
{
    if (!paillier_is_residue(m, pk->n))
        return ovl_err_set(OVL_ERR_USAGE, "paillier encrypt: plaintext is not in [0, n)");
    uint8_t r[R_MAX_BYTES];
    randombytes_buf(r, pk->r_bits / 8u);
    encrypt_with_r(ct, pk, m, r);
    sodium_memzero(r, sizeof r);
    return OVL_OK;
}

ovl_err ovl_paillier_encrypt_i64(mpz_t ct, const ovl_paillier_pk *pk, int64_t v)
{
    mpz_t m;
    mpz_init(m);
    ovl_paillier_encode_i64(m, pk, v);
    ovl_err rc = ovl_paillier_encrypt(ct, pk, m);
    mpz_clear(m);
    return rc;
}

ovl_err ovl_paillier_encrypt_with_exponent_for_tests(mpz_t ct, const ovl_paillier_pk *pk,
                                                     const mpz_t m, const uint8_t *r, size_t r_len)
{
    uint8_t le[R_MAX_BYTES];
    if (r_len != pk->r_bits / 8u)
        return ovl_err_set(OVL_ERR_USAGE, "paillier exponent must be %u bytes", pk->r_bits / 8u);
    if (!paillier_is_residue(m, pk->n))
        return ovl_err_set(OVL_ERR_USAGE, "paillier encrypt: plaintext is not in [0, n)");
    for (size_t i = 0; i < r_len; i++)
        le[i] = r[r_len - 1 - i];
    encrypt_with_r(ct, pk, m, le);
    sodium_memzero(le, sizeof le);
    return OVL_OK;
}

/* One CRT half: out = gm hs^r mod m (m = p^2 or q^2) for gm < n^2 given as
 * 2 x (m limbs) limbs. */
static void sk_half(mp_limb_t *out, const mont *c, const mp_limb_t *gm_wide, size_t windows,
                    const uint8_t *r_le, size_t r_len)
{
    mp_limb_t g[N2_MAX_LIMBS];
    /* gm < p^2 q^2 < m R, so the Montgomery reduction applies. */
    paillier_mont_reduce_wide(g, gm_wide, c);
    paillier_mont_pow_table(out, c, windows, r_le, r_len);
    paillier_mont_mul(out, out, g, c);
    sodium_memzero(g, sizeof g);
}

/* The key owner's E(m) with the same r: both factors are computed mod p^2 and
 * q^2 from the CRT tables and recombined (half-size moduli, ~1.6x faster),
 * all in constant-time limb arithmetic since p and q are secret too. */
static void sk_encrypt_with_r(mpz_t ct, const ovl_paillier_sk *sk, const mpz_t m,
                              const uint8_t *r_le)
{
    size_t r_len = sk->pk.r_bits / 8u, h = (size_t)sk->mp2.n;
    mp_limb_t gm[N2_MAX_LIMBS], cp[N2_MAX_LIMBS], cq[N2_MAX_LIMBS], wide[N2_MAX_LIMBS];
    mp_limb_t scratch[2 * N2_MAX_LIMBS];
    mpz_t g;
    mpz_init(g);
    paillier_g_pow(g, &sk->pk, m);
    (void)ovl_gmp_get_limbs(gm, 2u * h, g);
    sk_half(cp, &sk->mp2, gm, sk->pk.windows, r_le, r_len);
    sk_half(cq, &sk->mq2, gm, sk->pk.windows, r_le, r_len);
    /* ct = cq + q^2 * ((cp - cq) * q^-2 mod p^2); cq < q^2 < p^2 R. */
    memcpy(wide, cq, h * sizeof *wide);
    memset(wide + h, 0, h * sizeof *wide);
    paillier_mont_reduce_wide(gm, wide, &sk->mp2);
    mpn_cnd_add_n(mpn_sub_n(cp, cp, gm, (mp_size_t)h), cp, cp, sk->mp2.m, (mp_size_t)h);
    paillier_mont_mul(cp, cp, sk->q2inv_mont, &sk->mp2);
    mpn_sec_mul(wide, cp, (mp_size_t)h, sk->mq2.m, (mp_size_t)h, scratch);
    memset(cq + h, 0, h * sizeof *cq);
    /* No carry: the sum is the CRT value, below n^2. */
    (void)mpn_add_n(wide, wide, cq, (mp_size_t)(2u * h));
    ovl_gmp_set_limbs(ct, wide, 2u * h);
    sodium_memzero(gm, sizeof gm);
    sodium_memzero(cp, sizeof cp);
    sodium_memzero(cq, sizeof cq);
    sodium_memzero(wide, sizeof wide);
    mpz_clear(g);
}

ovl_err ovl_paillier_sk_encrypt(mpz_t ct, const ovl_paillier_sk *sk, const mpz_t m)
{
    if (!paillier_is_residue(m, sk->pk.n))
        return ovl_err_set(OVL_ERR_USAGE, "paillier encrypt: plaintext is not in [0, n)");
    uint8_t r[R_MAX_BYTES];
    randombytes_buf(r, sk->pk.r_bits / 8u);
    sk_encrypt_with_r(ct, sk, m, r);
    sodium_memzero(r, sizeof r);
    return OVL_OK;
}

ovl_err ovl_paillier_sk_encrypt_i64(mpz_t ct, const ovl_paillier_sk *sk, int64_t v)
{
    mpz_t m;
    mpz_init(m);
    ovl_paillier_encode_i64(m, &sk->pk, v);
    ovl_err rc = ovl_paillier_sk_encrypt(ct, sk, m);
    mpz_clear(m);
    return rc;
}

ovl_err ovl_paillier_sk_encrypt_with_exponent(mpz_t ct, const ovl_paillier_sk *sk, const mpz_t m,
                                              const uint8_t *r, size_t r_len)
{
    uint8_t le[R_MAX_BYTES];
    if (r_len != sk->pk.r_bits / 8u || !paillier_is_residue(m, sk->pk.n))
        return ovl_err_set(OVL_ERR_USAGE, "paillier encrypt: bad exponent length or plaintext");
    for (size_t i = 0; i < r_len; i++)
        le[i] = r[r_len - 1 - i];
    sk_encrypt_with_r(ct, sk, m, le);
    sodium_memzero(le, sizeof le);
    return OVL_OK;
}

typedef struct {
    const ovl_paillier_pk *pk;
    const ovl_paillier_sk *sk; /* set: encrypt by CRT as the key owner */
    const int64_t *values;
    uint8_t *out;
    size_t count;
    ovl_err rc;
} batch_job;

static void *batch_run(void *arg)
{
    batch_job *job = arg;
    size_t len = ovl_paillier_ct_len(job->pk);
    mpz_t ct;
    mpz_init(ct);
    job->rc = OVL_OK;
    for (size_t i = 0; i < job->count && job->rc == OVL_OK; i++) {
        job->rc = job->sk != NULL ? ovl_paillier_sk_encrypt_i64(ct, job->sk, job->values[i])
                                  : ovl_paillier_encrypt_i64(ct, job->pk, job->values[i]);
        paillier_export_fixed(job->out + i * len, len, ct);
    }
    mpz_clear(ct);
    return NULL;
}

static ovl_err batch_encrypt(uint8_t *out, size_t out_len, const ovl_paillier_pk *pk,
                             const ovl_paillier_sk *sk, const int64_t *values, size_t count,
                             unsigned threads)
{
    ovl_err rc = OVL_OK;
    size_t len = ovl_paillier_ct_len(pk), want, nthreads, started = 0;
    batch_job jobs[BATCH_MAX_THREADS];
    pthread_t tids[BATCH_MAX_THREADS];
    OVL_ENSURE(ovl_mul_ok(count, len, &want) && want == out_len, OVL_ERR_USAGE,
               "paillier batch: output is %zu bytes, %zu ciphertexts need %zu x %zu", out_len,
               count, count, len);
    nthreads = threads < 1 ? 1 : threads > BATCH_MAX_THREADS ? BATCH_MAX_THREADS : threads;
    if (nthreads > count)
        nthreads = count ? count : 1;
    for (size_t t = 0, first = 0; t < nthreads; t++) {
        size_t n = count / nthreads + (t < count % nthreads ? 1 : 0);
        jobs[t] = (batch_job){pk, sk, values + first, out + first * len, n, OVL_OK};
        first += n;
    }
    for (; started + 1 < nthreads; started++)
        if (pthread_create(&tids[started], NULL, batch_run, &jobs[started + 1]) != 0)
            break;
    /* Whatever could not be handed to a thread runs here. */
    batch_run(&jobs[0]);
    for (size_t t = started + 1; t < nthreads; t++)
        batch_run(&jobs[t]);
    for (size_t t = 0; t < started; t++)
        (void)pthread_join(tids[t], NULL);
    for (size_t t = 0; t < nthreads; t++)
        OVL_ENSURE(jobs[t].rc == OVL_OK, jobs[t].rc, "paillier batch: encrypting part %zu failed", t);
done:
    return rc;
}

ovl_err ovl_paillier_encrypt_i64_batch(uint8_t *out, size_t out_len, const ovl_paillier_pk *pk,
                                       const int64_t *values, size_t count, unsigned threads)
{
    return batch_encrypt(out, out_len, pk, NULL, values, count, threads);
}

ovl_err ovl_paillier_sk_encrypt_i64_batch(uint8_t *out, size_t out_len, const ovl_paillier_sk *sk,
                                          const int64_t *values, size_t count, unsigned threads)
{
    return batch_encrypt(out, out_len, &sk->pk, sk, values, count, threads);
}

/* ---- decryption ---- */

/* m_r = L_r(c^(r-1) mod r^2) * h_r mod r for a prime factor r (Paillier §7). */
static bool crt_half(mpz_t out, const mpz_t ct, const mpz_t r, const mpz_t r2, const mpz_t rm1,
                     const mpz_t h)
{
    mpz_t t;
    mpz_init(t);
    mpz_tdiv_r(t, ct, r2);
    mpz_powm_sec(t, t, rm1, r2);
    bool ok = paillier_l_func(out, t, r);
    mpz_mul(t, out, h);
    mpz_mod(out, t, r);
    mpz_clear(t);
    return ok;
}

ovl_err ovl_paillier_decrypt(mpz_t m, const ovl_paillier_sk *sk, const mpz_t ct)
{
    ovl_err rc = OVL_OK;
    mpz_t mp, mq;
    mpz_inits(mp, mq, NULL);
    OVL_ENSURE(mpz_sgn(ct) > 0 && mpz_cmp(ct, sk->pk.n2) < 0, OVL_ERR_CRYPTO,
               "paillier decrypt: ciphertext out of range (0, n^2)");
    OVL_ENSURE(crt_half(mp, ct, sk->p, sk->p2, sk->pm1, sk->hp) &&
                   crt_half(mq, ct, sk->q, sk->q2, sk->qm1, sk->hq),
               OVL_ERR_CRYPTO, "paillier decrypt: ciphertext is not invertible");
    /* m = m_q + q * ((m_p - m_q) q^-1 mod p). */
    mpz_sub(mp, mp, mq);
    mpz_mul(mp, mp, sk->qinv);
    mpz_mod(mp, mp, sk->p);
    mpz_mul(mp, mp, sk->q);
    mpz_add(m, mp, mq);
done:
    mpz_clears(mp, mq, NULL);
    return rc;
}

ovl_err ovl_paillier_decrypt_reference_for_tests(mpz_t m, const ovl_paillier_sk *sk,
                                                 const mpz_t ct)
{
    ovl_err rc = OVL_OK;
    mpz_t t;
    mpz_init(t);
    OVL_ENSURE(mpz_sgn(ct) > 0 && mpz_cmp(ct, sk->pk.n2) < 0, OVL_ERR_CRYPTO,
               "paillier decrypt: ciphertext out of range (0, n^2)");
    mpz_powm_sec(t, ct, sk->lambda, sk->pk.n2);
    OVL_ENSURE(paillier_l_func(t, t, sk->pk.n), OVL_ERR_CRYPTO,
               "paillier decrypt: ciphertext is not invertible");
    mpz_mul(t, t, sk->mu);
    mpz_mod(m, t, sk->pk.n);
done:
    mpz_clear(t);
    return rc;
}

ovl_err ovl_paillier_decrypt_i64(int64_t *v, const ovl_paillier_sk *sk, const mpz_t ct)
{
    ovl_err rc = OVL_OK;
    mpz_t m;
    mpz_init(m);
    OVL_TRY(ovl_paillier_decrypt(m, sk, ct));
    OVL_TRY(ovl_paillier_decode_i64(v, &sk->pk, m));
done:
    mpz_clear(m);
    return rc;
}

