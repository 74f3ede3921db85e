/* overlap: cell records, helper labels and the release (release.h). */
#include "aggregate/release.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/guard.h"
#include "core/mem.h"

#define AD_PREFIX "overlap-agg2 label"

size_t ovl_agg2_record_width(const ovl_agg2_layout *l)
{
    return ovl_agg2_prod_words(l) + 6;
}

static uint64_t load_le(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static void store_le(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

ovl_err ovl_agg2_records_build(uint64_t *rec, const ovl_agg2_layout *l, const uint64_t *cells,
                               bool runner, const uint8_t (*keys)[OVL_AGG2_KEY_LEN])
{
    ovl_err rc = ovl_agg2_layout_check(l);
    if (rc != OVL_OK)
        return rc;
    size_t P = ovl_agg2_prod_words(l), W = ovl_agg2_record_width(l);
    for (uint32_t g = 0; g < l->groups_r; g++)
        for (uint32_t c = 0; c < l->groups_c; c++) {
            size_t cell = (size_t)g * l->groups_c + c;
            uint64_t *r = rec + cell * W;
            memcpy(r, cells + cell * P, P * sizeof *r);
            r[P] = runner ? g : 0;
            r[P + 1] = runner ? 0 : c;
            for (int w = 0; w < 4; w++)
                r[P + 2 + w] = keys ? load_le(keys[runner ? g : c] + 8 * w) : 0;
        }
    return OVL_OK;
}

void ovl_agg2_record_key(uint8_t key[static OVL_AGG2_KEY_LEN], const uint64_t *rec,
                         const ovl_agg2_layout *l)
{
    size_t P = ovl_agg2_prod_words(l);
    for (int w = 0; w < 4; w++)
        store_le(key + 8 * w, rec[P + 2 + w]);
}

static void label_ad(uint8_t ad[static sizeof AD_PREFIX + 4 + 32], uint32_t g,
                     const uint8_t th[static 32])
{
    memcpy(ad, AD_PREFIX, sizeof AD_PREFIX - 1);
    uint8_t *p = ad + sizeof AD_PREFIX - 1;
    p[0] = (uint8_t)(g >> 24), p[1] = (uint8_t)(g >> 16), p[2] = (uint8_t)(g >> 8);
    p[3] = (uint8_t)g;
    memcpy(p + 4, th, 32);
}

#define AD_LEN (sizeof AD_PREFIX - 1 + 4 + 32)

ovl_err ovl_agg2_label_seal(uint8_t ct[static OVL_AGG2_LABEL_CT],
                            uint8_t key[static OVL_AGG2_KEY_LEN], const uint8_t *label,
                            size_t len, uint32_t g, const uint8_t th[static 32], ovl_rng *rng)
{
    uint8_t pt[OVL_AGG2_LABEL_LEN] = {0}, ad[AD_LEN + 1];
    uint8_t nonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES] = {0};
    if (len > OVL_AGG2_LABEL_MAX)
        return ovl_err_set(OVL_ERR_INPUT, "aggregate: group %u's label has %zu bytes (at most %u)",
                           g, len, OVL_AGG2_LABEL_MAX);
    pt[0] = (uint8_t)(len >> 8), pt[1] = (uint8_t)len;
    if (len)
        memcpy(pt + 2, label, len);
    label_ad(ad, g, th);
    ovl_rng_bytes(rng, key, OVL_AGG2_KEY_LEN);
    unsigned long long clen = 0;
    crypto_aead_chacha20poly1305_ietf_encrypt(ct, &clen, pt, sizeof pt, ad, AD_LEN, NULL, nonce,
                                              key);
    sodium_memzero(pt, sizeof pt);
    return clen == OVL_AGG2_LABEL_CT ? OVL_OK
                                     : ovl_err_set(OVL_ERR_INTERNAL, "aggregate: label sealing");
}

bool ovl_agg2_label_open(uint8_t label[static OVL_AGG2_LABEL_MAX], size_t *len,
                         const uint8_t ct[static OVL_AGG2_LABEL_CT],
                         const uint8_t key[static OVL_AGG2_KEY_LEN], uint32_t g,
                         const uint8_t th[static 32])
{
    uint8_t pt[OVL_AGG2_LABEL_LEN], ad[AD_LEN + 1];
    uint8_t nonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES] = {0};
    unsigned long long plen = 0;
    label_ad(ad, g, th);
    *len = 0;
    if (crypto_aead_chacha20poly1305_ietf_decrypt(pt, &plen, NULL, ct, OVL_AGG2_LABEL_CT, ad,
                                                  AD_LEN, nonce, key) != 0 ||
        plen != sizeof pt)
        return false;
    size_t n = (size_t)pt[0] << 8 | pt[1];
    bool ok = n <= OVL_AGG2_LABEL_MAX;
    if (ok) {
        memcpy(label, pt + 2, n);
        *len = n;
    }
    sodium_memzero(pt, sizeof pt);
    return ok;
}

