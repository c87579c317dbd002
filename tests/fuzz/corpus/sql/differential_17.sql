SELECT toDate(event_time) AS day, count() AS c, avg(item_id) AS avg_item, max(event_time) AS last FROM user_behavior GROUP BY day ORDER BY day
