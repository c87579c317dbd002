SELECT item_id % 10 AS last_digit, count() AS c, min(item_id) AS lo, max(item_id) AS hi FROM user_behavior GROUP BY last_digit ORDER BY last_digit
