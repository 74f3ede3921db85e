/* aggregate v2 owner-side preparation (protocols/aggregate/SPEC.md §5.1): the
 * per-identifier table, its width and range checks, and the factorisation of
 * §1 — cells computed from the two parties' tables equal the cells of the
 * plain INNER JOIN over the rows, with overlapping groups, NULLs and
 * negatives. */
#include <sodium.h>
#include <stdlib.h>

#include "aggregate/ident.h"
#include "test.h"

#define MAXR 200

typedef struct {
    uint32_t id[MAXR], group[MAXR];
    int64_t value[MAXR * 2];
    uint8_t null[MAXR * 2];
    size_t rows;
} rows_t;

static ovl_agg_rows view(const rows_t *r)
{
    return (ovl_agg_rows){r->id, r->group, r->value, r->null, r->rows};
}

static ovl_agg_ident_shape shape(uint32_t nids, uint32_t groups, uint32_t cols)
{
    return (ovl_agg_ident_shape){nids, groups, cols, 3, 40, 1000};
}

static void add(rows_t *r, uint32_t id, uint32_t g, int64_t v0, int64_t v1, int n0, int n1)
{
    size_t i = r->rows++;
    r->id[i] = id;
    r->group[i] = g;
    r->value[2 * i] = v0;
    r->value[2 * i + 1] = v1;
    r->null[2 * i] = (uint8_t)n0;
    r->null[2 * i + 1] = (uint8_t)n1;
}

/* The entry of (id, g), or NULL. */
static const int64_t *entry(const ovl_agg_ident *t, uint32_t id, uint32_t g, uint32_t *count)
{
    for (uint32_t e = t->first[id]; e < t->first[id + 1]; e++)
        if (t->group[e] == g) {
            *count = t->count[e];
            return t->words + (size_t)e * 2 * t->shape.cols;
        }
    *count = 0;
    return NULL;
}

static void builds_overlapping_groups(void)
{
    rows_t r = {0};
    add(&r, 2, 1, -1250, 7, 0, 1); /* identifier 2 in groups 1 and 0 */
    add(&r, 0, 0, 10, 1, 0, 0);
    add(&r, 2, 0, 5, 3, 0, 0);
    add(&r, 2, 1, 250, 9, 0, 0);
    add(&r, 2, 1, 1, 1, 1, 1); /* all NULL: counts a row, no values */
    ovl_agg_ident t;
    ovl_agg_ident_shape s = shape(4, 2, 2);
    ovl_agg_rows v = view(&r);
    EXPECT_OK(ovl_agg_ident_build(&t, &s, &v));
    EXPECT_EQ(t.entries, 3);
    EXPECT_EQ(t.first[0], 0);
    EXPECT_EQ(t.first[1], 1);
    EXPECT_EQ(t.first[2], 1); /* identifier 1: no rows */
    EXPECT_EQ(t.first[3], 3);
    EXPECT_EQ(t.first[4], 3);
    uint32_t n;
    const int64_t *w = entry(&t, 2, 1, &n);
    EXPECT_TRUE(w != NULL);
    if (w) {
        EXPECT_EQ(n, 3);
        EXPECT_EQ(w[0], 2);     /* non-NULL values of column 0 */
        EXPECT_EQ(w[1], -1000); /* -1250 + 250 */
        EXPECT_EQ(w[2], 1);
        EXPECT_EQ(w[3], 9);
    }
    w = entry(&t, 2, 0, &n);
    EXPECT_TRUE(w != NULL && n == 1 && w[1] == 5 && w[3] == 3);
    EXPECT_TRUE(entry(&t, 1, 0, &n) == NULL && n == 0);
    EXPECT_OK(ovl_agg_ident_check_totals(&t, 16));
    ovl_agg_ident_free(&t);

    rows_t none = {0};
    v = view(&none);
    EXPECT_OK(ovl_agg_ident_build(&t, &s, &v));
    EXPECT_EQ(t.entries, 0);
    EXPECT_EQ(t.first[4], 0);
    ovl_agg_ident_free(&t);
}

