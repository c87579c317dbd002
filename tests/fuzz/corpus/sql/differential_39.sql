SELECT action, count() AS c FROM user_behavior WHERE event_time BETWEEN '2024-05-03 06:00:00' AND '2024-05-03 18:00:00' GROUP BY action ORDER BY action