ovl_err ovl_agg2_release_write(ovl_buf *out, const uint64_t *rec, size_t width,
                               const uint8_t *pass, size_t k)
{
    ovl_err rc = OVL_OK;
    uint32_t r = 0;
    for (size_t i = 0; i < k; i++)
        r += pass[i] & 1u;
    OVL_TRY(ovl_buf_put_u32(out, r));
    for (size_t i = 0; i < k; i++)
        for (size_t w = 0; (pass[i] & 1u) && w < width; w++)
            OVL_TRY(ovl_buf_put_u64(out, rec[i * width + w]));
done:
    return rc;
}

ovl_err ovl_agg2_release_read(ovl_buf *in, const uint64_t *own, size_t width,
                              const uint8_t *pass, size_t k, uint64_t *opened, size_t *r)
{
    uint32_t count = 0;
    size_t want = 0;
    *r = 0;
    for (size_t i = 0; i < k; i++)
        want += pass[i] & 1u;
    if (ovl_buf_get_u32(in, &count) != OVL_OK)
        return ovl_err_set(OVL_ERR_MALFORMED, "RELEASE: shorter than its count");
    if (count != want)
        return ovl_err_set(OVL_ERR_PROTOCOL, "RELEASE: %u records where %zu cells passed the "
                           "threshold (the peer withholds or adds cells)", count, want);
    if (ovl_buf_remaining(in) != want * width * 8)
        return ovl_err_set(OVL_ERR_MALFORMED, "RELEASE: %zu bytes where %zu records of %zu "
                           "words take %zu", ovl_buf_remaining(in), want, width,
                           want * width * 8);
    size_t j = 0;
    for (size_t i = 0; i < k; i++) {
        if (!(pass[i] & 1u))
            continue;
        for (size_t w = 0; w < width; w++) {
            uint64_t v = 0;
            if (ovl_buf_get_u64(in, &v) != OVL_OK)
                return ovl_err_set(OVL_ERR_MALFORMED, "RELEASE: short");
            opened[j * width + w] = v + own[i * width + w];
        }
        j++;
    }
    *r = j;
    return OVL_OK;
}

size_t ovl_agg2_release_classify(uint8_t *ok, const uint64_t *opened, size_t r,
                                 const ovl_agg2_layout *l, uint64_t threshold)
{
    size_t P = ovl_agg2_prod_words(l), W = ovl_agg2_record_width(l), bad = 0;
    size_t K = ovl_agg2_prod_cells(l);
    uint32_t *seen = NULL;
    /* Without memory for the repeat check, every record is set aside: still
     * no error (and the same behaviour towards the peer). */
    bool counted = ovl_calloc((void **)&seen, K ? K : 1, sizeof *seen) == OVL_OK;
    for (size_t i = 0; i < r; i++) {
        const uint64_t *x = opened + i * W;
        ok[i] = counted && x[0] >= threshold && x[0] <= UINT32_MAX && x[P] < l->groups_r &&
                x[P + 1] < l->groups_c;
        if (ok[i])
            seen[x[P] * l->groups_c + x[P + 1]]++;
    }
    /* A repeated cell: every copy is suspect. */
    for (size_t i = 0; i < r; i++) {
        const uint64_t *x = opened + i * W;
        if (ok[i] && seen[x[P] * l->groups_c + x[P + 1]] > 1)
            ok[i] = 0;
        bad += !ok[i];
    }
    free(seen);
    return bad;
}
