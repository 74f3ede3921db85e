SELECT SUM(a.x * b.y) FROM t1 a JOIN t2 b ON a.k = b.k
