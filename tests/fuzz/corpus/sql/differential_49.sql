SELECT count() FROM user_behavior WHERE event_time >= toDateTime('2024-05-03 00:00:00') - INTERVAL 1 DAY AND event_time < toDateTime('2024-05-03 00:00:00')
