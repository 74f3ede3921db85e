/* Constant-time check in the manner of ctgrind: secrets are marked undefined
 * for valgrind memcheck (VALGRIND_MAKE_MEM_UNDEFINED), so any branch or
 * memory address that depends on them is reported as a use of uninitialised
 * data. Outputs are marked defined again ("declassified") only where the
 * protocol publishes them. Run by `make ct` (tests/ct/run.sh) under
 * valgrind; outside valgrind the marks are no-ops and the program only checks
 * that the operations succeed.
 *
 * Covered: our group wrappers (scalar multiplication, hashing identifiers to
 * the group, scalar derivation and inversion) including the libsodium code
 * they call, since memcheck instruments every instruction executed; oblivious
 * transfer (src/mpc): the base-OT
 * receiver's choices (the bits of its Δ) while it builds OT_BASE and derives
 * its keys, the extension sender's Δ while it forms its columns and runs the
 * KOS check, the extension receiver's choice bits while it forms EXT_U,
 * EXT_PROOF and its random-OT, chosen-OT and share outputs, and the XOR bit
 * shares of both parties in the bit-to-share conversion. Messages are
 * declassified as they leave a party (they are what the wire carries);
 * garbled-circuit label selection (check_gc): the garbler's Δ and zero-labels and the input bits are secret, so half-gates
 * garbling, the choice of a label by an input bit, evaluation (whose label
 * lsbs are the evaluator's secret), output decoding and the garbler's check of
 * returned output labels must not branch or index on them; tables, permute
 * bits and tags are published and declassified there.
 *
 * The multi-buffer ristretto255 code (src/crypto/r255x8_impl.h) is checked
 * through its emulated build, ovl_r255x8_emu: the same algorithm, control
 * flow and memory accesses as the AVX-512 IFMA build, which valgrind cannot
 * execute. Secret: the scalars (one shared, and one per lane, including 0, 1
 * and l - 1), the 64-byte hash inputs derived from identifiers, and every
 * value computed from them. Only the per-lane success mask is declassified.
 *
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <valgrind/memcheck.h>

#include "crypto/group.h"
#include "crypto/r255x8.h"
#include "mpc/shares.h"
#include "../unit/ot_harness.h"
#include "mpc/garble.h"

static int failures;

#define SECRET(p, n) VALGRIND_MAKE_MEM_UNDEFINED((p), (n))
#define PUBLIC(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))

static void ok(ovl_err rc, const char *what)
{
    /* The status word is declassified: success or failure is public. */
    PUBLIC(&rc, sizeof rc);
    if (rc != OVL_OK) {
        fprintf(stderr, "ct_check: %s failed: %s\n", what, ovl_err_detail());
        failures++;
    }
}

static void check_group(void)
{
    const ovl_group *g = ovl_group_default();
    static const uint8_t dst[] = "OVERLAP-V1-PSI-ristretto255_XMD:SHA-512_R255MAP_RO_";
    uint8_t wide[64], k[OVL_GROUP_MAX_SCALAR], kinv[OVL_GROUP_MAX_SCALAR];
    uint8_t id[32], h[OVL_GROUP_MAX_ELEM], e[OVL_GROUP_MAX_ELEM], d[OVL_GROUP_MAX_ELEM];
    for (size_t i = 0; i < sizeof wide; i++)
        wide[i] = (uint8_t)(i * 37 + 11);
    memset(id, 0x5a, sizeof id);

    SECRET(wide, sizeof wide);
    ok(g->scalar_from_bytes(k, wide), "scalar_from_bytes");
    SECRET(id, sizeof id); /* identifiers are customer data */
    ok(g->hash_to_group(h, id, sizeof id, dst, sizeof dst - 1), "hash_to_group");
    ok(g->scalar_mult(e, k, h), "scalar_mult (own element)");
    PUBLIC(e, g->elem_len); /* the blinded element is sent to the peer */
    ok(g->scalar_mult(d, k, e), "scalar_mult (peer element)");
    PUBLIC(d, g->elem_len);
    ok(g->scalar_invert(kinv, k), "scalar_invert");
    ok(g->scalar_random(k), "scalar_random");
}

