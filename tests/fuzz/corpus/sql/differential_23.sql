SELECT province, cityHash64(province) AS h, cityHash64(province) % 16 AS bucket FROM user_behavior GROUP BY province ORDER BY province
