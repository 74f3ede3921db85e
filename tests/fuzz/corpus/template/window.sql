-- cap rows 2 by c.impression_date, p.purchase_date
SELECT c.campaign, COUNT(DISTINCT c.id), SUM(p.amount)
FROM impressions c INNER JOIN purchases p ON c.id = p.id
 AND p.purchase_date BETWEEN c.impression_date AND c.impression_date + INTERVAL '30 days'
WHERE c.campaign <> 'test' AND p.purchase_date - INTERVAL '1 week' >= c.impression_date
GROUP BY 1 HAVING COUNT(DISTINCT c.id) >= 50
