// The calibration's workload: the table layouts inserts are timed on, and the queries whose
// shapes span the costs the model tells apart.
#pragma once

namespace shardlab::calibration {

struct Layout {
  const char* name;
  const char* ddl;
};
constexpr const char* kNarrowDdl =
    "CREATE TABLE narrow (event_time DateTime, user_id UInt64) ENGINE = MergeTree() "
    "PARTITION BY toYYYYMMDD(event_time) ORDER BY (event_time, user_id)";
constexpr const char* kStringsDdl =
    "CREATE TABLE strings (user_id UInt64, item_id UInt64, action String, event_time DateTime, "
    "province String, gender String) ENGINE = MergeTree() PARTITION BY toYYYYMMDD(event_time) "
    "ORDER BY (event_time, user_id)";

struct QuerySpec {
  const char* name;
  const char* shape;
  const char* sql;
};

// Realistic queries over user_behavior (most from tests/differential/queries.sql), covering the
// shapes whose costs differ: what the index prunes, how many rows pass, how many groups, how
// many result bytes. user_id 1 is the most active user (Zipf rank 1).
constexpr QuerySpec kQueries[] = {
    {"pk_second", "point", "SELECT * FROM user_behavior WHERE event_time = '2024-05-03 12:00:00'"},
    {"pk_minute_users", "point",
     "SELECT user_id, item_id, action FROM user_behavior WHERE event_time >= '2024-05-05 "
     "20:00:00' AND event_time < '2024-05-05 20:01:00' AND user_id < 100000"},
    {"pk_second_user", "point",
     "SELECT count() FROM user_behavior WHERE event_time = '2024-05-06 03:30:00' AND user_id = 1"},
    {"day_count", "time_range",
     "SELECT count() FROM user_behavior WHERE event_time >= '2024-05-02 00:00:00' AND event_time "
     "< '2024-05-03 00:00:00'"},
    {"half_day_actions", "time_range",
     "SELECT action, count() FROM user_behavior WHERE event_time BETWEEN '2024-05-03 06:00:00' "
     "AND '2024-05-03 18:00:00' GROUP BY action ORDER BY action"},
    {"hour_aggregates", "time_range",
     "SELECT count(), min(event_time), max(event_time), sum(item_id) FROM user_behavior WHERE "
     "event_time > '2024-05-04 00:00:00' AND event_time <= '2024-05-04 01:00:00'"},
    {"week_sums", "time_range",
     "SELECT sum(item_id), max(user_id) FROM user_behavior WHERE event_time >= '2024-05-01 "
     "00:00:00' AND event_time < '2024-05-08 00:00:00'"},
    {"q1_beijing_clicks", "lowcard_filter",
     "SELECT count() FROM user_behavior WHERE event_time >= '2024-05-01 00:00:00' AND event_time "
     "< '2024-05-02 00:00:00' AND province = '北京' AND action = 'click'"},
    {"shanghai_women", "lowcard_filter",
     "SELECT count() FROM user_behavior WHERE province = '上海' AND gender = 'F'"},
    {"provinces_in", "lowcard_filter",
     "SELECT province, count() AS c FROM user_behavior WHERE province IN ('北京', '上海', '广东', "
     "'浙江') GROUP BY province ORDER BY province"},
    {"buy_items", "lowcard_filter",
     "SELECT count(), sum(item_id) FROM user_behavior WHERE action = 'buy'"},
    {"three_keys", "group_few",
     "SELECT province, gender, action, count() AS c FROM user_behavior GROUP BY province, gender, "
     "action ORDER BY province, gender, action"},
    {"by_action", "group_few",
     "SELECT action, count(), avg(item_id), max(user_id) FROM user_behavior GROUP BY action ORDER "
     "BY action"},
    {"by_hour", "group_few",
     "SELECT toStartOfHour(event_time) AS h, count() AS c FROM user_behavior WHERE event_time < "
     "'2024-05-03 00:00:00' GROUP BY h ORDER BY h"},
    {"by_shard", "group_few",
     "SELECT cityHash64(user_id) % 8 AS shard, count() AS c, sum(item_id) FROM user_behavior "
     "GROUP BY shard ORDER BY shard"},
    {"q2_top_items", "group_many",
     "SELECT item_id, count() AS c FROM user_behavior WHERE event_time >= '2024-05-01 00:00:00' "
     "AND event_time < '2024-05-08 00:00:00' AND province = '北京' AND gender = 'F' AND action = "
     "'click' GROUP BY item_id ORDER BY c DESC, item_id LIMIT 10"},
    {"q4_top_users", "group_many",
     "SELECT user_id, count() AS c FROM user_behavior WHERE event_time >= '2024-05-02 00:00:00' "
     "AND event_time < '2024-05-03 00:00:00' AND action = 'click' GROUP BY user_id ORDER BY c "
     "DESC, user_id LIMIT 10"},
    {"all_items", "group_many",
     "SELECT item_id, count() AS c FROM user_behavior GROUP BY item_id ORDER BY c DESC, item_id "
     "LIMIT 10"},
    {"male_clickers", "group_many",
     "SELECT user_id, count() AS c, max(event_time) FROM user_behavior WHERE action = 'click' AND "
     "gender = 'M' GROUP BY user_id ORDER BY c DESC, user_id LIMIT 10"},
    {"first_rows", "order_limit",
     "SELECT * FROM user_behavior ORDER BY event_time, user_id, item_id, action, province, gender "
     "LIMIT 20"},
    {"latest_buys", "order_limit",
     "SELECT user_id, item_id, event_time FROM user_behavior WHERE action = 'buy' ORDER BY "
     "event_time DESC, user_id, item_id LIMIT 100"},
    {"guangdong_items", "order_limit",
     "SELECT item_id, user_id FROM user_behavior WHERE province = '广东' ORDER BY item_id, user_id "
     "LIMIT 1000"},
    {"top_user_rows", "select_rows", "SELECT * FROM user_behavior WHERE user_id = 1"},
    {"beijing_buys", "select_rows",
     "SELECT user_id, item_id FROM user_behavior WHERE action = 'buy' AND province = '北京'"},
    {"hour_rows", "select_rows",
     "SELECT * FROM user_behavior WHERE event_time >= '2024-05-04 00:00:00' AND event_time < "
     "'2024-05-04 01:00:00'"},
    {"women_any", "select_rows",
     "SELECT item_id, event_time FROM user_behavior WHERE gender = 'F' LIMIT 1000"},
};

}  // namespace shardlab::calibration
