/* overlap: Paillier encryption for private aggregates.
 *
 * Used as in Google's Private Intersection-Sum-with-Cardinality: a contributor
 * encrypts per-row values under its own fresh key, the runner adds ciphertexts
 * homomorphically, adds a random mask and keeps the negated mask as its share,
 * the contributor decrypts the masked sum as its share (share.h).
 *
 * Scheme: Paillier (EUROCRYPT 1999) with g = n + 1 and the short-exponent
 * randomness of Damgård–Jurik–Nielsen ("A generalization of Paillier's
 * public-key system with applications to electronic voting", IJIS 2010, §4):
 * h = -x^2 mod n for a random x, h_s = h^n mod n^2 is public, and
 *     E(m) = (1 + m*n) * h_s^r mod n^2
 * with r a random exponent of OVL_PAILLIER_R_BITS_* bits instead of a full
 * element of Z_n*. The exponent length is 4 x the security level (112 bits for
 * 2048-bit n, 128 for 3072), so Pollard's lambda on r costs 2^(2 x level);
 * this is the usual "accelerated Paillier" practice. Public keys carry a
 * fixed-base table of h_s^(d * 2^(w*i)) so encryption is multiplications only.
 *
 * Plaintexts and ciphertexts are GMP integers (mpz_t, initialised by the
 * caller); keys are opaque. A ciphertext passed to an operation must come from
 * this module (encrypt, an operation, or ovl_paillier_ct_read, which
 * validates); plaintexts are residues in [0, n).
 *
 * Initialisation: ovl_paillier_init() installs process-wide GMP memory
 * functions whose free and realloc wipe the released block (sodium_memzero),
 * so every mpz that ever held key material is wiped. It runs once (pthread_once)
 * and is also called lazily by key generation and public-key import; call it
 * from main before other threads use GMP. GMP's stack temporaries (alloca) are
 * not wiped.
 *
 * Threads: a public key is read-only after keygen/import, so any number of
 * threads may encrypt, add, rerandomise and serialise under one const key; each
 * call draws its own randomness. The same holds for decryption under a const
 * secret key.
 *
 * Side channels: encryption, rerandomisation and masking raise h_s to the
 * secret DJN exponent r (knowing r decrypts) in constant time: the fixed-base
 * table is read one whole row per exponent digit with mpn_sec_tabselect, every
 * digit costs one Montgomery multiplication (zero digits included), and the
 * arithmetic is GMP's mpn_sec_mul, mpn_addmul_1 and mpn_cnd_* on fixed limb
 * counts. The key owner's CRT encryption does the same mod p^2 and q^2 and
 * recombines in constant-time limb arithmetic, so neither r nor p, q steer a
 * branch or an address there. `make ct` checks this under valgrind
 * (tests/ct). Other secret exponents (p-1, q-1, lambda, plaintext scalars of
 * mul_plain) use mpz_powm_sec. Not constant time, by design or as a known
 * limit: key generation (prime search, once per run); g^m = 1 + m*n and
 * add_plain, formed with mpz arithmetic whose timing follows the limb length
 * of the plaintext; the mpz_powm_sec wrapper, which branches on the limb
 * length of its exponent; and decryption's reductions and L function mod p^2,
 * q^2 (mpz division, divisibility and CRT with the secret factors), whose
 * exponentiations are mpz_powm_sec. */
#ifndef OVERLAP_PAILLIER_H
#define OVERLAP_PAILLIER_H

#include <stddef.h>
#include <stdint.h>

#include <gmp.h>

#include "core/buf.h"
#include "core/error.h"

