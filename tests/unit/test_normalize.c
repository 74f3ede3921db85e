#include <stdbool.h>
#include <string.h>

#include <sodium.h>

#include "core/mem.h"
#include "io/table.h"
#include "test.h"

typedef struct {
    const char *in;
    const char *want; /* NULL: must be rejected */
} norm_case;

/* Runs a table; for rejected values the detail must not echo the value. */
static void run_cases(ovl_norm kind, const norm_case *cases, size_t n)
{
    char out[OVL_NORM_MAX];
    for (size_t i = 0; i < n; i++) {
        size_t len = 12345;
        ovl_err rc = ovl_normalize(kind, cases[i].in, strlen(cases[i].in), out, &len);
        if (cases[i].want != NULL) {
            OVL_T_RECORD(rc == OVL_OK, "%s(\"%s\") failed: %s", ovl_norm_name(kind), cases[i].in,
                         ovl_err_detail());
            OVL_T_RECORD(rc == OVL_OK && len == strlen(cases[i].want) &&
                             memcmp(out, cases[i].want, len) == 0,
                         "%s(\"%s\") gave \"%.*s\", want \"%s\"", ovl_norm_name(kind),
                         cases[i].in, (int)(rc == OVL_OK ? len : 0), out, cases[i].want);
        } else {
            OVL_T_RECORD(rc == OVL_ERR_INPUT, "%s(\"%s\") accepted", ovl_norm_name(kind),
                         cases[i].in);
            OVL_T_RECORD(len == 0, "%s(\"%s\") left a length", ovl_norm_name(kind), cases[i].in);
            const char *d = ovl_err_detail();
            OVL_T_RECORD(d[0] != '\0', "no detail for \"%s\"", cases[i].in);
            /* Every bad value below has a distinctive part of 4+ bytes. */
            char probe[5] = {0};
            size_t vlen = strlen(cases[i].in);
            for (size_t k = 0; k + 4 <= vlen; k++) {
                memcpy(probe, cases[i].in + k, 4);
                if (strspn(probe, " \t") == 0 && strstr(d, probe) != NULL) {
                    OVL_T_RECORD(false, "detail \"%s\" contains part of \"%s\"", d, cases[i].in);
                    break;
                }
            }
        }
    }
}

static void email(void)
{
    static const norm_case cases[] = {
        {"alice@example.org", "alice@example.org"},
        {"  Alice.Smith@Example.ORG \t\r\n", "alice.smith@example.org"},
        {"BOB+tag@SUB.Example.com", "bob+tag@sub.example.com"},
        {"J\xc3\x96RG@B\xc3\x9cRO.de", "j\xc3\x96rg@b\xc3\x9cro.de"}, /* non-ASCII kept */
        {"x@y", "x@y"},
        {"", NULL},
        {"   \t ", NULL},
        {"plainaddress", NULL},
        {"two@@example.org", NULL},
        {"one@two@example.org", NULL},
        {"@example.org", NULL},
        {"alice@", NULL},
        {"ali ce@example.org", NULL},
        {"alice@exa\tmple.org", NULL},
        {"alice@exam\x01ple.org", NULL},
    };
    run_cases(OVL_NORM_EMAIL, cases, sizeof cases / sizeof cases[0]);

    /* Length: 254 is the limit after trimming. */
    char buf[300], out[OVL_NORM_MAX];
    size_t len;
    memset(buf, 'a', sizeof buf);
    memcpy(buf + 254 - 12, "@example.org", 12);
    EXPECT_OK(ovl_normalize(OVL_NORM_EMAIL, buf, 254, out, &len));
    EXPECT_EQ(len, 254);
    buf[0] = ' ';
    EXPECT_OK(ovl_normalize(OVL_NORM_EMAIL, buf, 254, out, &len));
    EXPECT_EQ(len, 253);
    memset(buf, 'a', sizeof buf);
    memcpy(buf + 255 - 12, "@example.org", 12);
    EXPECT_ERR(OVL_ERR_INPUT, ovl_normalize(OVL_NORM_EMAIL, buf, 255, out, &len));
    EXPECT_STR_EQ(ovl_err_detail(), "email: longer than 254 bytes");
}

static void phone(void)
{
    static const norm_case cases[] = {
        {"+442079460958", "+442079460958"},
        {" +44 20 7946 0958 ", "+442079460958"},
        {"+1 (415) 555-0132", "+14155550132"},
        {"+49.30.1234.5678", "+493012345678"},
        {"0044 20 7946 0958", "+442079460958"},
        {"+12345678", "+12345678"},             /* 8 digits */
        {"+123456789012345", "+123456789012345"}, /* 15 digits */
        {"00123456789012345", "+123456789012345"},
        {"", NULL},
        {"  ", NULL},
        {"020 7946 0958", NULL},     /* no country code: never guessed */
        {"4420 7946 0958", NULL},
        {"+1234567", NULL},          /* 7 digits */
        {"+1234567890123456", NULL}, /* 16 digits */
        {"001234567890123456", NULL},
        {"+0442079460958", NULL},
        {"000442079460958", NULL},
        {"+44 20 7946 0958 ext 12", NULL},
        {"+44/20/7946/0958", NULL},
        {"++442079460958", NULL},
        {"44+2079460958", NULL},
        {"+44\t2079460958", NULL},
        {"+", NULL},
        {"00", NULL},
        {"+4420794609x8", NULL},
    };
    run_cases(OVL_NORM_PHONE, cases, sizeof cases / sizeof cases[0]);

    /* Many separators are fine as long as the digits fit. */
    char out[OVL_NORM_MAX];
    size_t len;
    static const char spaced[] = "+ 4 4 - 2 0 - 7 9 4 6 - 0 9 5 8 . . ( ) ";
    EXPECT_OK(ovl_normalize(OVL_NORM_PHONE, spaced, strlen(spaced), out, &len));
    EXPECT_EQ(len, 13);
    static const char many[] = "+4420794609581234567890";
    EXPECT_ERR(OVL_ERR_INPUT, ovl_normalize(OVL_NORM_PHONE, many, strlen(many), out, &len));
}

