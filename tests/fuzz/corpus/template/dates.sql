-- cap rows 2 by c.seen, p.day
-- decimals p.amount 2
-- dates c.seen, p.day
SELECT c.campaign, COUNT(DISTINCT c.email) AS users, SUM(p.amount) AS revenue
FROM impressions AS c INNER JOIN purchases AS p ON c.email = p.email
 AND p.day >= c.seen AND p.day BETWEEN c.seen - INTERVAL '1 week' AND c.seen + INTERVAL '30 days'
WHERE p.day < '2026-07-20' AND c.seen >= DATE '2026-01-01'
GROUP BY c.campaign HAVING COUNT(DISTINCT c.email) >= 3
