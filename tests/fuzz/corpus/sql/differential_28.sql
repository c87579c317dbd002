SELECT item_id, count() AS c FROM user_behavior GROUP BY item_id ORDER BY c DESC, item_id LIMIT 5, 10
