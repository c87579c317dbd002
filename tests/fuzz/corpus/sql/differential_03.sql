SELECT action, count() FROM user_behavior WHERE user_id = 1234 GROUP BY action ORDER BY action
