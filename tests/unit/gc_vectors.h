/* The seeded garbled-circuit runs of vectors/gc.json (src/mpc/SPEC.md §GC.9):
 * both parties draw from fixed-seed streams, so every frame is reproducible.
 * Shared by the generator (tests/tools/gen_vectors.c) and test_gc_vectors. */
#ifndef OVL_GC_VECTORS_H
#define OVL_GC_VECTORS_H

#include <jansson.h>
#include <stdlib.h>

#include "core/mem.h"
#include "crypto/group.h"
#include "gc_testlib.h"
#include "mpc/gc.h"
#include "psi_harness.h"
#include "vectors_json.h"

/* Bits (one per byte) as the hex of the big-endian integer they stand for. */
static inline json_t *gv_bits(const uint8_t *bits, size_t n)
{
    uint8_t *b = calloc((n + 7) / 8 + 1, 1);
    if (b == NULL)
        abort();
    ovl_bits_to_be(b, (n + 7) / 8, bits, n);
    json_t *s = vj_hex(b, (n + 7) / 8);
    free(b);
    return s;
}

static inline json_t *gv_frames(const ovl_buf *log)
{
    json_t *arr = json_array();
    for (size_t off = 0; off + OVL_FRAME_HDR <= log->wpos;) {
        const uint8_t *h = log->data + off;
        size_t len = OVL_FRAME_HDR + ((size_t)h[1] << 24 | (size_t)h[2] << 16 |
                                      (size_t)h[3] << 8 | h[4]);
        json_array_append_new(arr, vj_hex(h, len));
        off += len;
    }
    return arr;
}

static inline json_t *gv_digest(const ovl_buf *log)
{
    uint8_t d[32];
    crypto_hash_sha256(d, log->data, log->wpos);
    return vj_hex(d, 32);
}

typedef struct {
    const char *name;
    const ovl_circuit *c;
    uint32_t garbler_inputs, instances;
    ovl_gc_reveal reveal;
    const uint8_t *gin, *ein; /* instances × bits */
    bool full_frames;         /* every frame in hex, else their SHA-256 */
} gv_case;

static inline json_t *gv_run(const gv_case *k)
{
    ovl_rng rng[2];
    ovl_gc *e[2] = {NULL, NULL};
    hx_side s[2];
    uint8_t seed[32], dig[32];
    json_t *run = json_object();
    crypto_hash_sha256(seed, (const uint8_t *)k->name, strlen(k->name));
    ovl_rng_init_seeded(&rng[0], seed, "gc-vector-garbler");
    ovl_rng_init_seeded(&rng[1], seed, "gc-vector-evaluator");
    ovl_gc_config g = {.role = OVL_GC_GARBLER, .party = 0, .circuit = k->c,
                       .garbler_inputs = k->garbler_inputs, .instances = k->instances,
                       .reveal = k->reveal, .input = k->gin, .rng = &rng[0]};
    ovl_gc_config v = g;
    v.role = OVL_GC_EVALUATOR;
    v.party = 1;
    v.input = k->ein;
    v.rng = &rng[1];
    if (ovl_gc_new(&e[0], &g) != OVL_OK || ovl_gc_new(&e[1], &v) != OVL_OK)
        abort();
    hx_init(&s[0], &ovl_gc_ops, e[0]);
    hx_init(&s[1], &ovl_gc_ops, e[1]);
    hx_run(&s[0], &s[1], NULL, NULL);
    if (s[0].rc != OVL_OK || s[1].rc != OVL_OK || !ovl_gc_ops.done(e[0]) ||
        !ovl_gc_ops.done(e[1]))
        abort();
    uint32_t gbits = ovl_circuit_in_offset(k->c, k->garbler_inputs);
    uint32_t ebits = k->c->in_bits - gbits;
    ovl_circuit_digest(dig, k->c);
    json_object_set_new(run, "name", json_string(k->name));
    json_object_set_new(run, "circuit_sha256", vj_hex(dig, 32));
    json_object_set_new(run, "and_gates", json_integer(k->c->nand));
    json_object_set_new(run, "instances", json_integer(k->instances));
    json_object_set_new(run, "reveal", json_integer(k->reveal));
    json_t *gi = json_array(), *ei = json_array(), *out = json_array();
    for (uint32_t i = 0; i < k->instances; i++) {
        json_array_append_new(gi, gv_bits(k->gin + (size_t)i * gbits, gbits));
        json_array_append_new(ei, gv_bits(k->ein + (size_t)i * ebits, ebits));
        const uint8_t *o = ovl_gc_output(e[1], i) ? ovl_gc_output(e[1], i) : ovl_gc_output(e[0], i);
        json_array_append_new(out, gv_bits(o, k->c->out_bits));
    }
    json_object_set_new(run, "garbler_inputs", gi);
    json_object_set_new(run, "evaluator_inputs", ei);
    json_object_set_new(run, "outputs", out);
    json_object_set_new(run, "garbler_bytes", json_integer((json_int_t)s[0].log.wpos));
    json_object_set_new(run, "evaluator_bytes", json_integer((json_int_t)s[1].log.wpos));
    if (k->full_frames) {
        json_object_set_new(run, "garbler_frames", gv_frames(&s[0].log));
        json_object_set_new(run, "evaluator_frames", gv_frames(&s[1].log));
    } else {
        json_object_set_new(run, "garbler_frames_sha256", gv_digest(&s[0].log));
        json_object_set_new(run, "evaluator_frames_sha256", gv_digest(&s[1].log));
    }
    ovl_gc_free(e[0]);
    ovl_gc_free(e[1]);
    hx_free(&s[0]);
    hx_free(&s[1]);
    return run;
}

