/* The conditions part of the aggregate plan (aggregate/pairplan.h): canonical
 * round trip, every malformed field refused (and truncations), mirroring that
 * keeps the meaning, and the shape it gives building a circuit that agrees
 * with ovl_pc_cond_holds once the contributor applied its offsets. */
#include <sodium.h>
#include <stdlib.h>

#include "aggregate/pairplan.h"
#include "aggregate/pairrows.h"
#include "test.h"

static ovl_pc_plan window(void)
{
    ovl_pc_plan p;
    memset(&p, 0, sizeof p);
    p.nconds = 2;
    p.conds[0] = (ovl_pc_plan_cond){.op = OVL_PC_BETWEEN, .type = OVL_PC_TYPE_DATE,
                                    .width = 17, .lo = 0, .hi = 30};
    strcpy(p.conds[0].r_col, "purchase_date");
    strcpy(p.conds[0].c_col, "impression_date");
    p.conds[1] = (ovl_pc_plan_cond){.op = OVL_PC_GE, .type = OVL_PC_TYPE_DECIMAL, .width = 40,
                                    .decimals = 2};
    strcpy(p.conds[1].r_col, "amount");
    strcpy(p.conds[1].c_col, "min_amount");
    p.cap_rows = 4;
    strcpy(p.r_order, "purchase_date");
    return p;
}

static void test_round_trip(void)
{
    ovl_pc_plan p = window(), q;
    ovl_buf b, r;
    EXPECT_OK(ovl_buf_alloc(&b, 64, 4096));
    EXPECT_OK(ovl_pc_plan_write(&b, &p));
    EXPECT_OK(ovl_buf_put_u8(&b, 0xee)); /* what follows in the plan is left */
    ovl_buf_reader(&r, b.data, b.wpos);
    EXPECT_OK(ovl_pc_plan_read(&q, &r));
    EXPECT_EQ(ovl_buf_remaining(&r), 1);
    EXPECT_BYTES_EQ(&q, &p, sizeof p);
    /* Every strict prefix is refused. */
    int ok = 0;
    for (size_t n = 0; n + 1 < b.wpos; n++) {
        ovl_buf_reader(&r, b.data, n);
        ok += ovl_pc_plan_read(&q, &r) == OVL_OK;
    }
    EXPECT_EQ(ok, 0);
    /* No conditions: one byte. */
    ovl_pc_plan none;
    memset(&none, 0, sizeof none);
    ovl_buf_clear(&b);
    EXPECT_OK(ovl_pc_plan_write(&b, &none));
    EXPECT_EQ(b.wpos, 1);
    ovl_buf_free(&b);
}

static void expect_bad(ovl_pc_plan p, const char *why)
{
    ovl_buf b;
    ovl_pc_plan q;
    EXPECT_OK(ovl_buf_alloc(&b, 64, 4096));
    EXPECT_ERR(OVL_ERR_MALFORMED, ovl_pc_plan_write(&b, &p));
    /* And as bytes from a peer, written field by field without the check. */
    uint8_t raw[1024];
    size_t n = 0;
    raw[n++] = p.nconds;
    for (unsigned i = 0; i < p.nconds && i < OVL_PC_MAX_CONDS; i++) {
        const ovl_pc_plan_cond *c = &p.conds[i];
        raw[n++] = c->op;
        raw[n++] = c->type;
        raw[n++] = c->width;
        raw[n++] = c->decimals;
        for (int k = 3; k >= 0; k--)
            raw[n++] = (uint8_t)((uint32_t)c->lo >> (8 * k));
        for (int k = 3; k >= 0; k--)
            raw[n++] = (uint8_t)((uint32_t)c->hi >> (8 * k));
        raw[n++] = (uint8_t)strlen(c->r_col);
        memcpy(raw + n, c->r_col, strlen(c->r_col));
        n += strlen(c->r_col);
        raw[n++] = (uint8_t)strlen(c->c_col);
        memcpy(raw + n, c->c_col, strlen(c->c_col));
        n += strlen(c->c_col);
    }
    raw[n++] = p.cap_rows;
    raw[n++] = 0;
    raw[n++] = 0;
    ovl_buf r;
    ovl_buf_reader(&r, raw, n);
    ovl_err rc = ovl_pc_plan_read(&q, &r);
    OVL_T_RECORD(rc == OVL_ERR_MALFORMED, "%s: read gave %s", why, ovl_err_name(rc));
    ovl_buf_free(&b);
}

/* One field of window() set to a value it may not hold. */
typedef enum { F_OP, F_TYPE, F_WIDTH, F_DECIMALS, F_LO, F_HI, F_CAP } plan_field;

static void plan_set(ovl_pc_plan *p, unsigned cond, plan_field f, int64_t v)
{
    ovl_pc_plan_cond *c = &p->conds[cond];
    switch (f) {
    case F_OP: c->op = (uint8_t)v; break;
    case F_TYPE: c->type = (uint8_t)v; break;
    case F_WIDTH: c->width = (uint8_t)v; break;
    case F_DECIMALS: c->decimals = (uint8_t)v; break;
    case F_LO: c->lo = (int32_t)v; break;
    case F_HI: c->hi = (int32_t)v; break;
    case F_CAP: p->cap_rows = (uint8_t)v; break;
    }
}

