/* A deliberately misbehaving overlap peer for the hostile-peer tests
 * (tests/e2e/test_hostile_e2e.py). It is built from the engine's own code:
 * a real PSI engine computes honest frames, real TLS (ovl_connect /
 * ovl_accept) carries them, and one deviation chosen by --case is applied to
 * what it sends. The honest `overlap run` on the other end must stop with a
 * specific one-line error, in time, without output.
 *
 * usage: hostile_peer --case NAME (--connect H:P | --listen H:P) --identity KEY --peer PUB
 *                     [--n N] [--mode M] [--reveal R] [--normalize K] [--timeout S]
 *                     [--record FILE] [--replay FILE]
 * Its identifiers are SHA-256("user<i>@example.com"), i < N (default 50). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session/drive.h"
#include "crypto/group.h"
#include "net/identity.h"
#include "core/pool.h"
#include "net/transport.h"
#include "tool_link.h"
#include "tool_peer.h"
#include "psi/psi.h"

/* HELLO payload offsets (protocols/common/SPEC.md §3.1). */
enum { H_VERSION = 4, H_SUITE = 6, H_SET_SIZE = 11 };

static const char *const cases[] = {
    "honest",      /* no deviation (baseline; with --record, the session to replay) */
    "identity",    /* the identity element in the first ELEMENTS frame */
    "invalid",     /* bytes that decode to no group element */
    "noncanonical",/* a valid element with bit 255 set */
    "duplicate",   /* the same blinded element twice */
    "more",        /* announces N-1 identifiers, sends N */
    "fewer",       /* announces N+1, sends N, then FINISH */
    "silent",      /* announces N+1, sends N, then says nothing */
    "oversize",    /* announces 2^40 identifiers */
    "truncated",   /* an ELEMENTS frame whose count exceeds its bytes */
    "out_of_order",/* FINISH before HELLO */
    "second_hello",/* HELLO twice */
    "version",     /* protocol version 2 */
    "suite",       /* suite 2 (P-256) */
    "big_frame",   /* a frame header announcing 2 GiB */
    "garbage",     /* an HTTP request instead of frames */
    "replay",      /* the frames of an earlier session (--replay FILE) */
    NULL,
};

typedef struct {
    const char *name;
    ovl_psi *psi;
    unsigned elements_frames; /* ELEMENTS frames sent so far */
    bool hello_done, silent;
    uint8_t *replay;
    size_t replay_len;
    bool replay_sent;
    FILE *record;
} hostile;

static bool is(const hostile *h, const char *name)
{
    return strcmp(h->name, name) == 0;
}

