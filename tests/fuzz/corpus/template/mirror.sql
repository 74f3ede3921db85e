SELECT a.g, COUNT(*) FROM t1 AS a JOIN t2 AS b ON a.k = b.k AND b.x <> a.y AND a.d < b.e - INTERVAL '2 weeks'
WHERE b.n >= a.m GROUP BY a.g
