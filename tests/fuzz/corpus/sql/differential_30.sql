SELECT item_id FROM user_behavior WHERE province = '上海' GROUP BY item_id ORDER BY count() DESC, item_id LIMIT 15
