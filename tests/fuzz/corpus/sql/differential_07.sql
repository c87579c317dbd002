SELECT sum(item_id), min(user_id), max(user_id), avg(item_id), min(event_time), max(event_time), min(province), max(action) FROM user_behavior
