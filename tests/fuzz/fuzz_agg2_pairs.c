/* Fuzzes the aggregate v2 core with conditions across parties (CONDITIONS.md
 * §4.3, §5: PAIRS, its garbled bin circuits and their products, then the v2
 * shuffle, comparison and release) as a hostile peer would, the core below
 * ovl_agg2 run on fixed shares of four bins (caps 2 × 2, 2 × 2 groups, one
 * BETWEEN on 17-bit words, one value column a party). Byte 0 picks the target
 * (bit 0: the contributor, the garbler; bit 1: the contributor receives) and
 * the mode (bit 2), byte 1 how many of the honest peer's frames reach the
 * target first (its AGG_OT BASE, then the bin circuits' GC frames SETUP,
 * OT_BASE, OT_CHAL / OT_U, OT_PROOF, INPUTS, TABLES, DECODE, then the
 * products' AGG_OT frames, ...). Then
 *   - raw mode: the rest of the input is fed as frames;
 *   - edit mode: the rest is a list of 4-byte edits [op, a, b, c], one for each
 *     of the honest peer's next frames, which the fuzzer thus reshapes in
 *     place (op % 8: 0 as is, 1 truncated by a + 1 bytes, 2 extended by a + 1
 *     bytes of b, 3 byte (a·256 + b) mod its length XOR (c | 1), 4 repeated,
 *     5 dropped, 6 sent after the next, 7 its type replaced by a); the run
 *     goes on honestly for AFTER_EDITS of the peer's frames after the last.
 * Nothing may crash; every error of either side must be one a peer can cause
 * (never an internal or usage error); a failed core stays failed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate/agg2.h"
#include "aggregate/agg2_core.h"
#include "common/transcript.h"
#include "core/buf.h"
#include "core/frame.h"
#include "crypto/group.h"
#include "engine_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { BINS = 4, CAP = 2, KR = 2, KC = 2, MAXBITS = 128, AFTER_EDITS = 12 };

typedef struct {
    agg2_core *c;
    ovl_rng rng;
    ovl_buf out; /* frames it sent, not yet delivered */
} side_t;

static ovl_pp_layout PP;
static ovl_agg2_layout L;
static uint8_t rrow[BINS * MAXBITS], crow[2][BINS * MAXBITS];
static uint64_t rwp[BINS * CAP * KR], xs[2][BINS * CAP * KC];
static uint8_t keys[2][OVL_AGG2_KEY_LEN], transcript[OVL_TRANSCRIPT_LEN];

/* The fixed shares: runner rows by bin (valid, group, day), contributor rows
 * (valid, group, [lo, hi]) XOR-shared, value words additively shared. */
static void shares_once(void)
{
    static bool ready;
    if (ready)
        return;
    PP = (ovl_pp_layout){.s = {.cap_r = CAP, .cap_c = CAP, .groups_r = 2, .groups_c = 2,
                               .nconds = 1,
                               .conds = {{.op = OVL_PC_BETWEEN, .width = OVL_PC_DATE_BITS}}},
                         .words_r = KR, .words_c = KC, .star = 1};
    ovl_pp_cells_layout(&L, &PP);
    size_t rb = ovl_pp_runner_bits(&PP) / CAP, cb = ovl_pp_contrib_bits(&PP) / CAP;
    if (ovl_pp_layout_check(&PP) != OVL_OK || rb * CAP > MAXBITS || cb * CAP > MAXBITS)
        abort();
    uint8_t plain[MAXBITS];
    for (uint32_t b = 0; b < BINS; b++)
        for (uint32_t i = 0; i < CAP; i++) {
            uint32_t day = 46000 + 7 * b + 3 * i;
            ovl_pp_row r = {.valid = (b + i) % 3 != 2, .group = (b + i) % 2};
            r.word[0][0] = day;
            ovl_pp_row c = {.valid = b != 3 && (b + i) % 4 != 3, .group = b % 2};
            c.word[0][0] = day - 10 + i;
            c.word[0][1] = day + 20 - 5 * i;
            if (ovl_pp_runner_row_put(rrow + b * rb * CAP + i * rb, &PP, &r) != OVL_OK ||
                ovl_pp_contrib_row_put(plain + i * cb, &PP, &c) != OVL_OK)
                abort();
            for (size_t k = 0; k < cb; k++) {
                uint8_t mask = (uint8_t)((b * 31 + i * 7 + k * 13) >> 2) & 1u;
                crow[0][b * cb * CAP + i * cb + k] = mask;
                crow[1][b * cb * CAP + i * cb + k] = plain[i * cb + k] ^ mask;
            }
            rwp[(b * CAP + i) * KR] = r.valid;
            rwp[(b * CAP + i) * KR + 1] = r.valid ? (uint64_t)(int64_t)(40 - 13 * (int)b) : 0;
            uint64_t v[KC] = {c.valid, c.valid ? 250 + 3 * (uint64_t)i : 0};
            for (uint32_t k = 0; k < KC; k++) {
                uint64_t m = 0x9e3779b97f4a7c15ull * (b * CAP * KC + i * KC + k + 1);
                xs[0][(b * CAP + i) * KC + k] = m;
                xs[1][(b * CAP + i) * KC + k] = v[k] - m;
            }
        }
    ready = true;
}