static void refuses_out_of_width(void)
{
    rows_t r = {0};
    for (int i = 0; i < 8; i++) /* 8 rows: over count width 3 (at most 7) */
        add(&r, 0, 1, 1, 1, 0, 0);
    ovl_agg_ident t;
    ovl_agg_ident_shape s = shape(1, 2, 2);
    ovl_agg_rows v = view(&r);
    EXPECT_ERR(OVL_ERR_INPUT, ovl_agg_ident_build(&t, &s, &v));
    EXPECT_TRUE(strstr(ovl_err_detail(), "group 1") != NULL);
    EXPECT_TRUE(t.first == NULL && t.entries == 0);
    v.rows = 7;
    EXPECT_OK(ovl_agg_ident_build(&t, &s, &v));
    ovl_agg_ident_free(&t);

    /* |sum| < 2^39 with v = 40: 2^39 - 1 passes, -2^39 does not. */
    rows_t big = {0};
    add(&big, 0, 0, ((int64_t)1 << 39) - 1, 0, 0, 0);
    add(&big, 1, 0, -((int64_t)1 << 39), 0, 0, 0);
    v = view(&big);
    v.rows = 1;
    EXPECT_OK(ovl_agg_ident_build(&t, &s, &v));
    ovl_agg_ident_free(&t);
    v.rows = 2;
    s.nids = 2;
    EXPECT_ERR(OVL_ERR_INPUT, ovl_agg_ident_build(&t, &s, &v));
    EXPECT_TRUE(strstr(ovl_err_detail(), "column 0") != NULL);

    /* An intermediate 64-bit overflow is refused too. */
    rows_t ovf = {0};
    add(&ovf, 0, 0, INT64_MAX, 0, 0, 0);
    add(&ovf, 0, 0, 1, 0, 0, 0);
    v = view(&ovf);
    EXPECT_ERR(OVL_ERR_INPUT, ovl_agg_ident_build(&t, &s, &v));
}

static void refuses_bad_shapes(void)
{
    rows_t r = {0};
    add(&r, 0, 0, 1, 1, 0, 0);
    ovl_agg_ident t;
    ovl_agg_rows v = view(&r);
    ovl_agg_ident_shape s = shape(1, 2, 2);
    s.max_cells = 1;
    EXPECT_ERR(OVL_ERR_POLICY, ovl_agg_ident_build(&t, &s, &v));
    s = shape(1, 0, 2);
    EXPECT_ERR(OVL_ERR_USAGE, ovl_agg_ident_build(&t, &s, &v));
    s = shape(1, 1, OVL_AGG2_MAX_COLS + 1);
    EXPECT_ERR(OVL_ERR_USAGE, ovl_agg_ident_build(&t, &s, &v));
    s = shape(1, 1, 2);
    s.count_bits = 17;
    EXPECT_ERR(OVL_ERR_USAGE, ovl_agg_ident_build(&t, &s, &v));
    s = shape(1, 1, 2);
    s.value_bits = 49;
    EXPECT_ERR(OVL_ERR_USAGE, ovl_agg_ident_build(&t, &s, &v));
    s = shape(1, 1, 2);
    r.group[0] = 1; /* group index out of range */
    EXPECT_ERR(OVL_ERR_USAGE, ovl_agg_ident_build(&t, &s, &v));
    r.group[0] = 0;
    r.id[0] = 1; /* identifier index out of range */
    EXPECT_ERR(OVL_ERR_USAGE, ovl_agg_ident_build(&t, &s, &v));
    r.id[0] = 0;
    EXPECT_OK(ovl_agg_ident_build(&t, &s, &v));
    EXPECT_ERR(OVL_ERR_PROTOCOL, ovl_agg_ident_check_totals(&t, 0));
    EXPECT_ERR(OVL_ERR_PROTOCOL, ovl_agg_ident_check_totals(&t, 17));
    ovl_agg_ident_free(&t);
}

static void checks_totals_against_peer_width(void)
{
    /* 66 entries of magnitude 2^47 - 1: times the peer's 511 rows per
     * identifier they stay below 2^63, times 1023 they do not. */
    enum { N = 66 };
    static uint32_t id[N], group[N];
    static int64_t value[N];
    for (uint32_t i = 0; i < N; i++) {
        id[i] = i;
        group[i] = 0;
        value[i] = (i % 2 ? -1 : 1) * (((int64_t)1 << 47) - 1);
    }
    ovl_agg_rows v = {id, group, value, NULL, N};
    ovl_agg_ident_shape s = {N, 1, 1, 3, 48, 1000};
    ovl_agg_ident t;
    EXPECT_OK(ovl_agg_ident_build(&t, &s, &v));
    EXPECT_OK(ovl_agg_ident_check_totals(&t, 1));
    EXPECT_OK(ovl_agg_ident_check_totals(&t, 9));
    EXPECT_ERR(OVL_ERR_INPUT, ovl_agg_ident_check_totals(&t, 10));
    EXPECT_TRUE(strstr(ovl_err_detail(), "column 0") != NULL);
    ovl_agg_ident_free(&t);
}

/* §1: every cell's aggregates from the per-identifier tables equal the same
 * aggregates over the joined rows (pairs of rows with the same identifier). */
