SELECT user_id, count() FROM user_behavior WHERE province = '不存在' GROUP BY user_id ORDER BY user_id
