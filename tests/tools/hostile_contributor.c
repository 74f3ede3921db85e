/* A deliberately misbehaving aggregate contributor for the hostile-peer tests
 * (tests/e2e/test_hostile_e2e.py). A real aggregate engine computes honest
 * frames, real TLS carries them, and one deviation chosen by --case is applied
 * to the Paillier material it sends. The honest runner on the other end must
 * stop with a specific one-line error, in time, without output.
 *
 * usage: hostile_contributor --case NAME (--connect H:P | --listen H:P)
 *                            --identity KEY --peer PUB [--n N] [--timeout S]
 * Its identifiers are SHA-256("user<i>@example.com"), i < N (default 50), each
 * with one row whose "amount" is i. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "aggregate/aggregate.h"
#include "session/drive.h"
#include "crypto/group.h"
#include "net/identity.h"
#include "core/pool.h"
#include "core/sort.h"
#include "net/transport.h"
#include "tool_link.h"

static const char *const cases[] = {
    "honest",          /* no deviation */
    "ct_zero",         /* a VALUES ciphertext of 0 */
    "ct_range",        /* a VALUES ciphertext >= n^2 (all 0xff) */
    "ct_noninvertible",/* a VALUES ciphertext equal to n (not invertible mod n) */
    "ct_truncated",    /* a VALUES frame one byte short */
    "key_even",        /* a Paillier public key with an even modulus */
    "share_range",     /* a share >= n */
    NULL,
};

typedef struct {
    const char *name;
    ovl_agg *agg;
    uint8_t n[512]; /* our Paillier modulus, from the KEY frame we sent */
    size_t nlen;
    bool values_done, shares_done;
} hostile;

static bool is(const hostile *h, const char *c) { return strcmp(h->name, c) == 0; }

/* First entry of the first VALUES frame: element then ciphertext. */
static void tamper_values(hostile *h, ovl_buf *out, size_t at)
{
    uint8_t *f = out->data + at;
    size_t elen = ovl_group_default()->elem_len;
    uint8_t *ct = f + OVL_FRAME_HDR + 4 + elen;
    size_t ct_len = 2 * h->nlen;
    if (is(h, "ct_zero")) {
        memset(ct, 0, ct_len);
    } else if (is(h, "ct_range")) {
        memset(ct, 0xff, ct_len);
    } else if (is(h, "ct_noninvertible")) {
        memset(ct, 0, ct_len - h->nlen);
        memcpy(ct + ct_len - h->nlen, h->n, h->nlen);
    } else if (is(h, "ct_truncated")) {
        out->wpos -= 1;
        uint32_t len = (uint32_t)(out->wpos - at - OVL_FRAME_HDR);
        f[1] = (uint8_t)(len >> 24), f[2] = (uint8_t)(len >> 16), f[3] = (uint8_t)(len >> 8);
        f[4] = (uint8_t)len;
    }
}

static ovl_err h_pull(void *proto, ovl_buf *out, bool *have)
{
    hostile *h = proto;
    size_t at = out->wpos;
    ovl_err rc = ovl_agg_ops.pull(h->agg, out, have);
    if (rc != OVL_OK || !*have)
        return rc;
    uint8_t *f = out->data + at;
    uint8_t *p = f + OVL_FRAME_HDR;
    if (f[0] == OVL_AGG_KEY) {
        unsigned bits = (unsigned)p[0] << 8 | p[1];
        h->nlen = bits / 8;
        memcpy(h->n, p + 2, h->nlen);
        if (is(h, "key_even"))
            p[2 + h->nlen - 1] &= 0xfe;
    } else if (f[0] == OVL_AGG_VALUES && !h->values_done) {
        h->values_done = true;
        tamper_values(h, out, at);
    } else if (f[0] == OVL_AGG_SHARES && !h->shares_done && is(h, "share_range")) {
        h->shares_done = true;
        memset(p + 4, 0xff, h->nlen);
    }
    return OVL_OK;
}

static ovl_err h_feed(void *proto, uint8_t type, const uint8_t *payload, size_t len)
{
    hostile *h = proto;
    if (type == OVL_FRAME_ABORT) {
        ovl_err e = ovl_frame_abort_decode(payload, len);
        fprintf(stderr, "hostile_contributor: the honest party aborted: %s\n", ovl_err_detail());
        return e;
    }
    return ovl_agg_ops.feed(h->agg, type, payload, len);
}

static ovl_err h_take(void *proto, ovl_job **job)
{
    return ovl_agg_ops.job_take(((hostile *)proto)->agg, job);
}

static ovl_err h_finish(void *proto, ovl_job *job)
{
    return ovl_agg_ops.job_finish(((hostile *)proto)->agg, job);
}

