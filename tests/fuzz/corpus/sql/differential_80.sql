SELECT count(), sum(f64), avg(f64), min(i8), max(u64), uniqExact(s) FROM all_types WHERE id > 100000
