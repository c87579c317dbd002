CREATE TABLE user_behavior (
    user_id    UInt64,
    item_id    UInt64,
    action     LowCardinality(String),
    event_time DateTime,
    province   LowCardinality(String),
    gender     LowCardinality(String)
) ENGINE = MergeTree()
PARTITION BY toYYYYMMDD(event_time)
ORDER BY (event_time, user_id)
TTL event_time + INTERVAL 30 DAY
SETTINGS index_granularity = 8192, parts_to_throw_insert = 300