static void test_refused(void)
{
    static const struct {
        const char *why;
        unsigned cond;
        plan_field field;
        int64_t value;
    } bad[] = {
        {"operator", 0, F_OP, OVL_PC_OPS},
        {"type", 0, F_TYPE, 3},
        {"date width", 0, F_WIDTH, 18},
        {"number width", 1, F_WIDTH, 65},
        {"decimals", 1, F_DECIMALS, 19},
        {"interval on a number", 1, F_LO, 3},
        {"interval too long", 0, F_HI, (int64_t)OVL_PC_MAX_OFFSET + 1},
        {"cap 0", 0, F_CAP, 0},
        {"cap too large", 0, F_CAP, OVL_PC_MAX_CAP + 1},
    };
    ovl_pc_plan p;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        p = window();
        plan_set(&p, bad[i].cond, bad[i].field, bad[i].value);
        expect_bad(p, bad[i].why);
    }
    p = window();
    p.conds[1].type = OVL_PC_TYPE_DATE;
    p.conds[1].width = 17;
    p.conds[1].decimals = 0;
    p.conds[1].hi = 1;
    expect_bad(p, "upper offset without BETWEEN");
    p = window();
    p.conds[0].r_col[0] = '\0';
    expect_bad(p, "empty column");
    p = window();
    p.conds[0].c_col[2] = '\n';
    expect_bad(p, "control byte");
    p = window();
    p.nconds = OVL_PC_MAX_CONDS + 1;
    ovl_buf b;
    EXPECT_OK(ovl_buf_alloc(&b, 64, 4096));
    EXPECT_ERR(OVL_ERR_MALFORMED, ovl_pc_plan_write(&b, &p));
    ovl_buf_free(&b);
    uint8_t nine[1] = {9};
    ovl_buf r;
    ovl_pc_plan q;
    ovl_buf_reader(&r, nine, 1);
    EXPECT_ERR(OVL_ERR_MALFORMED, ovl_pc_plan_read(&q, &r));
}

/* Mirroring keeps the meaning: holds(cond, r, c) == holds(mirror(cond), c, r),
 * and mirroring twice is the identity. */
static void test_mirror(void)
{
    static const uint8_t ops[] = {OVL_PC_EQ, OVL_PC_NE, OVL_PC_LT, OVL_PC_LE,
                                  OVL_PC_GT, OVL_PC_GE, OVL_PC_BETWEEN};
    int bad = 0;
    for (size_t o = 0; o < sizeof ops; o++)
        for (int t = 0; t < 200; t++) {
            ovl_pc_plan_cond c = {.op = ops[o], .type = OVL_PC_TYPE_DATE, .width = 17,
                                  .lo = (int32_t)randombytes_uniform(21) - 10,
                                  .hi = ops[o] == OVL_PC_BETWEEN
                                            ? (int32_t)randombytes_uniform(21) - 5 : 0};
            strcpy(c.r_col, "r");
            strcpy(c.c_col, "c");
            ovl_pc_plan_cond m = c;
            ovl_pc_cond_mirror(&m);
            int64_t r = 100 + randombytes_uniform(25), x = 100 + randombytes_uniform(25);
            bad += ovl_pc_cond_holds(&c, r, x) != ovl_pc_cond_holds(&m, x, r);
            bad += strcmp(m.r_col, "c") != 0;
            ovl_pc_cond_mirror(&m);
            bad += memcmp(&m, &c, sizeof c) != 0;
        }
    EXPECT_EQ(bad, 0);
}

/* The plan's shape builds the circuit; fed the contributor's offset words
 * (CONDITIONS.md §2.2), it agrees with ovl_pc_cond_holds. */
static void test_shape_agrees(void)
{
    ovl_pc_plan p = window();
    p.nconds = 1;
    p.cap_rows = 1;
    ovl_pc_shape s;
    EXPECT_OK(ovl_pc_plan_shape(&s, &p, 1, 1));
    ovl_circuit c;
    EXPECT_OK(ovl_circuit_pairs(&c, &s));
    int bad = 0;
    for (int t = 0; t < 300; t++) {
        p.conds[0].lo = (int32_t)randombytes_uniform(61) - 30;
        p.conds[0].hi = p.conds[0].lo + (int32_t)randombytes_uniform(40);
        int64_t r = 1000 + randombytes_uniform(80), x = 1000 + randombytes_uniform(80);
        uint8_t in[256] = {0}, out[4];
        /* inputs: contributor share x (valid, lo, hi), masks (2), runner rows (valid, r), share y = 0 */
        in[0] = 1;
        ovl_bits_from_u64(in + 1, 17, (uint64_t)(x + p.conds[0].lo));
        ovl_bits_from_u64(in + 18, 17, (uint64_t)(x + p.conds[0].hi));
        uint32_t at = c.in_width[0] + c.in_width[1];
        in[at] = 1;
        ovl_bits_from_u64(in + at + 1, 17, (uint64_t)r);
        EXPECT_OK(ovl_circuit_eval(&c, out, in));
        bad += out[0] != ovl_pc_cond_holds(&p.conds[0], r, x);
    }
    EXPECT_EQ(bad, 0);
    ovl_circuit_free(&c);
    ovl_pc_plan none;
    memset(&none, 0, sizeof none);
    EXPECT_ERR(OVL_ERR_USAGE, ovl_pc_plan_shape(&s, &none, 1, 1));
    EXPECT_ERR(OVL_ERR_LIMIT, ovl_pc_plan_shape(&s, &p, 1, OVL_PC_MAX_GROUPS + 1));
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    RUN(test_round_trip);
    RUN(test_refused);
    RUN(test_mirror);
    RUN(test_shape_agrees);
    return ovl_t_summary("test_pairplan");
}
