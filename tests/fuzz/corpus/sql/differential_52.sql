SELECT province, count() AS c FROM user_behavior PREWHERE action = 'buy' WHERE gender = 'F' GROUP BY province ORDER BY c DESC, province LIMIT 10
