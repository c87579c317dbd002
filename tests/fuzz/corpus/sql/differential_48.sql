SELECT province, count() AS c FROM user_behavior WHERE toDate(event_time) = '2024-05-04' AND action = 'buy' GROUP BY province ORDER BY c DESC, province LIMIT 10
