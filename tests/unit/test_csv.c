#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/table.h"
#include "test.h"

/* ---- helpers ---- */

static ovl_err open_str(ovl_csv **c, const char *s)
{
    return ovl_csv_open_mem(c, "data.csv", (const uint8_t *)s, strlen(s));
}

/* Reads every record of s; returns the first error (or OVL_OK) and counts records. */
static ovl_err read_all(const uint8_t *s, size_t len, size_t *nrec)
{
    ovl_csv *c = NULL;
    bool eof = false;
    *nrec = 0;
    ovl_err rc = ovl_csv_open_mem(&c, "data.csv", s, len);
    while (rc == OVL_OK) {
        rc = ovl_csv_next(c, &eof);
        if (rc != OVL_OK || eof)
            break;
        (*nrec)++;
    }
    ovl_csv_close(c);
    return rc;
}

static ovl_err read_str(const char *s, size_t *nrec)
{
    return read_all((const uint8_t *)s, strlen(s), nrec);
}

static bool field_is(const ovl_csv *c, size_t i, const char *want)
{
    const char *p;
    size_t len;
    ovl_csv_field(c, i, &p, &len);
    return len == strlen(want) && memcmp(p, want, len) == 0;
}

static bool raw_is(const ovl_csv *c, const char *want)
{
    const char *p;
    size_t len;
    ovl_csv_raw(c, &p, &len);
    return len == strlen(want) && memcmp(p, want, len) == 0;
}

static bool detail_has(const char *what) { return strstr(ovl_err_detail(), what) != NULL; }

/* ---- well-formed files ---- */

static void header_and_records(void)
{
    ovl_csv *c;
    bool eof;
    size_t idx = 99;
    EXPECT_OK(open_str(&c, "id,email,amount\n1,a@x.org,10\n2,b@y.org,20\n"));
    EXPECT_EQ(ovl_csv_ncols(c), 3);
    EXPECT_STR_EQ(ovl_csv_colname(c, 1), "email");
    EXPECT_TRUE(ovl_csv_colname(c, 3) == NULL);
    EXPECT_STR_EQ(ovl_csv_label(c), "data.csv");
    EXPECT_OK(ovl_csv_col(c, "amount", &idx));
    EXPECT_EQ(idx, 2);
    EXPECT_ERR(OVL_ERR_INPUT, ovl_csv_col(c, "phone", &idx));
    EXPECT_STR_EQ(ovl_err_detail(), "data.csv: no column \"phone\" in the header");
    EXPECT_ERR(OVL_ERR_INPUT, ovl_csv_col(c, "Email", &idx)); /* exact names only */

    const char *p;
    size_t len;
    ovl_csv_raw_header(c, &p, &len);
    EXPECT_EQ(len, strlen("id,email,amount"));
    EXPECT_BYTES_EQ(p, "id,email,amount", len);

    EXPECT_OK(ovl_csv_next(c, &eof));
    EXPECT_TRUE(!eof);
    EXPECT_EQ(ovl_csv_line(c), 2);
    EXPECT_TRUE(field_is(c, 0, "1"));
    EXPECT_TRUE(field_is(c, 1, "a@x.org"));
    EXPECT_TRUE(field_is(c, 2, "10"));
    EXPECT_TRUE(field_is(c, 3, "")); /* out of range reads as empty */
    EXPECT_TRUE(raw_is(c, "1,a@x.org,10"));
    EXPECT_OK(ovl_csv_next(c, &eof));
    EXPECT_EQ(ovl_csv_line(c), 3);
    EXPECT_TRUE(field_is(c, 1, "b@y.org"));
    EXPECT_TRUE(!field_is(c, 1, "a@x.org"));
    EXPECT_OK(ovl_csv_next(c, &eof));
    EXPECT_TRUE(eof);
    EXPECT_OK(ovl_csv_next(c, &eof)); /* end of file is sticky */
    EXPECT_TRUE(eof);
    ovl_csv_close(c);
}

