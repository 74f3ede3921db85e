/* Fuzzes the aggregate v2 engine (agg2.h) as a hostile peer would: byte 0
 * picks the target (bit 0: the contributor, bit 1: the contributor receives)
 * and, after a valid HELLO from an honest seeded peer, the rest of the input
 * is fed as frames (LABELS, circuit PSI's, the core's held until circuit PSI
 * ends), with jobs run and output drained between frames. Nothing may crash;
 * every error must be the peer's fault; a failed engine stays failed and has
 * no output. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate/agg2.h"
#include "core/buf.h"
#include "crypto/group.h"
#include "engine_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t *const ids[] = {(const uint8_t *)"ann", (const uint8_t *)"bob",
                                     (const uint8_t *)"cy", (const uint8_t *)"dee"};
static const size_t lens[] = {3, 3, 2, 3};
static const uint8_t lab0[] = {0, 1, 'a'}, lab1[] = {0, 1, 'b'};
static const uint8_t *const labels[] = {lab0, lab1};
static const uint16_t label_len[] = {3, 3};

/* The released cells of a failed engine: there must be none. */
static bool has_output(void *p)
{
    const ovl_agg2_cell *cells;
    size_t n;
    return ovl_agg2_released(p, &cells, &n) == OVL_OK;
}

static void plan_make(ovl_agg2_plan *p, uint8_t receiver)
{
    memset(p, 0, sizeof *p);
    p->receiver = receiver;
    p->ndims = 2;
    p->dims[0] = (ovl_agg2_dim){.side = 0, .name = "campaign"};
    p->dims[1] = (ovl_agg2_dim){.side = 1, .trunc = 3, .name = "month"};
    p->ncols = 2;
    p->cols[0] = (ovl_agg2_col){.side = 0, .decimals = 2, .name = "spend"};
    p->cols[1] = (ovl_agg2_col){.side = 1, .decimals = 0, .name = "units"};
    p->noutputs = 3;
    static const uint8_t ops[3][2] = {
        {OVL_AGG2_OP_COUNT_DISTINCT, 0}, {OVL_AGG2_OP_SUM, 0}, {OVL_AGG2_OP_AVG, 1}};
    for (int i = 0; i < 3; i++) {
        p->outputs[i].name[0] = (char)('n' + i);
        p->outputs[i].ntok = 1;
        p->outputs[i].tok[0] = (ovl_agg2_token){.op = ops[i][0], .arg = ops[i][1]};
    }
}

static ovl_agg2 *make(bool runner, ovl_role role, const uint8_t *seed, const ovl_agg2_plan *plan,
                      ovl_agg_ident *t)
{
    static const uint32_t id[] = {0, 1, 1, 2, 3, 3};
    static const uint32_t group[] = {0, 0, 1, 1, 0, 1};
    static const int64_t value[] = {100, -250, 7, 0, 3, 12};
    static const uint8_t null[] = {0, 0, 0, 1, 0, 0};
    ovl_agg_ident_shape sh = {4, 2, 1, 3, 40, 1000};
    ovl_agg_rows rows = {id, group, value, null, 6};
    if (ovl_agg_ident_build(t, &sh, &rows) != OVL_OK)
        abort();
    ovl_agg2_config c = {
        .role = role,
        .runner = runner,
        .plan = plan,
        .domain = "id=sha256 normalize=none",
        .ids = ids,
        .id_len = lens,
        .nids = 4,
        .own = t,
        .labels = labels,
        .label_len = label_len,
        .min_rows = 2,
        .max_cells = 1000,
        .test_seed = seed,
    };
    ovl_agg2 *a = NULL;
    if (ovl_agg2_new(&a, &c) != OVL_OK)
        abort();
    return a;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t s1[32] = {1}, s2[32] = {2};
    static ovl_agg2_plan plan;
    ef_crypto_once();
    if (size < 1)
        return 0;
    bool contributor = data[0] & 1u;
    plan_make(&plan, (data[0] >> 1) & 1u);
    ovl_agg_ident tt, th;
    ovl_agg2 *t = make(!contributor, OVL_ROLE_LISTENER, s1, &plan, &tt);
    ovl_agg2 *h = make(contributor, OVL_ROLE_CONNECTOR, s2, &plan, &th);
    ef_run(&ovl_agg2_ops, t, h, data + 1, size - 1, ef_any_peer_fault, has_output);
    ovl_agg2_free(t);
    ovl_agg2_free(h);
    ovl_agg_ident_free(&tt);
    ovl_agg_ident_free(&th);
    return 0;
}
