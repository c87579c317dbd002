SELECT gender, action, count() AS c FROM user_behavior GROUP BY gender, action ORDER BY gender DESC, c ASC, action DESC