/* Eight lanes at once, as the engines run them on IFMA machines. */
static void check_group_x8(void)
{
    const ovl_group *g = ovl_group_default();
    const ovl_r255x8 *x = &ovl_r255x8_emu;
    uint8_t wide[64], ks[8 * 32], k[32], hin[8 * 64], pts[8 * 32], out[8 * 32];
    static const uint8_t l_minus_1[32] = {0xec, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58,
                                          0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
                                          [31] = 0x10};
    for (size_t i = 0; i < sizeof hin; i++)
        hin[i] = (uint8_t)(i * 53 + 3);
    for (size_t i = 0; i < sizeof wide; i++)
        wide[i] = (uint8_t)(i * 29 + 1);
    ok(g->scalar_from_bytes(k, wide), "scalar_from_bytes (x8)");
    for (int i = 0; i < 8; i++) {
        memcpy(ks + 32 * i, k, 32);
        ks[32 * i] ^= (uint8_t)i;
    }
    memset(ks + 32, 0, 32);
    ks[32] = 1;                       /* lane 1: the scalar 1 */
    memcpy(ks + 64, l_minus_1, 32);   /* lane 2: l - 1 */
    SECRET(hin, sizeof hin);
    x->from_hash(pts, hin);
    PUBLIC(pts, sizeof pts); /* as if sent: a fresh secret scalar follows */
    SECRET(k, sizeof k);
    SECRET(ks, sizeof ks);
    unsigned m = x->scalar_mult(out, k, 0, pts);
    PUBLIC(&m, sizeof m);
    PUBLIC(out, sizeof out);
    unsigned m2 = x->scalar_mult(out, ks, 32, pts);
    PUBLIC(&m2, sizeof m2);
    PUBLIC(out, sizeof out);
    /* Secret points too: the hashed elements before blinding. */
    SECRET(pts, sizeof pts);
    unsigned m3 = x->scalar_mult(out, k, 0, pts);
    PUBLIC(&m3, sizeof m3);
    PUBLIC(out, sizeof out);
    if (m != 0xff || m2 != 0xff || m3 != 0xff) {
        fprintf(stderr, "ct_check: x8 scalar_mult refused a lane (%02x %02x %02x)\n", m, m2, m3);
        failures++;
    }
}

/* Everything a party sends is public. */
static void declassify_msg(void *arg, const char *step, ovl_buf *msg)
{
    (void)arg;
    (void)step;
    PUBLIC(msg->data, msg->wpos);
}

static void check_ot(void)
{
    static const uint8_t seed[32] = {'c', 't'};
    enum { N = 200 };
    ovl_block d0 = ovl_block_make(0x0123456789abcdefu, 0x1122334455667788u);
    ovl_block d1 = ovl_block_make(0xfedcba9876543210u, 0x8877665544332211u);
    uint8_t ch[(N + 7) / 8], xb[(N + 7) / 8];
    ovl_block m0[N], m1[N], m[N];
    uint64_t sh0[N], sh1[N];
    ovl_cot *bs = NULL, *br = NULL;
    ovl_buf msg;
    ot_pair p;

    for (size_t i = 0; i < sizeof ch; i++) {
        ch[i] = (uint8_t)(0x96 ^ (i * 29));
        xb[i] = (uint8_t)(0x3c ^ (i * 53));
    }
    SECRET(&d0, sizeof d0);
    SECRET(&d1, sizeof d1);
    ok(ot_pair_new(&p, seed, &d0, &d1, declassify_msg, NULL), "base OTs (secret Δ bits)");
    ok(ot_msg_new(&msg), "buffer");
    for (unsigned s = 0; s < 2; s++) {
        SECRET(ch, sizeof ch);
        ok(ot_cot_run(&p, s, ch, N, &bs, &br, declassify_msg, NULL), "COT (secret choices, Δ)");
        ok(ovl_rot_send(bs, m0, m1), "random OT send");
        ok(ovl_rot_recv(br, m), "random OT receive");
        ovl_cot_free(bs);
        ovl_cot_free(br);
        ok(ot_cot_run(&p, s, ch, N, &bs, &br, declassify_msg, NULL), "COT for chosen OT");
        PUBLIC(m0, sizeof m0);
        PUBLIC(m1, sizeof m1);
        ovl_buf_clear(&msg);
        ok(ovl_ot_send_chosen(bs, m0, m1, &msg), "chosen OT send");
        PUBLIC(msg.data, msg.wpos);
        ok(ovl_ot_recv_chosen(br, &msg, m), "chosen OT receive (secret choices)");
        ovl_cot_free(bs);
        ovl_cot_free(br);
        /* bit to share: both parties' XOR shares secret */
        SECRET(xb, sizeof xb);
        ok(ot_cot_run(&p, s, ch, N, &bs, &br, declassify_msg, NULL), "COT for bit to share");
        ovl_buf_clear(&msg);
        ok(ovl_share_b2a_send(bs, 64, xb, sh1, &msg), "bit to share send (secret bits)");
        PUBLIC(msg.data, msg.wpos);
        ok(ovl_share_b2a_recv(br, 64, &msg, sh0), "bit to share receive (secret choices)");
        /* declassified here only to check the result */
        PUBLIC(sh0, sizeof sh0);
        PUBLIC(sh1, sizeof sh1);
        PUBLIC(ch, sizeof ch);
        PUBLIC(xb, sizeof xb);
        for (size_t j = 0; j < N; j++)
            if (sh0[j] + sh1[j] != (uint64_t)(((ch[j / 8] ^ xb[j / 8]) >> (j % 8)) & 1u)) {
                fprintf(stderr, "ct_check: bit to share differs at %zu\n", j);
                failures++;
                break;
            }
        ovl_cot_free(bs);
        ovl_cot_free(br);
    }
    ovl_buf_free(&msg);
    ot_pair_free(&p);
}

