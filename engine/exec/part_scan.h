// One pass of a query over granule ranges of one part (Query::run_ranges_into), chunk by
// chunk of granules: the filter's conjuncts PREWHERE style, cheapest first, each decided on
// the stored bytes or dictionary codes where it can be, stopping a chunk as soon as no row
// survives; then the output columns, read for the surviving rows only (late
// materialisation), into the partial aggregate or the partial rows.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "shardlab/engine/query.h"
#include "engine/exec/query_plan.h"
#include "engine/storage/column_reader.h"

namespace shardlab::engine {

class PartScan {
 public:
  // Adds into `into`. `files`, when given, holds the part's column files by column number,
  // opened on first use and kept for the caller. REQUIRES: all of them outlive the scan.
  PartScan(const QueryPlan& plan, const PartPtr& part, PartResult* into,
           std::vector<ColumnFiles>* files);

  void run(const std::vector<GranuleRange>& ranges);

 private:
  ColumnReader& reader(size_t col);
  // Reads a column of the current chunk, once.
  void load(size_t col);
  // Accepted codes of this part's dictionaries, for the conjuncts on one LowCardinality
  // column: the conjunct evaluated once on every dictionary entry.
  void build_accept_tables();
  void scan_chunk(uint64_t conjuncts, size_t first, size_t count);
  // Applies the conjuncts the range still needs to mask_; false if no row survives.
  bool filter_chunk(uint64_t conjuncts, size_t rows, bool* filtered);
  // The output columns for the `passed` rows that passed the filter into out_inputs_.
  void narrow_outputs(size_t rows, size_t passed);
  void aggregate(size_t passed);
  void collect_rows(size_t passed);
  void add_column_stats();

  const QueryPlan& plan_;
  const PartPtr& part_;
  PartResult& result_;
  std::vector<ColumnFiles>* files_;
  const size_t ncols_;
  const uint64_t budget_;
  uint64_t rows_collected_ = 0;
  std::vector<ColumnStats> stats_;
  std::vector<std::unique_ptr<ColumnReader>> readers_;
  std::vector<std::vector<uint8_t>> accept_;
  // The current chunk: its granules, the columns read whole, and the filter's mask.
  size_t first_ = 0;
  size_t count_ = 0;
  std::vector<Column> loaded_;
  std::vector<uint8_t> is_loaded_;
  std::vector<const Column*> inputs_;
  PodVector<uint8_t> mask_;
  std::vector<Column> narrowed_;
  std::vector<const Column*> out_inputs_;
};

}  // namespace shardlab::engine
