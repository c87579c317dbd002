SELECT province, count() AS c FROM user_behavior WHERE province IN ('北京', '上海', '广东', '浙江') GROUP BY province ORDER BY province
