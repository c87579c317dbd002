SELECT avg(u8), avg(u16), avg(u32), avg(i8), avg(i16), avg(i32), avg(f64), sum(f64), min(f64), max(f64) FROM all_types
