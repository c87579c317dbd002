SELECT id, f64, f64 * 2, f64 / 3, f64 + 0.1, f64 - 1, f64 * f64 FROM all_types WHERE f64 > -1000 AND f64 < 1000 AND f64 != 0.1 ORDER BY id LIMIT 40
