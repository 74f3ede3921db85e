/* overlap: the Waksman permutation network and its routing (permnet.h).
 *
 * Recursive construction for any n (Waksman 1968; the arbitrary-size form of
 * Beauchemin et al.): with h = ⌊n/2⌋, input switch k pairs inputs 2k, 2k+1
 * (straight: 2k to the top half, 2k+1 to the bottom), an odd last input goes
 * to the bottom directly; the top subnetwork has h inputs, the bottom n − h;
 * output switch k pairs top output k and bottom output k onto outputs 2k,
 * 2k+1, except that for even n the last pair is wired straight and for odd n
 * the bottom's last output is output n − 1. Switch order: input switches, the
 * top subnetwork, the bottom subnetwork, output switches — a topological
 * order, shared by construction and routing. */
#include "mpc/permnet.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/guard.h"
#include "core/mem.h"

#define NONE UINT32_MAX

static uint32_t out_switches(uint32_t n)
{
    return n % 2 ? n / 2 : n / 2 - 1;
}

static size_t count_switches(uint32_t n)
{
    if (n < 2)
        return 0;
    if (n == 2)
        return 1;
    return n / 2 + out_switches(n) + count_switches(n / 2) + count_switches(n - n / 2);
}

typedef struct {
    ovl_permnet *net;
    size_t next;
} builder;

static void add_switch(builder *b, uint32_t a, uint32_t c)
{
    b->net->slot_a[b->next] = a;
    b->net->slot_b[b->next] = c;
    b->next++;
}

/* Appends the level's switches; out receives the slots of its n outputs. */
static ovl_err build(builder *b, uint32_t *out, const uint32_t *in, uint32_t n)
{
    ovl_err rc = OVL_OK;
    uint32_t *sub = NULL;
    if (n <= 2) {
        if (n == 2)
            add_switch(b, in[0], in[1]);
        memcpy(out, in, (size_t)n * sizeof *in);
        return OVL_OK;
    }
    uint32_t h = n / 2;
    /* sub: top inputs [0,h), bottom inputs [h,n), top outputs, bottom outputs */
    OVL_TRY(ovl_calloc((void **)&sub, (size_t)2 * n, sizeof *sub));
    for (uint32_t k = 0; k < h; k++) {
        add_switch(b, in[2 * k], in[2 * k + 1]);
        sub[k] = in[2 * k];
        sub[h + k] = in[2 * k + 1];
    }
    if (n % 2)
        sub[n - 1] = in[n - 1];
    OVL_TRY(build(b, sub + n, sub, h));
    OVL_TRY(build(b, sub + n + h, sub + h, n - h));
    for (uint32_t k = 0; k < h; k++) {
        if (k < out_switches(n))
            add_switch(b, sub[n + k], sub[n + h + k]);
        out[2 * k] = sub[n + k];
        out[2 * k + 1] = sub[n + h + k];
    }
    if (n % 2)
        out[n - 1] = sub[n + h + h];
done:
    ovl_free_secret(sub, (size_t)2 * n * sizeof *sub);
    return rc;
}

ovl_err ovl_permnet_new(ovl_permnet *net, uint32_t n)
{
    ovl_err rc = OVL_OK;
    uint32_t *in = NULL;
    memset(net, 0, sizeof *net);
    OVL_ENSURE(n >= 1 && n <= OVL_PERMNET_MAX_N, OVL_ERR_USAGE,
               "permutation network on %u inputs (1 .. %u)", n, OVL_PERMNET_MAX_N);
    net->n = n;
    net->switches = count_switches(n);
    size_t s = net->switches ? net->switches : 1;
    OVL_TRY(ovl_calloc((void **)&net->slot_a, s, sizeof *net->slot_a));
    OVL_TRY(ovl_calloc((void **)&net->slot_b, s, sizeof *net->slot_b));
    OVL_TRY(ovl_calloc((void **)&net->out_slot, n, sizeof *net->out_slot));
    OVL_TRY(ovl_calloc((void **)&in, n, sizeof *in));
    for (uint32_t i = 0; i < n; i++)
        in[i] = i;
    builder b = {net, 0};
    OVL_TRY(build(&b, net->out_slot, in, n));
    OVL_ENSURE(b.next == net->switches, OVL_ERR_INTERNAL, "permutation network: %zu switches "
               "built, %zu counted", b.next, net->switches);
done:
    free(in);
    if (rc != OVL_OK)
        ovl_permnet_free(net);
    return rc;
}

void ovl_permnet_free(ovl_permnet *net)
{
    if (!net)
        return;
    free(net->slot_a);
    free(net->slot_b);
    free(net->out_slot);
    memset(net, 0, sizeof *net);
}

/* ---- Routing (the looping algorithm). Element e is a level input; its
 * input partner shares its input switch, its output partner the output pair
 * of its destination; partners must take different halves. The constraint
 * graph is a union of two matchings, so every cycle is even and every path
 * (odd n: from input n−1 to the element bound for output n−1) has its two
 * forced ends of one colour. */

typedef struct {
    const uint32_t *dest;
    const uint32_t *inv;
    uint8_t *color; /* 0 top, 1 bottom, 2 unset */
    uint32_t *queue;
    uint32_t n;
} looping;

static uint32_t in_partner(const looping *l, uint32_t e)
{
    return e < 2 * (l->n / 2) ? (e ^ 1u) : NONE;
}

static uint32_t out_partner(const looping *l, uint32_t e)
{
    uint32_t d = l->dest[e];
    return d < 2 * (l->n / 2) ? l->inv[d ^ 1u] : NONE;
}

