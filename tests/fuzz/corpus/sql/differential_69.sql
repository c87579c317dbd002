SELECT id, d, dt, toYYYYMMDD(d), toYYYYMM(d), toDate(dt), toDateTime(d), toStartOfDay(dt), toStartOfHour(dt), toYYYYMMDD(dt), toYYYYMM(dt) FROM all_types ORDER BY id
