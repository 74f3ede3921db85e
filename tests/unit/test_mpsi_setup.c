/* The multi-party setup frames (protocols/mpsi/setup.h): round trips, the
 * session id every member computes alike, and a refusal for every field a
 * hostile hub or member could get wrong. */
#include <sodium.h>
#include <string.h>

#include "test.h"
#include "core/frame.h"
#include "mpsi/setup.h"

static void sample_list(ovl_mpsi_list *l, unsigned k)
{
    memset(l, 0, sizeof *l);
    l->members = k;
    l->index = 1;
    l->mode = OVL_MODE_INTERSECTION;
    l->reveal = OVL_REVEAL_BOTH;
    l->norm = OVL_NORM_EMAIL;
    for (unsigned i = 0; i < k; i++) {
        memset(l->pk[i], (int)(0x10 + i), OVL_PK_LEN);
        memset(l->nonce[i], (int)(0x80 + i), 32);
        l->size[i] = 100 + i;
        snprintf(l->name[i], sizeof l->name[i], "member-%u", i);
    }
}

/* The payload of a written frame. */
static const uint8_t *body(const ovl_buf *b, size_t *n)
{
    *n = b->wpos - OVL_FRAME_HDR;
    return b->data + OVL_FRAME_HDR;
}

static void join_round_trip(void)
{
    ovl_buf b;
    size_t n;
    ovl_mpsi_join j = {.members = 5, .mode = OVL_MODE_CARDINALITY, .reveal = OVL_REVEAL_LISTENER,
                       .norm = OVL_NORM_PHONE, .size = 12345}, back;
    memset(j.nonce, 7, 32);
    EXPECT_OK(ovl_buf_alloc(&b, 64, 4096));
    EXPECT_OK(ovl_mpsi_join_write(&b, &j));
    EXPECT_EQ(b.data[0], OVL_MPSI_JOIN);
    const uint8_t *p = body(&b, &n);
    EXPECT_EQ(n, 45u);
    EXPECT_OK(ovl_mpsi_join_read(&back, p, n));
    EXPECT_EQ(back.members, 5u);
    EXPECT_EQ(back.mode, OVL_MODE_CARDINALITY);
    EXPECT_EQ(back.reveal, OVL_REVEAL_LISTENER);
    EXPECT_EQ(back.norm, OVL_NORM_PHONE);
    EXPECT_EQ(back.size, 12345u);
    EXPECT_BYTES_EQ(back.nonce, j.nonce, 32);
    EXPECT_ERR(OVL_ERR_MALFORMED, ovl_mpsi_join_read(&back, p, n - 1));
    ovl_buf_free(&b);
}