/* Label selection and half-gates on the A2B-64 circuit (ANDs, constants,
 * inversions), then decoding and the output-label check. */
static void check_gc(void)
{
    ovl_circuit c;
    ovl_tweak_space sp;
    ovl_hash h;
    ovl_tweak_stream ts;
    ovl_gc_state g, e;
    ovl_buf tables;
    uint64_t base = 0;
    uint32_t n = 0;
    uint8_t bits[192], d[16], perm[64], tags[64][2][OVL_GC_TAG_BYTES], out[64], bit = 0;
    ok(ovl_circuit_a2b(&c, 64), "a2b circuit");
    ovl_tweak_space_init(&sp, NULL);
    ok(ovl_hash_init(&h, &sp), "gc hash");
    ok(ovl_tweak_open(&sp, &ts, OVL_TWEAK_GC, 0), "gc tweaks");
    ok(ovl_tweak_take(&ts, ovl_gc_tweaks_needed(&c), &base), "gc tweak counters");
    randombytes_buf(d, sizeof d);
    SECRET(d, sizeof d);
    ovl_block delta = ovl_block_set_lsb(ovl_block_load(d));
    ok(ovl_gc_state_init(&g, &c, &h, true, delta, &ts, base), "garbler state");
    ok(ovl_gc_state_init(&e, &c, &h, false, delta, &ts, base), "evaluator state");
    randombytes_buf(g.w, (size_t)c.in_bits * sizeof *g.w);
    SECRET(g.w, (size_t)c.in_bits * sizeof *g.w);
    for (uint32_t i = 0; i < c.in_bits; i++)
        bits[i] = (uint8_t)randombytes_uniform(2);
    SECRET(bits, c.in_bits);
    /* What the COT and the garbler's INPUTS frame hand the evaluator. */
    for (uint32_t i = 0; i < c.in_bits; i++)
        e.w[i] = ovl_block_xor(g.w[i], ovl_block_select(bits[i], delta));
    ok(ovl_buf_alloc(&tables, 4096, 1u << 20), "table buffer");
    ok(ovl_gc_garble(&g, &tables, UINT32_MAX, &n), "garble");
    PUBLIC(tables.data, tables.wpos);
    PUBLIC(&n, sizeof n);
    ok(ovl_gc_evaluate(&e, tables.data, n), "evaluate");
    ok(ovl_gc_decode_info(&g, perm, tags), "decode info");
    PUBLIC(perm, sizeof perm);
    PUBLIC(tags, sizeof tags);
    ok(ovl_gc_decode(&e, out, perm, (const uint8_t(*)[2][OVL_GC_TAG_BYTES])tags), "decode");
    ok(ovl_gc_check_output(&g, 5, ovl_gc_output_label(&e, 5), &bit), "output check");
    PUBLIC(out, sizeof out);
    PUBLIC(&bit, sizeof bit);
    if (bit != out[5]) {
        fprintf(stderr, "ct_check: garbled output check disagrees with decoding\n");
        failures++;
    }
    ovl_buf_free(&tables);
    ovl_gc_state_free(&g);
    ovl_gc_state_free(&e);
    ovl_hash_free(&h);
    ovl_circuit_free(&c);
}

int main(void)
{
    if (ovl_crypto_init() != OVL_OK) {
        fprintf(stderr, "ct_check: initialisation failed\n");
        return 1;
    }
    check_group();
    check_group_x8();
    check_ot();
    check_gc();
    printf("ct_check: %s (under valgrind: %s)\n", failures ? "FAILED" : "operations ran",
           RUNNING_ON_VALGRIND ? "yes" : "no");
    return failures ? 1 : 0;
}
