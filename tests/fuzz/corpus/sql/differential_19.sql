SELECT toYYYYMM(event_time) AS m, toStartOfDay(event_time) AS d, count() AS c FROM user_behavior GROUP BY m, d ORDER BY m, d
