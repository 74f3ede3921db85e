/* The table-source seam (io/source.h): the CSV backend through it, typed
 * cells from a backend of our own, and a negative case for each error. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/source.h"
#include "test.h"
#include "tmpdir.h"

static bool cell_is(const ovl_source *s, size_t i, const char *text)
{
    ovl_cell c;
    ovl_source_cell(s, i, &c);
    return c.kind == OVL_CELL_TEXT && c.len == strlen(text) && memcmp(c.text, text, c.len) == 0;
}

static void csv_rows(void)
{
    const char *path = write_file("t.csv", "id,\"na,me\"\r\n1,\"a \"\"b\"\"\"\n\n2,\"x\ny\"\n3,z\n");
    ovl_source *s = NULL;
    bool eof = true;
    size_t idx = 9;
    char at[OVL_SOURCE_WHERE_MAX];
    const char *p;
    size_t len;
    EXPECT_OK(ovl_source_open(&s, path, NULL));
    if (s == NULL)
        return;
    EXPECT_EQ(ovl_source_ncols(s), 2);
    EXPECT_STR_EQ(ovl_source_colname(s, 1), "na,me");
    EXPECT_TRUE(ovl_source_colname(s, 2) == NULL);
    EXPECT_OK(ovl_source_col(s, "na,me", &idx));
    EXPECT_EQ(idx, 1);
    EXPECT_STR_EQ(ovl_source_label(s), path);
    EXPECT_OK(ovl_source_header_csv(s, &p, &len));
    EXPECT_TRUE(len == 10 && memcmp(p, "id,\"na,me\"", 10) == 0);
    EXPECT_OK(ovl_source_next(s, &eof));
    EXPECT_TRUE(!eof && cell_is(s, 0, "1") && cell_is(s, 1, "a \"b\""));
    EXPECT_OK(ovl_source_row_csv(s, &p, &len));
    EXPECT_TRUE(len == 11 && memcmp(p, "1,\"a \"\"b\"\"\"", 11) == 0);
    ovl_source_where(s, at);
    char want[OVL_SOURCE_WHERE_MAX];
    snprintf(want, sizeof want, "%s:2", path);
    EXPECT_STR_EQ(at, want);
    /* A blank line in a 2-column file is an error naming its line. */
    EXPECT_ERR(OVL_ERR_INPUT, ovl_source_next(s, &eof));
    EXPECT_TRUE(strstr(ovl_err_detail(), ":3: blank line") != NULL);
    /* ...and the source stays failed. */
    EXPECT_ERR(OVL_ERR_INPUT, ovl_source_next(s, &eof));
    ovl_source_close(s);
    ovl_source_close(NULL);
}

static void csv_multiline_pos(void)
{
    static const char text[] = "id,v\n1,\"x\ny\"\n2,z\n";
    ovl_source *s = NULL;
    bool eof = false;
    size_t rows = 0, pos[3] = {0};
    char at[OVL_SOURCE_WHERE_MAX];
    EXPECT_OK(ovl_source_open_csv_mem(&s, "mem.csv", (const uint8_t *)text, sizeof text - 1));
    if (s == NULL)
        return;
    while (ovl_source_next(s, &eof) == OVL_OK && !eof && rows < 3)
        pos[rows++] = ovl_source_pos(s);
    EXPECT_TRUE(eof);
    EXPECT_EQ(rows, 2);
    EXPECT_EQ(pos[0], 2);
    EXPECT_EQ(pos[1], 4); /* the quoted line feed moved the second row down */
    ovl_source_where_at(s, pos[1], at);
    EXPECT_STR_EQ(at, "mem.csv:4");
    /* Past the end it stays at end of file. */
    EXPECT_OK(ovl_source_next(s, &eof));
    EXPECT_TRUE(eof);
    ovl_source_close(s);
}

static void open_errors(void)
{
    ovl_source *s = (ovl_source *)1;
    char *long_spec = calloc(OVL_SOURCE_SPEC_MAX + 1, 1);
    char path[160];
    snprintf(path, sizeof path, "%s", write_file("ok.csv", "a\n1\n"));
    EXPECT_ERR(OVL_ERR_IO, ovl_source_open(&s, tmp_path("missing.csv"), NULL));
    EXPECT_TRUE(s == NULL);
    EXPECT_TRUE(strstr(ovl_err_detail(), "missing.csv: cannot open") != NULL);
    EXPECT_ERR(OVL_ERR_USAGE, ovl_source_open(&s, path, "SELECT 1"));
    EXPECT_TRUE(strstr(ovl_err_detail(), "takes no query") != NULL);
    EXPECT_ERR(OVL_ERR_USAGE, ovl_source_open(&s, "", NULL));
    EXPECT_ERR(OVL_ERR_USAGE, ovl_source_open(&s, NULL, NULL));
    if (long_spec != NULL) {
        memset(long_spec, 'a', OVL_SOURCE_SPEC_MAX);
        EXPECT_ERR(OVL_ERR_USAGE, ovl_source_open(&s, long_spec, NULL));
        memset(long_spec, 0, OVL_SOURCE_SPEC_MAX + 1);
        memset(long_spec, 'q', OVL_SOURCE_SPEC_MAX);
        EXPECT_ERR(OVL_ERR_USAGE, ovl_source_open(&s, path, long_spec));
    }
    free(long_spec);
    EXPECT_ERR(OVL_ERR_INPUT, ovl_source_open(&s, write_file("empty.csv", ""), NULL));
    EXPECT_ERR(OVL_ERR_INPUT, ovl_source_open(&s, write_file("dup.csv", "a,a\n"), NULL));
    EXPECT_TRUE(strstr(ovl_err_detail(), "dup.csv:1: column \"a\" appears twice") != NULL);
    EXPECT_OK(ovl_source_open(&s, path, NULL));
    if (s == NULL)
        return;
    size_t idx = 7;
    EXPECT_ERR(OVL_ERR_INPUT, ovl_source_col(s, "b", &idx));
    EXPECT_EQ(idx, 7);
    EXPECT_TRUE(strstr(ovl_err_detail(), "ok.csv: no column \"b\" in the header") != NULL);
    ovl_source_close(s);
    EXPECT_ERR(OVL_ERR_INPUT, ovl_source_open_csv_mem(&s, "m.csv", (const uint8_t *)"", 0));
    EXPECT_TRUE(s == NULL);
}

