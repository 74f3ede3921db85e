/* Named columns as text (io/textcols.h): every data row in table order, NULL
 * as length 0 (empty or blank CSV cells), spaces trimmed, the physical line
 * of each row; a missing column and an overlong cell refused naming the
 * table, line and column. */
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

int main(void)
{
    if (!tmpdir_make("textcols"))
        return 1;
    RUN(test_columns);
    return ovl_t_summary("test_textcols");
}
