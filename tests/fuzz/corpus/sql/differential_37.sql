SELECT count(), uniqExact(user_id) FROM user_behavior WHERE user_id NOT IN (1, 2, 3) AND item_id NOT IN (1, 2)
