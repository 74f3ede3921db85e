/* Builds the PSI vector runs of vectors/psi.json: fixed inputs and seeds in,
 * every frame and result out. Used by the generator (tests/tools/gen_vectors.c)
 * and by the test that checks the committed file (tests/unit/test_vectors.c). */
#ifndef OVL_PSI_VECTORS_H
#define OVL_PSI_VECTORS_H

#include <jansson.h>
#include <stdio.h>

#include "crypto/group.h"
#include "core/mem.h"
#include "core/sort.h"
#include "io/table.h"
#include "psi/psi.h"
#include "psi_harness.h"

typedef struct {
    const char *name;
    ovl_mode mode;
    ovl_reveal reveal;
    const char *listener[8];
    const char *connector[8];
    uint8_t seed;
} pv_case;

static const pv_case pv_cases[] = {
    {"intersection-both", OVL_MODE_INTERSECTION, OVL_REVEAL_BOTH,
     {"alice@example.com", "bob@example.com", "carol@example.com", "dave@example.com", NULL},
     {"BOB@example.com ", "erin@example.com", "dave@example.com", NULL}, 1},
    {"intersection-connector-only", OVL_MODE_INTERSECTION, OVL_REVEAL_CONNECTOR,
     {"alice@example.com", "bob@example.com", "carol@example.com", NULL},
     {"carol@example.com", "alice@example.com", "zoe@example.com", "yann@example.com", NULL}, 2},
    {"intersection-listener-only", OVL_MODE_INTERSECTION, OVL_REVEAL_LISTENER,
     {"alice@example.com", "bob@example.com", NULL},
     {"bob@example.com", "mallory@example.com", NULL}, 3},
    {"empty-connector", OVL_MODE_INTERSECTION, OVL_REVEAL_BOTH,
     {"alice@example.com", NULL}, {NULL}, 4},
};

static size_t pv_ids(const char *const *values, uint8_t (**ids)[32], json_t *arr)
{
    size_t n = 0;
    while (values[n])
        n++;
    *ids = calloc(n ? n : 1, 32);
    for (size_t i = 0; i < n; i++) {
        if (ovl_ident((*ids)[i], OVL_NORM_EMAIL, false, values[i], strlen(values[i])) != OVL_OK)
            abort();
        json_array_append_new(arr, json_string(values[i]));
    }
    if (ovl_sort_fixed((uint8_t *)*ids, n, 32) != OVL_OK)
        abort();
    return n;
}

static json_t *pv_frames(const ovl_buf *log)
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
        size_t len = ovl_buf_remaining(&payload);
        char *hex = malloc(2 * (OVL_FRAME_HDR + len) + 1);
        ovl_hex_encode(hex, ovl_buf_rptr(&payload) - OVL_FRAME_HDR, OVL_FRAME_HDR + len);
        json_array_append_new(arr, json_string(hex));
        free(hex);
    }
    return arr;
}

/* A party's result: null without output, else {count, matched values in input order}. */
static json_t *pv_result(ovl_psi *p, const char *const *values, const uint8_t (*ids)[32], size_t n)
{
    const bool *matched = NULL;
    uint64_t count = 0;
    if (!ovl_psi_receives_output(p))
        return json_null();
    if (ovl_psi_result(p, &matched, &count) != OVL_OK)
        abort();
    json_t *o = json_object();
    json_object_set_new(o, "count", json_integer((json_int_t)count));
    if (matched) {
        json_t *vals = json_array();
        for (size_t i = 0; values[i]; i++) {
            uint8_t id[32];
            if (ovl_ident(id, OVL_NORM_EMAIL, false, values[i], strlen(values[i])) != OVL_OK)
                abort();
            size_t k = ovl_search_fixed((const uint8_t *)ids, n, 32, id);
            if (k != SIZE_MAX && matched[k])
                json_array_append_new(vals, json_string(values[i]));
        }
        json_object_set_new(o, "matched", vals);
    }
    return o;
}

