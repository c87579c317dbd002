SELECT * FROM all_types ORDER BY id
