/* Builds the aggregate vector runs of vectors/aggregate.json: fixed inputs,
 * seeds and Paillier key in, every frame and the runner's result out. Used by
 * the generator (tests/tools/gen_vectors.c) and by tests/unit/test_agg_vectors.c. */
#ifndef OVL_AGG_VECTORS_H
#define OVL_AGG_VECTORS_H

#include <jansson.h>
#include <stdio.h>

#include "aggregate/aggregate.h"
#include "crypto/group.h"
#include "core/mem.h"
#include "core/sort.h"
#include "io/table.h"
#include "psi_harness.h"

#define AV_MAX 8

typedef struct {
    const char *email;
    unsigned group;
} av_rrow;

typedef struct {
    const char *email;
    int64_t v[2];
} av_crow;

typedef struct {
    const char *name;
    size_t ngroups, nvalues;
    av_rrow runner[AV_MAX];
    av_crow contributor[AV_MAX];
    uint64_t min_runner, min_contributor;
    bool contributor_listens;
    uint8_t seed;
} av_case;

static const av_case av_cases[] = {
    {"two-groups-one-suppressed", 2, 2,
     {{"alice@example.com", 0}, {"bob@example.com", 0}, {"carol@example.com", 1},
      {"dave@example.com", 1}, {"erin@example.com", 1}, {NULL, 0}},
     {{"bob@example.com", {1250, 1}}, {"carol@example.com", {-300, 2}},
      {"carol@example.com", {999, 1}}, {"dave@example.com", {5, 0}},
      {"zoe@example.com", {7, 7}}, {NULL, {0, 0}}},
     2, 1, true, 1},
    {"no-groups", 1, 1,
     {{"alice@example.com", 0}, {"bob@example.com", 0}, {NULL, 0}},
     {{"bob@example.com", {-42, 0}}, {"alice@example.com", {100, 0}}, {NULL, {0, 0}}},
     1, 1, false, 2},
};

static json_t *av_frames(const ovl_buf *log)
{
    json_t *arr = json_array();
    ovl_buf r;
    ovl_buf_reader(&r, log->data, log->wpos);
    for (;;) {
        uint8_t type;
        ovl_buf payload;
        bool complete;
        if (ovl_frame_parse(&r, OVL_FRAME_MAX_PAYLOAD, &type, &payload, &complete) != OVL_OK ||
            !complete)
            break;
        size_t len = OVL_FRAME_HDR + ovl_buf_remaining(&payload);
        char *hex = malloc(2 * len + 1);
        ovl_hex_encode(hex, ovl_buf_rptr(&payload) - OVL_FRAME_HDR, len);
        json_array_append_new(arr, json_string(hex));
        free(hex);
    }
    return arr;
}

static const uint8_t av_key_seed[OVL_PAILLIER_SEED_BYTES] = {'o', 'v', 'l', '-', 'a', 'g', 'g'};

static void av_ident(uint8_t id[32], const char *email)
{
    if (ovl_ident(id, OVL_NORM_EMAIL, false, email, strlen(email)) != OVL_OK)
        abort();
}

static int av_cmp32(const void *a, const void *b) { return memcmp(a, b, 32); }

