SELECT uniqExact(user_id), count(DISTINCT item_id), uniqExact(province), count(DISTINCT gender) FROM user_behavior
