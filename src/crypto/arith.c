/* Run-time choice of the ristretto255 arithmetic: libsodium one element at a
 * time (portable), or eight at a time on AVX-512 IFMA. AVX-512 needs both the
 * CPU (cpuid leaf 7) and the OS (XCR0 saving opmask and all ZMM state, read
 * with xgetbv once cpuid says OSXSAVE); either missing means portable. */
#include <stdlib.h>
#include <string.h>

#include "crypto/r255x8.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>

enum {
    LEAF1_ECX_OSXSAVE = 1u << 27,
    LEAF7_EBX_AVX512F = 1u << 16,
    LEAF7_EBX_AVX512DQ = 1u << 17,
    LEAF7_EBX_AVX512IFMA = 1u << 21,
    LEAF7_EBX_AVX512VL = 1u << 31,
    /* XCR0: SSE, AVX, opmask, ZMM0-15 upper halves, ZMM16-31. */
    XCR0_AVX512_STATE = 0x2u | 0x4u | 0x20u | 0x40u | 0x80u,
};

static int detect(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & LEAF1_ECX_OSXSAVE))
        return 0;
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & XCR0_AVX512_STATE) != XCR0_AVX512_STATE)
        return 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
        return 0;
    unsigned need = LEAF7_EBX_AVX512F | LEAF7_EBX_AVX512DQ | LEAF7_EBX_AVX512IFMA |
                    LEAF7_EBX_AVX512VL;
    return (b & need) == need;
}
#else
static int detect(void)
{
    return 0;
}
#endif

static const ovl_r255x8 *active;
static int selected, by_caller;

int ovl_arith_ifma_supported(void)
{
    static int known, supported;
    if (!known) {
        supported = detect();
        known = 1;
    }
    return supported;
}

static const struct {
    const char *name;
    ovl_arith arith;
} names[] = {
    {"auto", OVL_ARITH_AUTO},
    {"portable", OVL_ARITH_PORTABLE},
    {"ifma", OVL_ARITH_IFMA},
};

int ovl_arith_parse(const char *s)
{
    for (size_t i = 0; s != NULL && i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(s, names[i].name) == 0)
            return (int)names[i].arith;
    }
    return -1;
}

static int choose(ovl_arith a)
{
    int ifma = ovl_arith_ifma_supported();
    if (a == OVL_ARITH_IFMA && !ifma)
        return -1;
    active = (a != OVL_ARITH_PORTABLE && ifma) ? &ovl_r255x8_ifma : NULL;
    selected = 1;
    return 0;
}

int ovl_arith_select(ovl_arith a)
{
    int r = choose(a);
    by_caller |= r == 0;
    return r;
}

int ovl_arith_from_env(const char **value)
{
    const char *v = getenv("OVL_ARITH");
    *value = v;
    if (by_caller)
        return 0; /* --arith was given: it wins over the environment */
    if (v == NULL || *v == '\0')
        return choose(OVL_ARITH_AUTO);
    int a = ovl_arith_parse(v);
    if (a < 0)
        return -1;
    return choose((ovl_arith)a) == 0 ? 0 : -2;
}

const ovl_r255x8 *ovl_arith_x8(void)
{
    if (!selected)
        (void)ovl_arith_select(OVL_ARITH_AUTO);
    return active;
}

const char *ovl_arith_name(void)
{
    return ovl_arith_x8() != NULL ? "ifma" : "portable";
}
