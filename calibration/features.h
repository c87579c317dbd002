// What each kind of work's coefficients multiply: the counts the cost model charges, taken from
// the engine's work profiles.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "shardlab/engine/merger.h"
#include "shardlab/engine/table.h"
#include "shardlab/engine/work_profile.h"

namespace shardlab::calibration {

// The features of each system, in its coefficient order: the counts CostModel multiplies.
extern const std::vector<std::string> kQueryCoefficients;
extern const std::vector<std::string> kInitiatorCoefficients;
extern const std::vector<std::string> kSplitCoefficients;
extern const std::vector<std::string> kInsertCoefficients;
extern const std::vector<std::string> kMergeCoefficients;
std::vector<double> query_features(const engine::WorkProfile& profile);
// result_bytes, the initiator's other count, is charged at the query system's result_byte_s.
std::vector<double> initiator_features(uint64_t groups_merged, uint64_t rows_merged);
std::vector<double> split_features(uint64_t rows);
std::vector<double> insert_features(const engine::InsertResult& insert);
std::vector<double> merge_features(const engine::MergeProfile& merge);

}  // namespace shardlab::calibration
