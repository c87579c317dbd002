#include "shardlab/engine/expression.h"

#include <algorithm>
#include <cstring>

#include "base/errors.h"
#include "engine/functions/function_args.h"
#include "engine/functions/function_registry.h"
#include "shardlab/engine/parser.h"

namespace shardlab::engine {
namespace {

using Kind = ExprNode::Kind;

// Resolves a parsed expression into typed nodes; the functions' own rules live in the
// registry (functions/function_registry.h).
class Analyzer {
 public:
  Analyzer(const std::vector<ColumnInfo>& inputs, std::string_view sql,
           const SubtreeResolver& resolver)
      : inputs_(inputs), sql_(sql), resolver_(resolver) {}

  ExprNodePtr analyze(const Expr& e);

 private:
  [[noreturn]] void fail(size_t pos, const std::string& message) const {
    throw InputError(format_sql_error(sql_, pos, message));
  }
  ExprNodePtr input(const Expr& e, size_t idx, std::string text) const;
  ExprNodePtr literal(const Expr& e) const;
  ExprNodePtr column(const Expr& e) const;
  ExprNodePtr function(const Expr& e);
  ExprNodePtr call(const Expr& e, const Function& def, std::vector<ExprNodePtr> args);

  const std::vector<ColumnInfo>& inputs_;
  std::string_view sql_;
  const SubtreeResolver& resolver_;
};

// Checks the arguments by the function's rules, then folds a call on constants only.
ExprNodePtr Analyzer::call(const Expr& e, const Function& def, std::vector<ExprNodePtr> args) {
  auto node = std::make_shared<ExprNode>();
  node->kind = Kind::kCall;
  node->fn = def.fn;
  node->pos = e.pos;
  node->text = e.to_string();
  const TypeContext context(e, sql_);
  context.check_arity(def.min_args, def.max_args, args.size());
  node->type = def.type_rule(context, args);
  node->args = std::move(args);
  const bool all_const = std::all_of(node->args.begin(), node->args.end(),
                                     [](const ExprNodePtr& a) { return a->kind == Kind::kConst; });
  if (all_const) {
    Value v = evaluate(*node, {}, 1);
    return make_const_node(v.column(), e.pos, node->text);
  }
  return node;
}

ExprNodePtr Analyzer::input(const Expr& e, size_t idx, std::string text) const {
  auto node = std::make_shared<ExprNode>();
  node->kind = Kind::kInput;
  node->input = idx;
  node->type = inputs_[idx].type;
  node->pos = e.pos;
  node->text = std::move(text);
  return node;
}

ExprNodePtr Analyzer::literal(const Expr& e) const {
  const Literal& lit = e.literal;
  switch (lit.kind) {
    case Literal::Kind::kUInt:
      return make_const_node(one_row(TypeId::kUInt64, lit.u), e.pos, e.to_string());
    case Literal::Kind::kInt:
      return make_const_node(one_row(TypeId::kInt64, lit.i), e.pos, e.to_string());
    case Literal::Kind::kFloat:
      return make_const_node(one_row(TypeId::kFloat64, lit.f), e.pos, e.to_string());
    case Literal::Kind::kString:
      return make_const_node(one_row_string(lit.s), e.pos, e.to_string());
  }
  fail(e.pos, "unsupported expression");
}

ExprNodePtr Analyzer::column(const Expr& e) const {
  for (size_t idx = 0; idx < inputs_.size(); ++idx)
    if (inputs_[idx].name == e.name) return input(e, idx, e.name);
  std::string known;
  for (const auto& in : inputs_) known += (known.empty() ? "" : ", ") + in.name;
  fail(e.pos, fmt::format("unknown column '{}'; expected one of: {}", e.name, known));
}

ExprNodePtr Analyzer::function(const Expr& e) {
  if (is_aggregate_function(e.name))
    fail(e.pos, fmt::format("aggregate function {} is not allowed here", e.to_string()));
  const Function* found = find_function(e.name);
  if (found == nullptr)
    fail(e.pos, fmt::format("unknown function '{}'; supported: toDate, toDateTime, toYYYYMMDD, "
                            "toYYYYMM, toStartOfHour, toStartOfDay, cityHash64, intHash64 and "
                            "the aggregates count, sum, avg, min, max, uniqExact",
                            e.name));
  if (e.distinct) fail(e.pos, "DISTINCT is only allowed in count(DISTINCT x)");
  std::vector<ExprNodePtr> args;
  for (const auto& arg : e.args) args.push_back(analyze(*arg));
  return call(e, *found, std::move(args));
}

ExprNodePtr Analyzer::analyze(const Expr& e) {
  if (resolver_) {
    if (auto idx = resolver_(e)) return input(e, *idx, e.to_string());
  }
  switch (e.kind) {
    case ExprKind::kLiteral:
      return literal(e);
    case ExprKind::kInterval: {
      auto node = std::make_shared<ExprNode>();
      node->kind = Kind::kConst;
      node->type = TypeId::kInt64;
      node->constant = one_row(TypeId::kInt64, e.interval.count);
      node->interval = e.interval;
      node->pos = e.pos;
      node->text = e.to_string();
      return node;
    }
    case ExprKind::kStar:
      fail(e.pos, "'*' is only allowed alone in the SELECT list or as count(*)");
    case ExprKind::kColumn:
      return column(e);
    case ExprKind::kFunction:
      return function(e);
  }
  fail(e.pos, "unsupported expression");
}

}  // namespace

ExprNodePtr analyze_expression(const Expr& expr, const std::vector<ColumnInfo>& inputs,
                               std::string_view sql, const SubtreeResolver& resolver) {
  Analyzer analyzer(inputs, sql, resolver);
  ExprNodePtr node = analyzer.analyze(expr);
  if (node->interval)
    throw InputError(
        format_sql_error(sql, expr.pos, "an INTERVAL is only allowed as an operand of + or -"));
  return node;
}

Value evaluate(const ExprNode& node, const std::vector<const Column*>& inputs, size_t rows) {
  switch (node.kind) {
    case Kind::kInput:
      return borrowed_value(inputs[node.input]);
    case Kind::kConst: {
      Value v;
      v.borrowed = &node.constant;
      v.is_const = true;
      return v;
    }
    case Kind::kCall:
      break;
  }
  return function_of(node.fn).evaluate(node, inputs, rows);
}

Column broadcast(const Column& one_row, size_t rows) {
  if (one_row.type.is_fixed()) {
    Column out(one_row.type);
    out.dict = one_row.dict;
    const size_t w = one_row.type.width();
    out.resize_fixed(rows);
    for (size_t row = 0; row < rows; ++row)
      std::memcpy(out.data.data() + row * w, one_row.data.data(), w);
    return out;
  }
  Column out(one_row.type);
  for (size_t row = 0; row < rows; ++row) out.push_string(one_row.string_at(0));
  return out;
}

Column evaluate_column(const ExprNode& node, const std::vector<const Column*>& inputs,
                       size_t rows) {
  Value v = evaluate(node, inputs, rows);
  if (v.is_const) return broadcast(v.column(), rows);
  if (v.borrowed != nullptr) return *v.borrowed;
  return std::move(v.owned);
}

void evaluate_filter(const ExprNode& node, const std::vector<const Column*>& inputs, size_t rows,
                     uint8_t* mask) {
  Value v = evaluate(node, inputs, rows);
  const Column& col = v.column();
  if (v.is_const) {
    bool truth = false;
    visit_fixed(col.type,
                [&](auto tag) { truth = col.values<typename decltype(tag)::type>()[0] != 0; });
    if (!truth) std::fill(mask, mask + rows, 0);
    return;
  }
  if (col.type.id == TypeId::kUInt8) {
    const uint8_t* src = col.values<uint8_t>();
    for (size_t row = 0; row < rows; ++row) mask[row] &= src[row] != 0;
    return;
  }
  visit_fixed(col.type, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* src = col.values<T>();
    for (size_t row = 0; row < rows; ++row) mask[row] &= src[row] != 0;
  });
}

}  // namespace shardlab::engine
