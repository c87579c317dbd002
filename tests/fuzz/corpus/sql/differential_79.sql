SELECT id, s FROM all_types WHERE u8 > 255 ORDER BY id