/* Each analysis byte out of range, and the size over its cap. */
static void join_refusals(void)
{
    ovl_buf b;
    size_t n;
    uint8_t bad[64];
    ovl_mpsi_join j = {.members = 3, .mode = OVL_MODE_INTERSECTION, .size = 1}, back;
    EXPECT_OK(ovl_buf_alloc(&b, 64, 4096));
    EXPECT_OK(ovl_mpsi_join_write(&b, &j));
    const uint8_t *p = body(&b, &n);
    static const struct { size_t at; uint8_t v; ovl_err e; } cases[] = {
        {0, 2, OVL_ERR_PROTOCOL},  /* version */
        {1, 2, OVL_ERR_PROTOCOL},  /* two members */
        {1, 11, OVL_ERR_PROTOCOL}, /* eleven */
        {2, 3, OVL_ERR_PROTOCOL},  /* aggregate mode */
        {3, 2, OVL_ERR_PROTOCOL},  /* reveal connector */
        {4, 3, OVL_ERR_PROTOCOL},  /* normalisation */
        {5, 1, OVL_ERR_LIMIT},     /* size 2^56 + 1 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memcpy(bad, p, n);
        bad[cases[i].at] = cases[i].v;
        EXPECT_ERR(cases[i].e, ovl_mpsi_join_read(&back, bad, n));
    }
    ovl_buf_free(&b);
}

static void list_round_trip_and_session(void)
{
    ovl_mpsi_list l, back, other;
    ovl_buf b;
    size_t n;
    uint8_t s1[32], s2[32], s3[32];
    sample_list(&l, 10);
    EXPECT_OK(ovl_buf_alloc(&b, 64, 8192));
    EXPECT_OK(ovl_mpsi_list_write(&b, &l));
    const uint8_t *p = body(&b, &n);
    EXPECT_OK(ovl_mpsi_list_read(&back, p, n));
    EXPECT_EQ(back.members, 10u);
    EXPECT_EQ(back.index, 1u);
    EXPECT_STR_EQ(back.name[9], "member-9");
    EXPECT_EQ(back.size[9], 109u);
    EXPECT_BYTES_EQ(back.pk[4], l.pk[4], 32);
    /* Every member computes the same sid whatever its index... */
    other = l;
    other.index = 7;
    EXPECT_OK(ovl_mpsi_list_session(s1, &l));
    EXPECT_OK(ovl_mpsi_list_session(s2, &other));
    EXPECT_BYTES_EQ(s1, s2, 32);
    /* ...and any other nonce, size or key gives another. */
    other.nonce[3][0] ^= 1;
    EXPECT_OK(ovl_mpsi_list_session(s3, &other));
    EXPECT_TRUE(memcmp(s1, s3, 32) != 0);
    other = l;
    other.size[2]++;
    EXPECT_OK(ovl_mpsi_list_session(s3, &other));
    EXPECT_TRUE(memcmp(s1, s3, 32) != 0);
    ovl_buf_free(&b);
}

static void list_refusals(void)
{
    ovl_mpsi_list l, back;
    ovl_buf b;
    size_t n;
    uint8_t bad[4096];
    sample_list(&l, 3);
    EXPECT_OK(ovl_buf_alloc(&b, 64, 8192));
    EXPECT_OK(ovl_mpsi_list_write(&b, &l));
    const uint8_t *p = body(&b, &n);
    size_t name0 = 1 + 5 + 32 + 8 + 32 + 1; /* first byte of member 0's name */
    memcpy(bad, p, n);
    bad[0] = 0; /* the hub's own index */
    EXPECT_ERR(OVL_ERR_PROTOCOL, ovl_mpsi_list_read(&back, bad, n));
    memcpy(bad, p, n);
    bad[0] = 3; /* past the end */
    EXPECT_ERR(OVL_ERR_PROTOCOL, ovl_mpsi_list_read(&back, bad, n));
    memcpy(bad, p, n);
    bad[name0] = '/';
    EXPECT_ERR(OVL_ERR_MALFORMED, ovl_mpsi_list_read(&back, bad, n));
    memcpy(bad, p, n);
    bad[name0 - 1] = 0; /* empty name */
    EXPECT_TRUE(ovl_mpsi_list_read(&back, bad, n) != OVL_OK);
    EXPECT_ERR(OVL_ERR_MALFORMED, ovl_mpsi_list_read(&back, p, n - 1));
    memcpy(bad, p, n);
    bad[n] = 0;
    EXPECT_ERR(OVL_ERR_MALFORMED, ovl_mpsi_list_read(&back, bad, n + 1));
    /* one key twice */
    ovl_buf_clear(&b);
    memcpy(l.pk[2], l.pk[0], OVL_PK_LEN);
    EXPECT_OK(ovl_mpsi_list_write(&b, &l));
    p = body(&b, &n);
    EXPECT_ERR(OVL_ERR_PROTOCOL, ovl_mpsi_list_read(&back, p, n));
    /* a size over the cap */
    sample_list(&l, 3);
    l.size[1] = (uint64_t)OVL_MPSI_MAX_SET + 1;
    ovl_buf_clear(&b);
    EXPECT_OK(ovl_mpsi_list_write(&b, &l));
    p = body(&b, &n);
    EXPECT_ERR(OVL_ERR_LIMIT, ovl_mpsi_list_read(&back, p, n));
    ovl_buf_free(&b);
}

static void signatures(void)
{
    uint8_t sigs[3][OVL_SIG_LEN], back[OVL_MPSI_MAX_MEMBERS][OVL_SIG_LEN], one[OVL_SIG_LEN];
    uint8_t sid[32] = {1}, d1[32], d2[32];
    ovl_buf b;
    size_t n;
    for (int i = 0; i < 3; i++)
        memset(sigs[i], 0x40 + i, OVL_SIG_LEN);
    EXPECT_OK(ovl_buf_alloc(&b, 64, 4096));
    EXPECT_OK(ovl_mpsi_sigs_write(&b, 3, (const uint8_t(*)[OVL_SIG_LEN])sigs));
    const uint8_t *p = body(&b, &n);
    EXPECT_OK(ovl_mpsi_sigs_read(back, 3, p, n));
    EXPECT_BYTES_EQ(back[2], sigs[2], OVL_SIG_LEN);
    EXPECT_ERR(OVL_ERR_MALFORMED, ovl_mpsi_sigs_read(back, 4, p, n));
    EXPECT_ERR(OVL_ERR_MALFORMED, ovl_mpsi_sigs_read(back, 3, p, n - 1));
    ovl_buf_clear(&b);
    EXPECT_OK(ovl_mpsi_sign_write(&b, sigs[1]));
    p = body(&b, &n);
    EXPECT_OK(ovl_mpsi_sign_read(one, p, n));
    EXPECT_BYTES_EQ(one, sigs[1], OVL_SIG_LEN);
    EXPECT_ERR(OVL_ERR_MALFORMED, ovl_mpsi_sign_read(one, p, n + 1));
    ovl_mpsi_done_hash(d1, sid);
    sid[31] ^= 1;
    ovl_mpsi_done_hash(d2, sid);
    EXPECT_TRUE(memcmp(d1, d2, 32) != 0);
    ovl_buf_free(&b);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    RUN(join_round_trip);
    RUN(join_refusals);
    RUN(list_round_trip_and_session);
    RUN(list_refusals);
    RUN(signatures);
    return ovl_t_summary("test_mpsi_setup");
}
