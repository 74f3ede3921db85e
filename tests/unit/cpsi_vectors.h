/* The seeded circuit-PSI runs of vectors/cpsi.json (protocols/cpsi/SPEC.md):
 * both engines draw from fixed-seed streams, so every frame replays. Shared
 * by the generator (tests/tools/gen_vectors.c) and test_cpsi_vectors. */
#ifndef OVL_CPSI_VECTORS_H
#define OVL_CPSI_VECTORS_H

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include <sodium.h>

#include "core/mem.h"
#include "cpsi/cpsi.h"
#include "crypto/group.h"
#include "mpc/okvs.h"
#include "psi_harness.h"
#include "vectors_json.h"

/* Frames of a side: the first `full` in hex, then the SHA-256 of each. */
static inline json_t *cv_frames(const ovl_buf *log, size_t full)
{
    json_t *arr = json_array();
    size_t k = 0;
    for (size_t off = 0; off + OVL_FRAME_HDR <= log->wpos; k++) {
        const uint8_t *h = log->data + off;
        size_t len = OVL_FRAME_HDR + ((size_t)h[1] << 24 | (size_t)h[2] << 16 |
                                      (size_t)h[3] << 8 | h[4]);
        if (k < full) {
            json_array_append_new(arr, vj_hex(h, len));
        } else {
            uint8_t d[32];
            crypto_hash_sha256(d, h, len);
            json_t *s = vj_hex(d, 32);
            char buf[80];
            snprintf(buf, sizeof buf, "sha256:%s", json_string_value(s));
            json_decref(s);
            json_array_append_new(arr, json_string(buf));
        }
        off += len;
    }
    return arr;
}

typedef struct {
    const char *name;
    ovl_mode mode;
    uint32_t words;
    size_t n_r, n_c, common;
    uint32_t groups, width; /* the bit payload (SPEC.md §6.5); 0: none */
} cv_case;

/* The combined β and φ shares, one hex digit per bit ('0' or '1'). */
static inline void cv_bits(json_t *run, const ovl_cpsi_shares *a, const ovl_cpsi_shares *b)
{
    size_t nb = (size_t)a->bins * a->bit_groups * a->bit_width, nf = (size_t)a->bins * a->bit_groups;
    char *beta = calloc(nb + 1, 1), *phi = calloc(nf + 1, 1);
    if (beta == NULL || phi == NULL)
        abort();
    for (size_t i = 0; i < nb; i++)
        beta[i] = (char)('0' + ((a->beta[i] ^ b->beta[i]) & 1u));
    for (size_t i = 0; i < nf; i++)
        phi[i] = (char)('0' + ((a->phi[i] ^ b->phi[i]) & 1u));
    json_object_set_new(run, "bit_groups", json_integer(a->bit_groups));
    json_object_set_new(run, "bit_width", json_integer(a->bit_width));
    json_object_set_new(run, "opened_beta", json_string(beta));
    json_object_set_new(run, "opened_phi", json_string(phi));
    free(beta);
    free(phi);
}