static void make(side_t *s, int p, bool contrib_receives)
{
    static const uint8_t seed[2][32] = {{9}, {10}};
    memset(s, 0, sizeof *s);
    ovl_rng_init_seeded(&s->rng, seed[p], "fuzz agg2 pairs");
    agg2_core_in in = {
        .l = L,
        .role = p == 0 ? OVL_ROLE_LISTENER : OVL_ROLE_CONNECTOR,
        .runner = p == 0,
        .receiver = (p == 1) == contrib_receives,
        .threshold = 2,
        .bins = BINS,
        .pairs = &PP,
        .rrow = p == 0 ? rrow : NULL,
        .rwp = p == 0 ? rwp : NULL,
        .crow = crow[p],
        .x = xs[p],
        .transcript = transcript,
        .rng = &s->rng,
    };
    in.keys = in.receiver ? NULL : (const uint8_t(*)[OVL_AGG2_KEY_LEN])keys;
    if (agg2_core_new(&s->c, &in) != OVL_OK || ovl_buf_alloc(&s->out, 4096, 1u << 26) != OVL_OK)
        abort();
}

/* Jobs and frames of one side into its outbox; false once it failed with an
 * error a peer may cause (anything else aborts). */
static bool pump(side_t *s, ovl_buf *sink)
{
    return ef_pump_into(&agg2_core_ops, s->c, sink, 64, ef_any_peer_fault, &s->out);
}

/* One frame into a core; false once it failed (a failed core stays failed). */
static bool feed(side_t *to, uint8_t type, const uint8_t *p, size_t len)
{
    ovl_err e = agg2_core_ops.feed(to->c, type, p, len);
    if (e == OVL_OK)
        return true;
    if (!ef_any_peer_fault(e) || agg2_core_ops.feed(to->c, OVL_AGG2_DONE, NULL, 0) == OVL_OK)
        abort();
    return false;
}

/* The next whole frame of an outbox, removed from it: its bytes in f. */
static bool take_frame(side_t *from, ovl_buf *f)
{
    ovl_buf r, payload;
    uint8_t type;
    bool complete;
    ovl_buf_reader(&r, from->out.data, from->out.wpos);
    if (ovl_frame_parse(&r, OVL_FRAME_MAX_PAYLOAD, &type, &payload, &complete) != OVL_OK ||
        !complete)
        return false;
    ovl_buf_clear(f);
    if (ovl_buf_put_bytes(f, from->out.data, r.rpos) != OVL_OK)
        abort();
    memmove(from->out.data, from->out.data + r.rpos, from->out.wpos - r.rpos);
    from->out.wpos -= r.rpos;
    return true;
}

static bool feed_frame(side_t *to, const ovl_buf *f)
{
    return feed(to, f->data[0], f->data + OVL_FRAME_HDR, f->wpos - OVL_FRAME_HDR);
}

static void set_len(ovl_buf *f, size_t plen)
{
    f->wpos = OVL_FRAME_HDR + plen;
    f->data[1] = (uint8_t)(plen >> 24), f->data[2] = (uint8_t)(plen >> 16);
    f->data[3] = (uint8_t)(plen >> 8), f->data[4] = (uint8_t)plen;
}

/* One edit on frame f, fed to the target; held: a frame sent after the next.
 * False once the target failed. */
