SELECT lc, count() AS c, sum(i16) FROM all_types PREWHERE u8 < 100 WHERE i16 > 0 GROUP BY lc ORDER BY lc
