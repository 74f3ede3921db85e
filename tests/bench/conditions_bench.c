/* Conditions-across-parties benchmark (protocols/aggregate/CONDITIONS.md §6):
 * on 2^k identifiers per party (half in common, 1–4 rows per identifier, one
 * date and one summed value column each, no dimensions), the article's
 * 30-day window at each cap: circuit PSI carrying the contributor's capped
 * rows (bit and arithmetic payloads), the bin circuit garbled by the
 * contributor and evaluated by the runner, and the three COT products, all
 * in one process and one thread; and ECDH PSI on the same identifier sets in
 * the same run. Prints one JSON line per cap: wall seconds of both, their
 * ratio, bytes on the wire (both directions) against ovl_pp_cost_eval (the
 * formula of CONDITIONS.md §6, shuffle and release excluded: with one cell
 * they are a few hundred bytes), and the joined rows found (checked against
 * the plain count).
 *   conditions_bench [log2 n (default 12)] [caps, comma-separated (default 1,2,4,8)] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "../unit/ot_harness.h"
#include "aggregate/cost.h"
#include "aggregate/pairrows.h"
#include "aggregate/pairs_phase.h"
#include "core/frame.h"
#include "cpsi/cpsi.h"
#include "crypto/group.h"
#include "mpc/gc.h"
#include "mpc/pairs.h"
#include "psi/psi.h"
#include "wire_pair.h"

#define GC_CHUNK 32768u /* bins per garbled run: bounds the input and output arrays */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* CPU seconds of this process: on a loaded machine the ratio that measures the protocol. */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Runs both to completion; the bytes both sent. */
static bool run_pair(wp_side *a, wp_side *b, uint64_t *bytes)
{
    if (!wp_run(a, b)) {
        fprintf(stderr, "conditions_bench: stalled: %s\n", ovl_err_detail());
        return false;
    }
    *bytes += a->bytes + b->bytes;
    return true;
}

/* The data: runner identifiers 0..n-1, contributor n/2..n/2+n-1 (as
 * uint64 v, hashed to 32 bytes); identifier v has 1 + v % 4 rows on each
 * side, row k dated DAY0 + (v·7 + 11·k) % 60 (runner) or
 * DAY0 + (v·5 + 13·k) % 60 (contributor), ascending in k order of the cap. */
enum { DAY0 = 46000 };

static uint32_t rows_of(uint64_t v) { return 1 + (uint32_t)(v % 4); }

static uint32_t day_of(uint64_t v, uint32_t k, bool contrib)
{
    return DAY0 + (uint32_t)((contrib ? v * 5 + 13u * k : v * 7 + 11u * k) % 60);
}

/* The earliest `cap` of an identifier's days (ties by k), as the cap rule. */
static uint32_t kept_days(uint32_t *out, uint64_t v, uint32_t cap, bool contrib)
{
    uint32_t n = rows_of(v), d[4], used[4] = {0}, kept = n < cap ? n : cap;
    for (uint32_t k = 0; k < n; k++)
        d[k] = day_of(v, k, contrib);
    for (uint32_t t = 0; t < kept; t++) {
        uint32_t best = UINT32_MAX;
        for (uint32_t k = 0; k < n; k++)
            if (!used[k] && (best == UINT32_MAX || d[k] < d[best]))
                best = k;
        used[best] = 1;
        out[t] = d[best];
    }
    return kept;
}

typedef struct {
    uint32_t *first;
    ovl_pp_row *row;
    uint64_t *words;
    ovl_pp_rows v;
} rows_t;