static void quoted_fields(void)
{
    ovl_csv *c;
    bool eof;
    static const char text[] = "a,b,c\n"
                               "\"x,y\",\"say \"\"hi\"\"\",\"\"\n"
                               "\"multi\r\nline\nfield\",2,\"\"\"\"\n"
                               "last,\"q\",3\n";
    EXPECT_OK(open_str(&c, text));
    EXPECT_OK(ovl_csv_next(c, &eof));
    EXPECT_EQ(ovl_csv_line(c), 2);
    EXPECT_TRUE(field_is(c, 0, "x,y"));
    EXPECT_TRUE(field_is(c, 1, "say \"hi\""));
    EXPECT_TRUE(field_is(c, 2, ""));
    EXPECT_TRUE(raw_is(c, "\"x,y\",\"say \"\"hi\"\"\",\"\""));
    EXPECT_OK(ovl_csv_next(c, &eof));
    EXPECT_EQ(ovl_csv_line(c), 3);
    EXPECT_TRUE(field_is(c, 0, "multi\r\nline\nfield"));
    EXPECT_TRUE(field_is(c, 2, "\""));
    EXPECT_TRUE(raw_is(c, "\"multi\r\nline\nfield\",2,\"\"\"\""));
    EXPECT_OK(ovl_csv_next(c, &eof));
    EXPECT_EQ(ovl_csv_line(c), 6); /* the quoted newlines advanced the count */
    EXPECT_TRUE(field_is(c, 1, "q"));
    EXPECT_TRUE(raw_is(c, "last,\"q\",3"));
    EXPECT_OK(ovl_csv_next(c, &eof));
    EXPECT_TRUE(eof);
    ovl_csv_close(c);

    /* Negative: the same fields unquoted are split at the comma. */
    size_t n;
    EXPECT_ERR(OVL_ERR_INPUT, read_str("a,b,c\nx,y,z,w\n", &n));
    EXPECT_STR_EQ(ovl_err_detail(), "data.csv:2: 4 fields, header has 3");
}

static void line_endings(void)
{
    ovl_csv *c;
    bool eof;
    EXPECT_OK(open_str(&c, "a,b\r\n1,2\r\n3,4\n5,6\r\n"));
    EXPECT_STR_EQ(ovl_csv_colname(c, 1), "b");
    const char *p;
    size_t len;
    ovl_csv_raw_header(c, &p, &len);
    EXPECT_EQ(len, 3);
    for (int i = 0; i < 3; i++) {
        EXPECT_OK(ovl_csv_next(c, &eof));
        EXPECT_TRUE(!eof);
        EXPECT_EQ(ovl_csv_line(c), (size_t)i + 2);
        ovl_csv_raw(c, &p, &len);
        EXPECT_EQ(len, 3); /* no CR left in the raw record */
        ovl_csv_field(c, 1, &p, &len);
        EXPECT_EQ(len, 1);
    }
    EXPECT_OK(ovl_csv_next(c, &eof));
    EXPECT_TRUE(eof);
    ovl_csv_close(c);

    /* A CR not followed by LF is not a line end. */
    size_t n;
    EXPECT_ERR(OVL_ERR_INPUT, read_str("a,b\r\n1,2\r3,4\n", &n));
    EXPECT_TRUE(detail_has("data.csv:2: carriage return"));
    EXPECT_ERR(OVL_ERR_INPUT, read_str("a,b\n1,2\r", &n));
}

