SELECT gender, count() AS c, uniqExact(user_id) AS users FROM user_behavior WHERE province = '黑龙江' GROUP BY gender ORDER BY gender
