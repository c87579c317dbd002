// The exact, deterministic account of what a query did: the input to the simulator's cost
// model. Counts depend only on the data and the query, never on timing or thread count.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "shardlab/engine/part.h"

namespace shardlab::engine {

struct WorkProfile {
  uint64_t parts_total = 0;                    // active parts considered
  uint64_t parts_selected = 0;                 // left after partition and primary-key pruning
  uint64_t granules_total = 0;                 // in the parts considered
  uint64_t granules_selected = 0;              // left after primary-key pruning
  uint64_t granules_read = 0;                  // whose first filter column was read
  uint64_t rows_read = 0;                      // rows in the granules read
  uint64_t rows_passed = 0;                    // rows left after PREWHERE and WHERE
  std::map<std::string, ColumnStats> columns;  // bytes read per column
  uint64_t rows_aggregated = 0;
  uint64_t groups = 0;  // distinct groups across the parts, before HAVING
  uint64_t result_rows = 0;
  uint64_t result_bytes = 0;  // in-memory size of the result columns

  void add(const WorkProfile& other);
  uint64_t compressed_bytes() const;
  uint64_t uncompressed_bytes() const;
  nlohmann::json to_json() const;
};

}  // namespace shardlab::engine
