SELECT action, province, count() AS c FROM user_behavior WHERE (action = 'buy' OR action = 'cart') AND province = '北京' GROUP BY action, province ORDER BY action, province
