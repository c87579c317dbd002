SELECT gender, count() AS c FROM user_behavior PREWHERE event_time >= '2024-05-07 00:00:00' WHERE province IN ('广东', '江苏') GROUP BY gender ORDER BY gender
