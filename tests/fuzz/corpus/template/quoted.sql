-- param n integer in (1, 2)
SELECT COUNT(*) FROM "t 1" a JOIN t2 b ON a."k" = b.k WHERE a.n = :n
