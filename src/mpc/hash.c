/* Fixed-key AES, AES-CTR PRG and the GKWY TCCR hash (src/mpc/SPEC.md §2). */
#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

#include <cpuid.h>
#include <immintrin.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "core/guard.h"
#include "mpc/hash.h"

/* SHA-256("overlap mpc fixed-key AES v1"), first 16 bytes. */
const uint8_t ovl_aes_fixed_key[16] = {0x72, 0x83, 0xbd, 0x0a, 0xf1, 0xe1, 0x3d, 0x48,
                                       0x18, 0x96, 0x9a, 0x28, 0x23, 0x0c, 0xda, 0x85};

/* Blocks per EVP call: large enough to amortise the call, small enough for the stack. */
enum { HASH_CHUNK = 256, EVP_MAX_BLOCKS = INT_MAX / OVL_BLOCK_BYTES };

static ovl_err cipher_new(struct evp_cipher_ctx_st **out, const EVP_CIPHER *cipher,
                          const uint8_t key[16])
{
    static const uint8_t zero_iv[16];
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL)
        return ovl_err_set(OVL_ERR_NOMEM, "mpc: cannot allocate an AES context");
    if (EVP_EncryptInit_ex(ctx, cipher, NULL, key, zero_iv) != 1 ||
        EVP_CIPHER_CTX_set_padding(ctx, 0) != 1) {
        EVP_CIPHER_CTX_free(ctx);
        return ovl_err_set(OVL_ERR_CRYPTO, "mpc: OpenSSL refused an AES-128 key");
    }
    *out = ctx;
    return OVL_OK;
}

/* Runs the context over n blocks; EVP takes an int length, so long runs are split. */
static ovl_err cipher_run(struct evp_cipher_ctx_st *ctx, uint8_t *out, const uint8_t *in,
                          size_t n)
{
    while (n > 0) {
        size_t k = n < EVP_MAX_BLOCKS ? n : EVP_MAX_BLOCKS;
        int len = 0;
        if (EVP_EncryptUpdate(ctx, out, &len, in, (int)(k * OVL_BLOCK_BYTES)) != 1 ||
            (size_t)len != k * OVL_BLOCK_BYTES)
            return ovl_err_set(OVL_ERR_CRYPTO, "mpc: AES-128 encryption failed");
        out += k * OVL_BLOCK_BYTES;
        in += k * OVL_BLOCK_BYTES;
        n -= k;
    }
    return OVL_OK;
}

ovl_err ovl_prg_init(ovl_prg *g, const uint8_t seed[static 16])
{
    return cipher_new(&g->ctx, EVP_aes_128_ctr(), seed);
}

ovl_err ovl_prg_blocks(ovl_prg *g, ovl_block *out, size_t n)
{
    /* CTR over zeros yields the keystream itself. */
    memset(out, 0, n * sizeof *out);
    return cipher_run(g->ctx, (uint8_t *)out, (const uint8_t *)out, n);
}

ovl_err ovl_prg_bytes(ovl_prg *g, uint8_t *out, size_t n)
{
    ovl_err rc = OVL_OK;
    ovl_block tail;
    size_t whole = n / OVL_BLOCK_BYTES;

    memset(out, 0, whole * OVL_BLOCK_BYTES);
    OVL_TRY(cipher_run(g->ctx, out, out, whole));
    if (n % OVL_BLOCK_BYTES != 0) {
        OVL_TRY(ovl_prg_blocks(g, &tail, 1));
        memcpy(out + whole * OVL_BLOCK_BYTES, &tail, n % OVL_BLOCK_BYTES);
    }
done:
    sodium_memzero(&tail, sizeof tail);
    return rc;
}

void ovl_prg_free(ovl_prg *g)
{
    EVP_CIPHER_CTX_free(g->ctx);
    g->ctx = NULL;
}

/* AES-128 key expansion, one round key from the previous and the
 * keygen-assist word (FIPS 197 §5.2 with the AES-NI helper). */