static void paint(looping *l, uint32_t start, uint8_t c)
{
    if (l->color[start] != 2)
        return;
    size_t head = 0, tail = 0;
    l->color[start] = c;
    l->queue[tail++] = start;
    while (head < tail) {
        uint32_t e = l->queue[head++];
        uint32_t p[2] = {in_partner(l, e), out_partner(l, e)};
        for (int i = 0; i < 2; i++)
            if (p[i] != NONE && l->color[p[i]] == 2) {
                l->color[p[i]] = (uint8_t)(1 - l->color[e]);
                l->queue[tail++] = p[i];
            }
    }
}

typedef struct {
    uint8_t *bits;
    size_t next;
} router;

static ovl_err route(router *r, const uint32_t *dest, uint32_t n);

/* Colours the level, writes its input-switch bits and the two halves'
 * destinations (top in sub[0,h), bottom in sub[h,n)); out_bits gets the
 * output-switch bits. */
static void split(uint8_t *in_bits, uint8_t *out_bits, uint32_t *sub, looping *l)
{
    uint32_t n = l->n, h = n / 2;
    if (n % 2)
        paint(l, n - 1, 1);
    else
        paint(l, l->inv[n - 1], 1);
    for (uint32_t e = 0; e < n; e++)
        paint(l, e, 0);
    for (uint32_t k = 0; k < h; k++) {
        in_bits[k] = l->color[2 * k];
        uint32_t top = l->color[2 * k] ? 2 * k + 1 : 2 * k;
        sub[k] = l->dest[top] / 2;
        sub[h + k] = l->dest[top ^ 1u] / 2;
    }
    if (n % 2)
        sub[n - 1] = l->dest[n - 1] / 2;
    for (uint32_t e = 0; e < n; e++)
        if (l->color[e] == 0 && l->dest[e] / 2 < out_switches(n))
            out_bits[l->dest[e] / 2] = (uint8_t)(l->dest[e] & 1u);
}

static ovl_err route_level(router *r, const uint32_t *dest, uint32_t n)
{
    ovl_err rc = OVL_OK;
    uint32_t h = n / 2;
    uint32_t *scratch = NULL; /* inv, queue, sub */
    uint8_t *color = NULL, *out_bits = NULL;
    OVL_TRY(ovl_calloc((void **)&scratch, (size_t)3 * n, sizeof *scratch));
    OVL_TRY(ovl_calloc((void **)&color, n, 1));
    OVL_TRY(ovl_calloc((void **)&out_bits, h, 1));
    memset(color, 2, n);
    for (uint32_t i = 0; i < n; i++)
        scratch[dest[i]] = i;
    looping l = {dest, scratch, color, scratch + n, n};
    uint32_t *sub = scratch + 2 * (size_t)n;
    split(r->bits + r->next, out_bits, sub, &l);
    r->next += h;
    OVL_TRY(route(r, sub, h));
    OVL_TRY(route(r, sub + h, n - h));
    memcpy(r->bits + r->next, out_bits, out_switches(n));
    r->next += out_switches(n);
done:
    ovl_free_secret(scratch, (size_t)3 * n * sizeof *scratch);
    ovl_free_secret(color, n);
    ovl_free_secret(out_bits, h);
    return rc;
}

static ovl_err route(router *r, const uint32_t *dest, uint32_t n)
{
    if (n < 2)
        return OVL_OK;
    if (n == 2) {
        r->bits[r->next++] = (uint8_t)(dest[0] & 1u);
        return OVL_OK;
    }
    return route_level(r, dest, n);
}

ovl_err ovl_permnet_route(uint8_t *bits, const ovl_permnet *net, const uint32_t *dest)
{
    ovl_err rc = OVL_OK;
    uint8_t *seen = NULL;
    OVL_TRY(ovl_calloc((void **)&seen, net->n, 1));
    for (uint32_t i = 0; i < net->n; i++) {
        OVL_ENSURE(dest[i] < net->n && !seen[dest[i]], OVL_ERR_USAGE,
                   "permutation network: destinations are not a permutation of 0 .. %u",
                   net->n - 1);
        seen[dest[i]] = 1;
    }
    router r = {bits, 0};
    OVL_TRY(route(&r, dest, net->n));
    OVL_ENSURE(r.next == net->switches, OVL_ERR_INTERNAL,
               "permutation network: %zu switches routed, %zu built", r.next, net->switches);
done:
    ovl_free_secret(seen, net->n);
    return rc;
}

void ovl_permnet_apply(uint64_t *out, uint64_t *scratch, const uint64_t *in, size_t width,
                       const ovl_permnet *net, const uint8_t *bits)
{
    memcpy(scratch, in, (size_t)net->n * width * sizeof *in);
    for (size_t s = 0; s < net->switches; s++) {
        /* A mask, not a branch: the bits are the permuter's secret. */
        uint64_t m = (uint64_t)0 - (uint64_t)(bits[s] & 1u);
        uint64_t *a = scratch + (size_t)net->slot_a[s] * width;
        uint64_t *b = scratch + (size_t)net->slot_b[s] * width;
        for (size_t w = 0; w < width; w++) {
            uint64_t t = (a[w] ^ b[w]) & m;
            a[w] ^= t;
            b[w] ^= t;
        }
    }
    for (uint32_t j = 0; j < net->n; j++)
        memcpy(out + (size_t)j * width, scratch + (size_t)net->out_slot[j] * width,
               width * sizeof *out);
}
