-- The differential tests' second table: one column of every supported type.
-- Rows come from types_table_rows.py (TabSeparated, columns in this order).
-- ClickHouse 18.16 needs allow_experimental_low_cardinality_type=1 for the `lc` column.
CREATE TABLE all_types
(
    id UInt32,
    u8 UInt8,
    u16 UInt16,
    u32 UInt32,
    u64 UInt64,
    i8 Int8,
    i16 Int16,
    i32 Int32,
    i64 Int64,
    f64 Float64,
    s String,
    lc LowCardinality(String),
    d Date,
    dt DateTime
)
ENGINE = MergeTree()
PARTITION BY toYYYYMM(d)
ORDER BY id
