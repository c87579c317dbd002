SELECT user_id, count() AS c FROM user_behavior WHERE user_id IN (1, 2, 3, 5, 8, 13, 21, 34) GROUP BY user_id ORDER BY user_id