static bool h_wants(const void *proto) { return ovl_agg_ops.wants_input(((const hostile *)proto)->agg); }
static bool h_done(const void *proto) { return ovl_agg_ops.done(((const hostile *)proto)->agg); }

static const ovl_proto_ops hostile_ops = {
    .feed = h_feed,
    .pull = h_pull,
    .job_take = h_take,
    .job_finish = h_finish,
    .wants_input = h_wants,
    .done = h_done,
};

static int usage(const char *why)
{
    fprintf(stderr, "hostile_contributor: %s\nusage: hostile_contributor --case NAME "
                    "(--connect H:P | --listen H:P) --identity KEY --peer PUB [--n N] "
                    "[--timeout S]\ncases:", why);
    for (int i = 0; cases[i]; i++)
        fprintf(stderr, " %s", cases[i]);
    fputc('\n', stderr);
    return 2;
}

int main(int argc, char **argv)
{
    const char *name = NULL, *listen = NULL, *connect = NULL, *identity = NULL, *peer = NULL;
    unsigned long n = 50, timeout = 20;
    static const struct option opts[] = {
        {"case", required_argument, NULL, 'c'},    {"listen", required_argument, NULL, 'l'},
        {"connect", required_argument, NULL, 'C'}, {"identity", required_argument, NULL, 'i'},
        {"peer", required_argument, NULL, 'p'},    {"n", required_argument, NULL, 'n'},
        {"timeout", required_argument, NULL, 't'}, {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'c': name = optarg; break;
        case 'l': listen = optarg; break;
        case 'C': connect = optarg; break;
        case 'i': identity = optarg; break;
        case 'p': peer = optarg; break;
        case 'n': n = strtoul(optarg, NULL, 10); break;
        case 't': timeout = strtoul(optarg, NULL, 10); break;
        default: return usage("unknown option");
        }
    }
    bool known = false;
    for (int i = 0; name && cases[i]; i++)
        known |= strcmp(name, cases[i]) == 0;
    if (!known || !identity || !peer || (!listen == !connect) || n == 0 || n > 100000)
        return usage("missing or bad arguments");

    ovl_identity *self = NULL;
    ovl_pubkey pin;
    ovl_listener *l = NULL;
    ovl_conn *conn = NULL;
    ovl_pool *pool = NULL;
    hostile h = {.name = name};
    uint8_t(*ids)[32] = calloc(n, 32);
    int64_t *vec = calloc(2 * n, sizeof *vec);
    ovl_value_col amount = {.name = "amount", .decimals = 0};
    ovl_err rc = ids && vec ? ovl_crypto_init() : OVL_ERR_NOMEM;
    if (rc == OVL_OK)
        rc = ovl_paillier_init();
    for (unsigned long i = 0; rc == OVL_OK && i < n; i++) {
        char v[64];
        int len = snprintf(v, sizeof v, "user%lu@example.com", i);
        crypto_hash_sha256(ids[i], (const uint8_t *)v, (unsigned long long)len);
    }
    if (rc == OVL_OK)
        rc = ovl_sort_fixed((uint8_t *)ids, n, 32);
    for (unsigned long i = 0; i < n && vec; i++) {
        vec[2 * i] = 1;
        vec[2 * i + 1] = (int64_t)i;
    }
    if (rc == OVL_OK)
        rc = ovl_identity_load(&self, identity);
    if (rc == OVL_OK)
        rc = ovl_pubkey_load(&pin, peer);
    ovl_agg_config cfg = {
        .role = listen ? OVL_ROLE_LISTENER : OVL_ROLE_CONNECTOR,
        .contributor = true,
        .group = ovl_group_default(),
        .domain = "id=sha256 normalize=email",
        .min_rows = 1,
        .paillier_bits = 2048,
        .ids = (const uint8_t(*)[32])ids,
        .nids = n,
        .vectors = vec,
        .values = &amount,
        .nvalues = 1,
    };
    if (rc == OVL_OK)
        rc = ovl_agg_new(&h.agg, &cfg);
    if (rc == OVL_OK)
        rc = ovl_pool_new(&pool, 2);
    if (rc == OVL_OK)
        rc = tl_link("hostile_contributor", self, &pin, listen, connect, timeout, &conn, &l);
    if (rc == OVL_OK) {
        ovl_drive_opts d = {.timeout_ms = (int)timeout * 1000, .pool = pool};
        rc = ovl_drive(conn, &hostile_ops, &h, &d);
    }
    if (rc != OVL_OK)
        fprintf(stderr, "hostile_contributor: %s: %s\n", ovl_err_name(rc), ovl_err_detail());
    ovl_conn_close(conn);
    ovl_listener_close(l);
    ovl_agg_free(h.agg);
    ovl_pool_free(pool);
    ovl_identity_free(self);
    free(ids);
    free(vec);
    return rc == OVL_OK ? 0 : 1;
}
