/* LABELS (SPEC §4.3) and the receiver's released cells (§8.3–§8.4): the
 * helper seals each of its group labels under a fresh key that travels only
 * inside that group's records; the receiver opens the helper's label of each
 * released record with the key the record carries. A record that does not
 * open, or that release.c marks inconsistent, is counted and left out. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "aggregate/agg2_state.h"
#include "core/frame.h"
#include "core/guard.h"
#include "core/mem.h"

static uint32_t helper_groups(const ovl_agg2 *a)
{
    return a->receiver ? a->peer_groups : a->cfg.own->shape.groups;
}

/* The labels go out in the order of a secret uniform permutation, group g's
 * at position hidx[g] (bound to that position), and the records carry hidx[g]:
 * a released record then tells the receiver nothing of where its label ranks
 * among the helper's labels, i.e. nothing of the suppressed groups' labels. */
ovl_err agg2_labels_queue(ovl_agg2 *a)
{
    ovl_err rc = OVL_OK;
    uint32_t G = a->cfg.own->shape.groups, *at = NULL;
    uint8_t ct[OVL_AGG2_LABEL_CT];
    OVL_TRY(ovl_calloc((void **)&a->keys, G, sizeof *a->keys));
    OVL_TRY(ovl_calloc((void **)&a->hidx, G, sizeof *a->hidx));
    OVL_TRY(ovl_calloc((void **)&at, G, sizeof *at));
    for (uint32_t g = 0; g < G; g++)
        at[g] = g;
    ovl_rng_shuffle_u32(&a->rng, at, G); /* at[p]: the group published at position p */
    for (uint32_t p = 0; p < G; p++)
        a->hidx[at[p]] = p;
    for (uint32_t first = 0; first < G; first += OVL_AGG2_LABELS_PER_FRAME) {
        uint32_t count = G - first < OVL_AGG2_LABELS_PER_FRAME ? G - first
                                                               : OVL_AGG2_LABELS_PER_FRAME;
        size_t mark;
        OVL_TRY(ovl_frame_begin(&a->q, OVL_AGG2_LABELS, &mark));
        OVL_TRY(ovl_buf_put_u32(&a->q, count));
        for (uint32_t p = first; p < first + count; p++) {
            uint32_t g = at[p];
            OVL_TRY(ovl_agg2_label_seal(ct, a->keys[g], a->cfg.labels[g], a->cfg.label_len[g], p,
                                        a->th, &a->rng));
            OVL_TRY(ovl_buf_put_bytes(&a->q, ct, sizeof ct));
        }
        OVL_TRY(ovl_frame_end(&a->q, mark));
    }
done:
    ovl_free_secret(at, (size_t)G * sizeof *at);
    return rc;
}

ovl_err agg2_labels_on_frame(ovl_agg2 *a, const uint8_t *payload, size_t len)
{
    ovl_err rc = OVL_OK;
    ovl_buf in;
    uint32_t count;
    uint32_t G = helper_groups(a);
    OVL_ENSURE(a->phase == AGG2_CPSI, OVL_ERR_PROTOCOL,
               a->phase == AGG2_SETUP ? "aggregate: LABELS before HELLO"
                                      : "aggregate: LABELS after circuit PSI");
    OVL_ENSURE(a->receiver, OVL_ERR_PROTOCOL,
               "aggregate: the receiver sent LABELS (a helper's frame)");
    ovl_buf_reader(&in, payload, len);
    OVL_TRY(ovl_buf_get_u32(&in, &count));
    OVL_ENSURE(count >= 1 && count <= OVL_AGG2_LABELS_PER_FRAME && count <= G - a->labels_got,
               OVL_ERR_PROTOCOL, "aggregate: LABELS of %u labels (%u of %u remain)", count,
               G - a->labels_got, G);
    OVL_ENSURE(ovl_buf_remaining(&in) == (size_t)count * OVL_AGG2_LABEL_CT, OVL_ERR_MALFORMED,
               "aggregate: LABELS of %u labels is %zu bytes long", count, len);
    if (a->cts == NULL)
        OVL_TRY(ovl_calloc((void **)&a->cts, G, sizeof *a->cts));
    OVL_TRY(ovl_buf_get_bytes(&in, a->cts[a->labels_got], (size_t)count * OVL_AGG2_LABEL_CT));
    a->labels_got += count;
done:
    return rc;
}

