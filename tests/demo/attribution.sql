-- Template: campaign_attribution
-- The reference article's attribution query, adapted to what the PSI and
-- aggregate protocols compute privately: the advertiser's impressions are
-- filtered by campaign and grouped by campaign and ad format; the retailer
-- filters its purchases by date and contributes the amounts of matching
-- customers; groups under the threshold are suppressed. ROAS (revenue /
-- spend) is computed from the output, not inside the clean room.
--
-- param campaign_id string in ('CAMP_2026_Q3', 'CAMP_2026_Q4')
-- param start_date date
-- param end_date date

SELECT
    c.campaign_id,
    c.ad_format,
    COUNT(DISTINCT c.email)  AS matched_users,
    SUM(p.purchase_amount)   AS attributed_revenue,
    AVG(p.purchase_amount)   AS average_purchase
FROM impressions AS c
INNER JOIN purchases AS p
    ON c.email = p.email
WHERE c.campaign_id = :campaign_id
  AND p.purchase_date BETWEEN :start_date AND :end_date
GROUP BY c.campaign_id, c.ad_format
HAVING COUNT(DISTINCT c.email) >= 20;