static bool edit_feed(side_t *to, ovl_buf *f, const uint8_t *ed, ovl_buf *held)
{
    size_t plen = f->wpos - OVL_FRAME_HDR;
    switch (ed[0] % 8) {
    case 1:
        set_len(f, plen > (size_t)ed[1] + 1 ? plen - ed[1] - 1 : 0);
        break;
    case 2:
        if (plen + ed[1] + 1u > OVL_FRAME_MAX_PAYLOAD) /* the transport refuses it before */
            break;
        for (int i = 0; i <= ed[1]; i++)
            if (ovl_buf_put_bytes(f, &ed[2], 1) != OVL_OK)
                abort();
        set_len(f, plen + ed[1] + 1u);
        break;
    case 3:
        if (plen > 0)
            f->data[OVL_FRAME_HDR + ((size_t)ed[1] << 8 | ed[2]) % plen] ^= ed[3] | 1u;
        break;
    case 4:
        if (!feed_frame(to, f))
            return false;
        break;
    case 5:
        return true;
    case 6:
        if (held->wpos == 0) {
            ovl_buf_clear(held);
            if (ovl_buf_put_bytes(held, f->data, f->wpos) != OVL_OK)
                abort();
            return true;
        }
        break;
    case 7:
        f->data[0] = ed[1];
        break;
    default:
        break;
    }
    if (!feed_frame(to, f))
        return false;
    if (held->wpos != 0 && ed[0] % 8 != 6) {
        bool ok = feed_frame(to, held);
        ovl_buf_clear(held);
        return ok;
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ef_crypto_once();
    shares_once();
    if (size < 2)
        return 0;
    int t = data[0] & 1u;
    bool contrib_receives = (data[0] >> 1) & 1u, edits = (data[0] >> 2) & 1u;
    int honest_frames = data[1];
    side_t s[2];
    ovl_buf sink, f, held;
    make(&s[0], 0, contrib_receives);
    make(&s[1], 1, contrib_receives);
    if (ovl_buf_alloc(&sink, 4096, 2 * OVL_FRAME_MAX_PAYLOAD) != OVL_OK ||
        ovl_buf_alloc(&f, 4096, 2 * OVL_FRAME_MAX_PAYLOAD) != OVL_OK ||
        ovl_buf_alloc(&held, 4096, 2 * OVL_FRAME_MAX_PAYLOAD) != OVL_OK)
        abort();
    const uint8_t *ed = data + 2, *end = data + size;
    bool alive[2] = {true, true};
    int given = 0, after = 0;
    /* the honest run: the target's frames to the peer as they come; the
     * peer's to the target, the first honest_frames as they are, then (edit
     * mode) one edit each */
    for (int guard = 0; guard < 8192 && alive[t]; guard++) {
        bool moved = false;
        for (int i = 0; i < 2; i++)
            if (alive[i])
                alive[i] = pump(&s[i], &sink);
        while (alive[1 - t] && take_frame(&s[t], &f)) {
            alive[1 - t] = feed_frame(&s[1 - t], &f);
            moved = true;
        }
        while (alive[t] && (given < honest_frames || edits) && take_frame(&s[1 - t], &f)) {
            moved = true;
            if (given++ < honest_frames || (size_t)(end - ed) < 4) {
                alive[t] = feed_frame(&s[t], &f);
                after += ed > data + 2;
            } else {
                alive[t] = edit_feed(&s[t], &f, ed, &held);
                ed += 4;
            }
        }
        if (!moved && held.wpos != 0 && alive[t]) { /* nothing follows: the held one now */
            alive[t] = feed_frame(&s[t], &held);
            ovl_buf_clear(&held);
            moved = true;
        }
        /* the edits' effect shows within a few frames: the rest of a run is
         * the honest one, whose base OTs would dominate the fuzzer's time */
        if (!moved || (!edits && given >= honest_frames) || after > AFTER_EDITS)
            break;
    }
    if (!edits && alive[t]) {
        ovl_buf in;
        uint8_t type;
        ovl_buf payload;
        ovl_buf_reader(&in, ed, (size_t)(end - ed));
        while (alive[t] && ef_next_frame(&agg2_core_ops, s[t].c, &in, &type, &payload)) {
            alive[t] = feed(&s[t], type, ovl_buf_rptr(&payload), ovl_buf_remaining(&payload));
            if (alive[t])
                alive[t] = pump(&s[t], &sink);
        }
    }
    for (int i = 0; i < 2; i++) {
        agg2_core_free(s[i].c);
        ovl_buf_free(&s[i].out);
        ovl_rng_wipe(&s[i].rng);
    }
    ovl_buf_free(&sink);
    ovl_buf_free(&f);
    ovl_buf_free(&held);
    return 0;
}
