SELECT action, sum(item_id) - sum(user_id) AS diff, max(item_id) - min(user_id) AS spread, sum(item_id) * 2 + 1 AS odd FROM user_behavior GROUP BY action ORDER BY action