static void final_newline_and_blank_lines(void)
{
    size_t n;
    EXPECT_OK(read_str("a,b\n1,2", &n));
    EXPECT_EQ(n, 1);
    EXPECT_OK(read_str("a,b\n1,2\n", &n));
    EXPECT_EQ(n, 1);
    EXPECT_OK(read_str("a,b\n1,2\n\n", &n));
    EXPECT_EQ(n, 1);
    EXPECT_OK(read_str("a,b\n1,2\r\n\r\n\n", &n));
    EXPECT_EQ(n, 1);
    EXPECT_OK(read_str("a,b\n", &n));
    EXPECT_EQ(n, 0);
    EXPECT_OK(read_str("a,b", &n));
    EXPECT_EQ(n, 0);
    EXPECT_OK(read_str("a,b\n\n", &n));
    EXPECT_EQ(n, 0);

    /* Negative: a blank line with more records after it. */
    EXPECT_ERR(OVL_ERR_INPUT, read_str("a,b\n1,2\n\n3,4\n", &n));
    EXPECT_STR_EQ(ovl_err_detail(), "data.csv:3: blank line, header has 2 fields");
    EXPECT_ERR(OVL_ERR_INPUT, read_str("a,b\n\r\n\n1,2\n", &n));
    EXPECT_STR_EQ(ovl_err_detail(), "data.csv:2: blank line, header has 2 fields");
}

static void one_column_blank_lines(void)
{
    ovl_csv *c;
    bool eof;
    EXPECT_OK(open_str(&c, "email\nx\n\n\r\ny\n\n"));
    EXPECT_OK(ovl_csv_next(c, &eof));
    EXPECT_TRUE(field_is(c, 0, "x"));
    for (size_t line = 3; line <= 4; line++) {
        EXPECT_OK(ovl_csv_next(c, &eof));
        EXPECT_TRUE(!eof);
        EXPECT_EQ(ovl_csv_line(c), line);
        EXPECT_TRUE(field_is(c, 0, ""));
        EXPECT_TRUE(raw_is(c, ""));
    }
    EXPECT_OK(ovl_csv_next(c, &eof));
    EXPECT_EQ(ovl_csv_line(c), 5);
    EXPECT_TRUE(field_is(c, 0, "y"));
    EXPECT_OK(ovl_csv_next(c, &eof)); /* the trailing blank line is no record */
    EXPECT_TRUE(eof);
    ovl_csv_close(c);

    size_t n;
    EXPECT_OK(read_str("email\n\n\n", &n));
    EXPECT_EQ(n, 0);
    EXPECT_OK(read_str("email\n\"\"\n", &n)); /* an explicit empty field is a record */
    EXPECT_EQ(n, 1);
}

static void bom(void)
{
    ovl_csv *c;
    EXPECT_OK(open_str(&c, "\xef\xbb\xbf" "email,n\nx,1\n"));
    EXPECT_STR_EQ(ovl_csv_colname(c, 0), "email");
    const char *p;
    size_t len;
    ovl_csv_raw_header(c, &p, &len);
    EXPECT_EQ(len, 7);
    ovl_csv_close(c);

    /* Negative: only a leading BOM is stripped; later it is data. */
    EXPECT_OK(open_str(&c, "n,\xef\xbb\xbf" "email\n"));
    size_t idx;
    EXPECT_ERR(OVL_ERR_INPUT, ovl_csv_col(c, "email", &idx));
    ovl_csv_close(c);

    EXPECT_ERR(OVL_ERR_INPUT, open_str(&c, "\xef\xbb\xbf"));
    EXPECT_STR_EQ(ovl_err_detail(), "data.csv: empty file, a header row is required");
    EXPECT_TRUE(c == NULL);
}

static void header_rules(void)
{
    ovl_csv *c;
    EXPECT_ERR(OVL_ERR_INPUT, open_str(&c, ""));
    EXPECT_STR_EQ(ovl_err_detail(), "data.csv: empty file, a header row is required");
    EXPECT_ERR(OVL_ERR_INPUT, open_str(&c, "\nemail\n"));
    EXPECT_TRUE(detail_has("data.csv:1: blank first line"));
    EXPECT_ERR(OVL_ERR_INPUT, open_str(&c, "a,b,a\n"));
    EXPECT_STR_EQ(ovl_err_detail(), "data.csv:1: column \"a\" appears twice in the header");
    EXPECT_ERR(OVL_ERR_INPUT, open_str(&c, "a,,b\n"));
    EXPECT_STR_EQ(ovl_err_detail(), "data.csv:1: column 2 of the header has no name");
    EXPECT_ERR(OVL_ERR_INPUT, open_str(&c, "a,b,\"\"\n"));
    EXPECT_TRUE(detail_has("column 3 of the header has no name"));
    EXPECT_ERR(OVL_ERR_INPUT, open_str(&c, "\"x\ny\",\"x\ny\"\n"));
    EXPECT_STR_EQ(ovl_err_detail(), "data.csv:1: column \"x?y\" appears twice in the header");
    /* Positive counterparts: names differing by case or space are distinct. */
    EXPECT_OK(open_str(&c, "a,A,a \n"));
    EXPECT_EQ(ovl_csv_ncols(c), 3);
    ovl_csv_close(c);
    EXPECT_OK(open_str(&c, "\"a,b\",a\n"));
    EXPECT_STR_EQ(ovl_csv_colname(c, 0), "a,b");
    ovl_csv_close(c);
}