static inline json_t *cv_run(const cv_case *k)
{
    char (*names)[24] = calloc(k->n_r + k->n_c + 1, sizeof *names);
    const uint8_t **ids = calloc(k->n_r + k->n_c + 1, sizeof *ids);
    size_t *lens = calloc(k->n_r + k->n_c + 1, sizeof *lens);
    uint64_t *payload = calloc((k->n_c + 1) * (k->words ? k->words : 1), sizeof *payload);
    uint16_t *counts = calloc((k->n_c + 1) * (k->groups ? k->groups : 1), sizeof *counts);
    uint8_t seed_r[32], seed_c[32];
    if (names == NULL || ids == NULL || lens == NULL || payload == NULL || counts == NULL)
        abort();
    /* runner: cust-0 .. cust-(n_r-1); contributor: the last `common` of them and more */
    for (size_t i = 0; i < k->n_r + k->n_c; i++) {
        size_t v = i < k->n_r ? i : i - k->n_r + (k->n_r - k->common);
        lens[i] = (size_t)snprintf(names[i], sizeof names[i], "cust-%zu", v);
        ids[i] = (const uint8_t *)names[i];
    }
    for (size_t i = 0; i < k->n_c * k->words; i++)
        payload[i] = 1000u * i + 17u;
    for (size_t i = 0; i < k->n_c * k->groups; i++) /* 0 and 2^w - 1 among them */
        counts[i] = (uint16_t)((i * 5u + i / 3u) % (1u << k->width));
    crypto_hash_sha256(seed_r, (const uint8_t *)k->name, strlen(k->name));
    memcpy(seed_c, seed_r, 32);
    seed_c[0] ^= 1;
    ovl_cpsi_config r = {.role = OVL_ROLE_LISTENER, .runner = true, .mode = k->mode,
                         .reveal = OVL_REVEAL_BOTH, .ids = ids, .id_len = lens,
                         .nids = k->n_r, .words = k->words, .bit_groups = k->groups,
                         .bit_width = k->width, .test_seed = seed_r};
    ovl_cpsi_config c = {.role = OVL_ROLE_CONNECTOR, .runner = false, .mode = k->mode,
                         .reveal = OVL_REVEAL_BOTH, .ids = ids + k->n_r, .id_len = lens + k->n_r,
                         .nids = k->n_c, .payload = payload, .words = k->words,
                         .bit_groups = k->groups, .bit_width = k->width,
                         .bit_counts = k->groups ? counts : NULL, .test_seed = seed_c};
    ovl_cpsi *e[2] = {NULL, NULL};
    hx_side s[2];
    if (ovl_cpsi_new(&e[0], &r) != OVL_OK || ovl_cpsi_new(&e[1], &c) != OVL_OK)
        abort();
    hx_init(&s[0], &ovl_cpsi_ops, e[0]);
    hx_init(&s[1], &ovl_cpsi_ops, e[1]);
    hx_run(&s[0], &s[1], NULL, NULL);
    json_t *run = json_object();
    json_object_set_new(run, "name", json_string(k->name));
    json_object_set_new(run, "mode", json_string(k->mode == OVL_MODE_CARDINALITY ? "cardinality"
                                                                                : "aggregate"));
    json_object_set_new(run, "n_runner", json_integer((json_int_t)k->n_r));
    json_object_set_new(run, "n_contributor", json_integer((json_int_t)k->n_c));
    json_object_set_new(run, "common", json_integer((json_int_t)k->common));
    json_object_set_new(run, "seed_runner", vj_hex(seed_r, 32));
    json_object_set_new(run, "seed_contributor", vj_hex(seed_c, 32));
    bool ok = s[0].rc == OVL_OK && s[1].rc == OVL_OK;
    json_object_set_new(run, "completed", json_boolean(ok));
    ovl_cpsi_shares a, b;
    if (ok && ovl_cpsi_result(e[0], &a) == OVL_OK && ovl_cpsi_result(e[1], &b) == OVL_OK) {
        uint32_t L = a.words;
        json_object_set_new(run, "bins", json_integer(a.bins));
        json_object_set_new(run, "sigma", json_integer(ovl_cpsi_sigma(a.bins)));
        json_object_set_new(run, "okvs_rows", json_integer(ovl_okvs_rows(3u * k->n_c)));
        json_object_set_new(run, "words", json_integer(L));
        json_object_set_new(run, "runner_match_shares", vj_hex(a.match, a.bins));
        json_object_set_new(run, "contributor_match_shares", vj_hex(b.match, b.bins));
        json_t *sums = json_array();
        size_t matched = 0;
        for (uint32_t i = 0; i < a.bins; i++) {
            matched += (a.match[i] ^ b.match[i]) & 1u;
            for (uint32_t w = 0; w < L; w++) {
                char buf[24];
                uint64_t v = a.value[(size_t)i * L + w] + b.value[(size_t)i * L + w];
                snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
                json_array_append_new(sums, json_string(buf));
            }
        }
        json_object_set_new(run, "matched_bins", json_integer((json_int_t)matched));
        json_object_set_new(run, "opened_values", sums);
        if (k->groups > 0)
            cv_bits(run, &a, &b);
        uint64_t n;
        if (k->mode == OVL_MODE_CARDINALITY && ovl_cpsi_count(e[0], &n) == OVL_OK)
            json_object_set_new(run, "count", json_integer((json_int_t)n));
    }
    json_object_set_new(run, "runner_frames", cv_frames(&s[0].log, 3));
    json_object_set_new(run, "contributor_frames", cv_frames(&s[1].log, 2));
    hx_free(&s[0]);
    hx_free(&s[1]);
    ovl_cpsi_free(e[0]);
    ovl_cpsi_free(e[1]);
    free(names);
    free(ids);
    free(lens);
    free(payload);
    free(counts);
    return run;
}

static inline json_t *cv_document(void)
{
    static const cv_case cases[] = {
        {"cpsi cardinality 12 x 9, 5 common", OVL_MODE_CARDINALITY, 0, 12, 9, 5, 0, 0},
        {"cpsi payload 2 words 20 x 16, 7 common", OVL_MODE_AGGREGATE, 2, 20, 16, 7, 0, 0},
        {"cpsi disjoint 4 x 3", OVL_MODE_CARDINALITY, 0, 4, 3, 0, 0, 0},
        {"cpsi bit payload 3 groups of 3 bits, 1 word, 14 x 11, 6 common", OVL_MODE_AGGREGATE, 1,
         14, 11, 6, 3, 3},
    };
    json_t *doc = json_object(), *runs = json_array();
    json_object_set_new(doc, "title",
                        json_string("overlap circuit PSI (cpsi/2) seeded runs, "
                                    "protocols/cpsi/SPEC.md"));
    json_object_set_new(doc, "generator", json_string("tests/tools/gen_vectors.c"));
    json_object_set_new(doc, "note",
                        json_string("runner = listener, contributor = connector, reveal both; "
                                    "frames: the first few in hex, then sha256 of each; "
                                    "opened_values = runner share + contributor share per bin "
                                    "and word (mod 2^64): the contributor's payload in matched "
                                    "bins, 0 elsewhere; opened_beta / opened_phi (bit payload, "
                                    "SPEC.md §6.5) = XOR of the shares, bin i, group c, bit j "
                                    "at (i*G + c)*w + j, and i*G + c"));
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        json_array_append_new(runs, cv_run(&cases[i]));
    json_object_set_new(doc, "runs", runs);
    return doc;
}

#endif
