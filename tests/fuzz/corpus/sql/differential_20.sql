SELECT cityHash64(user_id) % 8 AS shard, count() AS c, uniqExact(user_id) AS users FROM user_behavior GROUP BY shard ORDER BY shard
