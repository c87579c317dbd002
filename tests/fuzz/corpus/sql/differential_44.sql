SELECT province, count() AS c FROM user_behavior WHERE province != '北京' AND action != 'click' AND gender != 'M' GROUP BY province ORDER BY c DESC, province LIMIT 5
