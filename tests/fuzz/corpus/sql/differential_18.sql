SELECT toYYYYMMDD(event_time) AS p, action, count() AS c FROM user_behavior GROUP BY p, action ORDER BY p, action
