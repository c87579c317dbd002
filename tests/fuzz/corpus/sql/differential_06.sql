SELECT count(item_id), count(action), count(event_time) FROM user_behavior WHERE gender = 'M'
