/* overlap: loading a party's join column as 32-byte identifiers.
 *
 * Identifiers are hashes of personal data, so every array holding them is
 * wiped before its memory is released, including when it grows. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/guard.h"
#include "core/mem.h"
#include "core/sort.h"
#include "io/table.h"

typedef uint8_t idt_id[OVL_ID_LEN];

enum {
    IDT_INITIAL_ROWS = 1024,
    /* Ids are bucketed by their leading bits (a counting sort), then each
     * bucket is sorted. SHA-256 outputs are uniform, so choosing about one
     * bucket per IDT_PER_BUCKET ids keeps buckets tiny; the bucket index is
     * capped so the counters stay small next to the ids themselves. */
    IDT_PER_BUCKET = 8,
    IDT_MIN_BITS = 8,
    IDT_MAX_BITS = 20,
    IDT_INSERTION_MAX = 32, /* larger (skewed) buckets go to qsort */
};

/* realloc for arrays of ids: copies the first old_n into a new block of new_n
 * and wipes the old one, which realloc could release unwiped. */
static ovl_err idt_resize_ids(idt_id **ids, size_t old_n, size_t new_n)
{
    ovl_err rc = OVL_OK;
    idt_id *bigger = NULL;
    OVL_TRY(ovl_calloc((void **)&bigger, new_n, sizeof *bigger));
    if (old_n > 0)
        memcpy(bigger, *ids, old_n * sizeof *bigger);
    ovl_free_secret(*ids, old_n * sizeof **ids);
    *ids = bigger;
done:
    return rc;
}

static ovl_err idt_grow_rows(ovl_idtable *t, size_t *cap)
{
    ovl_err rc = OVL_OK;
    size_t ncap;
    OVL_ENSURE(ovl_mul_ok(*cap, 2, &ncap), OVL_ERR_LIMIT, "too many rows");
    OVL_TRY(idt_resize_ids(&t->row_ids, t->nrows, ncap));
    OVL_TRY(ovl_reallocarray((void **)&t->row_valid, ncap, sizeof *t->row_valid));
    *cap = ncap;
done:
    return rc;
}

static unsigned idt_bits(size_t n)
{
    unsigned bits = IDT_MIN_BITS;
    while (bits < IDT_MAX_BITS && ((size_t)IDT_PER_BUCKET << bits) < n)
        bits++;
    return bits;
}

static size_t idt_bucket(const uint8_t id[OVL_ID_LEN], unsigned bits)
{
    uint32_t top = (uint32_t)id[0] << 16 | (uint32_t)id[1] << 8 | id[2];
    return top >> (24 - bits);
}

static int idt_cmp(const void *a, const void *b) { return memcmp(a, b, OVL_ID_LEN); }

static void idt_sort_bucket(idt_id *ids, size_t n)
{
    if (n > IDT_INSERTION_MAX) {
        qsort(ids, n, sizeof *ids, idt_cmp);
        return;
    }
    for (size_t i = 1; i < n; i++) {
        idt_id key;
        size_t j = i;
        memcpy(key, ids[i], sizeof key);
        for (; j > 0 && memcmp(ids[j - 1], key, sizeof key) > 0; j--)
            memcpy(ids[j], ids[j - 1], sizeof key);
        memcpy(ids[j], key, sizeof key);
        sodium_memzero(key, sizeof key);
    }
}

/* Copies the valid rows' ids into t->ids in ascending order. */
static ovl_err idt_sort(ovl_idtable *t, size_t nvalid)
{
    ovl_err rc = OVL_OK;
    unsigned bits = idt_bits(nvalid);
    size_t nb = (size_t)1 << bits;
    size_t *end = NULL;
    OVL_TRY(ovl_calloc((void **)&end, nb + 1, sizeof *end));
    OVL_TRY(ovl_calloc((void **)&t->ids, nvalid, sizeof *t->ids));
    for (size_t r = 0; r < t->nrows; r++)
        end[idt_bucket(t->row_ids[r], bits) + 1] += t->row_valid[r];
    for (size_t b = 1; b <= nb; b++)
        end[b] += end[b - 1];
    /* end[b] is now bucket b's start; filling advances it to its end. */
    for (size_t r = 0; r < t->nrows; r++)
        if (t->row_valid[r])
            memcpy(t->ids[end[idt_bucket(t->row_ids[r], bits)]++], t->row_ids[r], OVL_ID_LEN);
    for (size_t b = 0, start = 0; b < nb; start = end[b], b++)
        idt_sort_bucket(t->ids + start, end[b] - start);
done:
    free(end);
    return rc;
}

static void idt_dedupe(ovl_idtable *t, size_t nvalid)
{
    size_t n = 0;
    for (size_t i = 0; i < nvalid; i++) {
        if (n > 0 && memcmp(t->ids[n - 1], t->ids[i], OVL_ID_LEN) == 0)
            continue;
        if (n != i)
            memcpy(t->ids[n], t->ids[i], OVL_ID_LEN);
        n++;
    }
    /* The tail held duplicates; ovl_idtable_free wipes only the first nids. */
    sodium_memzero(t->ids[n], (nvalid - n) * OVL_ID_LEN);
    t->nids = n;
}


ovl_err ovl_idtable_add(ovl_idtable *t, const char *value, size_t len, ovl_norm kind,
                        bool prehashed, bool filtered, bool *valid)
{
    ovl_err rc = OVL_OK;
    *valid = false;
    if (t->row_cap == 0) {
        OVL_TRY(ovl_calloc((void **)&t->row_ids, IDT_INITIAL_ROWS, sizeof *t->row_ids));
        OVL_TRY(ovl_calloc((void **)&t->row_valid, IDT_INITIAL_ROWS, sizeof *t->row_valid));
        t->row_cap = IDT_INITIAL_ROWS;
    }
    if (t->nrows == t->row_cap)
        OVL_TRY(idt_grow_rows(t, &t->row_cap));
    if (filtered) {
        t->row_valid[t->nrows] = false;
        t->filtered++;
        t->nrows++;
        goto done;
    }
    ovl_err e = ovl_ident(t->row_ids[t->nrows], kind, prehashed, value, len);
    if (e != OVL_OK && e != OVL_ERR_INPUT)
        OVL_FAIL(e);
    *valid = e == OVL_OK;
    t->row_valid[t->nrows] = *valid;
    t->skipped += !*valid;
    t->nrows++;
done:
    return rc;
}

ovl_err ovl_idtable_finish(ovl_idtable *t)
{
    ovl_err rc = OVL_OK;
    size_t nvalid = t->nrows - t->skipped - t->filtered;
    if (nvalid > 0) {
        OVL_TRY(idt_sort(t, nvalid));
        idt_dedupe(t, nvalid);
        if (t->nids < nvalid)
            OVL_TRY(idt_resize_ids(&t->ids, t->nids, t->nids));
    }
done:
    return rc;
}

void ovl_idtable_free(ovl_idtable *t)
{
    if (t == NULL)
        return;
    ovl_free_secret(t->row_ids, t->row_cap * sizeof *t->row_ids);
    ovl_free_secret(t->ids, t->nids * sizeof *t->ids);
    free(t->row_valid);
    memset(t, 0, sizeof *t);
}

size_t ovl_idtable_find(const ovl_idtable *t, const uint8_t id[OVL_ID_LEN])
{
    if (t->nids == 0)
        return SIZE_MAX;
    return ovl_search_fixed(t->ids[0], t->nids, OVL_ID_LEN, id);
}
