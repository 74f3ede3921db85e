/* Error details: set, wrapped, and re-set from themselves (a caller changing
 * an error's category keeps its text). */
#include <string.h>

#include "core/error.h"
#include "test.h"

static void set_and_wrap(void)
{
    EXPECT_EQ(ovl_err_set(OVL_ERR_IO, "%s: cannot open", "t.csv"), OVL_ERR_IO);
    EXPECT_STR_EQ(ovl_err_detail(), "t.csv: cannot open");
    EXPECT_EQ(ovl_err_wrap(OVL_ERR_IO, "peer %s: ", "x"), OVL_ERR_IO);
    EXPECT_STR_EQ(ovl_err_detail(), "peer x: t.csv: cannot open");
    ovl_err_clear();
    EXPECT_STR_EQ(ovl_err_detail(), "");
}

static void reset_from_itself(void)
{
    (void)ovl_err_set(OVL_ERR_IO, "purchases.csv: no column \"amount\" in the header");
    EXPECT_EQ(ovl_err_set(OVL_ERR_INPUT, "%s", ovl_err_detail()), OVL_ERR_INPUT);
    EXPECT_STR_EQ(ovl_err_detail(), "purchases.csv: no column \"amount\" in the header");
    EXPECT_EQ(ovl_err_set(OVL_ERR_INPUT, "again: %s", ovl_err_detail()), OVL_ERR_INPUT);
    EXPECT_STR_EQ(ovl_err_detail(), "again: purchases.csv: no column \"amount\" in the header");
}

int main(void)
{
    RUN(set_and_wrap);
    RUN(reset_from_itself);
    return ovl_t_summary("test_error");
}
