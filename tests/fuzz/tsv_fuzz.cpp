// The TabSeparated loader of `shardlab load --tsv` (apps/tsv_reader.h), then the insert it
// feeds. The input is the TSV text for a table with one column of every type (the differential
// tests' all_types). Rows that parse are inserted into a scratch table, and count() must then
// equal the rows read: a row lost or invented between the reader and the table is a bug.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <sstream>
#include <string>

#include "apps/tsv_reader.h"
#include "shardlab/engine/io_settings.h"
#include "shardlab/engine/query.h"
#include "shardlab/engine/table.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

namespace engine = shardlab::engine;

constexpr const char* kAllTypesDdl = R"(CREATE TABLE all_types (
    id UInt32, u8 UInt8, u16 UInt16, u32 UInt32, u64 UInt64,
    i8 Int8, i16 Int16, i32 Int32, i64 Int64, f64 Float64,
    s String, lc LowCardinality(String), d Date, dt DateTime
) ENGINE = MergeTree() PARTITION BY toYYYYMM(d) ORDER BY id
SETTINGS min_compress_block_size = 1024, max_compress_block_size = 4096)";

// Small batches, so that a few dozen lines of input already make several blocks and inserts.
constexpr size_t kBatchRows = 16;

engine::Table& scratch_table() {
  static const std::unique_ptr<engine::Table> table = [] {
    shardlab::io::set_durable(false);  // scratch data: fsyncs would only cost time
    return engine::Table::create(shardlab::fuzz::scratch_dir() / "all_types", kAllTypesDdl);
  }();
  return *table;
}

uint64_t count_rows(const engine::Table& table) {
  static const std::unique_ptr<engine::Query> count =
      engine::Query::prepare(table.schema(), "SELECT count() FROM all_types");
  const engine::QueryResult result = count->run(table.active_parts());
  return result.columns.at(0).values<uint64_t>()[0];
}

void drop_all_parts(engine::Table& table) {
  for (const engine::PartPtr& part : table.active_parts()) table.drop_part(part->name());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace fuzz = shardlab::fuzz;
  engine::Table& table = scratch_table();
  std::istringstream in{std::string(fuzz::as_text(data, size))};
  shardlab::apps::TsvReader reader(in, "fuzz.tsv", table.schema());
  uint64_t rows_read = 0;
  fuzz::expect_clean(
      [&] {
        engine::Block block;
        while (reader.next(kBatchRows, &block)) {
          table.insert(block);
          rows_read += block.rows();
        }
      },
      /*data_errors_ok=*/false);
  const uint64_t rows_stored = count_rows(table);
  if (rows_stored != rows_read) {
    fuzz::report_bug("read " + std::to_string(rows_read) + " rows, count() answers " +
                     std::to_string(rows_stored));
  }
  drop_all_parts(table);
  return 0;
}