static void field_counts(void)
{
    size_t n;
    EXPECT_ERR(OVL_ERR_INPUT, read_str("a,b,c,d\n1,2,3,4\n1,2,3,4\n1,2,3\n", &n));
    EXPECT_STR_EQ(ovl_err_detail(), "data.csv:4: 3 fields, header has 4");
    EXPECT_ERR(OVL_ERR_INPUT, read_str("a,b\n1\n", &n));
    EXPECT_STR_EQ(ovl_err_detail(), "data.csv:2: 1 field, header has 2");
    EXPECT_ERR(OVL_ERR_INPUT, read_str("a,b\n\"1\n2\",3\n4,5,\n", &n));
    EXPECT_STR_EQ(ovl_err_detail(), "data.csv:4: 3 fields, header has 2");
    EXPECT_OK(read_str("a,b\n,\n\"\",\n", &n)); /* empty fields count */
    EXPECT_EQ(n, 2);
}

static void malformed_quotes(void)
{
    size_t n;
    EXPECT_ERR(OVL_ERR_INPUT, read_str("a,b\n1,2\nab\"c,3\n", &n));
    EXPECT_TRUE(detail_has("data.csv:3: quote inside an unquoted field"));
    EXPECT_ERR(OVL_ERR_INPUT, read_str("a,b\n1,2\n\"ab\"c,3\n", &n));
    EXPECT_TRUE(detail_has("data.csv:3: text after a closing quote"));
    EXPECT_ERR(OVL_ERR_INPUT, read_str("a,b\n\"1\n\n\"x,3\n", &n));
    EXPECT_TRUE(detail_has("data.csv:4: text after a closing quote"));
    EXPECT_ERR(OVL_ERR_INPUT, read_str("a,b\n1,2\n3,\"open\nstill open\n", &n));
    EXPECT_TRUE(detail_has("data.csv:3: unterminated quoted field"));
    EXPECT_ERR(OVL_ERR_INPUT, read_str("a,b\n1,\"", &n));
    EXPECT_TRUE(detail_has("data.csv:2: unterminated quoted field"));
    EXPECT_ERR(OVL_ERR_INPUT, read_str("a,\"b\" \n", &n));
    EXPECT_TRUE(detail_has("data.csv:1: text after a closing quote"));
    /* Positive counterparts. */
    EXPECT_OK(read_str("a,b\n\"ab\"\"c\",3\n\"ab\",\"c\"\n", &n));
    EXPECT_EQ(n, 2);
    EXPECT_OK(read_str("a,b\n1,\"\n\"\n", &n));
    EXPECT_EQ(n, 1);
}