static void put_be(uint8_t *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        p[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
}

static uint64_t get_be(const uint8_t *p, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v = v << 8 | p[i];
    return v;
}

static ovl_err put_frame(ovl_buf *out, uint8_t type, const void *payload, size_t len)
{
    size_t mark;
    ovl_err rc = ovl_frame_begin(out, type, &mark);
    if (rc == OVL_OK)
        rc = ovl_buf_put_bytes(out, payload, len);
    if (rc == OVL_OK)
        rc = ovl_frame_end(out, mark);
    return rc;
}

/* Rewrites our HELLO (frame at f). */
static void tamper_hello(hostile *h, uint8_t *f)
{
    uint8_t *p = f + OVL_FRAME_HDR;
    uint64_t n = get_be(p + H_SET_SIZE, 8);
    if (is(h, "version"))
        put_be(p + H_VERSION, 2, 2);
    else if (is(h, "suite"))
        put_be(p + H_SUITE, OVL_SUITE_P256_SHA256, 2);
    else if (is(h, "more"))
        put_be(p + H_SET_SIZE, n - 1, 8);
    else if (is(h, "fewer") || is(h, "silent"))
        put_be(p + H_SET_SIZE, n + 1, 8);
    else if (is(h, "oversize"))
        put_be(p + H_SET_SIZE, 1ull << 40, 8);
}

/* Rewrites the first ELEMENTS frame (at f, `len` bytes in all). */
static void tamper_elements(hostile *h, uint8_t *f, size_t *len)
{
    uint8_t *count = f + OVL_FRAME_HDR;
    uint8_t *e = count + 4;
    size_t elen = ovl_group_default()->elem_len;
    uint32_t n = (uint32_t)get_be(count, 4);
    if (is(h, "identity"))
        memset(e, 0, elen);
    else if (is(h, "invalid"))
        memset(e, 0xff, elen - 1), e[elen - 1] = 0x7f;
    else if (is(h, "noncanonical"))
        e[elen - 1] |= 0x80;
    else if (is(h, "duplicate") && n >= 2)
        memcpy(e + elen, e, elen);
    else if (is(h, "truncated") && n >= 2) {
        /* Drop the last element's bytes but keep the count. */
        *len -= elen;
        put_be(f + 1, *len - OVL_FRAME_HDR, 4);
    }
}

static ovl_err h_feed(void *proto, uint8_t type, const uint8_t *payload, size_t len)
{
    hostile *h = proto;
    if (type == OVL_FRAME_ABORT) {
        ovl_err e = ovl_frame_abort_decode(payload, len);
        fprintf(stderr, "hostile_peer: the honest party aborted: %s\n", ovl_err_detail());
        return e;
    }
    if (h->replay)
        return OVL_OK; /* a replaying peer ignores what it hears */
    return ovl_psi_ops.feed(h->psi, type, payload, len);
}

static ovl_err pull_replay(hostile *h, ovl_buf *out, bool *have)
{
    *have = false;
    if (h->replay_sent)
        return OVL_OK;
    h->replay_sent = true;
    *have = true;
    return ovl_buf_put_bytes(out, h->replay, h->replay_len);
}

/* Extra frames some cases send before or after HELLO. */
static ovl_err around_hello(hostile *h, ovl_buf *out, size_t hello_at)
{
    static const char http[] = "GET / HTTP/1.1\r\nHost: overlap\r\n\r\n";
    static const uint8_t big[OVL_FRAME_HDR] = {OVL_PSI_ELEMENTS, 0x7f, 0xff, 0xff, 0xff};
    ovl_err rc = OVL_OK;
    size_t hello_len = out->wpos - hello_at;
    if (is(h, "out_of_order")) {
        uint8_t copy[OVL_FRAME_HDR + 256];
        if (hello_len > sizeof copy)
            return OVL_ERR_INTERNAL;
        memcpy(copy, out->data + hello_at, hello_len);
        out->wpos = hello_at;
        rc = put_frame(out, OVL_PSI_FINISH, NULL, 0);
        if (rc == OVL_OK)
            rc = ovl_buf_put_bytes(out, copy, hello_len);
    } else if (is(h, "second_hello")) {
        rc = ovl_buf_put_bytes(out, out->data + hello_at, hello_len);
    } else if (is(h, "big_frame")) {
        rc = ovl_buf_put_bytes(out, big, sizeof big);
        h->silent = true;
    } else if (is(h, "garbage")) {
        out->wpos = hello_at;
        rc = ovl_buf_put_bytes(out, http, sizeof http - 1);
        h->silent = true;
    }
    return rc;
}

static ovl_err h_pull(void *proto, ovl_buf *out, bool *have)
{
    hostile *h = proto;
    ovl_err rc = OVL_OK;
    *have = false;
    if (h->replay)
        return pull_replay(h, out, have);
    if (h->silent)
        return OVL_OK;
    size_t at = out->wpos;
    rc = ovl_psi_ops.pull(h->psi, out, have);
    if (rc != OVL_OK || !*have)
        return rc;
    uint8_t *f = out->data + at;
    size_t len = out->wpos - at;
    if (h->record)
        fwrite(f, 1, len, h->record);
    if (f[0] == OVL_HELLO_TYPE && !h->hello_done) {
        h->hello_done = true;
        tamper_hello(h, f);
        return around_hello(h, out, at);
    }
    if (f[0] == OVL_PSI_ELEMENTS && h->elements_frames++ == 0) {
        tamper_elements(h, f, &len);
        out->wpos = at + len;
    }
    if (f[0] == OVL_PSI_FINISH && is(h, "silent")) {
        out->wpos = at; /* never finish: keep the connection open and quiet */
        h->silent = true;
        *have = false;
    }
    return OVL_OK;
}

static ovl_err h_job_take(void *proto, ovl_job **job)
{
    return ovl_psi_ops.job_take(((hostile *)proto)->psi, job);
}

static ovl_err h_job_finish(void *proto, ovl_job *job)
{
    return ovl_psi_ops.job_finish(((hostile *)proto)->psi, job);
}

static bool h_wants_input(const void *proto)
{
    const hostile *h = proto;
    return h->replay || h->silent || ovl_psi_ops.wants_input(h->psi);
}

static bool h_done(const void *proto)
{
    const hostile *h = proto;
    return !h->replay && !h->silent && ovl_psi_ops.done(h->psi);
}

static const ovl_proto_ops hostile_ops = {
    .feed = h_feed,
    .pull = h_pull,
    .job_take = h_job_take,
    .job_finish = h_job_finish,
    .wants_input = h_wants_input,
    .done = h_done,
};

typedef struct {
    tp_common c;
    const char *listen, *record, *replay, *normalize;
} args;

static int usage(const char *why)
{
    return tp_usage("hostile_peer", cases, why,
                    "--case NAME (--connect H:P | --listen H:P) --identity KEY --peer PUB "
                    "[--n N] [--mode M] [--reveal R] [--normalize K] [--timeout S] "
                    "[--record FILE] [--replay FILE]");
}

static int parse_args(args *a, int argc, char **argv)
{
    static const struct option opts[] = {
        TP_COMMON_OPTIONS,
        {"listen", required_argument, NULL, 'l'},   {"normalize", required_argument, NULL, 'N'},
        {"record", required_argument, NULL, 'R'},   {"replay", required_argument, NULL, 'P'},
        {NULL, 0, NULL, 0},
    };
    int c;
    const char *why = NULL;
    memset(a, 0, sizeof *a);
    tp_common_init(&a->c, 60, OVL_REVEAL_BOTH);
    a->normalize = "email";
    while ((c = tp_getopt(&a->c, argc, argv, opts, &why)) != -1) {
        switch (c) {
        case 'l': a->listen = optarg; break;
        case 'N': a->normalize = optarg; break;
        case 'R': a->record = optarg; break;
        case 'P': a->replay = optarg; break;
        case TP_BAD: return usage(why);
        default: return usage("unknown option");
        }
    }
    if (!tp_case_known(cases, a->c.name) || !a->c.identity || !a->c.peer ||
        !a->listen == !a->c.connect || a->c.n < 2 || a->c.n > 10000000 || a->c.timeout == 0)
        return usage("missing or bad arguments");
    if (strcmp(a->c.name, "replay") == 0 && !a->replay)
        return usage("--case replay needs --replay FILE");
    return 0;
}

static ovl_err load_file(const char *path, uint8_t **data, size_t *len)
{
    FILE *f = fopen(path, "rb");
    long size;
    if (f == NULL)
        return ovl_err_set(OVL_ERR_IO, "cannot open %s", path);
    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) <= 0 || fseek(f, 0, SEEK_SET) != 0 ||
        (*data = malloc((size_t)size)) == NULL || fread(*data, 1, (size_t)size, f) != (size_t)size) {
        fclose(f);
        return ovl_err_set(OVL_ERR_IO, "cannot read %s", path);
    }
    fclose(f);
    *len = (size_t)size;
    return OVL_OK;
}