#define OVL_PAILLIER_BITS_DEFAULT 2048u
#define OVL_PAILLIER_BITS_MAX 3072u
/* Random-exponent lengths (DJN short exponents, see above). */
#define OVL_PAILLIER_R_BITS_2048 448u
#define OVL_PAILLIER_R_BITS_3072 512u
/* Bytes of n, of a ciphertext (2|n|) and of a serialised public key, at most. */
#define OVL_PAILLIER_N_MAX_BYTES (OVL_PAILLIER_BITS_MAX / 8u)
#define OVL_PAILLIER_CT_MAX_BYTES (2u * OVL_PAILLIER_N_MAX_BYTES)
#define OVL_PAILLIER_PK_MAX_BYTES (2u + OVL_PAILLIER_N_MAX_BYTES + OVL_PAILLIER_CT_MAX_BYTES)
/* Seed length of the deterministic test key generator. */
#define OVL_PAILLIER_SEED_BYTES 32u

typedef struct ovl_paillier_pk ovl_paillier_pk;
typedef struct ovl_paillier_sk ovl_paillier_sk;

/* Installs the wiping GMP allocator and initialises libsodium (idempotent). */
ovl_err ovl_paillier_init(void) OVL_MUST_USE;

/* A fresh key pair of modulus_bits (2048 or 3072) from libsodium randomness:
 * p, q primes of modulus_bits/2 bits (top two bits set, 40 Miller–Rabin rounds),
 * p != q, |p - q| large, gcd(pq, (p-1)(q-1)) = 1, n of exactly modulus_bits. */
ovl_err ovl_paillier_keygen(ovl_paillier_sk **sk, unsigned modulus_bits) OVL_MUST_USE;
/* The same key generation driven by ChaCha20 keyed with seed: for tests and
 * vectors only, never for a real session. */
ovl_err ovl_paillier_keygen_from_seed_for_tests(ovl_paillier_sk **sk, unsigned modulus_bits,
                                                const uint8_t seed[static OVL_PAILLIER_SEED_BYTES])
    OVL_MUST_USE;
/* Wipes and frees (NULL is fine). */
void ovl_paillier_sk_free(ovl_paillier_sk *sk);
/* The public half, owned by sk. */
const ovl_paillier_pk *ovl_paillier_sk_public(const ovl_paillier_sk *sk);

void ovl_paillier_pk_free(ovl_paillier_pk *pk);
/* 2048 or 3072. */
unsigned ovl_paillier_pk_bits(const ovl_paillier_pk *pk);
/* n, owned by pk (shares and plaintexts live mod n). */
mpz_srcptr ovl_paillier_pk_modulus(const ovl_paillier_pk *pk);
/* Bytes of a serialised ciphertext: 2 * bits / 8. */
size_t ovl_paillier_ct_len(const ovl_paillier_pk *pk);

/* Public key wire form: u16 modulus bits, n (bits/8 bytes, big-endian),
 * h_s (2*bits/8 bytes, big-endian). */
ovl_err ovl_paillier_pk_write(ovl_buf *out, const ovl_paillier_pk *pk) OVL_MUST_USE;
/* Parses and validates (bits 2048/3072, n odd with its top bit set, no prime
 * factor below 10000, not a square, not prime; 1 < h_s < n^2 - 1 and
 * gcd(h_s, n) = 1), then rebuilds the fixed-base table. OVL_ERR_MALFORMED on
 * bad lengths, OVL_ERR_CRYPTO on a bad value. */
ovl_err ovl_paillier_pk_read(ovl_paillier_pk **pk, ovl_buf *in) OVL_MUST_USE;

/* Ciphertext wire form: exactly ovl_paillier_ct_len(pk) bytes, big-endian. */
ovl_err ovl_paillier_ct_write(ovl_buf *out, const ovl_paillier_pk *pk, const mpz_t ct) OVL_MUST_USE;
/* Reads exactly ovl_paillier_ct_len(pk) bytes (OVL_ERR_MALFORMED if short) and
 * requires 0 < c < n^2 and gcd(c, n) = 1 (else OVL_ERR_CRYPTO). */
ovl_err ovl_paillier_ct_read(mpz_t ct, ovl_buf *in, const ovl_paillier_pk *pk) OVL_MUST_USE;
/* The same over a byte string that must be exactly one ciphertext long. */
ovl_err ovl_paillier_ct_from_bytes(mpz_t ct, const ovl_paillier_pk *pk, const uint8_t *p,
                                   size_t len) OVL_MUST_USE;

