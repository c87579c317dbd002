SELECT province, avg(item_id) AS avg_item, sum(item_id) / count() AS mean_again, count() / 7 AS per_day, avg(user_id % 100) AS avg_mod FROM user_behavior GROUP BY province ORDER BY province
