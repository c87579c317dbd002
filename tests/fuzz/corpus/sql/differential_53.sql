SELECT count(), uniqExact(item_id) FROM user_behavior PREWHERE user_id = 1
