// A table's definition, validated from its CREATE TABLE statement, plus its MergeTree settings.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "shardlab/engine/ast.h"

namespace shardlab::engine {

// MergeTree settings, with ClickHouse 18.16's defaults (see REFERENCE.md).
struct TableSettings {
  uint64_t index_granularity = 8192;           // rows per granule and per primary index entry
  uint64_t min_compress_block_size = 65536;    // a compressed block closes once it holds this much
  uint64_t max_compress_block_size = 1 << 20;  // ... and never grows past this many raw bytes
  uint64_t parts_to_delay_insert = 150;        // per partition: inserts slow down above this
  uint64_t parts_to_throw_insert = 300;        // per partition: inserts are refused above this
  uint64_t max_delay_to_insert_s = 1;          // the longest delay applied before refusing
  uint64_t max_parts_to_merge_at_once = 100;
  uint64_t max_suspicious_broken_parts = 10;   // more damaged parts than this refuse the open
  double merge_base = 5;                       // min ratio of a merge's size to its largest part
  uint64_t merge_fixed_cost_bytes = 5 << 20;   // per-part overhead the selector adds
  uint64_t max_bytes_to_merge = 150ULL << 30;  // merged parts stay below this size
};

struct TableSchema {
  std::string name;
  std::vector<ColumnDef> columns;
  ExprPtr partition_by;                // null: one partition, "all"
  std::vector<size_t> key_columns;     // ORDER BY, as column indices
  std::vector<size_t> minmax_columns;  // columns the partition expression reads
  ExprPtr ttl;                         // null: rows never expire
  TableSettings settings;
  std::string ddl;  // the statement it was made from

  // Parses and validates a CREATE TABLE statement. Throws InputError naming the position.
  static TableSchema from_ddl(std::string_view ddl);

  int column_index(std::string_view column) const;
  CodecSpec codec_of(size_t column_idx) const {
    return columns[column_idx].codec.value_or(CodecSpec{});
  }
};

// The default table of shardlab's seed scenario.
extern const char* const kDefaultUserBehaviorDdl;

}  // namespace shardlab::engine
