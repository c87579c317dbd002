SELECT cityHash64(user_id) % 8 AS shard, toDate(event_time) AS day, count() AS c FROM user_behavior GROUP BY shard, day ORDER BY shard, day
