// The cost model: the engine's exact work accounts (WorkProfile, InsertResult, MergeProfile)
// turned into demands on simulated hardware — CPU work in reference-core seconds (sim/hw/cpu.h),
// bytes read through the page cache, bytes sent over the network.
//
// CPU work is linear in its coefficients, one per kind of work, each multiplying a count the
// engine reported (or a product of two: parts selected × columns read; rows aggregated when
// there is more than one group), so it can be fitted by least squares from measured engine runs
// (`shardlab calibrate`, calibration/calibration.h) and every figure traces back to the engine's
// counts. Coefficients live in a JSON calibration file that scenarios can name;
// CostModel::defaults() are the shipped values, measured on real engine runs (see the comment
// there and bench/README.md).
//
// What a count costs is the engine's cost on the reference core (speed 1.0); a node's
// `cpu_speed` scales it. Disk bytes are the compressed bytes the engine read, charged through the
// node's page cache; network bytes are the result's in-memory size times `wire_ratio` (the native
// protocol compresses blocks with LZ4).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "shardlab/engine/query.h"
#include "shardlab/engine/work_profile.h"
#include "shardlab/engine/merger.h"
#include "shardlab/engine/table.h"

namespace shardlab::sim::cluster {

struct CostCoefficients {
  // A subquery on a replica.
  double query_setup_s = 0;        // per subquery: analysis, plan, pipeline start
  double part_s = 0;               // per part selected: index analysis, readers
  double part_column_s = 0;        // per column read in each selected part: files, marks
  double granule_s = 0;            // per granule read: seek, block headers
  double row_read_s = 0;           // per row read by the first filter
  double uncompressed_byte_s = 0;  // per uncompressed byte decoded
  double row_passed_s = 0;         // per row that passed the filters (aggregation or output)
  double row_grouped_s = 0;        // per row aggregated by GROUP BY: keys evaluated, hashed
  double group_s = 0;              // per group in the partial result
  double result_byte_s = 0;        // per byte of partial result (partial_result_bytes) sent
  // The initiator.
  double initiator_query_s = 0;    // per distributed query: analysis, final merge and output
  double merge_state_group_s = 0;  // per group merged from the shards' partial results
  double initiator_row_s = 0;      // per candidate row from the shards: ORDER BY, LIMIT
  double split_batch_s = 0;        // per batch split by shard on a distributed insert
  double split_row_s = 0;          // per row split by shard
  // Storage.
  double insert_part_s = 0;  // per part written by an insert: files, marks, index, checksums
  double insert_row_s = 0;   // per row inserted: sort, split by partition
  double insert_byte_s = 0;  // per uncompressed byte written: compression, checksums
  double merge_part_s = 0;   // per part merged: open its columns, start a stream
  double merge_row_s = 0;    // per row merged
  double merge_byte_s = 0;   // per uncompressed byte read by a merge
  // The wire: bytes sent per byte of in-memory result or inserted block.
  double wire_ratio = 1.0;
};

struct SubqueryDemand {
  double cpu_s = 0;           // reference-core seconds
  uint64_t disk_bytes = 0;    // compressed bytes read (through the page cache)
  uint64_t result_bytes = 0;  // bytes on the wire back to the initiator
};

class CostModel {
 public:
  CostModel() : CostModel(defaults()) {}
  explicit CostModel(const CostCoefficients& c) : c_(c) {}
  // The shipped coefficients.
  static CostCoefficients defaults();

  // Reads a calibration file (JSON: {"coefficients": {name: value, ...}, ...}). Unknown or
  // missing names and negative values are InputErrors naming the file and the key.
  static CostModel load(const std::string& path);
  // Writes the coefficients (and `about`, e.g. the machine and fit quality) atomically, with
  // `cluster` (when not null): measured facts of the cluster beyond the cost model, which
  // scenarios naming the file take (scenarios/README.md, hardware.calibration).
  void save(const std::string& path, const nlohmann::ordered_json& about,
            const nlohmann::ordered_json& cluster = nullptr) const;

  const CostCoefficients& coefficients() const { return c_; }

  SubqueryDemand subquery(const engine::WorkProfile& profile) const;
  // The initiator's work on one query: analysis, the merge of the shards' partial results, and
  // the answer. `groups_merged` is the sum of the groups of the partial aggregates merged (one per
  // shard), `rows_merged` the sum of the candidate rows of non-aggregating partial results, and
  // `result_bytes` the answer's size.
  double initiator_merge_cpu(uint64_t groups_merged, uint64_t result_bytes,
                             uint64_t rows_merged = 0) const;
  // One batch of `rows` rows split by shard.
  double split_cpu(uint64_t rows) const {
    return c_.split_batch_s + c_.split_row_s * static_cast<double>(rows);
  }
  double insert_cpu(const engine::InsertResult& insert) const;
  double merge_cpu(const engine::MergeProfile& merge) const;
  uint64_t wire_bytes(uint64_t bytes) const {
    return static_cast<uint64_t>(static_cast<double>(bytes) * c_.wire_ratio);
  }

 private:
  CostCoefficients c_;
};

// The rows a subquery aggregated by GROUP BY keys. The profile does not say whether the query
// groups; more than one group in the result does, and a grouping query whose rows all fall in
// one group is charged as a plain aggregate.
uint64_t grouped_rows(const engine::WorkProfile& profile);

// The in-memory size of a replica's partial result on the wire, before wire_ratio: an aggregate's
// groups at a typical key-plus-state width, or the candidate rows' bytes. It is the
// WorkProfile::result_bytes of a subquery, in the cluster and in the calibration alike, so the
// fitted result_byte_s means the same thing in both.
uint64_t partial_result_bytes(const engine::PartResult& partial);

// The coefficients by name, in a fixed order: the calibration file's keys and the fitting
// code's columns.
nlohmann::ordered_json coefficients_to_json(const CostCoefficients& c);
CostCoefficients coefficients_from_json(const nlohmann::json& j, const std::string& source);
// The coefficient called `name`, or null if there is none: how the fitting code sets a column.
double* coefficient_by_name(CostCoefficients* c, std::string_view name);

}  // namespace shardlab::sim::cluster
