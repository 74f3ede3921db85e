-- cap rows 2 by b.t
-- decimals b.p 2
SELECT a.g, DATE_TRUNC('month', b.d) AS m, SUM(b.p) / NULLIF(COUNT(a.x), 0) * 1.5 AS r FROM t1 a JOIN t2 b ON a.k = b.k AND a.q < b.p AND a.d >= b.e + INTERVAL '0 days' GROUP BY 1, 2 HAVING COUNT(DISTINCT b.k) >= 3