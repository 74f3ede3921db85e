/* Helpers shared by the circuit and garbling tests: the reference circuits of
 * ../shared/circuits and their references (OpenSSL AES-128, SHA-256). */
#ifndef OVL_GC_TESTLIB_H
#define OVL_GC_TESTLIB_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "mpc/bristol.h"

/* Circuits live in $OVL_SHARED/circuits, else ../shared/circuits. */
static inline ovl_err gct_load(ovl_circuit *c, const char *file)
{
    char path[512];
    const char *shared = getenv("OVL_SHARED");
    snprintf(path, sizeof path, "%s/circuits/%s", shared ? shared : "../shared", file);
    return ovl_bristol_load(c, path);
}

static inline void gct_aes128(uint8_t ct[16], const uint8_t key[16], const uint8_t pt[16])
{
    EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
    int n = 0;
    if (x == NULL || EVP_EncryptInit_ex(x, EVP_aes_128_ecb(), NULL, key, NULL) != 1 ||
        EVP_CIPHER_CTX_set_padding(x, 0) != 1 || EVP_EncryptUpdate(x, ct, &n, pt, 16) != 1 ||
        n != 16)
        abort();
    EVP_CIPHER_CTX_free(x);
}

/* The one padded block of a message under 56 bytes. */
static inline void gct_sha256_block(uint8_t block[64], const uint8_t *msg, size_t len)
{
    memset(block, 0, 64);
    memcpy(block, msg, len);
    block[len] = 0x80;
    uint64_t bits = (uint64_t)len * 8;
    for (int i = 0; i < 8; i++)
        block[63 - i] = (uint8_t)(bits >> (8 * i));
}

static const uint8_t gct_sha256_iv[32] = {
    0x6a, 0x09, 0xe6, 0x67, 0xbb, 0x67, 0xae, 0x85, 0x3c, 0x6e, 0xf3, 0x72, 0xa5, 0x4f, 0xf5, 0x3a,
    0x51, 0x0e, 0x52, 0x7f, 0x9b, 0x05, 0x68, 0x8c, 0x1f, 0x83, 0xd9, 0xab, 0x5b, 0xe0, 0xcd, 0x19};

/* The input bits of a two-input circuit from two big-endian byte strings. */
static inline int gct_inputs(uint8_t *bits, const ovl_circuit *c, const uint8_t *in1, size_t n1,
                             const uint8_t *in2, size_t n2)
{
    if (c->nin != 2 || ovl_bits_from_be(bits, c->in_width[0], in1, n1) != OVL_OK ||
        ovl_bits_from_be(bits + c->in_width[0], c->in_width[1], in2, n2) != OVL_OK)
        return -1;
    return 0;
}

#endif
