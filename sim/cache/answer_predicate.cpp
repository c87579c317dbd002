#include "sim/cache/answer_predicate.h"

#include <fmt/format.h>

#include "base/errors.h"
#include "shardlab/engine/parser.h"

namespace shardlab::sim::cache {

AnswerPredicate::AnswerPredicate(const engine::TableSchema& schema, std::string_view sql) {
  const engine::SelectQuery select = engine::parse_select(sql);
  std::vector<engine::ColumnInfo> inputs;
  for (const auto& column : schema.columns) {
    inputs.push_back(engine::ColumnInfo{column.name, column.type});
    columns_.push_back(column.name);
  }
  for (const engine::ExprPtr& filter : {select.prewhere, select.where}) {
    if (filter) conjuncts_.push_back(engine::analyze_expression(*filter, inputs, sql));
  }
}

bool AnswerPredicate::matches_any(const engine::Block& block) const {
  const size_t rows = block.rows();
  if (rows == 0) return false;
  if (conjuncts_.empty()) return true;
  std::vector<const engine::Column*> inputs(columns_.size(), nullptr);
  for (size_t idx = 0; idx < columns_.size(); ++idx) {
    const int at = block.index_of(columns_[idx]);
    if (at < 0) {
      throw RuntimeError(fmt::format("an inserted block lacks the column {}", columns_[idx]));
    }
    inputs[idx] = &block.columns[static_cast<size_t>(at)];
  }
  std::vector<uint8_t> mask(rows, 1);
  for (const engine::ExprNodePtr& conjunct : conjuncts_) {
    engine::evaluate_filter(*conjunct, inputs, rows, mask.data());
  }
  return engine::count_selected(mask.data(), rows) > 0;
}

}  // namespace shardlab::sim::cache
