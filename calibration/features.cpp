#include "calibration/features.h"

#include "sim/cluster/cost_model.h"


namespace shardlab::calibration {

using sim::cluster::grouped_rows;

namespace fs = std::filesystem;

const std::vector<std::string> kQueryCoefficients = {
    "query_setup_s",       "part_s",       "part_column_s", "granule_s", "row_read_s",
    "uncompressed_byte_s", "row_passed_s", "row_grouped_s", "group_s",   "result_byte_s"};
const std::vector<std::string> kInitiatorCoefficients = {"initiator_query_s", "merge_state_group_s",
                                                         "initiator_row_s"};
const std::vector<std::string> kSplitCoefficients = {"split_batch_s", "split_row_s"};
const std::vector<std::string> kInsertCoefficients = {"insert_part_s", "insert_row_s",
                                                      "insert_byte_s"};
const std::vector<std::string> kMergeCoefficients = {"merge_part_s", "merge_row_s", "merge_byte_s"};

std::vector<double> query_features(const engine::WorkProfile& p) {
  return {1.0,
          static_cast<double>(p.parts_selected),
          static_cast<double>(p.parts_selected) * static_cast<double>(p.columns.size()),
          static_cast<double>(p.granules_read),
          static_cast<double>(p.rows_read),
          static_cast<double>(p.uncompressed_bytes()),
          static_cast<double>(p.rows_passed),
          static_cast<double>(grouped_rows(p)),
          static_cast<double>(p.groups),
          static_cast<double>(p.result_bytes)};
}

std::vector<double> initiator_features(uint64_t groups_merged, uint64_t rows_merged) {
  return {1.0, static_cast<double>(groups_merged), static_cast<double>(rows_merged)};
}

std::vector<double> split_features(uint64_t rows) { return {1.0, static_cast<double>(rows)}; }

std::vector<double> insert_features(const engine::InsertResult& insert) {
  return {static_cast<double>(insert.parts.size()), static_cast<double>(insert.rows),
          static_cast<double>(insert.uncompressed_bytes)};
}

std::vector<double> merge_features(const engine::MergeProfile& merge) {
  return {static_cast<double>(merge.parts), static_cast<double>(merge.rows_read),
          static_cast<double>(merge.uncompressed_bytes_read)};
}

}  // namespace shardlab::calibration
