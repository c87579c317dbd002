-- Differential query corpus: every query runs on ClickHouse 18.16 and on shardlab,
-- and the two results must match (see README.md for the file format and the rules).
--
-- Format: a query ends with `;` at the end of a line (or a line holding only `;`).
-- The `--` lines just above a query describe it; the first one is its name.
-- `-- expect: empty` marks a query whose result is meant to have no rows (or only
-- zeros); any other query must return a non-trivial result on realistic data.
-- `{top_user}` is replaced by the most active user_id, computed from ClickHouse.
-- Every result is deterministic: each ORDER BY is total over the output (ties broken),
-- and LIMIT only follows a total order.

-- ===================================================================================
-- user_behavior: the seed queries, verbatim
-- ===================================================================================

-- Q1: seed, count in a one-day window, Chinese LowCardinality equality
SELECT count() FROM user_behavior WHERE event_time >= '2024-05-01 00:00:00' AND event_time < '2024-05-02 00:00:00' AND province = '北京' AND action = 'click';

-- Q2: seed, top-10 items clicked by Beijing women over the week
SELECT item_id, count() AS c FROM user_behavior WHERE event_time >= '2024-05-01 00:00:00' AND event_time < '2024-05-08 00:00:00' AND province = '北京' AND gender = 'F' AND action = 'click' GROUP BY item_id ORDER BY c DESC, item_id LIMIT 10;

-- Q3: seed, point query on the most active user, grouped by action
SELECT action, count() FROM user_behavior WHERE user_id = {top_user} GROUP BY action ORDER BY action;

-- Q4: seed, top-10 clicking users on 2024-05-02
SELECT user_id, count() AS c FROM user_behavior WHERE event_time >= '2024-05-02 00:00:00' AND event_time < '2024-05-03 00:00:00' AND action = 'click' GROUP BY user_id ORDER BY c DESC, user_id LIMIT 10;

-- ===================================================================================
-- user_behavior: aggregates
-- ===================================================================================

-- ub_count_all: count() over the whole table
SELECT count() FROM user_behavior;

-- ub_count_column: count(x) on numeric and LowCardinality columns
SELECT count(item_id), count(action), count(event_time) FROM user_behavior WHERE gender = 'M';

-- ub_sum_min_max_avg: every numeric aggregate, min/max of DateTime and strings
SELECT sum(item_id), min(user_id), max(user_id), avg(item_id), min(event_time), max(event_time), min(province), max(action) FROM user_behavior;

-- ub_distinct_global: count(DISTINCT x) and uniqExact over the whole table
SELECT uniqExact(user_id), count(DISTINCT item_id), uniqExact(province), count(DISTINCT gender) FROM user_behavior;

-- ub_distinct_grouped: count(DISTINCT) and uniqExact per group
SELECT action, count(DISTINCT user_id) AS users, uniqExact(item_id) AS items, count() AS c FROM user_behavior GROUP BY action ORDER BY action;

-- ub_avg_division: avg and / give Float64
SELECT province, avg(item_id) AS avg_item, sum(item_id) / count() AS mean_again, count() / 7 AS per_day, avg(user_id % 100) AS avg_mod FROM user_behavior GROUP BY province ORDER BY province;

-- ub_distinct_of_expression: count(DISTINCT) over expressions
SELECT gender, count(DISTINCT toStartOfHour(event_time)) AS hours, uniqExact(cityHash64(user_id) % 8) AS shards, count(DISTINCT user_id % 10) AS digits FROM user_behavior GROUP BY gender ORDER BY gender;

-- ub_aggregate_arithmetic: arithmetic over aggregates, negative Int64 result
SELECT action, sum(item_id) - sum(user_id) AS diff, max(item_id) - min(user_id) AS spread, sum(item_id) * 2 + 1 AS odd FROM user_behavior GROUP BY action ORDER BY action;

-- ===================================================================================
-- user_behavior: HAVING, GROUP BY keys and expressions
-- ===================================================================================

-- ub_having_alias: HAVING on an aggregate alias
SELECT province, count() AS c FROM user_behavior GROUP BY province HAVING c > 1000 ORDER BY c DESC, province;

