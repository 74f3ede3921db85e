/* The reference article's attribution query (../shared/reference/,
 * "campaign_attribution_weekly"), adapted to the template dialect: the
 * parameters are declared, the money columns' scales are stated, and the
 * 30-day attribution window (issue 19, CONDITIONS.md) is left out; with_window
 * adds it back. Shared by test_template.c and test_agg2_compile.c. */
#ifndef OVL_TEST_ARTICLE_SQL_H
#define OVL_TEST_ARTICLE_SQL_H

#define ARTICLE_HEAD                                                                               \
    "-- Template name: campaign_attribution_weekly\n"                                              \
    "-- param campaign_id string\n"                                                                \
    "-- param start_date date\n"                                                                   \
    "-- param end_date date\n"                                                                     \
    "-- decimals c.spend_amount 2, p.purchase_amount 2\n"                                          \
    "SELECT\n"                                                                                     \
    "    c.campaign_id,\n"                                                                         \
    "    c.campaign_name,\n"                                                                       \
    "    c.ad_format,\n"                                                                           \
    "    p.product_category,\n"                                                                    \
    "    DATE_TRUNC('week', p.purchase_date) AS purchase_week,\n"                                  \
    "    COUNT(DISTINCT c.hashed_email) AS matched_users,\n"                                       \
    "    SUM(c.impression_count)          AS total_impressions,\n"                                 \
    "    SUM(c.spend_amount)              AS total_spend,\n"                                       \
    "    COUNT(p.purchase_id)             AS attributed_purchases,\n"                              \
    "    SUM(p.purchase_amount)           AS attributed_revenue,\n"                                \
    "    SUM(p.purchase_amount) / NULLIF(SUM(c.spend_amount), 0) AS roas\n"                        \
    "FROM advertiser_campaign_events c\n"                                                          \
    "INNER JOIN retailer_purchase_events p\n"                                                      \
    "    ON c.hashed_email = p.hashed_email\n"

#define ARTICLE_TAIL                                                                               \
    "WHERE c.campaign_id = :campaign_id\n"                                                         \
    "  AND c.impression_date >= :start_date\n"                                                     \
    "  AND c.impression_date <= :end_date\n"                                                       \
    "GROUP BY 1, 2, 3, 4, 5\n"                                                                     \
    "HAVING COUNT(DISTINCT c.hashed_email) >= 100;\n"

static const char article_sql[] = ARTICLE_HEAD ARTICLE_TAIL;
static const char article_with_window_sql[] =
    ARTICLE_HEAD
    "   AND p.purchase_date BETWEEN c.impression_date AND c.impression_date + INTERVAL '30 days'\n"
    ARTICLE_TAIL;

#endif