static void exact(void)
{
    static const norm_case cases[] = {
        {"Alice", "Alice"},
        {" spaced \t", " spaced \t"},
        {"\xe6\x9d\xb1", "\xe6\x9d\xb1"},
        {"", NULL},
    };
    run_cases(OVL_NORM_NONE, cases, sizeof cases / sizeof cases[0]);
    char in[OVL_NORM_MAX + 1], out[OVL_NORM_MAX];
    size_t len;
    memset(in, 'q', sizeof in);
    EXPECT_OK(ovl_normalize(OVL_NORM_NONE, in, OVL_NORM_MAX, out, &len));
    EXPECT_EQ(len, OVL_NORM_MAX);
    EXPECT_ERR(OVL_ERR_INPUT, ovl_normalize(OVL_NORM_NONE, in, OVL_NORM_MAX + 1, out, &len));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_normalize((ovl_norm)7, "a", 1, out, &len));
}

static void names(void)
{
    static const char *const all[] = {"none", "email", "phone"};
    for (size_t i = 0; i < 3; i++) {
        ovl_norm n = (ovl_norm)99;
        EXPECT_OK(ovl_norm_parse(&n, all[i]));
        EXPECT_STR_EQ(ovl_norm_name(n), all[i]);
    }
    ovl_norm n;
    EXPECT_OK(ovl_norm_parse(&n, "phone"));
    EXPECT_EQ(n, OVL_NORM_PHONE);
    EXPECT_ERR(OVL_ERR_USAGE, ovl_norm_parse(&n, "Email"));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_norm_parse(&n, ""));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_norm_parse(&n, "emails"));
    EXPECT_TRUE(strstr(ovl_err_detail(), "emails") != NULL);
    EXPECT_STR_EQ(ovl_norm_name((ovl_norm)42), "invalid");
}

static void ident_hashes_normalised(void)
{
    uint8_t id[OVL_ID_LEN], want[OVL_ID_LEN], other[OVL_ID_LEN];
    static const char norm[] = "alice@example.org";
    crypto_hash_sha256(want, (const unsigned char *)norm, strlen(norm));
    static const char raw[] = "  ALICE@Example.org ";
    EXPECT_OK(ovl_ident(id, OVL_NORM_EMAIL, false, raw, strlen(raw)));
    EXPECT_BYTES_EQ(id, want, OVL_ID_LEN);
    /* Known answer: SHA-256("abc") (FIPS 180-2 appendix B.1). */
    uint8_t abc[OVL_ID_LEN];
    EXPECT_OK(ovl_hex_decode(abc, OVL_ID_LEN,
                             "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                             64));
    EXPECT_OK(ovl_ident(id, OVL_NORM_NONE, false, "abc", 3));
    EXPECT_BYTES_EQ(id, abc, OVL_ID_LEN);
    /* Negative: without normalisation the bytes differ, so does the id. */
    EXPECT_OK(ovl_ident(other, OVL_NORM_NONE, false, raw, strlen(raw)));
    EXPECT_TRUE(memcmp(other, want, OVL_ID_LEN) != 0);
    EXPECT_ERR(OVL_ERR_INPUT, ovl_ident(id, OVL_NORM_EMAIL, false, "nobody", 6));
    EXPECT_ERR(OVL_ERR_INPUT, ovl_ident(id, OVL_NORM_PHONE, false, "", 0));
}

static void ident_prehashed(void)
{
    uint8_t id[OVL_ID_LEN], want[OVL_ID_LEN];
    for (size_t i = 0; i < OVL_ID_LEN; i++)
        want[i] = (uint8_t)(0xa0 + i);
    static const char lower[] = "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf";
    static const char upper[] =
        " \tA0A1A2A3A4A5A6A7A8A9AAABACADAEAFB0B1B2B3B4B5B6B7B8B9BABBBCBDBEBF\r\n";
    EXPECT_OK(ovl_ident(id, OVL_NORM_EMAIL, true, lower, strlen(lower)));
    EXPECT_BYTES_EQ(id, want, OVL_ID_LEN);
    memset(id, 0, sizeof id);
    EXPECT_OK(ovl_ident(id, OVL_NORM_PHONE, true, upper, strlen(upper)));
    EXPECT_BYTES_EQ(id, want, OVL_ID_LEN);

    static const char *const bad[] = {
        "",
        "   ",
        "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbeb",   /* 63 */
        "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf0", /* 65 */
        "g0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf",
        "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf b0b1b2b3b4b5b6b7b8b9babbbcbdbeb",
        "0xa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbe",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        EXPECT_ERR(OVL_ERR_INPUT, ovl_ident(id, OVL_NORM_NONE, true, bad[i], strlen(bad[i])));
        EXPECT_TRUE(strstr(ovl_err_detail(), "a0a1") == NULL);
        EXPECT_TRUE(strstr(ovl_err_detail(), "prehashed") != NULL);
    }
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    RUN(email);
    RUN(phone);
    RUN(exact);
    RUN(names);
    RUN(ident_hashes_normalised);
    RUN(ident_prehashed);
    return ovl_t_summary("test_normalize");
}
