SELECT s, lc, id FROM all_types ORDER BY s DESC, lc, id LIMIT 25