static bool rows_build(rows_t *r, size_t n, uint64_t base, uint32_t cap, bool contrib)
{
    r->first = calloc(n + 1, sizeof *r->first);
    r->row = calloc(n * cap + 1, sizeof *r->row);
    r->words = calloc((n * cap + 1) * 2, sizeof *r->words);
    if (!r->first || !r->row || !r->words)
        return false;
    uint32_t at = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t d[4];
        uint32_t kept = kept_days(d, base + i, cap, contrib);
        r->first[i] = at;
        for (uint32_t t = 0; t < kept; t++, at++) {
            ovl_pp_row *o = &r->row[at];
            o->valid = true;
            if (contrib) {
                if (ovl_pc_word_date(&o->word[0][0], d[t], -30) != OVL_OK ||
                    ovl_pc_word_date(&o->word[0][1], d[t], 0) != OVL_OK)
                    return false;
            } else if (ovl_pc_word_date(&o->word[0][0], d[t], 0) != OVL_OK) {
                return false;
            }
            r->words[2 * at] = 1;
            r->words[2 * at + 1] = (base + i) % 1000 + t;
        }
    }
    r->first[n] = at;
    r->v = (ovl_pp_rows){(uint32_t)n, r->first, r->row, r->words};
    return true;
}

static void rows_free(rows_t *r)
{
    free(r->first), free(r->row), free(r->words);
}

/* The joined rows of the plain join: runner day in [contributor day − 30, day]. */
static uint64_t plain_pairs(size_t n, uint32_t cap)
{
    uint64_t total = 0;
    for (uint64_t v = n / 2; v < n; v++) {
        uint32_t dr[4], dc[4];
        uint32_t a = kept_days(dr, v, cap, false), b = kept_days(dc, v, cap, true);
        for (uint32_t i = 0; i < a; i++)
            for (uint32_t j = 0; j < b; j++)
                total += dr[i] + 30 >= dc[j] && dr[i] <= dc[j];
    }
    return total;
}

/* One COT batch in-process, its four messages counted (and a frame header each). */
static ovl_err cot_counted(ot_pair *p, unsigned sender, const uint8_t *choices, size_t n,
                           ovl_cot **bs, ovl_cot **br, uint64_t *bytes)
{
    ovl_err rc = ot_cot_run(p, sender, choices, n, bs, br, NULL, NULL);
    *bytes += ovl_cot_u_msg_len(n) + OVL_COT_CHAL_MSG_LEN + OVL_COT_PROOF_MSG_LEN +
              3 * OVL_FRAME_HDR;
    return rc;
}

typedef struct {
    double wall, cpu, cpu_cpsi, cpu_gc; /* cpu: all; parts: circuit PSI, the bin circuits */
    uint64_t bytes, joined, distinct, want;
    uint64_t cpsi_bytes, gc_bytes; /* parts of bytes: circuit PSI, the garbled bin circuits */
    bool ok;
} result;