__attribute__((target("aes,sse2"))) static inline __m128i expand_step(__m128i k, __m128i assist)
{
    assist = _mm_shuffle_epi32(assist, 0xff);
    k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
    k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
    k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
    return _mm_xor_si128(k, assist);
}

#define EXPAND(i, rcon) rk[i] = expand_step(rk[(i) - 1], _mm_aeskeygenassist_si128(rk[(i) - 1], rcon))

__attribute__((target("aes,sse2"))) static inline void expand_key(__m128i rk[11],
                                                                  const uint8_t key[16])
{
    rk[0] = _mm_loadu_si128((const __m128i *)(const void *)key);
    EXPAND(1, 0x01);
    EXPAND(2, 0x02);
    EXPAND(3, 0x04);
    EXPAND(4, 0x08);
    EXPAND(5, 0x10);
    EXPAND(6, 0x20);
    EXPAND(7, 0x40);
    EXPAND(8, 0x80);
    EXPAND(9, 0x1b);
    EXPAND(10, 0x36);
}

/* ---- ECB: π and every other keyed permutation ---- */

/* Blocks in flight per loop step: enough independent aesenc to cover their
 * latency (4-5 cycles on recent x86) at one or two issued per cycle. */
enum { NI_GROUP = 8, VAES_LANES = 8, VAES_GROUP = 4 * VAES_LANES };
_Static_assert(NI_GROUP == 8 && VAES_GROUP == 32, "ecb_vaes splits its tail as 16 + 8 + 4 + 2 + 1");

__attribute__((target("aes,sse2"))) static void aes_schedule(uint8_t rk[11][16],
                                                             const uint8_t key[16])
{
    __m128i k[11];
    expand_key(k, key);
    for (int r = 0; r < 11; r++)
        _mm_storeu_si128((__m128i *)(void *)rk[r], k[r]);
    sodium_memzero(k, sizeof k);
}

/* The kernels are written so round keys and states fit in registers: the
 * SSE one reads each round key from rk where it is used, the AVX-512 one
 * holds all 11 beside its 8 states in 19 of its 32 registers. GCC -O2 (the
 * product's compiler, `cc` on Debian) then keeps them off the stack (no
 * frame in the object code), so there is no stack copy to wipe; wiping one
 * would cost a tenth of a 256-block call. Clang 14 (the fuzz build) spills
 * the 16-block step's states to a frame: a clang-built product would leave
 * AES states of its last call on the stack. */

/* lanes blocks (a constant once inlined), one per xmm register. */
__attribute__((target("aes,sse2"), always_inline)) static inline void
ni_step(const uint8_t rk[11][16], ovl_block *out, const ovl_block *in, int lanes)
{
    __m128i b[NI_GROUP] = {0}; /* lanes beyond `lanes` stay unused */
#pragma GCC unroll 8
    for (int i = 0; i < lanes; i++)
        b[i] = _mm_xor_si128(_mm_loadu_si128(in + i),
                             _mm_loadu_si128((const __m128i *)(const void *)rk[0]));
#pragma GCC unroll 9
    for (int r = 1; r < 10; r++) {
        __m128i k = _mm_loadu_si128((const __m128i *)(const void *)rk[r]);
#pragma GCC unroll 8
        for (int i = 0; i < lanes; i++)
            b[i] = _mm_aesenc_si128(b[i], k);
    }
    __m128i k = _mm_loadu_si128((const __m128i *)(const void *)rk[10]);
#pragma GCC unroll 8
    for (int i = 0; i < lanes; i++)
        _mm_storeu_si128(out + i, _mm_aesenclast_si128(b[i], k));
}

/* Under NI_GROUP blocks as independent steps of 4, 2 and 1. */
__attribute__((target("aes,sse2"), always_inline)) static inline void
ni_tail(const uint8_t rk[11][16], ovl_block *out, const ovl_block *in, size_t n)
{
    if (n & 4) {
        ni_step(rk, out, in, 4);
        in += 4, out += 4;
    }
    if (n & 2) {
        ni_step(rk, out, in, 2);
        in += 2, out += 2;
    }
    if (n & 1)
        ni_step(rk, out, in, 1);
}

