// The analysed form of a SELECT over one table, as execution needs it: the filter's conjuncts
// in the order they run and the shortcuts each allows, the key condition, the aggregation, and
// the output, ordering and limit stages. Built once by plan_query(); read-only afterwards, so
// one plan serves every part and thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "shardlab/engine/aggregator.h"
#include "shardlab/engine/expression.h"
#include "engine/exec/key_condition.h"
#include "shardlab/engine/query.h"
#include "shardlab/engine/table_schema.h"

namespace shardlab::engine {

struct QueryPlan {
  const TableSchema* schema = nullptr;
  std::string sql;
  std::vector<ColumnInfo> table_inputs;
  std::vector<ExprNodePtr> conjuncts;
  std::vector<std::vector<size_t>> conjunct_columns;
  // Conjuncts of the form `integer column = constant`, evaluated on the stored byte planes:
  // the column and the constant's bytes in the column's type.
  std::vector<std::optional<std::pair<size_t, uint64_t>>> equals_on_planes;
  // Conjuncts that read one LowCardinality column and nothing else: per part they become a
  // table of accepted dictionary codes, applied to the stored codes.
  std::vector<std::optional<size_t>> on_codes;
  std::vector<size_t> conjunct_order;
  std::unique_ptr<KeyCondition> key_condition;
  bool aggregate = false;
  std::vector<ExprNodePtr> group_keys;
  std::vector<AggregateSpec> aggregates;
  std::vector<ColumnInfo> post_inputs;
  std::vector<ExprNodePtr> select;
  std::vector<std::string> names;
  std::vector<ExprNodePtr> order;
  std::vector<bool> desc;
  ExprNodePtr having;
  std::optional<uint64_t> limit;
  uint64_t offset = 0;
  std::vector<size_t> output_columns;  // table columns the output stage reads
  std::string fingerprint;

  [[noreturn]] void fail(size_t pos, const std::string& message) const;
  uint64_t row_budget() const { return limit ? *limit + offset : UINT64_MAX; }
};

// Parses and analyses `sql` against `schema` into `plan`, a fresh one. Throws InputError with
// the SQL position. REQUIRES: `schema` outlives the plan.
void plan_query(const TableSchema& schema, std::string_view sql, QueryPlan* plan);

// Query's private plan is the plan itself; the name only stays out of the public header.
struct Query::Plan : QueryPlan {};

}  // namespace shardlab::engine
