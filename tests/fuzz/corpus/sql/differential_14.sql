SELECT user_id, count() AS c FROM user_behavior GROUP BY user_id HAVING uniqExact(action) = 4 AND count() >= 20 ORDER BY c DESC, user_id LIMIT 20
