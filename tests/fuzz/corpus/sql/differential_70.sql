SELECT count(), min(d), max(d), min(dt), max(dt) FROM all_types WHERE d >= '2024-03-01' AND dt < '2024-09-01 00:00:00'
