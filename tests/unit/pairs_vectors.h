/* The seeded pair-condition runs of vectors/pairs.json (protocols/aggregate/
 * CONDITIONS.md §4): the bin circuit of the article's 30-day attribution window
 * on fixed rows, garbled by the contributor and evaluated by the runner from
 * fixed-seed streams (gc_vectors.h), so every frame is reproducible. Shared by
 * the generator (tests/tools/gen_vectors.c) and test_pairs_vectors. */
#ifndef OVL_PAIRS_VECTORS_H
#define OVL_PAIRS_VECTORS_H

#include "gc_vectors.h"
#include "mpc/pairs.h"

#define PCV_DAY 46202u /* 2026-07-01 */
#define PCV_BINS 2u

/* Rows per bin: runner (valid, purchase day); contributor (valid,
 * impression, impression + 30), as CONDITIONS.md §3.1 lays them out. */
static const uint32_t pcv_runner[PCV_BINS][2][2] = {
    {{1, PCV_DAY + 30}, {1, PCV_DAY + 45}},
    {{1, PCV_DAY + 31}, {0, 0}}, /* a padding row: validity 0 */
};
static const uint32_t pcv_contrib[PCV_BINS][2][3] = {
    {{1, PCV_DAY, PCV_DAY + 30}, {1, PCV_DAY + 40, PCV_DAY + 70}},
    {{1, PCV_DAY, PCV_DAY + 30}, {0, 0, 131071}},
};
/* Expected z(0,0), z(0,1), z(1,0), z(1,1), phi per bin. */
static const uint8_t pcv_want[PCV_BINS][5] = {{1, 0, 0, 1, 1}, {0, 0, 0, 0, 0}};

static inline ovl_pc_shape pcv_shape(void)
{
    ovl_pc_shape s = {.cap_r = 2, .cap_c = 2, .groups_r = 1, .groups_c = 1, .nconds = 1,
                      .conds = {{.op = OVL_PC_BETWEEN, .width = OVL_PC_DATE_BITS}}};
    return s;
}

/* Deterministic share and mask bits: SHA-256 of a label, bit by bit. */
static inline void pcv_bits(uint8_t *out, size_t n, const char *label, uint32_t bin)
{
    uint8_t d[32], in[64];
    for (size_t i = 0; i < n; i++) {
        if (i % 256 == 0) {
            int len = snprintf((char *)in, sizeof in, "%s/%u/%zu", label, bin, i / 256);
            crypto_hash_sha256(d, in, (unsigned long long)len);
        }
        out[i] = (d[(i % 256) / 8] >> (i % 8)) & 1;
    }
}

/* Garbler inputs (share x, masks) and evaluator inputs (rows, share y) of
 * every bin; the circuit's widths give the layout. */
static inline void pcv_inputs(uint8_t *gin, uint8_t *ein, const ovl_circuit *c)
{
    uint32_t cb = c->in_width[0], ob = c->in_width[1], rb = c->in_width[2];
    for (uint32_t b = 0; b < PCV_BINS; b++) {
        uint8_t *x = gin + (size_t)b * (cb + ob), *mask = x + cb;
        uint8_t *rows = ein + (size_t)b * (rb + cb), *y = rows + rb;
        uint8_t plain[128];
        for (uint32_t i = 0; i < 2; i++) {
            ovl_bits_from_u64(rows + i * 18, 1, pcv_runner[b][i][0]);
            ovl_bits_from_u64(rows + i * 18 + 1, 17, pcv_runner[b][i][1]);
            ovl_bits_from_u64(plain + i * 35, 1, pcv_contrib[b][i][0]);
            ovl_bits_from_u64(plain + i * 35 + 1, 17, pcv_contrib[b][i][1]);
            ovl_bits_from_u64(plain + i * 35 + 18, 17, pcv_contrib[b][i][2]);
        }
        pcv_bits(x, cb, "pairs-vector-share", b);
        pcv_bits(mask, ob, "pairs-vector-mask", b);
        for (uint32_t i = 0; i < cb; i++)
            y[i] = x[i] ^ plain[i];
    }
}

static inline json_t *pcv_document(void)
{
    json_t *doc = json_object(), *runs = json_array();
    json_object_set_new(doc, "description",
                        json_string("Seeded runs of the pair-condition bin circuit "
                                    "(protocols/aggregate/CONDITIONS.md §4): the 30-day "
                                    "attribution window, caps 2 x 2, contributor garbling, "
                                    "runner evaluating; outputs are z ^ mask, the garbler's "
                                    "masks its share. Regenerate with make vectors."));
    ovl_pc_shape s = pcv_shape();
    ovl_circuit c;
    if (ovl_circuit_pairs(&c, &s) != OVL_OK || c.in_width[2] != 36 || c.in_width[0] != 70)
        abort();
    uint8_t gin[PCV_BINS * (70 + 5)], ein[PCV_BINS * (36 + 70)];
    pcv_inputs(gin, ein, &c);
    gv_case k = {"pairs-window-cap2", &c, 2, PCV_BINS, OVL_GC_REVEAL_EVALUATOR, gin, ein, false};
    json_array_append_new(runs, gv_run(&k));
    json_object_set_new(doc, "runs", runs);
    ovl_circuit_free(&c);
    return doc;
}

#endif
