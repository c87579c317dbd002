#include "shardlab/engine/expression.h"

#include <algorithm>
#include <cstring>
#include <optional>

#include "base/errors.h"
#include "engine/functions/function_args.h"
#include "engine/functions/function_registry.h"
#include "shardlab/engine/parser.h"

namespace shardlab::engine {
namespace {

using Kind = ExprNode::Kind;

// `text` cut to about kMaxNodeTextChars characters, marked with "..." where it was cut.
std::string shorten(std::string text) {
  if (text.size() <= kMaxNodeTextChars) return text;
  size_t keep = kMaxNodeTextChars - 3;
  while (keep > 0 && (static_cast<unsigned char>(text[keep]) & 0xC0) == 0x80) --keep;
  text.resize(keep);
  return text + "...";
}

// The (shortened) text of a call from its arguments' texts: building each node's text from the
// source tree instead would take time quadratic in a chain's length.
std::string call_text(const Expr& call, const std::vector<ExprNodePtr>& args) {
  std::string text = call.name + "(";
  for (size_t idx = 0; idx < args.size() && text.size() <= kMaxNodeTextChars; ++idx) {
    if (idx > 0) text += ", ";
    text += args[idx]->text;
  }
  return shorten(text + ")");
}

// Resolves a parsed expression into typed nodes; the functions' own rules live in the
// registry (functions/function_registry.h).
class Analyzer {
 public:
  Analyzer(const std::vector<ColumnInfo>& inputs, std::string_view sql,
           const SubtreeResolver& resolver)
      : inputs_(inputs), sql_(sql), resolver_(resolver) {}

  // Walks the tree with an explicit stack: a chain such as a + b + c + ... is as deep as it is
  // long, and the analysis of 100,000 terms must not take 100,000 stack frames.
  ExprNodePtr analyze(const Expr& root);

