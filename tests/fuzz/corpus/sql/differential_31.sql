SELECT * FROM user_behavior ORDER BY event_time, user_id, item_id, action, province, gender LIMIT 20