static void utf8_and_nul(void)
{
    size_t n;
    EXPECT_OK(read_str("name,city\nJos\xc3\xa9,\"\xe6\x9d\xb1\xe4\xba\xac\"\n\xf0\x9f\x98\x80,x\n", &n));
    EXPECT_EQ(n, 2);
    static const char *const bad[] = {
        "\xc3",             /* truncated */
        "\xc3(",            /* bad continuation */
        "\xc0\xaf",         /* overlong */
        "\xe0\x80\xaf",     /* overlong */
        "\xed\xa0\x80",     /* UTF-16 surrogate */
        "\xf4\x90\x80\x80", /* past U+10FFFF */
        "\xff",
        "\x80",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[64];
        snprintf(text, sizeof text, "a,b\n1,2\n\"x\n\",%s\n", bad[i]);
        EXPECT_ERR(OVL_ERR_INPUT, read_str(text, &n));
        EXPECT_STR_EQ(ovl_err_detail(), "data.csv:4: invalid UTF-8 (save the file as UTF-8)");
        snprintf(text, sizeof text, "a,b\n1,2\n\"x\n%s\",3\n", bad[i]);
        EXPECT_ERR(OVL_ERR_INPUT, read_str(text, &n));
        EXPECT_TRUE(detail_has("data.csv:4: invalid UTF-8"));
    }
    static const uint8_t nul[] = "a,b\n1,x\0y\n";
    EXPECT_ERR(OVL_ERR_INPUT, read_all(nul, sizeof nul - 1, &n));
    EXPECT_TRUE(detail_has("data.csv:2: NUL byte"));
    static const uint8_t nulq[] = "a,b\n1,\"x\0y\"\n";
    EXPECT_ERR(OVL_ERR_INPUT, read_all(nulq, sizeof nulq - 1, &n));
    EXPECT_TRUE(detail_has("data.csv:2: NUL byte"));
    static const uint8_t ok[] = "a,b\n1,x\ty\n";
    EXPECT_OK(read_all(ok, sizeof ok - 1, &n));
}

static void errors_are_sticky(void)
{
    ovl_csv *c;
    bool eof;
    EXPECT_OK(open_str(&c, "a,b\n1\n2,3\n"));
    EXPECT_ERR(OVL_ERR_INPUT, ovl_csv_next(c, &eof));
    EXPECT_ERR(OVL_ERR_INPUT, ovl_csv_next(c, &eof));
    EXPECT_TRUE(!eof);
    ovl_csv_close(c);
    ovl_csv_close(NULL);
}

/* ---- caps ---- */

static uint8_t *filled(size_t n, char ch)
{
    uint8_t *p = malloc(n);
    if (p != NULL)
        memset(p, ch, n);
    return p;
}

static void caps_field(void)
{
    size_t n, big = OVL_CSV_MAX_FIELD + 1;
    uint8_t *buf = filled(big + 8, 'x');
    if (buf == NULL)
        return;
    /* "a\n" + field */
    buf[0] = 'a';
    buf[1] = '\n';
    EXPECT_OK(read_all(buf, 2 + OVL_CSV_MAX_FIELD, &n));
    EXPECT_EQ(n, 1);
    EXPECT_ERR(OVL_ERR_LIMIT, read_all(buf, 2 + big, &n));
    EXPECT_STR_EQ(ovl_err_detail(), "data.csv:2: field 1 is longer than 1048576 bytes");
    buf[2] = '"';
    buf[2 + big] = '"';
    EXPECT_OK(read_all(buf, 3 + big, &n)); /* quotes around MAX_FIELD bytes */
    buf[2 + big] = 'x';
    buf[3 + big] = '"';
    EXPECT_ERR(OVL_ERR_LIMIT, read_all(buf, 4 + big, &n));
    free(buf);
}

static void caps_columns(void)
{
    size_t max = OVL_CSV_MAX_COLS, len = 0;
    char *text = malloc(16 * (max + 2));
    if (text == NULL)
        return;
    ovl_csv *c;
    for (size_t i = 0; i < max; i++)
        len += (size_t)sprintf(text + len, "%sc%zu", i ? "," : "", i);
    EXPECT_OK(ovl_csv_open_mem(&c, "wide.csv", (uint8_t *)text, len));
    EXPECT_EQ(ovl_csv_ncols(c), OVL_CSV_MAX_COLS);
    ovl_csv_close(c);
    len += (size_t)sprintf(text + len, ",extra");
    EXPECT_ERR(OVL_ERR_LIMIT, ovl_csv_open_mem(&c, "wide.csv", (uint8_t *)text, len));
    EXPECT_STR_EQ(ovl_err_detail(), "wide.csv:1: more than 4096 fields");
    free(text);
}

