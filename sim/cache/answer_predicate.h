// Whether inserted rows change a query's answer, decided by the engine: the query's WHERE and
// PREWHERE, evaluated over the inserted block. A query with neither is affected by every row.
//
// This is what makes a cached answer stale, and what a change-driven cache invalidates: an
// answer is affected by an INSERT exactly when at least one inserted row passes its filter (for
// the aggregations and row lists the templates use, a row that passes changes the answer or
// could have; one that does not pass cannot).
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "shardlab/engine/column.h"
#include "shardlab/engine/expression.h"
#include "shardlab/engine/table_schema.h"

namespace shardlab::sim::cache {

class AnswerPredicate {
 public:
  // Throws InputError if `sql` is not a valid SELECT on the table.
  AnswerPredicate(const engine::TableSchema& schema, std::string_view sql);

  // True if some row of `block` (the table's columns, by name) passes the filter.
  bool matches_any(const engine::Block& block) const;

 private:
  std::vector<engine::ExprNodePtr> conjuncts_;  // WHERE and PREWHERE; empty: no filter
  std::vector<std::string> columns_;            // the table's columns, the filter's inputs
};

}  // namespace shardlab::sim::cache
