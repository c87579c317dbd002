SELECT action, count(DISTINCT user_id) AS users, uniqExact(item_id) AS items, count() AS c FROM user_behavior GROUP BY action ORDER BY action
