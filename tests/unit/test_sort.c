#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/sort.h"
#include "test.h"

/* Sorted, distinct records whose keys are spread evenly (random bytes). */
static uint8_t *uniform_records(size_t n, size_t width)
{
    uint8_t *a = calloc(n ? n : 1, width);
    if (a == NULL)
        return NULL;
    randombytes_buf(a, n * width);
    if (ovl_sort_fixed(a, n, width) != OVL_OK) {
        free(a);
        return NULL;
    }
    return a;
}

/* Every present record is found at an equal record; keys between records
 * and beyond both ends are not. */
static size_t check_search(const uint8_t *a, size_t n, size_t width)
{
    size_t bad = 0;
    uint8_t key[64];
    for (size_t i = 0; i < n; i++) {
        size_t k = ovl_search_fixed(a, n, width, a + i * width);
        bad += k == SIZE_MAX || memcmp(a + k * width, a + i * width, width) != 0;
        /* One more than record i, unless that is record i+1. */
        memcpy(key, a + i * width, width);
        size_t j = width;
        while (j-- > 0 && ++key[j] == 0) {
        }
        bool next_equal = i + 1 < n && memcmp(key, a + (i + 1) * width, width) == 0;
        bool wrapped = j == SIZE_MAX;
        if (!next_equal && !wrapped)
            bad += ovl_search_fixed(a, n, width, key) != SIZE_MAX;
    }
    return bad;
}

static void finds_uniform_records(void)
{
    static const size_t widths[] = {5, 8, 10, 32};
    static const size_t sizes[] = {1, 2, 3, 17, 1000, 65536};
    for (size_t w = 0; w < sizeof widths / sizeof *widths; w++)
        for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
            uint8_t *a = uniform_records(sizes[s], widths[w]);
            EXPECT_TRUE(a != NULL);
            if (a != NULL)
                EXPECT_EQ(check_search(a, sizes[s], widths[w]), 0);
            free(a);
        }
}

/* Skewed data: the leading bytes predict nothing (all equal, or tiny
 * numbers), so the search must still be correct after a wrong guess. */
static void finds_skewed_records(void)
{
    enum { N = 5000, W = 12 };
    uint8_t *a = calloc(N, W);
    EXPECT_TRUE(a != NULL);
    if (a == NULL)
        return;
    for (size_t i = 0; i < N; i++) {
        a[i * W + W - 2] = (uint8_t)(i >> 8);
        a[i * W + W - 1] = (uint8_t)i;
    }
    EXPECT_EQ(check_search(a, N, W), 0);
    /* Everything clustered at the top of the range. */
    for (size_t i = 0; i < N; i++)
        memset(a + i * W, 0xff, W - 2);
    EXPECT_EQ(check_search(a, N, W), 0);
    uint8_t low[W] = {0}, high[W];
    memset(high, 0xff, sizeof high);
    EXPECT_EQ(ovl_search_fixed(a, N, W, low), SIZE_MAX);
    EXPECT_EQ(ovl_search_fixed(a, N, W, high), SIZE_MAX);
    free(a);
}

static void width_one_and_empty(void)
{
    uint8_t a[256];
    for (size_t i = 0; i < sizeof a; i++)
        a[i] = (uint8_t)i;
    for (size_t i = 0; i < sizeof a; i++)
        EXPECT_EQ(ovl_search_fixed(a, sizeof a, 1, &a[i]), i);
    uint8_t odd[128];
    for (size_t i = 0; i < sizeof odd; i++)
        odd[i] = (uint8_t)(2 * i + 1);
    uint8_t even = 64;
    EXPECT_EQ(ovl_search_fixed(odd, sizeof odd, 1, &even), SIZE_MAX);
    EXPECT_EQ(ovl_search_fixed(odd, 0, 1, &odd[0]), SIZE_MAX);
}

/* Records with a payload after the key: only the key orders and matches. */
static void finds_by_prefix(void)
{
    enum { N = 300, KEY = 3, W = 7 };
    uint8_t a[N * W], key[KEY];
    for (size_t i = 0; i < N; i++) {
        uint8_t *r = a + i * W;
        r[0] = (uint8_t)(i >> 8);
        r[1] = (uint8_t)i;
        r[2] = 0x5a;
        memset(r + KEY, (int)(0xff - i % 7), W - KEY); /* payload out of key order */
    }
    for (size_t i = 0; i < N; i++)
        EXPECT_EQ(ovl_search_prefix(a, N, W, a + i * W, KEY), i);
    memcpy(key, a + 17 * W, KEY);
    key[2] = 0x5b;
    EXPECT_EQ(ovl_search_prefix(a, N, W, key, KEY), SIZE_MAX);
    key[2] = 0x59;
    EXPECT_EQ(ovl_search_prefix(a, N, W, key, KEY), SIZE_MAX);
    EXPECT_EQ(ovl_search_prefix(a, 0, W, a, KEY), SIZE_MAX);
}

static void sort_orders_and_finds_duplicates(void)
{
    enum { N = 3000, W = 6 };
    uint8_t *a = uniform_records(N, W);
    EXPECT_TRUE(a != NULL);
    if (a == NULL)
        return;
    for (size_t i = 1; i < N; i++)
        EXPECT_TRUE(memcmp(a + (i - 1) * W, a + i * W, W) <= 0);
    EXPECT_EQ(ovl_find_adjacent_dup(a, N, W), SIZE_MAX);
    memcpy(a + 100 * W, a + 101 * W, W);
    EXPECT_EQ(ovl_find_adjacent_dup(a, N, W), 100);
    EXPECT_ERR(OVL_ERR_INTERNAL, ovl_sort_fixed(a, N, 0));
    EXPECT_ERR(OVL_ERR_INTERNAL, ovl_sort_fixed(a, N, 65));
    free(a);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    RUN(finds_uniform_records);
    RUN(finds_skewed_records);
    RUN(width_one_and_empty);
    RUN(finds_by_prefix);
    RUN(sort_orders_and_finds_duplicates);
    return ovl_t_summary("test_sort");
}
