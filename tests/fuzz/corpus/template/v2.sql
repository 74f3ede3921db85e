-- decimals p.amount 2
SELECT c.campaign, p.category, DATE_TRUNC('week', p.day) AS week, COUNT(p.order_id), SUM(c.spend) AS spend,
  SUM(p.amount) / NULLIF(SUM(c.spend), 0) * 100 - 1.5 AS roas
FROM imp c JOIN pur p ON c.id = p.id GROUP BY 1, 2, 3 HAVING COUNT(DISTINCT c.id) >= 10
