/* Builds the runs of vectors/mpsi.json (protocols/mpsi/SPEC.md): fixed
 * identity keys, sets and seeds in; every frame each member sends (in the
 * order the in-process relay moves them) and each member's result out. Used
 * by the generator (tests/tools/gen_vectors.c) and tests/unit/test_mpsi_vectors.c. */
#ifndef OVL_MPSI_VECTORS_H
#define OVL_MPSI_VECTORS_H

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>

#include "mpsi_harness.h"

#define MPV_MAXN 8

typedef struct {
    const char *name;
    unsigned k;
    ovl_mode mode;
    ovl_reveal reveal;
    const char *sets[OVL_MPSI_MAX_MEMBERS][MPV_MAXN]; /* emails, NULL-terminated */
    uint8_t seed;
} mpv_case;

static const mpv_case mpv_cases[] = {
    {"three-intersection-all", 3, OVL_MODE_INTERSECTION, OVL_REVEAL_BOTH,
     {{"ann@x.org", "bob@x.org", "cat@x.org", "dan@x.org", NULL},
      {"bob@x.org", "cat@x.org", "eve@x.org", NULL},
      {"ann@x.org", "cat@x.org", "eve@x.org", "fay@x.org", NULL}},
     1},
    {"three-cardinality", 3, OVL_MODE_CARDINALITY, OVL_REVEAL_BOTH,
     {{"ann@x.org", "bob@x.org", "cat@x.org", NULL},
      {"bob@x.org", "cat@x.org", "dan@x.org", NULL},
      {"ann@x.org", "bob@x.org", "cat@x.org", "dan@x.org", NULL}},
     2},
    {"four-intersection-listener", 4, OVL_MODE_INTERSECTION, OVL_REVEAL_LISTENER,
     {{"ann@x.org", "bob@x.org", NULL},
      {"ann@x.org", "bob@x.org", "cat@x.org", NULL},
      {"bob@x.org", "cat@x.org", NULL},
      {"ann@x.org", "bob@x.org", "cat@x.org", NULL}},
     3},
};

typedef struct {
    json_t *frames;
} mpv_log;

static char *mpv_hex(const uint8_t *p, size_t n)
{
    char *s = malloc(2 * n + 1);
    if (s == NULL)
        abort();
    sodium_bin2hex(s, 2 * n + 1, p, n);
    return s;
}

static void mpv_record(void *arg, unsigned from, unsigned to, ovl_buf *f, bool *drop)
{
    mpv_log *l = arg;
    char *h = mpv_hex(f->data, f->wpos);
    json_array_append_new(l->frames, json_pack("{s:i, s:i, s:s}", "from", from, "to", to,
                                               "frame", h));
    free(h);
    *drop = false;
}

static json_t *mpv_run(const mpv_case *c)
{
    static const char *names[] = {"hub", "b", "c", "d", "e", "f", "g", "h", "i", "j"};
    uint8_t pk[OVL_MPSI_MAX_MEMBERS][32], sk[OVL_MPSI_MAX_MEMBERS][64], session[32];
    uint8_t ids[OVL_MPSI_MAX_MEMBERS][MPV_MAXN][32], seed[32] = {c->seed};
    uint64_t sizes[OVL_MPSI_MAX_MEMBERS] = {0};
    mx_member ms[OVL_MPSI_MAX_MEMBERS];
    json_t *run = json_object(), *sets = json_array(), *keys = json_array();
    crypto_hash_sha256(session, (const uint8_t *)c->name, strlen(c->name));
    for (unsigned i = 0; i < c->k; i++) {
        uint8_t s[32] = {(uint8_t)(0x10 + i)};
        crypto_sign_seed_keypair(pk[i], sk[i], s);
        json_t *set = json_array();
        for (size_t a = 0; c->sets[i][a]; a++) {
            crypto_hash_sha256(ids[i][a], (const uint8_t *)c->sets[i][a], strlen(c->sets[i][a]));
            json_array_append_new(set, json_string(c->sets[i][a]));
            sizes[i]++;
        }
        json_array_append_new(sets, set);
        char *h = mpv_hex(pk[i], 32);
        json_array_append_new(keys, json_string(h));
        free(h);
    }
    for (unsigned i = 0; i < c->k; i++) {
        ovl_mpsi_config cfg = {.members = c->k, .self = i, .mode = c->mode, .reveal = c->reveal,
                               .group = ovl_group_default(),
                               .ids = (const uint8_t(*)[32])ids[i], .nids = sizes[i],
                               .set_sizes = sizes, .member_pk = (const uint8_t(*)[32])pk,
                               .names = names, .sign_sk = sk[i], .session = session,
                               .test_seed = seed};
        ovl_mpsi *m = NULL;
        if (ovl_mpsi_new(&m, &cfg) != OVL_OK)
            abort();
        mx_init(&ms[i], m);
    }
    mpv_log log = {json_array()};
    mx_run(ms, c->k, mpv_record, &log);
    json_t *results = json_array();
    for (unsigned i = 0; i < c->k; i++) {
        const bool *matched;
        uint64_t count = 0;
        json_t *r = json_object();
        if (ms[i].rc != OVL_OK || ovl_mpsi_result(ms[i].m, &matched, &count) != OVL_OK) {
            json_object_set_new(r, "error", json_string(ms[i].detail));
        } else if (matched != NULL) {
            json_t *rows = json_array();
            for (size_t a = 0; a < sizes[i]; a++)
                if (matched[a])
                    json_array_append_new(rows, json_string(c->sets[i][a]));
            json_object_set_new(r, "rows", rows);
        } else if (c->mode == OVL_MODE_CARDINALITY) {
            json_object_set_new(r, "count", json_integer((json_int_t)count));
        }
        json_array_append_new(results, r);
        mx_free(&ms[i]);
    }
    char *sh = mpv_hex(session, 32), *seedh = mpv_hex(seed, 32);
    json_object_set_new(run, "name", json_string(c->name));
    json_object_set_new(run, "members", json_integer(c->k));
    json_object_set_new(run, "mode", json_string(ovl_mode_name(c->mode)));
    json_object_set_new(run, "reveal", json_string(c->reveal == OVL_REVEAL_BOTH ? "all" : "listener"));
    json_object_set_new(run, "session", json_string(sh));
    json_object_set_new(run, "test_seed", json_string(seedh));
    json_object_set_new(run, "identity_keys", keys);
    json_object_set_new(run, "sets", sets);
    json_object_set_new(run, "frames", log.frames);
    json_object_set_new(run, "results", results);
    free(sh);
    free(seedh);
    return run;
}

static json_t *mpv_document(void)
{
    json_t *doc = json_object(), *runs = json_array();
    json_object_set_new(doc, "description",
                        json_string("overlap multi-party PSI (protocols/mpsi/SPEC.md): complete "
                                    "seeded runs; identifiers are SHA-256 of the emails as "
                                    "listed; identity keys from seeds 0x10+i; every frame each "
                                    "member sent, in relay order; each member's result"));
    for (size_t i = 0; i < sizeof mpv_cases / sizeof mpv_cases[0]; i++)
        json_array_append_new(runs, mpv_run(&mpv_cases[i]));
    json_object_set_new(doc, "runs", runs);
    return doc;
}

#endif
