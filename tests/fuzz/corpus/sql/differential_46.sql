SELECT count() FROM user_behavior WHERE item_id - user_id < 0 AND item_id / user_id > 0.5 AND (user_id + item_id) % 3 = 1
