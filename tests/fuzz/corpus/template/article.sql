-- param campaign_id string
-- param start_date date
-- param end_date date
-- decimals c.spend_amount 2, p.purchase_amount 2
SELECT
    c.campaign_id,
    c.campaign_name,
    c.ad_format,
    p.product_category,
    DATE_TRUNC('week', p.purchase_date) AS purchase_week,
    COUNT(DISTINCT c.hashed_email) AS matched_users,
    SUM(c.impression_count)          AS total_impressions,
    SUM(c.spend_amount)              AS total_spend,
    COUNT(p.purchase_id)             AS attributed_purchases,
    SUM(p.purchase_amount)           AS attributed_revenue,
    SUM(p.purchase_amount) / NULLIF(SUM(c.spend_amount), 0) AS roas
FROM advertiser_campaign_events c
INNER JOIN retailer_purchase_events p
    ON c.hashed_email = p.hashed_email AND p.purchase_date BETWEEN c.impression_date AND c.impression_date + INTERVAL '30 days'
WHERE c.campaign_id = :campaign_id
  AND c.impression_date >= :start_date
  AND c.impression_date <= :end_date
GROUP BY 1, 2, 3, 4, 5
HAVING COUNT(DISTINCT c.hashed_email) >= 100;