static bool run_cap(result *res, const uint8_t *const *ids, const size_t *lens, size_t n,
                    uint32_t cap)
{
    ovl_pp_layout l = {.s = {.cap_r = cap, .cap_c = cap, .groups_r = 1, .groups_c = 1,
                             .nconds = 1,
                             .conds = {{.op = OVL_PC_BETWEEN, .width = OVL_PC_DATE_BITS}}},
                       .words_r = 2, .words_c = 2, .star = 1};
    rows_t rr, rc;
    size_t nb = ovl_pp_contrib_bits(&l), nw = (size_t)cap * l.words_c;
    uint16_t *bits = calloc(n * nb, sizeof *bits);
    uint64_t *words = calloc(n * nw, sizeof *words);
    memset(res, 0, sizeof *res);
    if (!bits || !words || !rows_build(&rr, n, 0, cap, false) ||
        !rows_build(&rc, n, n / 2, cap, true) ||
        ovl_pp_contrib_payload(bits, words, &l, &rc.v) != OVL_OK)
        return false;
    double t0 = now(), c0 = cpu_now();
    /* circuit PSI with the row payload */
    ovl_cpsi_config a = {.role = OVL_ROLE_CONNECTOR, .runner = true, .mode = OVL_MODE_AGGREGATE,
                         .reveal = OVL_REVEAL_BOTH, .ids = ids, .id_len = lens, .nids = n,
                         .words = (uint32_t)nw, .bit_groups = (uint32_t)nb, .bit_width = 1,
                         .bit_gate_every = ovl_pp_gate_every(&l)};
    ovl_cpsi_config b = a;
    b.role = OVL_ROLE_LISTENER, b.runner = false, b.ids = ids + n, b.id_len = lens + n;
    b.payload = words, b.bit_counts = bits;
    ovl_cpsi *er = NULL, *ec = NULL;
    wp_side s[2];
    if (ovl_cpsi_new(&er, &a) != OVL_OK || ovl_cpsi_new(&ec, &b) != OVL_OK ||
        !wp_init(s, &ovl_cpsi_ops, ec, er) || !run_pair(&s[0], &s[1], &res->bytes))
        return false;
    res->cpsi_bytes = res->bytes;
    res->cpu_cpsi = cpu_now() - c0;
    wp_free(s);
    free(bits);
    free(words);
    ovl_cpsi_shares sr, sc;
    if (ovl_cpsi_result(er, &sr) != OVL_OK || ovl_cpsi_result(ec, &sc) != OVL_OK || !sr.beta)
        return false;
    size_t bins = sr.bins, ob = ovl_pp_out_bits(&l), rb = ovl_pp_runner_bits(&l);
    uint8_t *rrow = calloc(bins * rb, 1), *z[2] = {calloc(bins * ob, 1), calloc(bins * ob, 1)};
    uint64_t *rw = calloc(bins * cap * l.words_r, sizeof *rw);
    if (!rrow || !z[0] || !z[1] || !rw ||
        ovl_pp_runner_bins(rrow, rw, &l, &rr.v, sr.bin_item, bins) != OVL_OK)
        return false;
    /* the bin circuit, in chunks */
    ovl_circuit circ;
    if (ovl_circuit_pairs(&circ, &l.s) != OVL_OK)
        return false;
    size_t chunk = GC_CHUNK < ovl_pp_gc_bins_max(&l) ? GC_CHUNK : ovl_pp_gc_bins_max(&l);
    uint8_t *gin = calloc(chunk * ovl_pp_garbler_bits(&l), 1);
    uint8_t *ein = calloc(chunk * ovl_pp_evaluator_bits(&l), 1);
    ovl_rng rng[2];
    ovl_rng_init_system(&rng[0]);
    ovl_rng_init_system(&rng[1]);
    for (size_t b0 = 0; b0 < bins; b0 += chunk) {
        size_t k = bins - b0 < chunk ? bins - b0 : chunk;
        if (ovl_pp_garbler_input(gin, z[1] + b0 * ob, &l, sc.beta + b0 * nb, k, &rng[1]) !=
                OVL_OK ||
            ovl_pp_evaluator_input(ein, &l, rrow + b0 * rb, sr.beta + b0 * nb, k) != OVL_OK)
            return false;
        ovl_gc_config gc = {.role = OVL_GC_GARBLER, .party = 0, .circuit = &circ,
                            .garbler_inputs = 2, .instances = (uint32_t)k,
                            .reveal = OVL_GC_REVEAL_EVALUATOR, .input = gin, .rng = &rng[1],
                            .fold_garbler_inputs = true};
        ovl_gc_config ec2 = gc;
        ec2.role = OVL_GC_EVALUATOR, ec2.party = 1, ec2.input = ein, ec2.rng = &rng[0];
        ovl_gc *g = NULL, *e = NULL;
        if (ovl_gc_new(&g, &gc) != OVL_OK || ovl_gc_new(&e, &ec2) != OVL_OK ||
            !wp_init(s, &ovl_gc_ops, g, e) || !run_pair(&s[0], &s[1], &res->bytes))
            return false;
        for (size_t i = 0; i < k; i++)
            memcpy(z[0] + (b0 + i) * ob, ovl_gc_output(e, (uint32_t)i), ob);
        wp_free(s);
        ovl_gc_free(g);
        ovl_gc_free(e);
    }
    ovl_circuit_free(&circ);
    free(gin), free(ein);
    res->gc_bytes = res->bytes - res->cpsi_bytes;
    res->cpu_gc = cpu_now() - c0 - res->cpu_cpsi;
    /* the products: R = party 0, C = party 1 */
    ot_pair pair;
    uint64_t cells[2][6] = {{0}};
    uint8_t *choices = calloc(OVL_COT_BATCH_MAX / 8 + 1, 1);
    ovl_buf msg = {0};
    if (!choices || ot_pair_new(&pair, NULL, NULL, NULL, NULL, NULL) != OVL_OK ||
        ovl_buf_alloc(&msg, 256, 2u << 20) != OVL_OK)
        return false;
    res->bytes += 2 * ((uint64_t)OVL_AGG2_OT_BASE_LEN + OVL_FRAME_HDR);
    const uint64_t *xs[2] = {sr.value, sc.value};
    for (int kind = OVL_PP_PROD_ROWS; kind <= OVL_PP_PROD_FLAG; kind++) {
        ovl_pp_kind kd = (ovl_pp_kind)kind;
        size_t per = ovl_pp_cots_per_bin(&l, kd), step = ovl_pp_bins_per_batch(&l, kd);
        unsigned recv = ovl_pp_runner_receives(kd) ? 0 : 1, send = 1 - recv;
        for (size_t b0 = 0; per && b0 < bins; b0 += step) {
            size_t k = bins - b0 < step ? bins - b0 : step;
            ovl_cot *bs = NULL, *br = NULL;
            ovl_buf_clear(&msg);
            if (ovl_pp_choices(choices, &l, kd, z[recv] + b0 * ob, k) != OVL_OK ||
                cot_counted(&pair, send, choices, k * per, &bs, &br, &res->bytes) != OVL_OK ||
                ovl_pp_send(bs, &l, kd, z[send] + b0 * ob,
                            send == 0 ? rw + b0 * cap * l.words_r : NULL, xs[send] + b0 * nw, k,
                            &msg, cells[send]) != OVL_OK)
                return false;
            res->bytes += ovl_buf_len(&msg) + OVL_FRAME_HDR;
            if (ovl_pp_recv(br, &l, kd, k, &msg, cells[recv]) != OVL_OK)
                return false;
            ovl_cot_free(bs);
            ovl_cot_free(br);
        }
    }
    res->wall = now() - t0;
    res->cpu = cpu_now() - c0;
    res->joined = cells[0][1] + cells[1][1];
    res->distinct = cells[0][0] + cells[1][0];
    res->want = plain_pairs(n, cap);
    res->ok = res->joined == res->want && res->distinct <= (uint64_t)n / 2;
    ovl_buf_free(&msg);
    ot_pair_free(&pair);
    free(choices);
    free(rrow), free(rw), free(z[0]), free(z[1]);
    ovl_cpsi_free(er);
    ovl_cpsi_free(ec);
    rows_free(&rr);
    rows_free(&rc);
    return true;
}