/* ct = E(m) for m in [0, n) (OVL_ERR_USAGE otherwise). */
ovl_err ovl_paillier_encrypt(mpz_t ct, const ovl_paillier_pk *pk, const mpz_t m) OVL_MUST_USE;
/* ct = E(v mod n). */
ovl_err ovl_paillier_encrypt_i64(mpz_t ct, const ovl_paillier_pk *pk, int64_t v) OVL_MUST_USE;
/* Encrypts count values into out (exactly count * ct_len bytes, serialised as
 * ovl_paillier_ct_write does), using up to `threads` threads (0 or 1: the
 * calling thread only). */
ovl_err ovl_paillier_encrypt_i64_batch(uint8_t *out, size_t out_len, const ovl_paillier_pk *pk,
                                       const int64_t *values, size_t count, unsigned threads)
    OVL_MUST_USE;
/* The key owner's encryption: the same ciphertext distribution, computed mod
 * p^2 and q^2 with per-factor tables (faster; a secret key holds these tables
 * next to the public one, about 1.5 MB at 2048 bits). Thread-safe under a
 * const sk. */
ovl_err ovl_paillier_sk_encrypt(mpz_t ct, const ovl_paillier_sk *sk, const mpz_t m) OVL_MUST_USE;
ovl_err ovl_paillier_sk_encrypt_i64(mpz_t ct, const ovl_paillier_sk *sk, int64_t v) OVL_MUST_USE;
ovl_err ovl_paillier_sk_encrypt_i64_batch(uint8_t *out, size_t out_len, const ovl_paillier_sk *sk,
                                          const int64_t *values, size_t count, unsigned threads)
    OVL_MUST_USE;
/* E(m) with the DJN exponent given as r_len big-endian bytes (r_len = R_BITS/8):
 * for vectors and tests that check the fixed-base table. */
ovl_err ovl_paillier_encrypt_with_exponent_for_tests(mpz_t ct, const ovl_paillier_pk *pk,
                                                     const mpz_t m, const uint8_t *r, size_t r_len)
    OVL_MUST_USE;

/* m in [0, n), by CRT (Paillier 1999 §7) with mpz_powm_sec mod p^2 and q^2.
 * OVL_ERR_CRYPTO when ct is out of range or not invertible. */
ovl_err ovl_paillier_decrypt(mpz_t m, const ovl_paillier_sk *sk, const mpz_t ct) OVL_MUST_USE;
/* The textbook formula m = L(c^lambda mod n^2) * mu mod n, without CRT:
 * a cross-check for tests. */
ovl_err ovl_paillier_decrypt_reference_for_tests(mpz_t m, const ovl_paillier_sk *sk,
                                                 const mpz_t ct) OVL_MUST_USE;
/* Decrypts and lifts into (-n/2, n/2); OVL_ERR_LIMIT if outside int64_t. */
ovl_err ovl_paillier_decrypt_i64(int64_t *v, const ovl_paillier_sk *sk, const mpz_t ct) OVL_MUST_USE;

/* Homomorphic operations; out may alias an input. */
/* E(a + b) = ca * cb mod n^2. */
ovl_err ovl_paillier_add(mpz_t out, const ovl_paillier_pk *pk, const mpz_t ca, const mpz_t cb)
    OVL_MUST_USE;
/* E(a + m) = ca * (1 + m n) for m in [0, n). */
ovl_err ovl_paillier_add_plain(mpz_t out, const ovl_paillier_pk *pk, const mpz_t ca, const mpz_t m)
    OVL_MUST_USE;
/* E(a * k) = ca^k for k in [0, n) (treated as secret: mpz_powm_sec). The result
 * has the randomness of ca raised to k; rerandomise before sending it. */
