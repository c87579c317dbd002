SELECT count() FROM user_behavior WHERE event_time >= '2024-05-01 00:00:00' AND event_time < '2024-05-02 00:00:00' AND province = '北京' AND action = 'click'
