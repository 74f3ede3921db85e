/* Permute+Share on the Waksman network (src/mpc/shuffle.h): two passes with
 * the permuter's role swapped give fresh shares of π_1(π_0(x)) at several
 * sizes and widths, across several COT batches; each pass's output shares
 * differ from its inputs in every word; malformed CHOSEN_FIX messages and
 * batches of the wrong size are refused; a tampered CHOSEN_FIX corrupts the
 * result instead of aborting (nothing checks combined shares). */
#include <sodium.h>
#include <stdlib.h>

#include "core/guard.h"
#include "mpc/shares.h"
#include "mpc/shuffle.h"
#include "ot_harness.h"
#include "shuffle_pass.h"
#include "test.h"

static void random_perm(uint32_t *p, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        p[i] = i;
    for (uint32_t i = n; i > 1; i--) {
        uint32_t j = randombytes_uniform(i), t = p[i - 1];
        p[i - 1] = p[j];
        p[j] = t;
    }
}

typedef struct {
    uint64_t *x, *s[2], *t[2], *u[2];
} records;

static int records_new(records *r, size_t n)
{
    r->x = calloc(n, 8);
    for (int i = 0; i < 2; i++) {
        r->s[i] = calloc(n, 8);
        r->t[i] = calloc(n, 8);
        r->u[i] = calloc(n, 8);
    }
    if (!r->x || !r->s[0] || !r->s[1] || !r->t[0] || !r->t[1] || !r->u[0] || !r->u[1])
        return 0;
    randombytes_buf(r->x, n * 8);
    randombytes_buf(r->s[0], n * 8);
    for (size_t i = 0; i < n; i++)
        r->s[1][i] = r->x[i] - r->s[0][i];
    return 1;
}

static void records_free(records *r)
{
    free(r->x);
    for (int i = 0; i < 2; i++)
        free(r->s[i]), free(r->t[i]), free(r->u[i]);
}

/* Two passes; 1 when u = π1(π0(x)) and no output share equals its input. */
static int shuffles(uint32_t n, size_t w, size_t batch)
{
    ot_pair pair;
    ovl_permnet net;
    records r;
    uint32_t *p0 = calloc(n, 4), *p1 = calloc(n, 4);
    int ok = p0 && p1 && records_new(&r, (size_t)n * w);
    ok = ok && ot_pair_new(&pair, NULL, NULL, NULL, NULL, NULL) == OVL_OK;
    ok = ok && ovl_permnet_new(&net, n) == OVL_OK;
    if (ok) {
        random_perm(p0, n);
        random_perm(p1, n);
        ok = sp_pass(&pair, 0, &net, w, p0, r.s, r.t, batch, NULL) == OVL_OK &&
             sp_pass(&pair, 1, &net, w, p1, r.t, r.u, batch, NULL) == OVL_OK;
    }
    for (uint32_t i = 0; ok && i < n; i++)
        for (size_t k = 0; k < w; k++) {
            size_t j = (size_t)p1[p0[i]] * w + k;
            ok = r.u[0][j] + r.u[1][j] == r.x[(size_t)i * w + k];
            if (n > 1)
                ok = ok && r.t[1][(size_t)p0[i] * w + k] != r.s[1][(size_t)i * w + k];
        }
    ovl_permnet_free(&net);
    ot_pair_free(&pair);
    records_free(&r);
    free(p0), free(p1);
    return ok;
}

static void shuffles_shared_records(void)
{
    EXPECT_TRUE(shuffles(1, 3, 64));
    EXPECT_TRUE(shuffles(2, 1, 64));
    EXPECT_TRUE(shuffles(7, 14, 64));
    EXPECT_TRUE(shuffles(33, 14, 16));  /* 161 switches in 11 batches */
    EXPECT_TRUE(shuffles(200, 9, 4096));
    EXPECT_EQ(ovl_shuffle_batch_max(14), 4680);
    EXPECT_EQ(ovl_shuffle_batch_max(1), OVL_COT_BATCH_MAX);
}

