SELECT province, gender, action, count() AS c FROM user_behavior GROUP BY province, gender, action ORDER BY province, gender, action
