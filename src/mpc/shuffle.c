/* overlap: Permute+Share on the Waksman network (shuffle.h). */
#include "mpc/shuffle.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/guard.h"
#include "core/mem.h"
#include "mpc/shares.h"

#define FIX_HDR 5u /* kind u8, count u32 */

struct ovl_shuffle_helper {
    const ovl_permnet *net;
    size_t width, next;
    ovl_rng *rng;
    uint64_t *mask; /* n·width: the current mask of every slot */
};

struct ovl_shuffle_perm {
    const ovl_permnet *net;
    size_t width, next;
    uint8_t *bits;  /* switches: the routed permutation (secret) */
    uint64_t *val;  /* n·width: content + the helper's mask of every slot */
};

size_t ovl_shuffle_batch_max(size_t width)
{
    size_t by_frame = (OVL_SHARE_MAX_MSG - 64) / (16 * (width ? width : 1));
    return by_frame < OVL_COT_BATCH_MAX ? by_frame : OVL_COT_BATCH_MAX;
}

size_t ovl_shuffle_fix_msg_len(size_t n, size_t width)
{
    return FIX_HDR + n * 16 * width;
}

static size_t words(const ovl_permnet *net, size_t width)
{
    return (size_t)net->n * width;
}

static ovl_err check_width(size_t width)
{
    if (width < 1 || width > OVL_SHUFFLE_MAX_WIDTH)
        return ovl_err_set(OVL_ERR_USAGE, "shuffle: records of %zu words (1 .. %u)", width,
                           OVL_SHUFFLE_MAX_WIDTH);
    return OVL_OK;
}

/* The batch must cover the next switches, no more than remain. */
static ovl_err check_batch(const ovl_permnet *net, size_t next, size_t k, size_t width)
{
    if (k < 1 || k > net->switches - next || k > ovl_shuffle_batch_max(width))
        return ovl_err_set(OVL_ERR_PROTOCOL, "shuffle: a batch of %zu switches where %zu remain",
                           k, net->switches - next);
    return OVL_OK;
}

ovl_err ovl_shuffle_helper_new(ovl_shuffle_helper **out, const ovl_permnet *net, size_t width,
                               ovl_rng *rng, const uint64_t *share, uint64_t *masked)
{
    ovl_err rc = OVL_OK;
    ovl_shuffle_helper *h = NULL;
    *out = NULL;
    OVL_TRY(check_width(width));
    OVL_TRY(ovl_calloc((void **)&h, 1, sizeof *h));
    h->net = net, h->width = width, h->rng = rng;
    OVL_TRY(ovl_calloc((void **)&h->mask, words(net, width), sizeof *h->mask));
    ovl_rng_bytes(rng, h->mask, words(net, width) * sizeof *h->mask);
    for (size_t i = 0; i < words(net, width); i++)
        masked[i] = share[i] + h->mask[i];
    *out = h;
    h = NULL;
done:
    ovl_shuffle_helper_free(h);
    return rc;
}

/* For switch s on slots (a, b) with masks (Ma, Mb) and fresh output masks
 * (Oa, Ob): straight needs (Oa − Ma, Ob − Mb), crossed (Oa − Mb, Ob − Ma). */
static void helper_switch(ovl_shuffle_helper *h, size_t s, uint64_t *m0, uint64_t *corr)
{
    size_t w = h->width;
    uint64_t *ma = h->mask + (size_t)h->net->slot_a[s] * w;
    uint64_t *mb = h->mask + (size_t)h->net->slot_b[s] * w;
    for (size_t k = 0; k < w; k++) {
        uint64_t o[2];
        ovl_rng_bytes(h->rng, o, sizeof o);
        m0[k] = o[0] - ma[k];
        m0[w + k] = o[1] - mb[k];
        corr[k] = (o[0] - mb[k]) - m0[k];
        corr[w + k] = (o[1] - ma[k]) - m0[w + k];
        ma[k] = o[0];
        mb[k] = o[1];
        sodium_memzero(o, sizeof o);
    }
}

static ovl_err write_fix(ovl_buf *msg, const uint64_t *m0, const uint64_t *s, size_t k, size_t w)
{
    ovl_err rc = OVL_OK;
    OVL_TRY(ovl_buf_put_u8(msg, OVL_OTMSG_CHOSEN_FIX));
    OVL_TRY(ovl_buf_put_u32(msg, (uint32_t)k));
    for (size_t i = 0; i < k * 2 * w; i++)
        OVL_TRY(ovl_buf_put_u64(msg, m0[i] - s[i]));
done:
    return rc;
}