static void caps_record(void)
{
    /* Five columns of up to MAX_FIELD bytes each can exceed MAX_RECORD. */
    size_t n, field = OVL_CSV_MAX_RECORD / 5, len = 0;
    size_t total = 16 + 5 * (field + 1) + 64;
    uint8_t *buf = filled(total, 'y');
    if (buf == NULL)
        return;
    memcpy(buf, "a,b,c,d,e\n", 10);
    len = 10;
    for (int i = 0; i < 5; i++) {
        len += field;
        buf[len++] = i < 4 ? ',' : '\n';
    }
    size_t rec = len - 11;
    /* Pad the last field so the record is exactly MAX_RECORD bytes. */
    size_t pad = OVL_CSV_MAX_RECORD - rec;
    memset(buf + len - 1, 'y', pad);
    len += pad;
    buf[len - 1] = '\n';
    EXPECT_OK(read_all(buf, len, &n));
    EXPECT_EQ(n, 1);
    buf[len - 1] = 'y';
    buf[len++] = '\n';
    EXPECT_ERR(OVL_ERR_LIMIT, read_all(buf, len, &n));
    EXPECT_STR_EQ(ovl_err_detail(), "data.csv:2: record longer than 4194304 bytes");
    free(buf);
}

/* ---- files: streaming through the chunked window ---- */

static char tmpdir[64];

static char *write_tmp(const char *name, const void *data, size_t len)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return NULL;
    fwrite(data, 1, len, f);
    fclose(f);
    return path;
}

/* A file with records of many sizes, quoted newlines, doubled quotes and
 * CRLF, so records straddle the 64 KiB refill boundaries in every way. */
static size_t make_stream(char *out, size_t cap)
{
    size_t len = (size_t)sprintf(out, "\xef\xbb\xbfid,text,n\r\n");
    unsigned seed = 7;
    for (int i = 0; len + 150000 < cap; i++) {
        seed = seed * 1103515245u + 12345u;
        size_t w = (seed >> 16) % (i % 50 == 0 ? 70000 : 300);
        len += (size_t)sprintf(out + len, "%d,\"", i);
        for (size_t k = 0; k < w; k++) {
            char ch = k % 97 == 96 ? '\n' : k % 89 == 88 ? '"' : (char)('a' + k % 26);
            out[len++] = ch;
            if (ch == '"')
                out[len++] = ch;
        }
        len += (size_t)sprintf(out + len, "\",%u%s", seed % 1000, i % 3 ? "\n" : "\r\n");
    }
    return len;
}

static void stream_matches_memory(void)
{
    size_t cap = 4u << 20, len;
    char *data = malloc(cap);
    if (data == NULL)
        return;
    len = make_stream(data, cap);
    const char *path = write_tmp("stream.csv", data, len);
    ovl_csv *f = NULL, *m = NULL;
    bool eof_f = false, eof_m = false;
    size_t records = 0, mismatches = 0;
    EXPECT_OK(ovl_csv_open(&f, path));
    EXPECT_OK(ovl_csv_open_mem(&m, "mem", (uint8_t *)data, len));
    if (f == NULL || m == NULL)
        goto out;
    EXPECT_STR_EQ(ovl_csv_colname(f, 0), "id");
    for (;;) {
        ovl_err rf = ovl_csv_next(f, &eof_f), rm = ovl_csv_next(m, &eof_m);
        if (rf != OVL_OK || rm != OVL_OK) {
            mismatches++;
            break;
        }
        if (eof_f || eof_m)
            break;
        const char *pf, *pm;
        size_t lf, lm;
        ovl_csv_raw(f, &pf, &lf);
        ovl_csv_raw(m, &pm, &lm);
        mismatches += lf != lm || memcmp(pf, pm, lf) != 0;
        mismatches += ovl_csv_line(f) != ovl_csv_line(m);
        for (size_t i = 0; i < 3; i++) {
            ovl_csv_field(f, i, &pf, &lf);
            ovl_csv_field(m, i, &pm, &lm);
            mismatches += lf != lm || memcmp(pf, pm, lf) != 0;
        }
        /* The raw record lies inside the file's bytes at its own position. */
        ovl_csv_raw(m, &pm, &lm);
        mismatches += pm < data || pm + lm > data + len;
        records++;
    }
    EXPECT_TRUE(eof_f && eof_m);
    EXPECT_EQ(mismatches, 0);
    EXPECT_TRUE(records > 1000);
out:
    ovl_csv_close(f);
    ovl_csv_close(m);
    free(data);
}

