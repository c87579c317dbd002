SELECT action, count() AS c FROM user_behavior WHERE action >= 'buy' AND action < 'fav' AND province > '上海' AND province <= '湖南' GROUP BY action ORDER BY action