ovl_err ovl_shuffle_helper_batch(ovl_shuffle_helper *h, ovl_cot *b, ovl_buf *share_msg,
                                 ovl_buf *fix_msg)
{
    ovl_err rc = OVL_OK;
    size_t k = ovl_cot_count(b), L = 2 * h->width, n = 0;
    uint64_t *m0 = NULL, *corr = NULL, *s = NULL;
    OVL_TRY(check_batch(h->net, h->next, k, h->width));
    n = k * L;
    OVL_TRY(ovl_calloc((void **)&m0, n, sizeof *m0));
    OVL_TRY(ovl_calloc((void **)&corr, n, sizeof *corr));
    OVL_TRY(ovl_calloc((void **)&s, n, sizeof *s));
    for (size_t j = 0; j < k; j++)
        helper_switch(h, h->next + j, m0 + j * L, corr + j * L);
    OVL_TRY(ovl_share_cot_send(b, 64, L, corr, s, share_msg));
    OVL_TRY(write_fix(fix_msg, m0, s, k, h->width));
    h->next += k;
done:
    ovl_free_secret(m0, n * sizeof *m0);
    ovl_free_secret(corr, n * sizeof *corr);
    ovl_free_secret(s, n * sizeof *s);
    return rc;
}

ovl_err ovl_shuffle_helper_finish(ovl_shuffle_helper *h, uint64_t *share)
{
    if (h->next != h->net->switches)
        return ovl_err_set(OVL_ERR_USAGE, "shuffle: finished after %zu of %zu switches", h->next,
                           h->net->switches);
    size_t w = h->width;
    for (uint32_t j = 0; j < h->net->n; j++)
        for (size_t k = 0; k < w; k++)
            share[(size_t)j * w + k] = 0 - h->mask[(size_t)h->net->out_slot[j] * w + k];
    return OVL_OK;
}

void ovl_shuffle_helper_free(ovl_shuffle_helper *h)
{
    if (!h)
        return;
    ovl_free_secret(h->mask, h->mask ? words(h->net, h->width) * sizeof *h->mask : 0);
    ovl_free_secret(h, sizeof *h);
}

ovl_err ovl_shuffle_perm_new(ovl_shuffle_perm **out, const ovl_permnet *net, size_t width,
                             const uint32_t *dest, const uint64_t *masked)
{
    ovl_err rc = OVL_OK;
    ovl_shuffle_perm *p = NULL;
    *out = NULL;
    OVL_TRY(check_width(width));
    OVL_TRY(ovl_calloc((void **)&p, 1, sizeof *p));
    p->net = net, p->width = width;
    OVL_TRY(ovl_calloc((void **)&p->bits, net->switches ? net->switches : 1, 1));
    OVL_TRY(ovl_calloc((void **)&p->val, words(net, width), sizeof *p->val));
    OVL_TRY(ovl_permnet_route(p->bits, net, dest));
    memcpy(p->val, masked, words(net, width) * sizeof *p->val);
    *out = p;
    p = NULL;
done:
    ovl_shuffle_perm_free(p);
    return rc;
}

ovl_err ovl_shuffle_perm_choices(const ovl_shuffle_perm *p, size_t first, size_t k,
                                 uint8_t *choices)
{
    if (first < p->next || first > p->net->switches || k < 1 || k > p->net->switches - first)
        return ovl_err_set(OVL_ERR_USAGE, "shuffle: %zu choices from switch %zu of %zu (%zu "
                           "moved)", k, first, p->net->switches, p->next);
    memset(choices, 0, (k + 7) / 8);
    for (size_t j = 0; j < k; j++)
        choices[j / 8] |= (uint8_t)(p->bits[first + j] << (j % 8));
    return OVL_OK;
}