__attribute__((target("aes,sse2"))) static void ecb_ni(const uint8_t rk[11][16], ovl_block *out,
                                                       const ovl_block *in, size_t n)
{
    for (; n >= NI_GROUP; n -= NI_GROUP, in += NI_GROUP, out += NI_GROUP)
        ni_step(rk, out, in, NI_GROUP);
    ni_tail(rk, out, in, n);
}

/* lanes × 4 blocks (a constant once inlined), four per zmm register under
 * the same round key. */
__attribute__((target("vaes,avx512f"), always_inline)) static inline void
vaes_step(const __m512i k[11], ovl_block *out, const ovl_block *in, int lanes)
{
    __m512i b[VAES_LANES] = {0}; /* lanes beyond `lanes` stay unused */
#pragma GCC unroll 8
    for (int i = 0; i < lanes; i++)
        b[i] = _mm512_xor_si512(_mm512_loadu_si512(in + 4 * i), k[0]);
#pragma GCC unroll 9
    for (int r = 1; r < 10; r++)
#pragma GCC unroll 8
        for (int i = 0; i < lanes; i++)
            b[i] = _mm512_aesenc_epi128(b[i], k[r]);
#pragma GCC unroll 8
    for (int i = 0; i < lanes; i++)
        _mm512_storeu_si512(out + 4 * i, _mm512_aesenclast_epi128(b[i], k[10]));
}

/* Under 16 blocks the xmm steps alone: as fast, without the round keys'
 * broadcast. */
__attribute__((target("aes,vaes,avx512f"))) static void ecb_vaes(const uint8_t rk[11][16],
                                                                 ovl_block *out,
                                                                 const ovl_block *in, size_t n)
{
    if (n >= 16) {
        __m512i k[11];
#pragma GCC unroll 11
        for (int r = 0; r < 11; r++)
            k[r] = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(const void *)rk[r]));
        for (; n >= VAES_GROUP; n -= VAES_GROUP, in += VAES_GROUP, out += VAES_GROUP)
            vaes_step(k, out, in, VAES_LANES);
        if (n & 16) {
            vaes_step(k, out, in, 4);
            in += 16, out += 16;
        }
    }
    if (n & 8) {
        ni_step(rk, out, in, NI_GROUP);
        in += 8, out += 8;
    }
    ni_tail(rk, out, in, n & 7);
}

static bool runs_always(void) { return true; }
static bool runs_ni(void) { return __builtin_cpu_supports("aes"); }
/* VAES from CPUID leaf 7 itself: clang's __builtin_cpu_supports (the fuzz
 * build) does not know "vaes". "avx512f" there also means the OS saves the
 * zmm registers (XCR0). */
static bool runs_vaes(void)
{
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    return runs_ni() && __builtin_cpu_supports("avx512f") &&
           __get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) != 0 && (ecx & bit_VAES) != 0;
}

typedef void ecb_kernel(const uint8_t rk[11][16], ovl_block *out, const ovl_block *in, size_t n);

/* One row per ovl_aes_impl, in its order. */
static const struct {
    const char *name;
    bool (*runs)(void);
    ecb_kernel *kernel; /* NULL: OpenSSL's context */
} aes_impls[OVL_AES_IMPLS] = {
    [OVL_AES_VAES] = {"vaes", runs_vaes, ecb_vaes},
    [OVL_AES_NI] = {"aes-ni", runs_ni, ecb_ni},
    [OVL_AES_EVP] = {"openssl", runs_always, NULL},
};

const char *ovl_aes_impl_name(ovl_aes_impl impl)
{
    return impl < OVL_AES_IMPLS ? aes_impls[impl].name : "none";
}

/* Bit i: this CPU runs row i; computed once (CPUID is slow, and in a virtual
 * machine a trap), as the CPU does not change under a process. */
static unsigned aes_impls_running(void)
{
    enum { KNOWN = 1u << OVL_AES_IMPLS };
    static _Atomic unsigned mask;
    unsigned m = atomic_load_explicit(&mask, memory_order_relaxed);
    if (m == 0) {
        m = KNOWN;
        for (unsigned i = 0; i < OVL_AES_IMPLS; i++)
            m |= aes_impls[i].runs() ? 1u << i : 0;
        atomic_store_explicit(&mask, m, memory_order_relaxed);
    }
    return m;
}

