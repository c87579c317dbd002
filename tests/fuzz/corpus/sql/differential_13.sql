SELECT province, count() AS c FROM user_behavior GROUP BY province HAVING c > 1000 ORDER BY c DESC, province