-- ub_having_aggregates: HAVING on aggregates absent from the select list
SELECT user_id, count() AS c FROM user_behavior GROUP BY user_id HAVING uniqExact(action) = 4 AND count() >= 20 ORDER BY c DESC, user_id LIMIT 20;

-- ub_multi_key: GROUP BY three LowCardinality keys
SELECT province, gender, action, count() AS c FROM user_behavior GROUP BY province, gender, action ORDER BY province, gender, action;

-- ub_group_start_of_hour: GROUP BY toStartOfHour(event_time) over one day
SELECT toStartOfHour(event_time) AS h, count() AS c, uniqExact(user_id) AS users FROM user_behavior WHERE event_time < '2024-05-02 00:00:00' GROUP BY h ORDER BY h;

-- ub_group_to_date: GROUP BY toDate(event_time)
SELECT toDate(event_time) AS day, count() AS c, avg(item_id) AS avg_item, max(event_time) AS last FROM user_behavior GROUP BY day ORDER BY day;

-- ub_group_yyyymmdd: GROUP BY the partition expression and a column
SELECT toYYYYMMDD(event_time) AS p, action, count() AS c FROM user_behavior GROUP BY p, action ORDER BY p, action;

-- ub_group_month_day: toYYYYMM and toStartOfDay as keys
SELECT toYYYYMM(event_time) AS m, toStartOfDay(event_time) AS d, count() AS c FROM user_behavior GROUP BY m, d ORDER BY m, d;

-- ub_shard_city: cityHash64(user_id) % 8, a sharding key
SELECT cityHash64(user_id) % 8 AS shard, count() AS c, uniqExact(user_id) AS users FROM user_behavior GROUP BY shard ORDER BY shard;

-- ub_shard_int: intHash64(user_id) % 4, a sharding key
SELECT intHash64(user_id) % 4 AS shard, count() AS c, sum(item_id) AS items FROM user_behavior GROUP BY shard ORDER BY shard;

-- ub_shard_by_day: sharding key and day as two expression keys
SELECT cityHash64(user_id) % 8 AS shard, toDate(event_time) AS day, count() AS c FROM user_behavior GROUP BY shard, day ORDER BY shard, day;

-- ub_hash_strings: cityHash64 of a LowCardinality string
SELECT province, cityHash64(province) AS h, cityHash64(province) % 16 AS bucket FROM user_behavior GROUP BY province ORDER BY province;

-- ub_hash_multi: cityHash64 of several arguments (integers, then strings and integers)
SELECT cityHash64(user_id, item_id) % 16 AS bucket, count() AS c, uniqExact(cityHash64(action, gender, province)) AS combos FROM user_behavior GROUP BY bucket ORDER BY bucket;

-- ub_hash_values: raw cityHash64/intHash64 values of ids and mixed arguments
SELECT user_id, cityHash64(user_id) AS ch, intHash64(user_id) AS ih, cityHash64(user_id, action) AS ch2 FROM user_behavior WHERE user_id <= 20 GROUP BY user_id, action ORDER BY user_id, ch2;

-- ub_group_modulo: GROUP BY an arithmetic expression
SELECT item_id % 10 AS last_digit, count() AS c, min(item_id) AS lo, max(item_id) AS hi FROM user_behavior GROUP BY last_digit ORDER BY last_digit;

-- ===================================================================================
-- user_behavior: ORDER BY and LIMIT
-- ===================================================================================

-- ub_order_mixed: ORDER BY keys with mixed ASC/DESC
SELECT gender, action, count() AS c FROM user_behavior GROUP BY gender, action ORDER BY gender DESC, c ASC, action DESC;

-- ub_limit_offset: LIMIT offset, n after a total order
SELECT item_id, count() AS c FROM user_behavior GROUP BY item_id ORDER BY c DESC, item_id LIMIT 5, 10;

-- ub_limit_past_end: LIMIT offset beyond the result
-- expect: empty
SELECT action, count() AS c FROM user_behavior GROUP BY action ORDER BY action LIMIT 10, 5;

-- ub_order_by_aggregate: ORDER BY an aggregate that is not selected
SELECT item_id FROM user_behavior WHERE province = '上海' GROUP BY item_id ORDER BY count() DESC, item_id LIMIT 15;

