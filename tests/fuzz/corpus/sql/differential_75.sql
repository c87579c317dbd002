SELECT toYYYYMM(d) AS m, lc, count() AS c, sum(u8) AS s8 FROM all_types GROUP BY m, lc HAVING c >= 3 ORDER BY m, lc
