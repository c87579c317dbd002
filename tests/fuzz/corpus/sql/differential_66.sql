SELECT s, count() AS c, uniqExact(lc) AS lcs, min(f64), max(i64) FROM all_types GROUP BY s ORDER BY s
