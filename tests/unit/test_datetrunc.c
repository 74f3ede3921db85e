/* DATE_TRUNC by the column's owner (io/datetrunc.h): ISO weeks start on
 * Monday, months on the 1st; anything but a valid YYYY-MM-DD is refused. */
#include "io/datetrunc.h"
#include "test.h"

static void expect_trunc(const char *in, ovl_trunc unit, const char *want)
{
    char out[OVL_DATE_LEN + 1] = "";
    EXPECT_OK(ovl_date_trunc(out, unit, in, strlen(in)));
    OVL_T_RECORD(strcmp(out, want) == 0, "%s truncated to %d: got %s, want %s", in, (int)unit,
                 out, want);
}

static void test_weeks(void)
{
    expect_trunc("2026-07-01", OVL_TRUNC_WEEK, "2026-06-29"); /* a Wednesday */
    expect_trunc("2026-06-29", OVL_TRUNC_WEEK, "2026-06-29"); /* a Monday stays */
    expect_trunc("2026-07-05", OVL_TRUNC_WEEK, "2026-06-29"); /* Sunday ends the week */
    expect_trunc("2026-07-06", OVL_TRUNC_WEEK, "2026-07-06");
    expect_trunc("2027-01-01", OVL_TRUNC_WEEK, "2026-12-28"); /* across a year */
    expect_trunc("2024-03-01", OVL_TRUNC_WEEK, "2024-02-26"); /* across a leap day */
    expect_trunc("2000-03-01", OVL_TRUNC_WEEK, "2000-02-28");
    expect_trunc("0001-01-01", OVL_TRUNC_WEEK, "0001-01-01"); /* a Monday */
    expect_trunc("0000-01-05", OVL_TRUNC_WEEK, "0000-01-03");
    expect_trunc("0000-03-01", OVL_TRUNC_WEEK, "0000-02-28");
}

static void test_months_days(void)
{
    expect_trunc("2026-07-31", OVL_TRUNC_MONTH, "2026-07-01");
    expect_trunc("2024-02-29", OVL_TRUNC_MONTH, "2024-02-01");
    expect_trunc(" 2026-07-31 ", OVL_TRUNC_DAY, "2026-07-31");
    expect_trunc("\t2026-07-31", OVL_TRUNC_WEEK, "2026-07-27");
}

static void test_refused(void)
{
    static const char *const bad[] = {"", "2026-7-01", "2026/07/01", "2026-13-01", "2026-02-29",
                                      "2026-00-10", "2026-07-32", "2026-07-01x", "2026-07-31T23:59:59Z",
                                      "26-07-01", "2026-07-0a"};
    char out[OVL_DATE_LEN + 1];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        EXPECT_ERR(OVL_ERR_INPUT, ovl_date_trunc(out, OVL_TRUNC_DAY, bad[i], strlen(bad[i])));
    /* 0000-01-01 is a Saturday: its week starts in year -1. */
    EXPECT_ERR(OVL_ERR_INPUT, ovl_date_trunc(out, OVL_TRUNC_WEEK, "0000-01-01", 10));
    EXPECT_OK(ovl_date_trunc(out, OVL_TRUNC_MONTH, "0000-01-01", 10));
}

int main(void)
{
    RUN(test_weeks);
    RUN(test_months_days);
    RUN(test_refused);
    return ovl_t_summary("test_datetrunc");
}
