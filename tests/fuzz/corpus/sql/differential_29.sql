SELECT action, count() AS c FROM user_behavior GROUP BY action ORDER BY action LIMIT 10, 5