static int label_cmp(const uint8_t *x, size_t xl, const uint8_t *y, size_t yl)
{
    int d = memcmp(x, y, xl < yl ? xl : yl);
    return d != 0 ? d : (xl > yl) - (xl < yl);
}

static int cell_cmp(const void *pa, const void *pb)
{
    const ovl_agg2_cell *x = pa, *y = pb;
    int d = label_cmp(x->label_r, x->label_r_len, y->label_r, y->label_r_len);
    return d != 0 ? d : label_cmp(x->label_c, x->label_c_len, y->label_c, y->label_c_len);
}

ovl_err agg2_cells_build(ovl_agg2 *a)
{
    ovl_err rc = OVL_OK;
    const uint8_t *ok;
    size_t bad = 0, P = ovl_agg2_prod_words(&a->l), W = ovl_agg2_record_width(&a->l);
    uint64_t r = agg2_core_released(a->core);
    const uint64_t *op = agg2_core_opened(a->core, &ok, &bad);
    OVL_ENSURE(op != NULL, OVL_ERR_INTERNAL, "aggregate: no opened records at the receiver");
    size_t n = r ? (size_t)r : 1;
    a->cells_cap = n;
    OVL_TRY(ovl_calloc((void **)&a->cells, n, sizeof *a->cells));
    OVL_TRY(ovl_calloc((void **)&a->words, n * P, sizeof *a->words));
    OVL_TRY(ovl_calloc((void **)&a->hlabels, n, sizeof *a->hlabels));
    a->inconsistent = bad;
    bool runner_q = a->cfg.runner;
    for (size_t i = 0; i < r; i++) {
        const uint64_t *x = op + i * W;
        if (!ok[i])
            continue;
        uint32_t g = (uint32_t)x[P], c = (uint32_t)x[P + 1], h = runner_q ? c : g;
        uint8_t key[OVL_AGG2_KEY_LEN];
        size_t hl = 0;
        ovl_agg2_record_key(key, x, &a->l);
        bool opened = ovl_agg2_label_open(a->hlabels[a->ncells], &hl, a->cts[h], key, h, a->th);
        sodium_memzero(key, sizeof key);
        if (!opened) {
            a->inconsistent++;
            continue;
        }
        ovl_agg2_cell *cell = &a->cells[a->ncells];
        int64_t *w = a->words + a->ncells * P;
        for (size_t k = 0; k < P; k++)
            w[k] = (int64_t)x[k];
        uint32_t own = runner_q ? g : c;
        const uint8_t *ol = a->cfg.labels[own], *hlab = a->hlabels[a->ncells];
        uint16_t oll = a->cfg.label_len[own];
        *cell = (ovl_agg2_cell){
            .g = g,
            .c = c,
            .label_r = runner_q ? ol : hlab,
            .label_c = runner_q ? hlab : ol,
            .label_r_len = runner_q ? oll : (uint16_t)hl,
            .label_c_len = runner_q ? (uint16_t)hl : oll,
            .words = w,
        };
        a->ncells++;
    }
    qsort(a->cells, a->ncells, sizeof *a->cells, cell_cmp);
done:
    return rc;
}

void agg2_labels_free(ovl_agg2 *a)
{
    uint32_t G = a->cfg.own ? a->cfg.own->shape.groups : 0;
    ovl_free_secret(a->keys, (size_t)G * sizeof *a->keys);
    ovl_free_secret(a->hidx, a->hidx ? (size_t)G * sizeof *a->hidx : 0);
    free(a->cts);
    free(a->cells);
    ovl_free_secret(a->words, a->cells_cap * ovl_agg2_prod_words(&a->l) * sizeof *a->words);
    ovl_free_secret(a->hlabels, a->cells_cap * sizeof *a->hlabels);
    a->keys = NULL;
    a->hidx = NULL;
    a->cts = NULL;
    a->cells = NULL;
    a->words = NULL;
    a->hlabels = NULL;
    a->cells_cap = 0;
}