/* The document: A2B over 8 bits (every frame), AES-128 on FIPS-197 C.1 and
 * on a second block (two instances, digests of the frames). */
static inline json_t *gv_document(void)
{
    json_t *doc = json_object(), *runs = json_array();
    json_object_set_new(doc, "description",
                        json_string("Seeded two-party garbled-circuit runs (src/mpc/SPEC.md "
                                    "§GC.9); regenerate with make vectors."));
    ovl_circuit a2b, aes;
    if (ovl_circuit_a2b(&a2b, 8) != OVL_OK || gct_load(&aes, "aes_128.txt") != OVL_OK)
        abort();
    uint8_t gin[16], ein[8];
    ovl_bits_from_u64(gin, 8, 0x5a);
    ovl_bits_from_u64(gin + 8, 8, 0xc3);
    ovl_bits_from_u64(ein, 8, 0x2f);
    for (int reveal = OVL_GC_REVEAL_EVALUATOR; reveal <= OVL_GC_REVEAL_BOTH; reveal++) {
        char name[64];
        snprintf(name, sizeof name, "a2b8-reveal%d", reveal);
        gv_case k = {name, &a2b, 2, 1, (ovl_gc_reveal)reveal, gin, ein, true};
        json_array_append_new(runs, gv_run(&k));
    }
    uint8_t key[2][16], pt[2][16], kin[256], pin[256];
    for (int i = 0; i < 16; i++) {
        key[0][i] = (uint8_t)i;
        pt[0][i] = (uint8_t)(0x11 * i);
        key[1][i] = (uint8_t)(0xa0 + i);
        pt[1][i] = (uint8_t)(0xff - 3 * i);
    }
    for (int i = 0; i < 2; i++)
        if (ovl_bits_from_be(kin + 128 * i, 128, key[i], 16) != OVL_OK ||
            ovl_bits_from_be(pin + 128 * i, 128, pt[i], 16) != OVL_OK)
            abort();
    gv_case k = {"aes128-fips197", &aes, 1, 2, OVL_GC_REVEAL_BOTH, kin, pin, false};
    json_array_append_new(runs, gv_run(&k));
    json_object_set_new(doc, "runs", runs);
    ovl_circuit_free(&a2b);
    ovl_circuit_free(&aes);
    return doc;
}

#endif
