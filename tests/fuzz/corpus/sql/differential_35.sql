SELECT action, count() AS c FROM user_behavior WHERE action NOT IN ('click', 'fav') GROUP BY action ORDER BY action
