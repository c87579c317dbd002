// SELECT queries over one table: analysis into a plan, execution per part, and the final
// merge of per-part partial results.
//
// Execution follows ClickHouse's shape. For each part, the key condition picks granule
// ranges; every WHERE/PREWHERE conjunct that the index cannot decide is evaluated PREWHERE
// style, cheapest columns first, stopping a block as soon as no row survives; only then are
// the other columns read, for the surviving blocks. Aggregating queries build one mergeable
// partial aggregate per part, so a (query, part) result can be memoised and shard results
// merged exactly as ClickHouse's two-stage aggregation does.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "shardlab/engine/aggregator.h"
#include "shardlab/engine/part.h"
#include "shardlab/engine/table_schema.h"
#include "shardlab/engine/work_profile.h"

namespace shardlab::engine {

// Engine-internal types of the range-level entry points below (engine/exec/key_condition.h,
// engine/storage/column_reader.h); callers outside the engine use run_part() and run().
struct GranuleRange;
struct ColumnFiles;

struct QueryResult {
  std::vector<std::string> names;
  std::vector<Column> columns;
  WorkProfile profile;
  size_t rows() const { return columns.empty() ? 0 : columns[0].rows; }
};

// What one part contributes: a partial aggregate, or candidate rows.
struct PartResult {
  std::optional<Aggregator> aggregate;
  // Rows this result will have read once all its ranges are in (0: unknown or already used):
  // its aggregation is sized from the groups of the first sixteenth of them.
  uint64_t rows_expected = 0;
  std::vector<Column> rows;  // non-aggregating queries: output + ORDER BY columns
  WorkProfile profile;
};

class Query {
 public:
  // Parses and analyses `sql` against `schema`. Throws InputError with the SQL position.
  static std::unique_ptr<Query> prepare(const TableSchema& schema, std::string_view sql);
  ~Query();

  // REQUIRES: parts belong to a table with the schema given to prepare().
  PartResult run_part(const PartPtr& part) const;
  // Runs on the given granule ranges of a part (from select_ranges()); the part-level counts of
  // the profile (parts_total, granules_total) are left to the caller.
  PartResult run_ranges(const PartPtr& part, const std::vector<GranuleRange>& ranges) const;
  // Like run_ranges(), adding into an existing partial result. `files`, when given, holds the
  // part's column files by column number, opened on first use and kept for the caller's next
  // call on the same part; the caller clears it before moving to another part.
  void run_ranges_into(const PartPtr& part, const std::vector<GranuleRange>& ranges,
                       PartResult* into, std::vector<ColumnFiles>* files = nullptr) const;
  // A partial result with nothing in it yet.
  PartResult empty_result() const;
  // Merges partial results (in the given order) into the final answer, with up to `threads`
  // threads for the merge where it can use them.
  QueryResult finish(std::vector<PartResult> partials, unsigned threads = 1) const;
  // run_part over `parts` on up to `threads` threads, then finish().
  QueryResult run(const std::vector<PartPtr>& parts, unsigned threads = 1) const;

  // Identifies the query's semantics for memoisation: equal fingerprints give equal results
  // on equal parts.
  const std::string& fingerprint() const;
  bool is_aggregate() const;

 private:
  Query();
  struct Plan;
  std::unique_ptr<Plan> plan_;
};

}  // namespace shardlab::engine