static bool run_psi(double *wall, double *cpu, const uint8_t (*raw)[32], size_t n)
{
    const ovl_group *grp = ovl_group_default();
    ovl_psi_config a = {.role = OVL_ROLE_CONNECTOR, .mode = OVL_MODE_INTERSECTION,
                        .reveal = OVL_REVEAL_BOTH, .group = grp, .ids = raw, .nids = n};
    ovl_psi_config b = a;
    b.role = OVL_ROLE_LISTENER, b.ids = raw + n;
    ovl_psi *pa = NULL, *pb = NULL;
    wp_side s[2];
    uint64_t bytes = 0;
    double t0 = now(), c0 = cpu_now();
    if (ovl_psi_new(&pa, &a) != OVL_OK || ovl_psi_new(&pb, &b) != OVL_OK ||
        !wp_init(s, &ovl_psi_ops, pb, pa) || !run_pair(&s[0], &s[1], &bytes))
        return false;
    *wall = now() - t0;
    *cpu = cpu_now() - c0;
    wp_free(s);
    ovl_psi_free(pa);
    ovl_psi_free(pb);
    return true;
}

int main(int argc, char **argv)
{
    unsigned lg = argc > 1 ? (unsigned)atoi(argv[1]) : 12;
    const char *caps = argc > 2 ? argv[2] : "1,2,4,8";
    if (lg < 4 || lg > 22 || ovl_crypto_init() != OVL_OK)
        return 2;
    size_t n = (size_t)1 << lg, total = 2 * n;
    uint8_t (*raw)[32] = calloc(total, 32);
    const uint8_t **ids = calloc(total, sizeof *ids);
    size_t *lens = calloc(total, sizeof *lens);
    if (!raw || !ids || !lens)
        return 1;
    for (size_t i = 0; i < total; i++) {
        uint64_t v = i < n ? i : i - n + n / 2;
        crypto_hash_sha256(raw[i], (const uint8_t *)&v, sizeof v);
        ids[i] = raw[i];
        lens[i] = 32;
    }
    double psi_wall = 0, psi_cpu = 0;
    if (!run_psi(&psi_wall, &psi_cpu, (const uint8_t(*)[32])raw, n)) {
        fprintf(stderr, "conditions_bench: ECDH PSI failed: %s\n", ovl_err_detail());
        return 1;
    }
    int bad = 0;
    for (const char *p = caps; *p;) {
        uint32_t cap = (uint32_t)strtoul(p, (char **)&p, 10);
        if (*p == ',')
            p++;
        result r;
        ovl_pp_layout l = {.s = {.cap_r = cap, .cap_c = cap, .groups_r = 1, .groups_c = 1,
                                 .nconds = 1,
                                 .conds = {{.op = OVL_PC_BETWEEN, .width = OVL_PC_DATE_BITS}}},
                           .words_r = 2, .words_c = 2, .star = 1};
        ovl_pp_cost f;
        if (ovl_pp_cost_eval(&f, &l, n, n) != OVL_OK || !run_cap(&r, ids, lens, n, cap)) {
            fprintf(stderr, "conditions_bench: cap %u failed: %s\n", cap, ovl_err_detail());
            bad = 1;
            continue;
        }
        bad |= !r.ok;
        printf("{\"log2_n\":%u,\"cap\":%u,\"ok\":%s,\"joined_rows\":%llu,\"wall_s\":%.2f,"
               "\"ecdh_psi_wall_s\":%.2f,\"ratio_to_ecdh_psi\":%.2f,\"bytes\":%llu,"
               "\"formula_bytes\":%llu,\"bytes_over_formula\":%.3f,\"bytes_per_runner_id\":%.0f,"
               "\"cpsi_bytes\":%llu,\"gc_bytes\":%llu,\"formula_per_bin\":%llu,\"bins\":%u,"
               "\"expected_joined_rows\":%llu,\"distinct\":%llu,\"cpu_s\":%.2f,"
               "\"ecdh_psi_cpu_s\":%.2f,\"cpu_ratio_to_ecdh_psi\":%.2f,\"cpu_cpsi_s\":%.2f,"
               "\"cpu_bin_circuits_s\":%.2f,\"cpu_products_s\":%.2f}\n",
               lg, cap, r.ok ? "true" : "false", (unsigned long long)r.joined, r.wall, psi_wall,
               r.wall / psi_wall, (unsigned long long)r.bytes, (unsigned long long)f.total,
               (double)r.bytes / (double)f.total, (double)r.bytes / (double)n,
               (unsigned long long)r.cpsi_bytes, (unsigned long long)r.gc_bytes,
               (unsigned long long)f.per_bin, f.bins, (unsigned long long)r.want,
               (unsigned long long)r.distinct, r.cpu, psi_cpu, r.cpu / psi_cpu, r.cpu_cpsi,
               r.cpu_gc, r.cpu - r.cpu_cpsi - r.cpu_gc);
        fflush(stdout);
    }
    free(raw);
    free(ids);
    free(lens);
    return bad;
}