/* Runs one case; returns its JSON object (caller owns). */
static json_t *pv_run(const pv_case *c)
{
    json_t *o = json_object();
    json_t *lin = json_array(), *cin = json_array();
    uint8_t(*lids)[32], (*cids)[32];
    size_t n = pv_ids(c->listener, &lids, lin);
    size_t m = pv_ids(c->connector, &cids, cin);
    uint8_t seed_l[32] = {0}, seed_c[32] = {0};
    seed_l[0] = c->seed;
    seed_c[0] = c->seed;
    seed_c[1] = 1;
    static const char params[] = "psi/1 id=sha256 normalize=email";
    ovl_psi_config cl = {
        .role = OVL_ROLE_LISTENER, .mode = c->mode, .reveal = c->reveal,
        .group = ovl_group_default(), .ids = (const uint8_t(*)[32])lids, .nids = n,
        .params = (const uint8_t *)params, .params_len = sizeof params - 1, .test_seed = seed_l,
    };
    ovl_psi_config cc = cl;
    cc.role = OVL_ROLE_CONNECTOR;
    cc.ids = (const uint8_t(*)[32])cids;
    cc.nids = m;
    cc.test_seed = seed_c;
    ovl_psi *a, *b;
    if (ovl_psi_new(&a, &cl) != OVL_OK || ovl_psi_new(&b, &cc) != OVL_OK)
        abort();
    hx_side sa, sb;
    hx_init(&sa, &ovl_psi_ops, a);
    hx_init(&sb, &ovl_psi_ops, b);
    hx_run(&sa, &sb, NULL, NULL);
    if (sa.rc != OVL_OK || sb.rc != OVL_OK)
        abort();
    char seedhex[65];
    json_object_set_new(o, "name", json_string(c->name));
    json_object_set_new(o, "suite", json_string(ovl_group_default()->name));
    json_object_set_new(o, "mode", json_string(ovl_mode_name(c->mode)));
    json_object_set_new(o, "reveal", json_string(ovl_reveal_name(c->reveal)));
    json_object_set_new(o, "normalize", json_string("email"));
    json_object_set_new(o, "params", json_string(params));
    ovl_hex_encode(seedhex, seed_l, 32);
    json_object_set_new(o, "listener_seed", json_string(seedhex));
    ovl_hex_encode(seedhex, seed_c, 32);
    json_object_set_new(o, "connector_seed", json_string(seedhex));
    json_object_set_new(o, "listener_input", lin);
    json_object_set_new(o, "connector_input", cin);
    json_object_set_new(o, "tag_length", json_integer((json_int_t)ovl_psi_tag_len(a)));
    char th[129];
    ovl_hex_encode(th, ovl_psi_transcript(a), 64);
    json_object_set_new(o, "transcript_hash", json_string(th));
    json_object_set_new(o, "listener_frames", pv_frames(&sa.log));
    json_object_set_new(o, "connector_frames", pv_frames(&sb.log));
    json_object_set_new(o, "listener_result",
                        pv_result(a, c->listener, (const uint8_t(*)[32])lids, n));
    json_object_set_new(o, "connector_result",
                        pv_result(b, c->connector, (const uint8_t(*)[32])cids, m));
    hx_free(&sa);
    hx_free(&sb);
    ovl_psi_free(a);
    ovl_psi_free(b);
    free(lids);
    free(cids);
    return o;
}

static json_t *pv_document(void)
{
    json_t *doc = json_object();
    json_object_set_new(doc, "description",
                        json_string("overlap PSI v1 (protocols/psi/SPEC.md): complete runs with "
                                    "seeded secrets; every frame each party sends, as hex "
                                    "(type, length, payload). Regenerate with `make vectors`."));
    json_object_set_new(doc, "generator", json_string("tests/tools/gen_vectors.c"));
    json_t *runs = json_array();
    for (size_t i = 0; i < sizeof pv_cases / sizeof pv_cases[0]; i++)
        json_array_append_new(runs, pv_run(&pv_cases[i]));
    json_object_set_new(doc, "runs", runs);
    return doc;
}

#endif
