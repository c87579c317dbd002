SELECT count() FROM user_behavior WHERE event_time >= '2025-01-01 00:00:00'