/* Exactly kind, count = k and 16·width·k bytes of words (src/mpc/SPEC.md §4.1 rules). */
static ovl_err read_fix(ovl_buf *msg, uint64_t *fix, size_t k, size_t w)
{
    uint8_t kind = 0;
    uint32_t count = 0;
    if (ovl_buf_get_u8(msg, &kind) != OVL_OK || ovl_buf_get_u32(msg, &count) != OVL_OK)
        return ovl_err_set(OVL_ERR_MALFORMED, "CHOSEN_FIX: shorter than its header");
    if (kind != OVL_OTMSG_CHOSEN_FIX || count != k)
        return ovl_err_set(OVL_ERR_PROTOCOL, "CHOSEN_FIX: kind 0x%02x for %u switches where "
                           "0x%02x for %zu were expected", kind, count, OVL_OTMSG_CHOSEN_FIX, k);
    if (ovl_buf_remaining(msg) != k * 16 * w)
        return ovl_err_set(OVL_ERR_MALFORMED, "CHOSEN_FIX: %zu bytes of words where %zu were "
                           "expected", ovl_buf_remaining(msg), k * 16 * w);
    for (size_t i = 0; i < k * 2 * w; i++)
        if (ovl_buf_get_u64(msg, &fix[i]) != OVL_OK)
            return ovl_err_set(OVL_ERR_MALFORMED, "CHOSEN_FIX: short");
    return OVL_OK;
}

/* A masked swap (the bit is P's secret), then the received mask changes. */
static void perm_switch(ovl_shuffle_perm *p, size_t s, const uint64_t *msg)
{
    size_t w = p->width;
    uint64_t m = (uint64_t)0 - (uint64_t)(p->bits[s] & 1u);
    uint64_t *a = p->val + (size_t)p->net->slot_a[s] * w;
    uint64_t *b = p->val + (size_t)p->net->slot_b[s] * w;
    for (size_t k = 0; k < w; k++) {
        uint64_t t = (a[k] ^ b[k]) & m;
        a[k] = (a[k] ^ t) + msg[k];
        b[k] = (b[k] ^ t) + msg[w + k];
    }
}

ovl_err ovl_shuffle_perm_batch(ovl_shuffle_perm *p, ovl_cot *b, ovl_buf *share_msg,
                               ovl_buf *fix_msg)
{
    ovl_err rc = OVL_OK;
    size_t k = ovl_cot_count(b), L = 2 * p->width, n = 0;
    uint64_t *got = NULL, *fix = NULL;
    OVL_TRY(check_batch(p->net, p->next, k, p->width));
    n = k * L;
    OVL_TRY(ovl_calloc((void **)&got, n, sizeof *got));
    OVL_TRY(ovl_calloc((void **)&fix, n, sizeof *fix));
    OVL_TRY(ovl_share_cot_recv(b, 64, L, share_msg, got));
    OVL_TRY(read_fix(fix_msg, fix, k, p->width));
    for (size_t i = 0; i < n; i++)
        got[i] += fix[i]; /* s + c·(M1 − M0) + M0 − s = M_c */
    for (size_t j = 0; j < k; j++)
        perm_switch(p, p->next + j, got + j * L);
    p->next += k;
done:
    ovl_free_secret(got, n * sizeof *got);
    ovl_free_secret(fix, n * sizeof *fix);
    return rc;
}

ovl_err ovl_shuffle_perm_finish(ovl_shuffle_perm *p, const uint64_t *own, uint64_t *share)
{
    ovl_err rc = OVL_OK;
    uint64_t *scratch = NULL;
    size_t n = words(p->net, p->width);
    OVL_ENSURE(p->next == p->net->switches, OVL_ERR_USAGE,
               "shuffle: finished after %zu of %zu switches", p->next, p->net->switches);
    OVL_TRY(ovl_calloc((void **)&scratch, n, sizeof *scratch));
    ovl_permnet_apply(share, scratch, own, p->width, p->net, p->bits);
    for (uint32_t j = 0; j < p->net->n; j++)
        for (size_t k = 0; k < p->width; k++)
            share[(size_t)j * p->width + k] += p->val[(size_t)p->net->out_slot[j] * p->width + k];
done:
    ovl_free_secret(scratch, n * sizeof *scratch);
    return rc;
}

void ovl_shuffle_perm_free(ovl_shuffle_perm *p)
{
    if (!p)
        return;
    ovl_free_secret(p->bits, p->net ? (p->net->switches ? p->net->switches : 1) : 0);
    ovl_free_secret(p->val, p->val ? words(p->net, p->width) * sizeof *p->val : 0);
    ovl_free_secret(p, sizeof *p);
}
