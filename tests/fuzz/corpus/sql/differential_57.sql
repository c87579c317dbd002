SELECT count(), sum(item_id), min(user_id), max(item_id), avg(item_id), uniqExact(user_id), max(event_time) FROM user_behavior WHERE event_time < '2024-04-01 00:00:00'
