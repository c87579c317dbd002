SELECT sum(u8 * u16), sum(i8 * i16), sum(u8 * i32), count(u64) FROM all_types WHERE id > 10