typedef struct {
    int64_t distinct, star, cnt[4], sum[4];
} cell_t;

static void cells_from_join(cell_t *out, const rows_t *r, const rows_t *c, uint32_t gc)
{
    for (size_t i = 0; i < r->rows; i++)
        for (size_t j = 0; j < c->rows; j++) {
            if (r->id[i] != c->id[j])
                continue;
            cell_t *x = &out[r->group[i] * gc + c->group[j]];
            x->star++;
            for (int s = 0; s < 2; s++) {
                if (!r->null[2 * i + s]) {
                    x->cnt[s]++;
                    x->sum[s] += r->value[2 * i + s];
                }
                if (!c->null[2 * j + s]) {
                    x->cnt[2 + s]++;
                    x->sum[2 + s] += c->value[2 * j + s];
                }
            }
        }
}

static void distinct_from_join(cell_t *out, const rows_t *r, const rows_t *c, uint32_t nids,
                               uint32_t gr, uint32_t gc)
{
    for (uint32_t id = 0; id < nids; id++)
        for (uint32_t g = 0; g < gr; g++)
            for (uint32_t k = 0; k < gc; k++) {
                int inr = 0, inc = 0;
                for (size_t i = 0; i < r->rows; i++)
                    inr |= r->id[i] == id && r->group[i] == g;
                for (size_t j = 0; j < c->rows; j++)
                    inc |= c->id[j] == id && c->group[j] == k;
                out[g * gc + k].distinct += inr && inc;
            }
}

static void add_products(cell_t *x, uint32_t nr, const int64_t *wr, uint32_t nc, const int64_t *wc)
{
    x->distinct += nr > 0 && nc > 0;
    x->star += (int64_t)nr * nc;
    for (int s = 0; s < 2; s++) {
        x->cnt[s] += wr[2 * s] * nc;
        x->sum[s] += wr[2 * s + 1] * nc;
        x->cnt[2 + s] += (int64_t)nr * wc[2 * s];
        x->sum[2 + s] += (int64_t)nr * wc[2 * s + 1];
    }
}

static void cells_from_tables(cell_t *out, const ovl_agg_ident *tr, const ovl_agg_ident *tc)
{
    uint32_t gc = tc->shape.groups;
    for (uint32_t id = 0; id < tr->shape.nids; id++)
        for (uint32_t a = tr->first[id]; a < tr->first[id + 1]; a++)
            for (uint32_t b = tc->first[id]; b < tc->first[id + 1]; b++)
                add_products(&out[tr->group[a] * gc + tc->group[b]], tr->count[a],
                             tr->words + (size_t)a * 4, tc->count[b], tc->words + (size_t)b * 4);
}

static void random_rows(rows_t *r, uint32_t nids, uint32_t groups, size_t rows)
{
    r->rows = 0;
    for (size_t i = 0; i < rows; i++)
        add(r, randombytes_uniform(nids), randombytes_uniform(groups),
            (int64_t)randombytes_uniform(200001) - 100000,
            (int64_t)randombytes_uniform(2001) - 1000, randombytes_uniform(4) == 0,
            randombytes_uniform(3) == 0);
}

static void cells_equal_the_join(void)
{
    enum { NIDS = 40, GR = 3, GC = 4 };
    static rows_t r, c;
    for (int round = 0; round < 20; round++) {
        random_rows(&r, NIDS, GR, 60 + round);
        random_rows(&c, NIDS, GC, 70);
        ovl_agg_ident tr, tc;
        ovl_agg_ident_shape sr = {NIDS, GR, 2, 6, 40, 1000}, sc = {NIDS, GC, 2, 6, 40, 1000};
        ovl_agg_rows vr = view(&r), vc = view(&c);
        EXPECT_OK(ovl_agg_ident_build(&tr, &sr, &vr));
        EXPECT_OK(ovl_agg_ident_build(&tc, &sc, &vc));
        cell_t want[GR * GC] = {0}, got[GR * GC] = {0};
        cells_from_join(want, &r, &c, GC);
        distinct_from_join(want, &r, &c, NIDS, GR, GC);
        cells_from_tables(got, &tr, &tc);
        EXPECT_BYTES_EQ(got, want, sizeof want);
        ovl_agg_ident_free(&tr);
        ovl_agg_ident_free(&tc);
    }
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    RUN(builds_overlapping_groups);
    RUN(refuses_out_of_width);
    RUN(refuses_bad_shapes);
    RUN(checks_totals_against_peer_width);
    RUN(cells_equal_the_join);
    return ovl_t_summary("test_agg_ident");
}
