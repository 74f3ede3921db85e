#include "core/buf.h"
#include "core/mem.h"
#include "test.h"

static void roundtrip_integers(void)
{
    ovl_buf w;
    EXPECT_OK(ovl_buf_alloc(&w, 4, 1024));
    EXPECT_OK(ovl_buf_put_u8(&w, 0xab));
    EXPECT_OK(ovl_buf_put_u16(&w, 0x1234));
    EXPECT_OK(ovl_buf_put_u32(&w, 0xdeadbeef));
    EXPECT_OK(ovl_buf_put_u64(&w, 0x0102030405060708ull));
    static const uint8_t want[] = {0xab, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8};
    EXPECT_EQ(ovl_buf_len(&w), sizeof want);
    EXPECT_BYTES_EQ(w.data, want, sizeof want);

    ovl_buf r;
    ovl_buf_reader(&r, w.data, w.wpos);
    uint8_t a;
    uint16_t b;
    uint32_t c;
    uint64_t d;
    EXPECT_OK(ovl_buf_get_u8(&r, &a));
    EXPECT_OK(ovl_buf_get_u16(&r, &b));
    EXPECT_OK(ovl_buf_get_u32(&r, &c));
    EXPECT_OK(ovl_buf_get_u64(&r, &d));
    EXPECT_EQ(a, 0xab);
    EXPECT_EQ(b, 0x1234);
    EXPECT_EQ(c, 0xdeadbeef);
    EXPECT_TRUE(d == 0x0102030405060708ull);
    EXPECT_OK(ovl_buf_expect_end(&r));
    EXPECT_ERR(OVL_ERR_MALFORMED, ovl_buf_get_u8(&r, &a));
    ovl_buf_free(&w);
}

static void short_reads_consume_nothing(void)
{
    static const uint8_t three[] = {1, 2, 3};
    ovl_buf r;
    ovl_buf_reader(&r, three, sizeof three);
    uint32_t v;
    EXPECT_ERR(OVL_ERR_MALFORMED, ovl_buf_get_u32(&r, &v));
    EXPECT_EQ(ovl_buf_remaining(&r), 3);
    EXPECT_ERR(OVL_ERR_MALFORMED, ovl_buf_expect_end(&r));
}

static void writer_respects_max(void)
{
    ovl_buf w;
    EXPECT_OK(ovl_buf_alloc(&w, 1, 8));
    EXPECT_OK(ovl_buf_put_u64(&w, 1));
    EXPECT_ERR(OVL_ERR_LIMIT, ovl_buf_put_u8(&w, 1));
    uint8_t *p;
    EXPECT_ERR(OVL_ERR_LIMIT, ovl_buf_reserve(&w, SIZE_MAX, &p));
    ovl_buf_free(&w);

    uint8_t mem[2];
    ovl_buf f;
    ovl_buf_writer(&f, mem, sizeof mem);
    EXPECT_OK(ovl_buf_put_u16(&f, 7));
    EXPECT_ERR(OVL_ERR_LIMIT, ovl_buf_put_u8(&f, 1));
}

static void length_prefixes_and_children(void)
{
    ovl_buf w;
    size_t mark;
    EXPECT_OK(ovl_buf_alloc(&w, 16, 64));
    EXPECT_OK(ovl_buf_begin_len16(&w, &mark));
    EXPECT_OK(ovl_buf_put_bytes(&w, "hello", 5));
    EXPECT_OK(ovl_buf_end_len16(&w, mark));
    EXPECT_OK(ovl_buf_put_u8(&w, 9));

    ovl_buf r, child;
    ovl_buf_reader(&r, w.data, w.wpos);
    EXPECT_ERR(OVL_ERR_LIMIT, ovl_buf_get_sub16(&r, 4, &child)); /* cap checked first */
    EXPECT_EQ(ovl_buf_remaining(&r), 8);
    EXPECT_OK(ovl_buf_get_sub16(&r, 5, &child));
    EXPECT_EQ(ovl_buf_remaining(&child), 5);
    EXPECT_ERR(OVL_ERR_MALFORMED, ovl_buf_expect_end(&child)); /* unconsumed child */
    EXPECT_OK(ovl_buf_skip(&child, 5));
    EXPECT_OK(ovl_buf_expect_end(&child));
    uint8_t nine;
    EXPECT_OK(ovl_buf_get_u8(&r, &nine));
    EXPECT_EQ(nine, 9);

    /* A length claim beyond the data is malformed, not an over-read. */
    static const uint8_t liar[] = {0, 0, 0, 200, 1, 2};
    ovl_buf_reader(&r, liar, sizeof liar);
    EXPECT_ERR(OVL_ERR_MALFORMED, ovl_buf_get_sub32(&r, 1000, &child));
    EXPECT_EQ(ovl_buf_remaining(&r), sizeof liar);
    ovl_buf_free(&w);
}

static void compact_keeps_unread(void)
{
    ovl_buf w;
    EXPECT_OK(ovl_buf_alloc_secret(&w, 8, 8));
    EXPECT_OK(ovl_buf_put_bytes(&w, "abcdefgh", 8));
    EXPECT_OK(ovl_buf_skip(&w, 5));
    ovl_buf_compact(&w);
    EXPECT_EQ(ovl_buf_remaining(&w), 3);
    EXPECT_BYTES_EQ(ovl_buf_rptr(&w), "fgh", 3);
    EXPECT_OK(ovl_buf_put_bytes(&w, "12345", 5));
    ovl_buf_free(&w);
}

static void hex_codec(void)
{
    uint8_t out[3];
    char s[7];
    EXPECT_OK(ovl_hex_decode(out, 3, "00fFa9", 6));
    ovl_hex_encode(s, out, 3);
    EXPECT_STR_EQ(s, "00ffa9");
    EXPECT_ERR(OVL_ERR_MALFORMED, ovl_hex_decode(out, 3, "00ffa", 5));
    EXPECT_ERR(OVL_ERR_MALFORMED, ovl_hex_decode(out, 3, "00ffag", 6));
}

static void overflow_checks(void)
{
    size_t r;
    EXPECT_TRUE(!ovl_mul_ok(SIZE_MAX / 2 + 1, 2, &r));
    EXPECT_TRUE(ovl_mul_ok(3, 4, &r) && r == 12);
    EXPECT_TRUE(!ovl_add_ok(SIZE_MAX, 1, &r));
    void *p = NULL;
    EXPECT_ERR(OVL_ERR_LIMIT, ovl_calloc(&p, SIZE_MAX, 2));
}

int main(void)
{
    RUN(roundtrip_integers);
    RUN(short_reads_consume_nothing);
    RUN(writer_respects_max);
    RUN(length_prefixes_and_children);
    RUN(compact_keeps_unread);
    RUN(hex_codec);
    RUN(overflow_checks);
    return ovl_t_summary("test_buf");
}