 private:
  // A call whose arguments are being analysed.
  struct Frame {
    const Expr* expr;
    const Function* def;
    std::vector<ExprNodePtr> args;
  };
  // The node of `e` if it has no arguments to analyse; otherwise pushes its frame and returns
  // null.
  ExprNodePtr open(const Expr& e, std::vector<Frame>* stack);
  [[noreturn]] void fail(size_t pos, const std::string& message) const {
    throw InputError(format_sql_error(sql_, pos, message));
  }
  ExprNodePtr input(const Expr& e, size_t idx, std::string text) const;
  ExprNodePtr literal(const Expr& e) const;
  ExprNodePtr column(const Expr& e) const;
  const Function& function(const Expr& e) const;
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
  node->text = call_text(e, args);
  const TypeContext context(e, sql_);
  context.check_arity(def.min_args, def.max_args, args.size());
  node->type = def.type_rule(context, args);
  node->args = std::move(args);
  const bool all_const = std::all_of(node->args.begin(), node->args.end(),
                                     [](const ExprNodePtr& a) { return a->kind == Kind::kConst; });
  if (all_const) {
    // A constant that cannot be computed (1 % 0) is a mistake in the statement: named where it
    // is, before any data is read.
    try {
      Value v = evaluate(*node, {}, 1);
      return make_const_node(v.column(), e.pos, node->text);
    } catch (const RuntimeError& error) {
      fail(e.pos, error.what());
    }
  }
  return node;
}

ExprNodePtr Analyzer::input(const Expr& e, size_t idx, std::string text) const {
  auto node = std::make_shared<ExprNode>();
  node->kind = Kind::kInput;
  node->input = idx;
  node->type = inputs_[idx].type;
  node->pos = e.pos;
  node->text = shorten(std::move(text));
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
      return make_const_node(one_row_string(lit.s), e.pos, shorten(e.to_string()));
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

const Function& Analyzer::function(const Expr& e) const {
  if (is_aggregate_function(e.name))
    fail(e.pos, fmt::format("aggregate function {} is not allowed here",
                            shorten(e.to_string_up_to(kMaxNodeTextChars))));
  const Function* found = find_function(e.name);
  if (found == nullptr)
    fail(e.pos, fmt::format("unknown function '{}'; supported: toDate, toDateTime, toYYYYMMDD, "
                            "toYYYYMM, toStartOfHour, toStartOfDay, cityHash64, intHash64 and "
                            "the aggregates count, sum, avg, min, max, uniqExact",
                            e.name));
  if (e.distinct) fail(e.pos, "DISTINCT is only allowed in count(DISTINCT x)");
  return *found;
}

ExprNodePtr Analyzer::open(const Expr& e, std::vector<Frame>* stack) {
  if (resolver_) {
    if (auto idx = resolver_(e)) return input(e, *idx, e.to_string_up_to(kMaxNodeTextChars));
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
    case ExprKind::kFunction: {
      const Function& def = function(e);
      stack->push_back({&e, &def, {}});
      stack->back().args.reserve(e.args.size());
      return nullptr;
    }
  }
  fail(e.pos, "unsupported expression");
}

ExprNodePtr Analyzer::analyze(const Expr& root) {
  std::vector<Frame> stack;
  ExprNodePtr done = open(root, &stack);  // the node last finished, for the frame on top
  while (!stack.empty()) {
    Frame& top = stack.back();
    if (done) top.args.push_back(std::move(done));
    if (top.args.size() < top.expr->args.size()) {
      done = open(*top.expr->args[top.args.size()], &stack);  // may invalidate `top`
      continue;
    }
    Frame finished = std::move(top);
    stack.pop_back();
    done = call(*finished.expr, *finished.def, std::move(finished.args));
  }
  return done;
}

}  // namespace

ExprNodePtr analyze_expression(const Expr& expr, const std::vector<ColumnInfo>& inputs,
                               std::string_view sql, const SubtreeResolver& resolver) {
  Analyzer analyzer(inputs, sql, resolver);
  ExprNodePtr node = analyzer.analyze(expr);
  if (node->interval)
    throw InputError(
        format_sql_error(sql, expr.pos, "an INTERVAL is only allowed as an operand of + or -"));
  // The root's text names a result column and keys the query's fingerprint: it must be exact.
  std::string text = expr.to_string();
  if (node->text != text) {
    auto exact = std::make_shared<ExprNode>(*node);
    exact->text = std::move(text);
    node = std::move(exact);
  }
  return node;
}

ExprNode::~ExprNode() {
  // As ~Expr: children whose last owner is this tree are emptied before they are released.
  std::vector<ExprNodePtr> pending = std::move(args);
  while (!pending.empty()) {
    ExprNodePtr node = std::move(pending.back());
    pending.pop_back();
    if (node.use_count() == 1) {
      // The node is ours alone; it was made mutable and is const only through the pointer.
      auto& children = const_cast<ExprNode&>(*node).args;
      for (ExprNodePtr& child : children) pending.push_back(std::move(child));
      children.clear();
    }
  }
}

Value Arguments::value(size_t idx) {
  if (idx < ready_.size()) return std::move(ready_[idx]);
  return evaluate(*call_.args[idx], inputs_, rows_);
}

namespace {

Value evaluate_leaf(const ExprNode& node, const std::vector<const Column*>& inputs) {
  if (node.kind == Kind::kInput) return borrowed_value(inputs[node.input]);
  Value v;
  v.borrowed = &node.constant;
  v.is_const = true;
  return v;
}

}  // namespace

Value evaluate(const ExprNode& node, const std::vector<const Column*>& inputs, size_t rows) {
  if (node.kind != Kind::kCall) return evaluate_leaf(node, inputs);
  // Post-order with an explicit stack: a call of at most kEagerArgs arguments gets them
  // evaluated here first, so a chain (a + b + c + ...) or a nest (k + (k + (...))) of such calls
  // costs no recursion at all. Wider calls (n-ary and/or, in, cityHash64) fetch their
  // arguments one at a time through Arguments, each a nested evaluate(): they hold one
  // argument column at a time, and recurse once per level of nesting of wide calls.
  constexpr size_t kEagerArgs = 2;
  struct Frame {
    const ExprNode* call;
    std::vector<Value> args;
  };
  std::vector<Frame> stack;
  stack.push_back({&node, {}});
  std::optional<Value> done;  // the value last computed, for the frame on top
  while (!stack.empty()) {
    Frame& top = stack.back();
    if (done) {
      top.args.push_back(std::move(*done));
      done.reset();
    }
    const ExprNode& call = *top.call;
    if (call.args.size() <= kEagerArgs && top.args.size() < call.args.size()) {
      const ExprNode& arg = *call.args[top.args.size()];
      if (arg.kind == Kind::kCall) {
        stack.push_back({&arg, {}});  // invalidates `top`
      } else {
        done = evaluate_leaf(arg, inputs);
      }
      continue;
    }
    Arguments args(call, inputs, rows, std::move(top.args));
    stack.pop_back();
    done = function_of(call.fn).evaluate(call, args, rows);
  }
  return std::move(*done);
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
