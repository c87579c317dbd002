SELECT cityHash64(user_id, item_id) % 16 AS bucket, count() AS c, uniqExact(cityHash64(action, gender, province)) AS combos FROM user_behavior GROUP BY bucket ORDER BY bucket
