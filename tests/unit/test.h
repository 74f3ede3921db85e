/* A tiny test harness: one program per module, a line per failed check, and a
 * closing "N passed, N failed" line. */
#ifndef OVL_TEST_H
#define OVL_TEST_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"

static int ovl_t_pass, ovl_t_fail;
static const char *ovl_t_name;

static inline void ovl_t_hex(const char *label, const void *p, size_t n)
{
    const uint8_t *b = p;
    fprintf(stderr, "    %s (%zu bytes): ", label, n);
    for (size_t i = 0; i < n && i < 64; i++)
        fprintf(stderr, "%02x", b[i]);
    fprintf(stderr, "%s\n", n > 64 ? "..." : "");
}

#define OVL_T_RECORD(ok, ...)                                                                      \
    do {                                                                                           \
        if (ok) {                                                                                  \
            ovl_t_pass++;                                                                          \
        } else {                                                                                   \
            ovl_t_fail++;                                                                          \
            fprintf(stderr, "FAIL %s:%d [%s] ", __FILE__, __LINE__, ovl_t_name);                   \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, "\n");                                                                 \
        }                                                                                          \
    } while (0)

#define EXPECT_TRUE(c) OVL_T_RECORD((c), "expected %s", #c)
#define EXPECT_EQ(a, b)                                                                            \
    OVL_T_RECORD((a) == (b), "expected %s == %s (%lld vs %lld)", #a, #b, (long long)(a),          \
                 (long long)(b))
#define EXPECT_OK(e)                                                                               \
    do {                                                                                           \
        ovl_err ovl_t_e = (e);                                                                     \
        OVL_T_RECORD(ovl_t_e == OVL_OK, "%s failed: %s: %s", #e, ovl_err_name(ovl_t_e),            \
                     ovl_err_detail());                                                            \
    } while (0)
#define EXPECT_ERR(code, e)                                                                        \
    do {                                                                                           \
        ovl_err ovl_t_e = (e);                                                                     \
        OVL_T_RECORD(ovl_t_e == (code), "%s returned %s, expected %s", #e, ovl_err_name(ovl_t_e),  \
                     ovl_err_name(code));                                                          \
    } while (0)
#define EXPECT_BYTES_EQ(a, b, n)                                                                   \
    do {                                                                                           \
        int ovl_t_ok = memcmp((a), (b), (n)) == 0;                                                 \
        OVL_T_RECORD(ovl_t_ok, "bytes differ: %s vs %s", #a, #b);                                  \
        if (!ovl_t_ok) {                                                                           \
            ovl_t_hex("got", (a), (n));                                                            \
            ovl_t_hex("want", (b), (n));                                                           \
        }                                                                                          \
    } while (0)
#define EXPECT_STR_EQ(a, b)                                                                        \
    OVL_T_RECORD(strcmp((a), (b)) == 0, "expected \"%s\" == \"%s\"", (a), (b))

#define RUN(fn)                                                                                    \
    do {                                                                                           \
        ovl_t_name = #fn;                                                                          \
        fn();                                                                                      \
    } while (0)

/* Closing line: read by tests/run.sh. */
static inline int ovl_t_summary(const char *prog)
{
    printf("%s: %d passed, %d failed\n", prog, ovl_t_pass, ovl_t_fail);
    return ovl_t_fail == 0 ? 0 : 1;
}

#endif