static void stream_errors(void)
{
    ovl_csv *c;
    bool eof;
    size_t big = OVL_CSV_MAX_RECORD + 100;
    char *data = malloc(big);
    if (data == NULL)
        return;
    /* An unbalanced quote early in a big file is reported where it is,
     * not as an over-long record. */
    memset(data, 'z', big);
    memcpy(data, "a,b\n1,2\nx\"y,3\n", 14);
    for (size_t i = 20; i < big; i += 10)
        data[i] = '\n';
    const char *path = write_tmp("stray.csv", data, big);
    EXPECT_OK(ovl_csv_open(&c, path));
    EXPECT_OK(ovl_csv_next(c, &eof));
    EXPECT_ERR(OVL_ERR_INPUT, ovl_csv_next(c, &eof));
    EXPECT_TRUE(detail_has("stray.csv:3: quote inside an unquoted field"));
    ovl_csv_close(c);
    /* A quoted field that never closes runs into the record cap. */
    memset(data, 'z', big);
    memcpy(data, "a,b\n1,\"open\n", 12);
    path = write_tmp("open.csv", data, big);
    EXPECT_OK(ovl_csv_open(&c, path));
    EXPECT_ERR(OVL_ERR_LIMIT, ovl_csv_next(c, &eof));
    EXPECT_TRUE(detail_has("open.csv:2: record longer than"));
    ovl_csv_close(c);
    /* ...and at end of a smaller file it is unterminated. */
    path = write_tmp("open2.csv", data, 200000);
    EXPECT_OK(ovl_csv_open(&c, path));
    EXPECT_ERR(OVL_ERR_INPUT, ovl_csv_next(c, &eof));
    EXPECT_TRUE(detail_has("open2.csv:2: unterminated quoted field"));
    ovl_csv_close(c);
    path = write_tmp("empty.csv", "", 0);
    EXPECT_ERR(OVL_ERR_INPUT, ovl_csv_open(&c, path));
    EXPECT_TRUE(detail_has("empty.csv: empty file, a header row is required"));
    EXPECT_ERR(OVL_ERR_IO, ovl_csv_open(&c, "/nonexistent/x.csv"));
    EXPECT_TRUE(detail_has("/nonexistent/x.csv: cannot open"));
    EXPECT_TRUE(c == NULL);
    free(data);
}

static void cleanup_tmp(void)
{
    static const char *const names[] = {"stream.csv", "stray.csv", "open.csv", "open2.csv",
                                        "empty.csv"};
    char path[128];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", tmpdir, names[i]);
        unlink(path);
    }
    rmdir(tmpdir);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ovl_test_csv.XXXXXX");
    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    RUN(header_and_records);
    RUN(quoted_fields);
    RUN(line_endings);
    RUN(final_newline_and_blank_lines);
    RUN(one_column_blank_lines);
    RUN(bom);
    RUN(header_rules);
    RUN(field_counts);
    RUN(malformed_quotes);
    RUN(utf8_and_nul);
    RUN(errors_are_sticky);
    RUN(caps_field);
    RUN(caps_columns);
    RUN(caps_record);
    RUN(stream_matches_memory);
    RUN(stream_errors);
    cleanup_tmp();
    return ovl_t_summary("test_csv");
}
