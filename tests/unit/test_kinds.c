/* The tables of analysis kinds (core/kinds.h). */
#include <string.h>

#include "core/kinds.h"
#include "test.h"

static void names_and_parse(void)
{
    ovl_mode m = OVL_MODE_INTERSECTION;
    ovl_reveal r = OVL_REVEAL_BOTH;
    EXPECT_STR_EQ(ovl_mode_name(OVL_MODE_CARDINALITY), "cardinality");
    EXPECT_STR_EQ(ovl_mode_name((ovl_mode)9), "unknown");
    EXPECT_STR_EQ(ovl_reveal_name(OVL_REVEAL_CONNECTOR), "connector");
    EXPECT_STR_EQ(ovl_role_name(OVL_ROLE_LISTENER), "listener");
    EXPECT_STR_EQ(ovl_role_name((ovl_role)5), "unknown");
    EXPECT_STR_EQ(ovl_aggfn_name(OVL_FN_COUNT_DISTINCT), "COUNT_DISTINCT");
    EXPECT_STR_EQ(ovl_aggfn_name((ovl_aggfn)3), "?");
    EXPECT_OK(ovl_mode_parse(&m, "aggregate"));
    EXPECT_EQ(m, OVL_MODE_AGGREGATE);
    EXPECT_ERR(OVL_ERR_USAGE, ovl_mode_parse(&m, "Aggregate"));
    EXPECT_STR_EQ(ovl_err_detail(),
                  "unknown --mode 'Aggregate' (expected intersection, cardinality or aggregate)");
    EXPECT_OK(ovl_reveal_parse(&r, "listener"));
    EXPECT_EQ(r, OVL_REVEAL_LISTENER);
    EXPECT_ERR(OVL_ERR_USAGE, ovl_reveal_parse(&r, ""));
    EXPECT_STR_EQ(ovl_err_detail(), "unknown --reveal '' (expected both, listener or connector)");
}

static void wire_values(void)
{
    EXPECT_TRUE(ovl_mode_kind_of(0) == NULL);
    EXPECT_TRUE(ovl_mode_kind_of(4) == NULL);
    EXPECT_TRUE(ovl_mode_kind_of(1) != NULL && ovl_mode_kind_of(1)->mode == OVL_MODE_INTERSECTION);
    EXPECT_STR_EQ(ovl_mode_kind_of(OVL_MODE_INTERSECTION)->policy_section, "list");
    EXPECT_TRUE(ovl_mode_reveals_size(OVL_MODE_CARDINALITY));
    EXPECT_TRUE(!ovl_mode_reveals_size(OVL_MODE_INTERSECTION));
    EXPECT_TRUE(!ovl_mode_reveals_size((ovl_mode)0));
    EXPECT_TRUE(ovl_mode_aggregates(OVL_MODE_AGGREGATE));
    EXPECT_TRUE(!ovl_mode_aggregates(OVL_MODE_CARDINALITY));
    EXPECT_TRUE(!ovl_mode_aggregates((ovl_mode)7));
    EXPECT_TRUE(ovl_reveal_kind_of(3) == NULL);
    EXPECT_TRUE(ovl_aggfn_kind_of(0) == NULL);
    EXPECT_TRUE(ovl_aggfn_kind_of(3) == NULL); /* a set of two is not one function */
    EXPECT_TRUE(ovl_aggfn_kind_of(16) == NULL);
    /* Functions are distinct bits so a policy holds a set of them. */
    unsigned all = 0;
    for (size_t i = 0; i < ovl_naggfn_kinds; i++) {
        unsigned b = (unsigned)ovl_aggfn_kinds[i].fn;
        EXPECT_TRUE(b != 0 && (b & (b - 1)) == 0 && (all & b) == 0);
        all |= b;
        EXPECT_TRUE(ovl_aggfn_by_keyword(ovl_aggfn_kinds[i].keyword) == &ovl_aggfn_kinds[i]);
    }
}

static void reveal_and_functions(void)
{
    EXPECT_TRUE(ovl_reveal_includes(OVL_REVEAL_BOTH, OVL_ROLE_CONNECTOR));
    EXPECT_TRUE(ovl_reveal_includes(OVL_REVEAL_LISTENER, OVL_ROLE_LISTENER));
    EXPECT_TRUE(!ovl_reveal_includes(OVL_REVEAL_LISTENER, OVL_ROLE_CONNECTOR));
    EXPECT_TRUE(!ovl_reveal_includes(OVL_REVEAL_CONNECTOR, OVL_ROLE_LISTENER));
    EXPECT_TRUE(!ovl_reveal_includes((ovl_reveal)7, OVL_ROLE_LISTENER));
    EXPECT_TRUE(ovl_aggfn_by_call("count") != NULL && ovl_aggfn_by_call("count")->fn == OVL_FN_COUNT);
    EXPECT_TRUE(ovl_aggfn_by_call("Avg") != NULL && ovl_aggfn_by_call("Avg")->fn == OVL_FN_AVG);
    EXPECT_TRUE(ovl_aggfn_by_call("MIN") == NULL);
    EXPECT_TRUE(ovl_aggfn_by_keyword("count") == NULL); /* policy keywords are exact */
    EXPECT_TRUE(ovl_aggfn_reads_values(OVL_FN_SUM) && ovl_aggfn_reads_values(OVL_FN_AVG));
    EXPECT_TRUE(!ovl_aggfn_reads_values(OVL_FN_COUNT) && !ovl_aggfn_reads_values(OVL_FN_COUNT_DISTINCT));
    EXPECT_EQ(ovl_aggfn_kind_of(OVL_FN_AVG)->reduce, OVL_REDUCE_MEAN);
    EXPECT_STR_EQ(ovl_aggfn_kind_of(OVL_FN_COUNT_DISTINCT)->label, "count_distinct");
}

int main(void)
{
    RUN(names_and_parse);
    RUN(wire_values);
    RUN(reveal_and_functions);
    return ovl_t_summary("test_kinds");
}
