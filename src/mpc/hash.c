/* Fixed-key AES, AES-CTR PRG and the GKWY TCCR hash (src/mpc/SPEC.md §2). */
#include <limits.h>
#include <string.h>

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

ovl_err ovl_aes_init(ovl_aes *a, const uint8_t key[static 16])
{
    return cipher_new(&a->ctx, EVP_aes_128_ecb(), key);
}

ovl_err ovl_aes_ecb(ovl_aes *a, ovl_block *out, const ovl_block *in, size_t n)
{
    return cipher_run(a->ctx, (uint8_t *)out, (const uint8_t *)in, n);
}

void ovl_aes_free(ovl_aes *a)
{
    EVP_CIPHER_CTX_free(a->ctx); /* OpenSSL cleanses the key schedule */
    a->ctx = NULL;
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
