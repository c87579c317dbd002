SELECT * FROM user_behavior WHERE user_id = 7 ORDER BY event_time, item_id, action, province, gender LIMIT 50
