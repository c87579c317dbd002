SELECT lc, count() AS c, min(s), max(s), sum(i32), avg(u8) FROM all_types GROUP BY lc ORDER BY lc