static ovl_err run(const args *a, hostile *h)
{
    char params[128];
    uint8_t(*ids)[32] = NULL;
    ovl_conn *conn = NULL;
    ovl_listener *l = NULL;
    ovl_pool *pool = NULL;
    snprintf(params, sizeof params, "psi/1 id=sha256 normalize=%s", a->normalize);
    ovl_err rc = tp_make_ids(&ids, a->c.n);
    ovl_psi_config cfg = {
        .role = a->listen ? OVL_ROLE_LISTENER : OVL_ROLE_CONNECTOR,
        .mode = a->c.mode,
        .reveal = a->c.reveal,
        .group = ovl_group_default(),
        .ids = (const uint8_t(*)[32])ids,
        .nids = a->c.n,
        .max_peer_set = 1ull << 32,
        .params = (const uint8_t *)params,
        .params_len = (uint32_t)strlen(params),
    };
    if (rc == OVL_OK)
        rc = ovl_psi_new(&h->psi, &cfg);
    if (rc == OVL_OK)
        rc = ovl_pool_new(&pool, 2);
    if (rc == OVL_OK)
        rc = tl_link_files("hostile_peer", a->c.identity, a->c.peer, a->listen, a->c.connect,
                           a->c.timeout, &conn, &l);
    if (rc == OVL_OK) {
        ovl_drive_opts d = {.timeout_ms = (int)a->c.timeout * 1000, .pool = pool};
        rc = ovl_drive(conn, &hostile_ops, h, &d);
    }
    ovl_conn_close(conn);
    ovl_listener_close(l);
    ovl_pool_free(pool);
    free(ids);
    return rc;
}

int main(int argc, char **argv)
{
    args a;
    hostile h;
    memset(&h, 0, sizeof h);
    if (parse_args(&a, argc, argv) != 0)
        return 2;
    h.name = a.c.name;
    ovl_err rc = ovl_crypto_init();
    if (rc == OVL_OK && a.replay)
        rc = load_file(a.replay, &h.replay, &h.replay_len);
    if (rc == OVL_OK && a.record && (h.record = fopen(a.record, "wb")) == NULL)
        rc = ovl_err_set(OVL_ERR_IO, "cannot create %s", a.record);
    if (rc == OVL_OK)
        rc = run(&a, &h);
    if (h.record)
        fclose(h.record);
    ovl_psi_free(h.psi);
    free(h.replay);
    if (rc != OVL_OK) {
        fprintf(stderr, "hostile_peer: %s: %s\n", a.c.name, ovl_err_detail());
        return 1;
    }
    fprintf(stderr, "hostile_peer: %s: run completed\n", a.c.name);
    return 0;
}
