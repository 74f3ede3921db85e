-- Template: campaign_attribution
-- The reference article's attribution query as the clean room computes it: the
-- advertiser's impressions of one campaign, by campaign and ad format, joined with
-- the retailer's purchases of a date range, by product category and purchase week;
-- both parties' sums (impressions and spend, purchases and revenue) and the ROAS of
-- each cell. Only cells with at least 20 matched customers (and every owner's
-- min_rows) are released, decided inside the two-party computation. The article's
-- 30-day attribution window compares the two parties' dates on each joined row:
-- that is a later step (protocols/aggregate/CONDITIONS.md).
--
-- param campaign_id string in ('CAMP_2026_Q3', 'CAMP_2026_Q4')
-- param start_date date
-- param end_date date
-- decimals c.spend_amount 2
-- decimals p.purchase_amount 2

SELECT
    c.campaign_id,
    c.ad_format,
    p.product_category,
    DATE_TRUNC('week', p.purchase_date) AS purchase_week,
    COUNT(DISTINCT c.email)  AS matched_users,
    SUM(c.impression_count)  AS total_impressions,
    SUM(c.spend_amount)      AS total_spend,
    COUNT(p.purchase_id)     AS attributed_purchases,
    SUM(p.purchase_amount)   AS attributed_revenue,
    SUM(p.purchase_amount) / NULLIF(SUM(c.spend_amount), 0) AS roas
FROM impressions AS c
INNER JOIN purchases AS p
    ON c.email = p.email
WHERE c.campaign_id = :campaign_id
  AND p.purchase_date BETWEEN :start_date AND :end_date
GROUP BY 1, 2, 3, 4
HAVING COUNT(DISTINCT c.email) >= 20;
