SELECT count(), sum(user_id), min(user_id), max(user_id) FROM user_behavior WHERE user_id BETWEEN 100 AND 1000
