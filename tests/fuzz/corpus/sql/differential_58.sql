SELECT * FROM user_behavior WHERE user_id = 0 ORDER BY event_time, item_id, action, province, gender
