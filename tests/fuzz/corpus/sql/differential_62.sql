SELECT id, u8 + u8, u8 * u8, u8 - 200, i8 - i8, i8 * 2, u16 - u32, i16 / 4, i32 % 10, i64 % 7, u64 % 1000, i64 - 1 FROM all_types ORDER BY id LIMIT 60