-- ub_select_star: SELECT * ordered by every column
SELECT * FROM user_behavior ORDER BY event_time, user_id, item_id, action, province, gender LIMIT 20;

-- ub_point_user: point query on user_id, all columns, total order
SELECT * FROM user_behavior WHERE user_id = 7 ORDER BY event_time, item_id, action, province, gender LIMIT 50;

-- ub_row_expressions: per-row expressions with aliases, negative Int64 differences
SELECT user_id, item_id, user_id - 100 AS shifted, item_id - user_id AS diff, item_id * 3 + user_id % 7 AS mixed, item_id / 4 AS quarter FROM user_behavior WHERE user_id BETWEEN 90 AND 110 GROUP BY user_id, item_id ORDER BY user_id, item_id;

-- ===================================================================================
-- user_behavior: predicates
-- ===================================================================================

-- ub_in_strings: IN on Chinese strings
SELECT province, count() AS c FROM user_behavior WHERE province IN ('北京', '上海', '广东', '浙江') GROUP BY province ORDER BY province;

-- ub_not_in_strings: NOT IN on strings
SELECT action, count() AS c FROM user_behavior WHERE action NOT IN ('click', 'fav') GROUP BY action ORDER BY action;

-- ub_in_numbers: IN on numbers
SELECT user_id, count() AS c FROM user_behavior WHERE user_id IN (1, 2, 3, 5, 8, 13, 21, 34) GROUP BY user_id ORDER BY user_id;

-- ub_not_in_numbers: NOT IN on numbers
SELECT count(), uniqExact(user_id) FROM user_behavior WHERE user_id NOT IN (1, 2, 3) AND item_id NOT IN (1, 2);

-- ub_between_numbers: BETWEEN on UInt64
SELECT count(), sum(user_id), min(user_id), max(user_id) FROM user_behavior WHERE user_id BETWEEN 100 AND 1000;

-- ub_between_datetime: BETWEEN on DateTime with string literals
SELECT action, count() AS c FROM user_behavior WHERE event_time BETWEEN '2024-05-03 06:00:00' AND '2024-05-03 18:00:00' GROUP BY action ORDER BY action;

-- ub_not: NOT over a parenthesised OR
SELECT count() FROM user_behavior WHERE NOT (action = 'click' OR gender = 'F');

-- ub_or_precedence: AND binds tighter than OR
SELECT action, province, count() AS c FROM user_behavior WHERE action = 'buy' OR action = 'cart' AND province = '北京' GROUP BY action, province ORDER BY action, province;

-- ub_parentheses: parentheses override precedence
SELECT action, province, count() AS c FROM user_behavior WHERE (action = 'buy' OR action = 'cart') AND province = '北京' GROUP BY action, province ORDER BY action, province;

-- ub_lc_equality: LowCardinality equality on a Chinese string
SELECT gender, count() AS c, uniqExact(user_id) AS users FROM user_behavior WHERE province = '黑龙江' GROUP BY gender ORDER BY gender;

-- ub_not_equal: != on strings
SELECT province, count() AS c FROM user_behavior WHERE province != '北京' AND action != 'click' AND gender != 'M' GROUP BY province ORDER BY c DESC, province LIMIT 5;

-- ub_string_ranges: < <= > >= on strings (byte order)
SELECT action, count() AS c FROM user_behavior WHERE action >= 'buy' AND action < 'fav' AND province > '上海' AND province <= '湖南' GROUP BY action ORDER BY action;

-- ub_arith_predicate: arithmetic in WHERE, negative differences and float division
SELECT count() FROM user_behavior WHERE item_id - user_id < 0 AND item_id / user_id > 0.5 AND (user_id + item_id) % 3 = 1;

-- ub_datetime_compare: DateTime against string literals, all four comparison operators
SELECT count(), min(event_time), max(event_time) FROM user_behavior WHERE event_time > '2024-05-04 00:00:00' AND event_time <= '2024-05-04 01:00:00' AND event_time != '2024-05-04 00:30:00';

-- ub_to_date_compare: toDate compared with a date string
SELECT province, count() AS c FROM user_behavior WHERE toDate(event_time) = '2024-05-04' AND action = 'buy' GROUP BY province ORDER BY c DESC, province LIMIT 10;

