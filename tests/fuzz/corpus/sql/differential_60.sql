SELECT sum(u8), sum(u16), sum(u32), sum(u64), sum(i8), sum(i16), sum(i32), sum(i64), min(i64), max(i64), min(u64), max(u64), min(i8), max(u8) FROM all_types
