// The SQL surface: the lexer, the SELECT parser and the analysis against a table (Query::prepare),
// and the CREATE TABLE reader (TableSchema::from_ddl). Each must succeed or throw InputError.
//
// The input is the SQL text. It is prepared against two fixed tables, the default user_behavior
// table and the differential tests' all_types table (one column of every type), so queries of
// tests/differential/queries.sql reach the analysis whichever table they name.
#include <cstddef>
#include <cstdint>
#include <memory>

#include "shardlab/engine/query.h"
#include "shardlab/engine/table_schema.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

using shardlab::engine::TableSchema;

constexpr const char* kAllTypesDdl = R"(CREATE TABLE all_types (
    id UInt32, u8 UInt8, u16 UInt16, u32 UInt32, u64 UInt64,
    i8 Int8, i16 Int16, i32 Int32, i64 Int64, f64 Float64,
    s String, lc LowCardinality(String), d Date, dt DateTime
) ENGINE = MergeTree() PARTITION BY toYYYYMM(d) ORDER BY id)";

const TableSchema& user_behavior() {
  static const TableSchema schema =
      TableSchema::from_ddl(shardlab::engine::kDefaultUserBehaviorDdl);
  return schema;
}

const TableSchema& all_types() {
  static const TableSchema schema = TableSchema::from_ddl(kAllTypesDdl);
  return schema;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace fuzz = shardlab::fuzz;
  const std::string_view sql = fuzz::as_text(data, size);
  for (const TableSchema* schema : {&user_behavior(), &all_types()}) {
    fuzz::expect_clean([&] { (void)shardlab::engine::Query::prepare(*schema, sql); },
                       /*data_errors_ok=*/false);
  }
  fuzz::expect_clean([&] { (void)TableSchema::from_ddl(sql); }, /*data_errors_ok=*/false);
  return 0;
}