static void flip_word(ovl_buf *fix) { fix->data[5 + 3] ^= 1; }
static void drop_word(ovl_buf *fix) { fix->wpos -= 8; }
static void wrong_kind(ovl_buf *fix) { fix->data[0] = 0x05; }
static void wrong_count(ovl_buf *fix) { fix->data[4] ^= 1; }

static ovl_err run_tampered(sp_tamper t, int *correct)
{
    enum { N = 9, W = 4 };
    ot_pair pair;
    ovl_permnet net;
    records r;
    uint32_t p0[N];
    ovl_err rc = OVL_ERR_NOMEM;
    *correct = 0;
    if (!records_new(&r, N * W))
        return rc;
    random_perm(p0, N);
    if ((rc = ot_pair_new(&pair, NULL, NULL, NULL, NULL, NULL)) != OVL_OK)
        return rc;
    if ((rc = ovl_permnet_new(&net, N)) == OVL_OK) {
        rc = sp_pass(&pair, 0, &net, W, p0, r.s, r.t, 64, t);
        int all = rc == OVL_OK;
        for (uint32_t i = 0; all && i < N; i++)
            for (size_t k = 0; k < W; k++)
                all = all && r.t[0][p0[i] * W + k] + r.t[1][p0[i] * W + k] == r.x[i * W + k];
        *correct = all;
    }
    ovl_permnet_free(&net);
    ot_pair_free(&pair);
    records_free(&r);
    return rc;
}

static void refuses_or_corrupts_on_tampering(void)
{
    int correct;
    EXPECT_OK(run_tampered(NULL, &correct));
    EXPECT_TRUE(correct);
    EXPECT_OK(run_tampered(flip_word, &correct)); /* no check on combined shares */
    EXPECT_TRUE(!correct);
    EXPECT_ERR(OVL_ERR_MALFORMED, run_tampered(drop_word, &correct));
    EXPECT_ERR(OVL_ERR_PROTOCOL, run_tampered(wrong_kind, &correct));
    EXPECT_ERR(OVL_ERR_PROTOCOL, run_tampered(wrong_count, &correct));
}

static void refuses_misuse(void)
{
    ovl_permnet net;
    EXPECT_OK(ovl_permnet_new(&net, 4));
    uint64_t x[8] = {0}, m[8];
    uint32_t dest[4] = {0, 1, 2, 3};
    ovl_rng rng;
    ovl_rng_init_system(&rng);
    ovl_shuffle_helper *h = NULL;
    ovl_shuffle_perm *p = NULL;
    EXPECT_ERR(OVL_ERR_USAGE, ovl_shuffle_helper_new(&h, &net, 0, &rng, x, m));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_shuffle_perm_new(&p, &net, OVL_SHUFFLE_MAX_WIDTH + 1, dest, x));
    EXPECT_OK(ovl_shuffle_helper_new(&h, &net, 2, &rng, x, m));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_shuffle_helper_finish(h, x)); /* switches left */
    EXPECT_OK(ovl_shuffle_perm_new(&p, &net, 2, dest, m));
    uint8_t ch[2];
    EXPECT_ERR(OVL_ERR_USAGE, ovl_shuffle_perm_choices(p, 0, 6, ch)); /* 5 switches */
    EXPECT_ERR(OVL_ERR_USAGE, ovl_shuffle_perm_choices(p, 3, 3, ch));
    EXPECT_OK(ovl_shuffle_perm_choices(p, 3, 2, ch));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_shuffle_perm_finish(p, x, x));
    dest[0] = 1;
    ovl_shuffle_perm *q = NULL;
    EXPECT_ERR(OVL_ERR_USAGE, ovl_shuffle_perm_new(&q, &net, 2, dest, m));
    ovl_shuffle_helper_free(h);
    ovl_shuffle_perm_free(p);
    ovl_permnet_free(&net);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    RUN(shuffles_shared_records);
    RUN(refuses_or_corrupts_on_tampering);
    RUN(refuses_misuse);
    return ovl_t_summary("test_shuffle");
}