bool ovl_aes_impl_runs(ovl_aes_impl impl)
{
    return impl < OVL_AES_IMPLS && (aes_impls_running() >> impl & 1u) != 0;
}

/* The first row this CPU runs (the last row runs everywhere). */
static ovl_aes_impl aes_impl_best(void)
{
    unsigned m = aes_impls_running();
    unsigned i = 0;
    while ((m >> i & 1u) == 0)
        i++;
    return (ovl_aes_impl)i;
}

/* CTR over a zero IV: block j encrypts the 128-bit big-endian integer j.
 * Counter blocks go through the ECB kernel in runs of 64; without one
 * (no AES-NI), OpenSSL's CTR. */
ovl_err ovl_prg_once(const uint8_t seed[static 16], uint8_t *out, size_t n)
{
    enum { RUN = 64 };
    ovl_err rc = OVL_OK;
    ovl_prg g = {0};
    ecb_kernel *kernel = aes_impls[aes_impl_best()].kernel;
    uint8_t rk[11][16];
    ovl_block ctr[RUN], ks[RUN];
    if (kernel == NULL) {
        OVL_TRY(ovl_prg_init(&g, seed));
        OVL_TRY(ovl_prg_bytes(&g, out, n));
        goto done;
    }
    aes_schedule(rk, seed);
    memset(ctr, 0, sizeof ctr);
    for (uint64_t j = 0; n > 0;) {
        size_t blocks = n / 16 + (n % 16 != 0), k;
        if (blocks > RUN)
            blocks = RUN;
        for (size_t i = 0; i < blocks; i++)
            for (unsigned b = 0; b < 8; b++)
                ((uint8_t *)&ctr[i])[8 + b] = (uint8_t)((j + i) >> (56 - 8 * b));
        kernel((const uint8_t(*)[16])rk, ks, ctr, blocks);
        k = blocks * 16 < n ? blocks * 16 : n;
        memcpy(out, ks, k);
        out += k, n -= k, j += blocks;
    }
    sodium_memzero(rk, sizeof rk);
    sodium_memzero(ks, sizeof ks);
done:
    ovl_prg_free(&g);
    return rc;
}

ovl_err ovl_aes_init(ovl_aes *a, const uint8_t key[static 16])
{
    ovl_err rc = OVL_OK;
    memset(a->rk, 0, sizeof a->rk);
    if (ovl_aes_impl_runs(OVL_AES_NI))
        aes_schedule(a->rk, key);
    OVL_TRY(cipher_new(&a->ctx, EVP_aes_128_ecb(), key));
done:
    if (rc != OVL_OK)
        sodium_memzero(a->rk, sizeof a->rk);
    return rc;
}

static ovl_err aes_ecb_run(ovl_aes *a, ovl_aes_impl impl, ovl_block *out, const ovl_block *in,
                           size_t n)
{
    if (aes_impls[impl].kernel == NULL)
        return cipher_run(a->ctx, (uint8_t *)out, (const uint8_t *)in, n);
    aes_impls[impl].kernel((const uint8_t(*)[16])a->rk, out, in, n);
    return OVL_OK;
}

ovl_err ovl_aes_ecb_impl(ovl_aes *a, ovl_aes_impl impl, ovl_block *out, const ovl_block *in,
                         size_t n)
{
    if (!ovl_aes_impl_runs(impl))
        return ovl_err_set(OVL_ERR_USAGE, "mpc: this CPU cannot run AES implementation %s",
                           ovl_aes_impl_name(impl));
    return aes_ecb_run(a, impl, out, in, n);
}

ovl_err ovl_aes_ecb(ovl_aes *a, ovl_block *out, const ovl_block *in, size_t n)
{
    return aes_ecb_run(a, aes_impl_best(), out, in, n);
}

