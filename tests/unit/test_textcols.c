/* Named columns as text (io/textcols.h): every data row in table order, NULL
 * as length 0 (empty or blank CSV cells), spaces trimmed, the physical line
 * of each row; a missing column and an overlong cell refused naming the
 * table, line and column; filled row by row in another reader's pass, an
 * overlong cell kept as NULL and its row still added. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "io/textcols.h"
#include "test.h"
#include "tmpdir.h"

static void test_columns(void)
{
    char long_row[400];
    const char *path = write_file("t.csv", "email,day,amount\na@x,2026-07-01, 12.5\nb@x,,3\nc@x,  ,\n");
    ovl_text_table t;
    const char *cols[] = {"day", "amount"};
    EXPECT_OK(ovl_text_table_load(&t, path, NULL, cols, 2));
    EXPECT_EQ(t.nrows, 3);
    EXPECT_EQ(t.ncols, 2);
    EXPECT_STR_EQ(t.cell[0], "2026-07-01");
    EXPECT_EQ(t.len[1], 0);
    EXPECT_EQ(t.len[2], 0);
    EXPECT_STR_EQ(t.cell[3], "12.5");
    EXPECT_STR_EQ(t.cell[4], "3");
    EXPECT_EQ(t.len[5], 0);
    EXPECT_EQ(t.line[0], 2);
    EXPECT_EQ(t.line[2], 4);
    ovl_text_table_free(&t);
    const char *missing[] = {"seen"};
    EXPECT_ERR(OVL_ERR_INPUT, ovl_text_table_load(&t, path, NULL, missing, 1));
    EXPECT_TRUE(strstr(ovl_err_detail(), "seen") != NULL);
    memset(long_row, '7', sizeof long_row);
    memcpy(long_row, "email,day\na@x,", 14);
    long_row[sizeof long_row - 2] = '\n';
    long_row[sizeof long_row - 1] = 0;
    path = write_file("t.csv", long_row);
    EXPECT_ERR(OVL_ERR_INPUT, ovl_text_table_load(&t, path, NULL, cols, 1));
    EXPECT_TRUE(strstr(ovl_err_detail(), "t.csv:2: column day") != NULL);
    unlink(tmp_path("t.csv"));
    rmdir(tmpdir);
}

static void test_fill(void)
{
    char text[600], cell[OVL_TEXT_CELL_MAX + 2];
    memset(cell, 'x', sizeof cell - 1);
    cell[sizeof cell - 1] = 0;
    snprintf(text, sizeof text, "id,day\na, 1 \nb,%s\nc,\n", cell);
    ovl_source *src = NULL;
    ovl_text_fill f;
    ovl_text_table t;
    const char *cols[] = {"day", "id"}, *bad[] = {"id", "nope"};
    bool eof = false;
    size_t rows = 0;
    memset(&t, 0, sizeof t);
    EXPECT_OK(ovl_source_open_csv_mem(&src, "mem.csv", (const uint8_t *)text, strlen(text)));
    if (src == NULL)
        return;
    EXPECT_ERR(OVL_ERR_INPUT, ovl_text_fill_bind(&f, src, bad, 2));
    EXPECT_TRUE(strstr(ovl_err_detail(), "nope") != NULL);
    EXPECT_ERR(OVL_ERR_USAGE, ovl_text_fill_bind(&f, src, cols, 0));
    EXPECT_OK(ovl_text_fill_bind(&f, src, cols, 2));
    while (ovl_source_next(src, &eof) == OVL_OK && !eof) {
        ovl_err rc = ovl_text_fill_row(&f, src);
        OVL_T_RECORD(rc == (rows == 1 ? OVL_ERR_INPUT : OVL_OK), "row %zu: %d", rows, (int)rc);
        if (rows == 1)
            EXPECT_TRUE(strstr(ovl_err_detail(), "mem.csv:3: column day: a cell of over 255 "
                                                 "bytes") != NULL);
        rows++;
    }
    EXPECT_OK(ovl_text_fill_finish(&t, &f, src));
    EXPECT_EQ(t.nrows, 3);
    EXPECT_STR_EQ(t.cell[0], "1");
    EXPECT_EQ(t.len[1], 0); /* the overlong cell, as NULL */
    EXPECT_EQ(t.len[2], 0);
    EXPECT_STR_EQ(t.cell[3 + 1], "b");
    EXPECT_EQ(t.line[2], 4);
    EXPECT_STR_EQ(t.label, "mem.csv");
    EXPECT_EQ(f.rows, 0); /* moved out */
    ovl_text_fill_free(&f);
    ovl_text_table_free(&t);
    ovl_source_close(src);
}

int main(void)
{
    if (!tmpdir_make("textcols"))
        return 1;
    RUN(test_columns);
    RUN(test_fill);
    return ovl_t_summary("test_textcols");
}
