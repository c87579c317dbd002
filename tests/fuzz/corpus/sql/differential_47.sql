SELECT count(), min(event_time), max(event_time) FROM user_behavior WHERE event_time > '2024-05-04 00:00:00' AND event_time <= '2024-05-04 01:00:00' AND event_time != '2024-05-04 00:30:00'