void ovl_aes_free(ovl_aes *a)
{
    EVP_CIPHER_CTX_free(a->ctx); /* OpenSSL cleanses its key schedule */
    a->ctx = NULL;
    sodium_memzero(a->rk, sizeof a->rk);
}

void ovl_tweak_space_init(ovl_tweak_space *sp, const uint8_t *key)
{
    memset(sp, 0, sizeof *sp);
    memcpy(sp->key, key != NULL ? key : ovl_aes_fixed_key, sizeof sp->key);
}

ovl_err ovl_tweak_open(ovl_tweak_space *sp, ovl_tweak_stream *out, ovl_tweak_domain domain,
                       unsigned direction)
{
    if (domain < OVL_TWEAK_OT || domain >= OVL_TWEAK_DOMAINS || direction >= OVL_TWEAK_DIRECTIONS)
        return ovl_err_set(OVL_ERR_USAGE, "mpc: tweak domain %d or direction %u out of range",
                           (int)domain, direction);
    uint64_t *next = &sp->next_instance[domain][direction];
    if (*next > OVL_TWEAK_INSTANCE_MAX)
        return ovl_err_set(OVL_ERR_LIMIT, "mpc: tweak instances of domain %d exhausted",
                           (int)domain);
    out->id = ((uint64_t)domain << 56) | ((uint64_t)direction << 48) | *next;
    out->next = 0;
    (*next)++;
    return OVL_OK;
}

ovl_err ovl_tweak_take(ovl_tweak_stream *s, uint64_t n, uint64_t *first)
{
    if (n > UINT64_MAX - s->next)
        return ovl_err_set(OVL_ERR_LIMIT, "mpc: tweak stream %016llx exhausted",
                           (unsigned long long)s->id);
    *first = s->next;
    s->next += n;
    return OVL_OK;
}

ovl_err ovl_hash_init(ovl_hash *h, const ovl_tweak_space *sp)
{
    return ovl_aes_init(&h->pi, sp->key);
}

void ovl_hash_free(ovl_hash *h) { ovl_aes_free(&h->pi); }

ovl_err ovl_hash_tccr(ovl_hash *h, ovl_block *out, const ovl_block *x, const ovl_block *tweak,
                      size_t n)
{
    ovl_err rc = OVL_OK;
    ovl_block px[HASH_CHUNK], y[HASH_CHUNK];

    for (size_t off = 0; off < n; off += HASH_CHUNK) {
        size_t k = n - off < HASH_CHUNK ? n - off : HASH_CHUNK;
        OVL_TRY(ovl_aes_ecb(&h->pi, px, x + off, k));
        for (size_t j = 0; j < k; j++)
            y[j] = ovl_block_xor(px[j], tweak[off + j]);
        OVL_TRY(ovl_aes_ecb(&h->pi, y, y, k));
        for (size_t j = 0; j < k; j++)
            out[off + j] = ovl_block_xor(y[j], px[j]);
    }
done:
    sodium_memzero(px, sizeof px);
    sodium_memzero(y, sizeof y);
    return rc;
}

ovl_err ovl_hash_tccr_stream(ovl_hash *h, ovl_block *out, const ovl_block *x, size_t n,
                             ovl_tweak_stream *s)
{
    ovl_err rc = OVL_OK;
    ovl_block px[HASH_CHUNK], y[HASH_CHUNK];
    uint64_t c = 0;

    OVL_TRY(ovl_tweak_take(s, n, &c));
    for (size_t off = 0; off < n; off += HASH_CHUNK) {
        size_t k = n - off < HASH_CHUNK ? n - off : HASH_CHUNK;
        OVL_TRY(ovl_aes_ecb(&h->pi, px, x + off, k));
        for (size_t j = 0; j < k; j++)
            y[j] = ovl_block_xor(px[j], ovl_tweak_block(s, c + off + j));
        OVL_TRY(ovl_aes_ecb(&h->pi, y, y, k));
        for (size_t j = 0; j < k; j++)
            out[off + j] = ovl_block_xor(y[j], px[j]);
    }
done:
    sodium_memzero(px, sizeof px);
    sodium_memzero(y, sizeof y);
    return rc;
}