/* A typed backend of our own: two rows of (INT, TEXT needing quotes, NULL). */
typedef struct {
    size_t row; /* 0 before the first */
    char where[64];
} fake;

static const char *const fake_names[] = {"n", "t", "z"};
static const char *const fake_text[2][2] = {{"12", "a,\"b\""}, {"-3", "plain"}};

static ovl_err fake_open(void **impl, const char *spec, const char *query)
{
    (void)spec;
    (void)query;
    *impl = calloc(1, sizeof(fake));
    return *impl ? OVL_OK : OVL_ERR_NOMEM;
}
static void fake_close(void *impl) { free(impl); }
static size_t fake_ncols(const void *impl) { return (void)impl, 3; }
static const char *fake_colname(const void *impl, size_t i) { return (void)impl, fake_names[i]; }
static ovl_err fake_next(void *impl, bool *eof)
{
    fake *f = impl;
    *eof = f->row >= 2;
    f->row += !*eof;
    return OVL_OK;
}
static void fake_cell(const void *impl, size_t i, ovl_cell *out)
{
    const fake *f = impl;
    if (i == 2) {
        *out = (ovl_cell){OVL_CELL_NULL, "", 0};
        return;
    }
    const char *t = fake_text[f->row - 1][i];
    *out = (ovl_cell){i == 0 ? OVL_CELL_INT : OVL_CELL_TEXT, t, strlen(t)};
}
static const char *fake_label(const void *impl) { return (void)impl, "fake:t"; }
static size_t fake_pos(const void *impl) { return ((const fake *)impl)->row; }
static void fake_where_at(const void *impl, size_t pos, char *out, size_t cap)
{
    (void)impl;
    snprintf(out, cap, "fake:t row %zu", pos);
}

static const ovl_source_backend fake_backend = {
    .name = "fake", .open = fake_open, .close = fake_close, .ncols = fake_ncols,
    .colname = fake_colname, .next = fake_next, .cell = fake_cell, .label = fake_label,
    .pos = fake_pos, .where_at = fake_where_at, .raw = NULL,
};

static void typed_backend(void)
{
    void *impl = NULL;
    ovl_source *s = NULL;
    bool eof = false;
    ovl_cell c;
    const char *p;
    size_t len;
    char at[OVL_SOURCE_WHERE_MAX];
    EXPECT_OK(fake_open(&impl, "fake:t", NULL));
    EXPECT_OK(ovl_source_wrap(&s, &fake_backend, impl));
    if (s == NULL)
        return;
    EXPECT_OK(ovl_source_header_csv(s, &p, &len));
    EXPECT_TRUE(len == 5 && memcmp(p, "n,t,z", 5) == 0);
    EXPECT_OK(ovl_source_next(s, &eof));
    ovl_source_cell(s, 0, &c);
    EXPECT_TRUE(c.kind == OVL_CELL_INT && c.len == 2 && memcmp(c.text, "12", 2) == 0);
    ovl_source_cell(s, 2, &c);
    EXPECT_TRUE(c.kind == OVL_CELL_NULL && c.len == 0);
    ovl_source_cell(s, 3, &c); /* past the last column: NULL, not out of bounds */
    EXPECT_TRUE(c.kind == OVL_CELL_NULL && c.len == 0);
    EXPECT_OK(ovl_source_row_csv(s, &p, &len));
    EXPECT_TRUE(len == 13 && memcmp(p, "12,\"a,\"\"b\"\"\",", 13) == 0);
    EXPECT_OK(ovl_source_next(s, &eof));
    EXPECT_OK(ovl_source_row_csv(s, &p, &len));
    EXPECT_TRUE(len == 9 && memcmp(p, "-3,plain,", 9) == 0);
    ovl_source_where(s, at);
    EXPECT_STR_EQ(at, "fake:t row 2");
    EXPECT_OK(ovl_source_next(s, &eof));
    EXPECT_TRUE(eof);
    ovl_source_close(s);
}

int main(void)
{
    if (!tmpdir_make("test_source"))
        return 1;
    RUN(csv_rows);
    RUN(csv_multiline_pos);
    RUN(open_errors);
    RUN(typed_backend);
    static const char *const names[] = {"t.csv", "ok.csv", "empty.csv", "dup.csv"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        unlink(tmp_path(names[i]));
    rmdir(tmpdir);
    return ovl_t_summary("test_source");
}