ovl_err ovl_paillier_mul_plain(mpz_t out, const ovl_paillier_pk *pk, const mpz_t ca, const mpz_t k)
    OVL_MUST_USE;
/* Same plaintext, fresh randomness: ca * h_s^r. */
ovl_err ovl_paillier_rerandomize(mpz_t out, const ovl_paillier_pk *pk, const mpz_t ca) OVL_MUST_USE;
/* The runner's masking step: picks a uniform mask t in [0, n), sets
 * out = rerandomised E(a + t) and my_share = -t mod n, so that the decryption
 * of out and my_share are additive shares of a mod n. */
ovl_err ovl_paillier_mask(mpz_t out, mpz_t my_share, const ovl_paillier_pk *pk, const mpz_t ca)
    OVL_MUST_USE;

/* Signed plaintexts: v with |v| <= (n-1)/2 maps to v mod n. */
ovl_err ovl_paillier_encode(mpz_t m, const ovl_paillier_pk *pk, const mpz_t v) OVL_MUST_USE;
void ovl_paillier_encode_i64(mpz_t m, const ovl_paillier_pk *pk, int64_t v);
/* Residue m in [0, n) back to (-n/2, n/2) (OVL_ERR_USAGE if m is not a residue). */
ovl_err ovl_paillier_decode(mpz_t v, const ovl_paillier_pk *pk, const mpz_t m) OVL_MUST_USE;
ovl_err ovl_paillier_decode_i64(int64_t *v, const ovl_paillier_pk *pk, const mpz_t m) OVL_MUST_USE;

/* OVL_OK iff a sum of `terms` values each of absolute value at most max_abs is
 * guaranteed to decode exactly (terms * max_abs <= (n-1)/2); OVL_ERR_LIMIT
 * otherwise, so callers refuse before encrypting. */
ovl_err ovl_paillier_sum_check(const ovl_paillier_pk *pk, uint64_t terms, const mpz_t max_abs)
    OVL_MUST_USE;
ovl_err ovl_paillier_sum_check_u64(const ovl_paillier_pk *pk, uint64_t terms, uint64_t max_abs)
    OVL_MUST_USE;

/* Packing several signed values into one plaintext. Slot i holds bits
 * [i*slot_bits, (i+1)*slot_bits); a value v in [-2^(value_bits-1),
 * 2^(value_bits-1)) is stored as v + 2^(value_bits-1) so it is non-negative,
 * and the slot keeps headroom for the sum of max_terms stored values. */
typedef struct {
    unsigned slot_bits;  /* B: width of a slot */
    unsigned slots;      /* values per plaintext */
    unsigned value_bits; /* 1..63: width of one signed input value */
    uint64_t max_terms;  /* most plaintexts that may be added before unpacking */
} ovl_paillier_packing;

/* OVL_OK iff the layout is well formed, max_terms * (2^value_bits - 1) fits a
 * slot, and slots * slot_bits < modulus_bits (so packed sums never wrap mod n).
 * OVL_ERR_LIMIT with the reason otherwise. */
ovl_err ovl_paillier_packing_check(const ovl_paillier_packing *l, unsigned modulus_bits)
    OVL_MUST_USE;
/* Packs count <= slots values (missing slots hold 0). OVL_ERR_LIMIT when a
 * value is outside the value_bits range. */
ovl_err ovl_paillier_pack(mpz_t m, const ovl_paillier_packing *l, unsigned modulus_bits,
                          const int64_t *values, size_t count) OVL_MUST_USE;
/* Unpacks the sum of `terms` packed plaintexts (1 <= terms <= max_terms) into
 * count <= slots per-slot sums. OVL_ERR_LIMIT when a slot exceeds what terms
 * values can produce (an overflow) or a sum does not fit int64_t. */
ovl_err ovl_paillier_unpack(int64_t *sums, size_t count, const ovl_paillier_packing *l,
                            unsigned modulus_bits, const mpz_t m, uint64_t terms) OVL_MUST_USE;

#endif
