/* The contributor's rows through real circuit PSI (protocols/cpsi) into the
 * pairs phase (CONDITIONS.md §4.3): its capped rows as the bit payload (width
 * 1, one group per row bit, only the validity bits gated by the match) and
 * their value words as the arithmetic payload;
 * circuit PSI's beta and value shares, and the runner's rows placed by its
 * bin_item, feed the bin circuit and the products, whose cells must equal
 * the join with its conditions evaluated in plain. */
#include "cpsi/cpsi.h"
#include "pairs_run.h"

static const uint8_t seed_r[32] = {7}, seed_c[32] = {8};

typedef struct {
    size_t n;
    uint8_t id[PD_NIDS][16];
    size_t len[PD_NIDS];
    const uint8_t *ptr[PD_NIDS];
} idset;

static void ids_make(idset *s, uint32_t from, uint32_t to)
{
    s->n = to - from;
    for (uint32_t i = from; i < to; i++) {
        s->len[i - from] = (size_t)snprintf((char *)s->id[i - from], 16, "user-%u", i);
        s->ptr[i - from] = s->id[i - from];
    }
}

/* Runs circuit PSI on the dealer's tables and fills d's bins from its output. */
static ovl_err via_cpsi(pd_deal *d, bool r_connects)
{
    ovl_err rc = OVL_OK;
    const ovl_pp_layout *l = &d->l;
    static idset rs, cs;
    ovl_cpsi *r = NULL, *c = NULL;
    hx_side side[2] = {0};
    size_t nb = ovl_pp_contrib_bits(l), nw = (size_t)l->s.cap_c * l->words_c;
    uint16_t *bits = calloc((size_t)PD_NIDS * nb, 2);
    uint64_t *words = calloc((size_t)PD_NIDS * nw + 1, 8);
    OVL_ENSURE(bits && words, OVL_ERR_NOMEM, "test");
    OVL_TRY(ovl_pp_cpsi_check(l));
    OVL_TRY(ovl_pp_contrib_payload(bits, words, l, &d->rc.v));
    ids_make(&rs, 0, PD_NIDS);
    ids_make(&cs, PD_NIDS / 3, PD_NIDS);
    ovl_cpsi_config a = {.role = r_connects ? OVL_ROLE_CONNECTOR : OVL_ROLE_LISTENER,
                         .runner = true, .mode = OVL_MODE_AGGREGATE, .reveal = OVL_REVEAL_BOTH,
                         .ids = rs.ptr, .id_len = rs.len, .nids = rs.n, .words = (uint32_t)nw,
                         .test_seed = seed_r, .bit_groups = (uint32_t)nb, .bit_width = 1,
                         .bit_gate_every = ovl_pp_gate_every(l)};
    ovl_cpsi_config b = a;
    b.role = r_connects ? OVL_ROLE_LISTENER : OVL_ROLE_CONNECTOR;
    b.runner = false, b.ids = cs.ptr, b.id_len = cs.len, b.nids = cs.n, b.test_seed = seed_c;
    /* the contributor's identifiers are [NIDS/3, NIDS): its payload from there */
    b.payload = words + (size_t)(PD_NIDS / 3) * nw;
    b.bit_counts = bits + (size_t)(PD_NIDS / 3) * nb;
    OVL_TRY(ovl_cpsi_new(&r, &a));
    OVL_TRY(ovl_cpsi_new(&c, &b));
    hx_init(&side[r_connects ? 1 : 0], &ovl_cpsi_ops, r);
    hx_init(&side[r_connects ? 0 : 1], &ovl_cpsi_ops, c);
    hx_run(&side[0], &side[1], NULL, NULL);
    OVL_ENSURE(side[0].rc == OVL_OK && side[1].rc == OVL_OK, OVL_ERR_INTERNAL, "cpsi: %s / %s",
               side[0].detail, side[1].detail);
    ovl_cpsi_shares sr, sc;
    OVL_TRY(ovl_cpsi_result(r, &sr));
    OVL_TRY(ovl_cpsi_result(c, &sc));
    OVL_ENSURE(sr.bit_groups == nb && sr.bit_width == 1 && sr.words == nw && sr.beta &&
                   sc.beta && sr.bins == sc.bins,
               OVL_ERR_INTERNAL, "cpsi: the bit payload is not the phase's row layout");
    d->bins = sr.bins;
    OVL_TRY(pd_alloc(d));
    memcpy(d->slot, sr.bin_item, d->bins * sizeof *d->slot);
    OVL_TRY(ovl_pp_runner_bins(d->rrow, d->rw, l, &d->rr.v, d->slot, d->bins));
    memcpy(d->crow[0], sr.beta, d->bins * nb);
    memcpy(d->crow[1], sc.beta, d->bins * nb);
    memcpy(d->x[0], sr.value, d->bins * nw * 8);
    memcpy(d->x[1], sc.value, d->bins * nw * 8);
done:
    hx_free(&side[0]);
    hx_free(&side[1]);
    ovl_cpsi_free(r);
    ovl_cpsi_free(c);
    free(bits);
    free(words);
    return rc;
}

static void cpsi_run(pd_conds conds, uint32_t cap, uint32_t gr, uint32_t gc, bool r_connects)
{
    pd_deal *d = calloc(1, sizeof *d);
    EXPECT_TRUE(d != NULL);
    if (d == NULL)
        return;
    EXPECT_OK(pd_tables(d, conds, cap, gr, gc));
    EXPECT_OK(via_cpsi(d, r_connects));
    if (d->slot != NULL)
        check_deal(d);
    pd_free(d);
    free(d);
}

/* The article's window and <> with padding rows, at caps 1–4, with and
 * without dimensions, the runner on either side of the connection. */
static void test_rows_through_cpsi(void)
{
    cpsi_run(PD_WINDOW, 1, 1, 1, false);
    cpsi_run(PD_WINDOW, 2, 2, 3, true);
    cpsi_run(PD_NE, 3, 1, 2, false);
    cpsi_run(PD_WINDOW_NE, 4, 3, 2, false);
}

/* A payload over circuit PSI's caps is refused before anything runs. */
static void test_payload_caps(void)
{
    ovl_pp_layout l = {.s = pd_shape(PD_WINDOW, 8, 1, 1), .words_r = 2, .words_c = 64,
                       .star = 1};
    EXPECT_OK(ovl_pp_layout_check(&l));
    EXPECT_ERR(OVL_ERR_LIMIT, ovl_pp_cpsi_check(&l)); /* 8 × 64 words > OVL_CPSI_MAX_WORDS */
    l.words_c = 2;
    EXPECT_OK(ovl_pp_cpsi_check(&l));
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    RUN(test_rows_through_cpsi);
    RUN(test_payload_caps);
    return ovl_t_summary("test_pairs_cpsi");
}
