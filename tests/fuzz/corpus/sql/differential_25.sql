SELECT user_id, cityHash64(user_id) AS ch, intHash64(user_id) AS ih, cityHash64(user_id, action) AS ch2 FROM user_behavior WHERE user_id <= 20 GROUP BY user_id, action ORDER BY user_id, ch2
