// Merges sorted parts into one (a k-way merge that streams granule blocks), dropping rows
// whose TTL has passed, and reports the work it did for the simulator's cost model.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>

#include "shardlab/engine/expression.h"
#include "shardlab/engine/merge_selector.h"
#include "shardlab/engine/table_schema.h"

namespace shardlab::engine {

struct MergeProfile {
  uint64_t parts = 0;
  uint64_t rows_read = 0;
  uint64_t rows_written = 0;
  uint64_t rows_expired = 0;  // dropped by TTL
  uint64_t compressed_bytes_read = 0;
  uint64_t uncompressed_bytes_read = 0;
  uint64_t bytes_written = 0;  // every file of the new part
  std::string result_part;     // empty if every row expired

  nlohmann::json to_json() const;
};

// Writes the merged part into `out_dir` (complete and fsynced, not yet renamed).
// `ttl` is the analysed TTL expression or null; rows with TTL <= now_s are dropped.
// Returns false in `*empty` if every row expired (no part is written then).
MergeProfile merge_parts(const TableSchema& schema, const MergePlan& plan,
                         const std::filesystem::path& out_dir, const ExprNodePtr& ttl,
                         int64_t now_s, bool* empty);

}  // namespace shardlab::engine
