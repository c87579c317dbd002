SELECT toStartOfHour(event_time) + INTERVAL 1 HOUR AS next_hour, count() AS c FROM user_behavior WHERE event_time >= '2024-05-06 20:00:00' GROUP BY next_hour ORDER BY next_hour
