SELECT toStartOfHour(event_time) AS h, count() AS c, uniqExact(user_id) AS users FROM user_behavior WHERE event_time < '2024-05-02 00:00:00' GROUP BY h ORDER BY h