-- ub_interval_day: INTERVAL arithmetic on DateTime
SELECT count() FROM user_behavior WHERE event_time >= toDateTime('2024-05-03 00:00:00') - INTERVAL 1 DAY AND event_time < toDateTime('2024-05-03 00:00:00');

-- ub_interval_units: INTERVAL n HOUR / MINUTE / SECOND combined
SELECT action, count() AS c FROM user_behavior WHERE event_time >= toDateTime('2024-05-05 12:00:00') + INTERVAL 30 MINUTE AND event_time < toDateTime('2024-05-05 12:00:00') + INTERVAL 2 HOUR - INTERVAL 15 SECOND GROUP BY action ORDER BY action;

-- ub_interval_select: INTERVAL in the select list and as a GROUP BY key
SELECT toStartOfHour(event_time) + INTERVAL 1 HOUR AS next_hour, count() AS c FROM user_behavior WHERE event_time >= '2024-05-06 20:00:00' GROUP BY next_hour ORDER BY next_hour;

-- ub_prewhere: explicit PREWHERE plus WHERE
SELECT province, count() AS c FROM user_behavior PREWHERE action = 'buy' WHERE gender = 'F' GROUP BY province ORDER BY c DESC, province LIMIT 10;

-- ub_prewhere_only: PREWHERE without WHERE, point lookup
SELECT count(), uniqExact(item_id) FROM user_behavior PREWHERE user_id = 1;

-- ub_prewhere_time: PREWHERE on the sort key, WHERE on a string
SELECT gender, count() AS c FROM user_behavior PREWHERE event_time >= '2024-05-07 00:00:00' WHERE province IN ('广东', '江苏') GROUP BY gender ORDER BY gender;

-- ===================================================================================
-- user_behavior: empty results and pruned partitions
-- ===================================================================================

-- ub_empty_group: no row matches; GROUP BY returns no rows
-- expect: empty
SELECT user_id, count() FROM user_behavior WHERE province = '不存在' GROUP BY user_id ORDER BY user_id;

-- ub_no_partition_count: no partition matches; count() still returns one row, 0
-- expect: empty
SELECT count() FROM user_behavior WHERE event_time >= '2025-01-01 00:00:00';

-- ub_no_partition_aggregates: aggregates over no rows (avg is nan, DateTime 0 prints as 0000-00-00 00:00:00 on 18.16)
-- expect: empty
SELECT count(), sum(item_id), min(user_id), max(item_id), avg(item_id), uniqExact(user_id), max(event_time) FROM user_behavior WHERE event_time < '2024-04-01 00:00:00';

-- ub_empty_rows: a row query with no match
-- expect: empty
SELECT * FROM user_behavior WHERE user_id = 0 ORDER BY event_time, item_id, action, province, gender;

-- ===================================================================================
-- all_types: one column of every type (types_table.sql, types_table_rows.py)
-- ===================================================================================

-- t_dump: every row and column (TSV escapes, extremes, floats, dates)
SELECT * FROM all_types ORDER BY id;

