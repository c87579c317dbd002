#include "shardlab/engine/work_profile.h"

namespace shardlab::engine {

void WorkProfile::add(const WorkProfile& o) {
  parts_total += o.parts_total;
  parts_selected += o.parts_selected;
  granules_total += o.granules_total;
  granules_selected += o.granules_selected;
  granules_read += o.granules_read;
  rows_read += o.rows_read;
  rows_passed += o.rows_passed;
  for (const auto& [name, stats] : o.columns) {
    columns[name].compressed_bytes += stats.compressed_bytes;
    columns[name].uncompressed_bytes += stats.uncompressed_bytes;
  }
  rows_aggregated += o.rows_aggregated;
}

uint64_t WorkProfile::compressed_bytes() const {
  uint64_t total = 0;
  for (const auto& [name, stats] : columns) total += stats.compressed_bytes;
  return total;
}

uint64_t WorkProfile::uncompressed_bytes() const {
  uint64_t total = 0;
  for (const auto& [name, stats] : columns) total += stats.uncompressed_bytes;
  return total;
}

nlohmann::json WorkProfile::to_json() const {
  nlohmann::json cols = nlohmann::json::object();
  for (const auto& [name, stats] : columns)
    cols[name] = {{"compressed_bytes", stats.compressed_bytes},
                  {"uncompressed_bytes", stats.uncompressed_bytes}};
  return {{"parts_total", parts_total},
          {"parts_selected", parts_selected},
          {"granules_total", granules_total},
          {"granules_selected", granules_selected},
          {"granules_read", granules_read},
          {"rows_read", rows_read},
          {"rows_passed", rows_passed},
          {"compressed_bytes", compressed_bytes()},
          {"uncompressed_bytes", uncompressed_bytes()},
          {"columns", cols},
          {"rows_aggregated", rows_aggregated},
          {"groups", groups},
          {"result_rows", result_rows},
          {"result_bytes", result_bytes}};
}

}  // namespace shardlab::engine