/* Runs one case under `key`; returns its JSON object (caller owns). */
static json_t *av_run(const av_case *c, const ovl_paillier_sk *key)
{
    uint8_t memb[AV_MAX][32], ids[AV_MAX][32];
    size_t gstart[AV_MAX + 1] = {0}, nm = 0, nids = 0;
    int64_t vec[AV_MAX * 3] = {0};
    json_t *rin = json_array(), *cin = json_array();
    for (size_t g = 0; g < c->ngroups; g++) {
        gstart[g] = nm;
        for (size_t i = 0; c->runner[i].email; i++)
            if (c->runner[i].group == g)
                av_ident(memb[nm++], c->runner[i].email);
    }
    gstart[c->ngroups] = nm;
    for (size_t i = 0; c->runner[i].email; i++)
        json_array_append_new(rin, json_pack("{s:s,s:i}", "email", c->runner[i].email, "group",
                                             (int)c->runner[i].group));
    for (size_t i = 0; c->contributor[i].email; i++) {
        uint8_t id[32];
        av_ident(id, c->contributor[i].email);
        if (ovl_search_fixed((const uint8_t *)ids, nids, 32, id) == SIZE_MAX) {
            memcpy(ids[nids++], id, 32);
            qsort(ids, nids, 32, av_cmp32);
        }
        json_t *vals = json_array();
        for (size_t k = 0; k < c->nvalues; k++)
            json_array_append_new(vals, json_integer((json_int_t)c->contributor[i].v[k]));
        json_array_append_new(cin, json_pack("{s:s,s:o}", "email", c->contributor[i].email,
                                             "values", vals));
    }
    size_t w = 1 + c->nvalues;
    for (size_t i = 0; c->contributor[i].email; i++) {
        uint8_t id[32];
        av_ident(id, c->contributor[i].email);
        size_t k = ovl_search_fixed((const uint8_t *)ids, nids, 32, id);
        vec[k * w]++;
        for (size_t v = 0; v < c->nvalues; v++)
            vec[k * w + 1 + v] += c->contributor[i].v[v];
    }
    static const ovl_value_col cols[2] = {{"amount", 2}, {"count", 0}};
    uint8_t seed_r[32] = {0}, seed_c[32] = {0};
    seed_r[0] = c->seed;
    seed_c[0] = c->seed;
    seed_c[1] = 1;
    static const char domain[] = "id=sha256 normalize=email";
    ovl_agg_config cr = {
        .role = c->contributor_listens ? OVL_ROLE_CONNECTOR : OVL_ROLE_LISTENER,
        .group = ovl_group_default(), .domain = domain, .min_rows = c->min_runner,
        .paillier_bits = 2048, .memb = (const uint8_t(*)[32])memb, .group_start = gstart,
        .ngroups = c->ngroups, .group_by_cols = c->ngroups > 1, .test_seed = seed_r,
    };
    ovl_agg_config cc = {
        .role = c->contributor_listens ? OVL_ROLE_LISTENER : OVL_ROLE_CONNECTOR,
        .contributor = true, .group = ovl_group_default(), .domain = domain,
        .min_rows = c->min_contributor, .paillier_bits = 2048,
        .ids = (const uint8_t(*)[32])ids, .nids = nids, .vectors = vec, .values = cols,
        .nvalues = c->nvalues, .test_seed = seed_c, .test_key = key,
    };
    ovl_agg *r, *k;
    if (ovl_agg_new(&r, &cr) != OVL_OK || ovl_agg_new(&k, &cc) != OVL_OK)
        abort();
    hx_side sr, sk;
    hx_init(&sr, &ovl_agg_ops, r);
    hx_init(&sk, &ovl_agg_ops, k);
    hx_run(&sr, &sk, NULL, NULL);
    if (sr.rc != OVL_OK || sk.rc != OVL_OK)
        abort();
    json_t *o = json_object(), *res = json_array();
    char hex[129];
    json_object_set_new(o, "name", json_string(c->name));
    json_object_set_new(o, "suite", json_string(ovl_group_default()->name));
    json_object_set_new(o, "domain", json_string(domain));
    json_object_set_new(o, "contributor_role",
                        json_string(c->contributor_listens ? "listener" : "connector"));
    json_object_set_new(o, "runner_min_rows", json_integer((json_int_t)c->min_runner));
    json_object_set_new(o, "contributor_min_rows", json_integer((json_int_t)c->min_contributor));
    json_object_set_new(o, "value_columns", json_pack("[s,s]", "amount:2", "count:0"));
    ovl_hex_encode(hex, seed_r, 32);
    json_object_set_new(o, "runner_seed", json_string(hex));
    ovl_hex_encode(hex, seed_c, 32);
    json_object_set_new(o, "contributor_seed", json_string(hex));
    ovl_hex_encode(hex, av_key_seed, sizeof av_key_seed);
    json_object_set_new(o, "paillier_key_seed", json_string(hex));
    json_object_set_new(o, "runner_input", rin);
    json_object_set_new(o, "contributor_input", cin);
    json_object_set_new(o, "tag_length", json_integer((json_int_t)ovl_agg_tag_len(r)));
    ovl_hex_encode(hex, ovl_agg_transcript(r), 64);
    json_object_set_new(o, "transcript_hash", json_string(hex));
    json_object_set_new(o, "runner_frames", av_frames(&sr.log));
    json_object_set_new(o, "contributor_frames", av_frames(&sk.log));
    for (size_t g = 0; g < c->ngroups; g++) {
        uint64_t matched;
        bool rel;
        const int64_t *sums;
        if (ovl_agg_group_result(r, g, &matched, &rel, &sums) != OVL_OK)
            abort();
        json_t *e = json_pack("{s:i,s:i,s:b}", "group", (int)g, "matched", (int)matched,
                              "released", rel);
        if (rel) {
            json_t *s = json_array();
            for (size_t v = 0; v < w; v++)
                json_array_append_new(s, json_integer((json_int_t)sums[v]));
            json_object_set_new(e, "rows_and_sums", s);
        }
        json_array_append_new(res, e);
    }
    json_object_set_new(o, "runner_result", res);
    hx_free(&sr);
    hx_free(&sk);
    ovl_agg_free(r);
    ovl_agg_free(k);
    return o;
}

static json_t *av_document(void)
{
    ovl_paillier_sk *key = NULL;
    if (ovl_paillier_keygen_from_seed_for_tests(&key, 2048, av_key_seed) != OVL_OK)
        abort();
    json_t *doc = json_object();
    json_object_set_new(doc, "description",
                        json_string("overlap aggregate v1 (protocols/aggregate/SPEC.md): complete "
                                    "runs with seeded secrets, Paillier key (2048 bits, from "
                                    "paillier_key_seed) and encryption randomness; every frame each "
                                    "party sends, as hex. Regenerate with `make vectors`."));
    json_object_set_new(doc, "generator", json_string("tests/tools/gen_vectors.c"));
    json_t *runs = json_array();
    for (size_t i = 0; i < sizeof av_cases / sizeof av_cases[0]; i++)
        json_array_append_new(runs, av_run(&av_cases[i], key));
    json_object_set_new(doc, "runs", runs);
    ovl_paillier_sk_free(key);
    return doc;
}

#endif