-- t_int_sums: sum/min/max of every integer type (sums wrap like ClickHouse's)
SELECT sum(u8), sum(u16), sum(u32), sum(u64), sum(i8), sum(i16), sum(i32), sum(i64), min(i64), max(i64), min(u64), max(u64), min(i8), max(u8) FROM all_types;

-- t_avgs: avg of each type that cannot overflow, Float64 sums
SELECT avg(u8), avg(u16), avg(u32), avg(i8), avg(i16), avg(i32), avg(f64), sum(f64), min(f64), max(f64) FROM all_types;

-- t_int_arith: result types of + - * / % across integer widths, negative results
SELECT id, u8 + u8, u8 * u8, u8 - 200, i8 - i8, i8 * 2, u16 - u32, i16 / 4, i32 % 10, i64 % 7, u64 % 1000, i64 - 1 FROM all_types ORDER BY id LIMIT 60;

-- t_float_arith: Float64 arithmetic and comparisons
SELECT id, f64, f64 * 2, f64 / 3, f64 + 0.1, f64 - 1, f64 * f64 FROM all_types WHERE f64 > -1000 AND f64 < 1000 AND f64 != 0.1 ORDER BY id LIMIT 40;

-- t_float_order: ORDER BY Float64 DESC with LIMIT offset, n
SELECT id, f64 FROM all_types ORDER BY f64 DESC, id LIMIT 3, 10;

-- t_group_lc: GROUP BY LowCardinality incl. empty, Chinese and tab values
SELECT lc, count() AS c, min(s), max(s), sum(i32), avg(u8) FROM all_types GROUP BY lc ORDER BY lc;

-- t_group_string: GROUP BY String with escapes and Unicode
SELECT s, count() AS c, uniqExact(lc) AS lcs, min(f64), max(i64) FROM all_types GROUP BY s ORDER BY s;

-- t_string_order: ORDER BY strings DESC (byte order), ties broken by id
SELECT s, lc, id FROM all_types ORDER BY s DESC, lc, id LIMIT 25;

-- t_string_literals: IN with escaped string literals
SELECT id, s, lc FROM all_types WHERE s IN ('北京', 'it\'s quoted', 'tab\there', '') OR lc = 'tab\tin lc' ORDER BY id;

-- t_date_functions: Date/DateTime functions on every row
SELECT id, d, dt, toYYYYMMDD(d), toYYYYMM(d), toDate(dt), toDateTime(d), toStartOfDay(dt), toStartOfHour(dt), toYYYYMMDD(dt), toYYYYMM(dt) FROM all_types ORDER BY id;

-- t_date_compare: Date and DateTime compared with string literals
SELECT count(), min(d), max(d), min(dt), max(dt) FROM all_types WHERE d >= '2024-03-01' AND dt < '2024-09-01 00:00:00';

-- t_interval_calendar: MONTH and YEAR intervals (month ends clamp), consecutive rows on one day
SELECT id, dt + INTERVAL 1 MONTH, dt - INTERVAL 1 YEAR, d + INTERVAL 13 MONTH, d - INTERVAL 1 MONTH FROM all_types WHERE id <= 30 ORDER BY id;

-- t_interval: INTERVAL on DateTime and Date, edges included
SELECT id, dt + INTERVAL 1 DAY, dt - INTERVAL 90 MINUTE, dt + INTERVAL 3600 SECOND, d + INTERVAL 1 DAY FROM all_types WHERE id <= 30 ORDER BY id;

-- t_hashes: cityHash64/intHash64 of every integer width, signed, Date, DateTime, strings, several args
SELECT id, cityHash64(s), cityHash64(lc), cityHash64(u8), cityHash64(u64), cityHash64(i8), cityHash64(i64), intHash64(u32), intHash64(i64), cityHash64(d), cityHash64(dt), cityHash64(s, i32, d) FROM all_types ORDER BY id;

-- t_in_between_negative: IN, NOT IN and BETWEEN with negative literals
SELECT id, i8, i16, i64 FROM all_types WHERE (i8 IN (-128, -1, 0, 127) OR i16 BETWEEN -10 AND 10) AND i64 NOT IN (-1, 8) ORDER BY id;

-- t_having_multi: multi-key GROUP BY with an expression key and HAVING
SELECT toYYYYMM(d) AS m, lc, count() AS c, sum(u8) AS s8 FROM all_types GROUP BY m, lc HAVING c >= 3 ORDER BY m, lc;

-- t_distinct: count(DISTINCT) and uniqExact on every kind of column
SELECT count(DISTINCT s), uniqExact(lc), count(DISTINCT d), uniqExact(dt), uniqExact(i8), count(DISTINCT f64), uniqExact(u64) FROM all_types;

-- t_prewhere: PREWHERE on one type, WHERE on another
SELECT lc, count() AS c, sum(i16) FROM all_types PREWHERE u8 < 100 WHERE i16 > 0 GROUP BY lc ORDER BY lc;

-- t_mixed_sums: sums of mixed-width products
SELECT sum(u8 * u16), sum(i8 * i16), sum(u8 * i32), count(u64) FROM all_types WHERE id > 10;

-- t_empty: no row matches
-- expect: empty
SELECT id, s FROM all_types WHERE u8 > 255 ORDER BY id;

-- t_empty_aggregates: aggregates over no rows (avg is nan)
-- expect: empty
SELECT count(), sum(f64), avg(f64), min(i8), max(u64), uniqExact(s) FROM all_types WHERE id > 100000;
