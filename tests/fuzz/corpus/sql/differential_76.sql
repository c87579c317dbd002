SELECT count(DISTINCT s), uniqExact(lc), count(DISTINCT d), uniqExact(dt), uniqExact(i8), count(DISTINCT f64), uniqExact(u64) FROM all_types
