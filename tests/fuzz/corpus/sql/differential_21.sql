SELECT intHash64(user_id) % 4 AS shard, count() AS c, sum(item_id) AS items FROM user_behavior GROUP BY shard ORDER BY shard
