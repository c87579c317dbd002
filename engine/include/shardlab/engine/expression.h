// Typed expression trees and their vectorized evaluation over column blocks.
//
// analyze_expression() resolves columns and functions of a parsed Expr against a list of
// inputs, checks argument types, converts literals to the type they are compared with
// ('2024-05-01 00:00:00' next to a DateTime becomes a DateTime), and folds constants.
// evaluate() runs the tree over a block of rows and returns a column, or a one-row constant.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "shardlab/engine/ast.h"
#include "shardlab/engine/column.h"

namespace shardlab::engine {

struct ColumnInfo {
  std::string name;
  DataType type;
};

// A function's id: its name, type rule and evaluator are its registry entry
// (functions/function_registry.h).
enum class Fn : uint8_t {
  kPlus,
  kMinus,
  kMultiply,
  kDivide,
  kModulo,
  kNegate,
  kEquals,
  kNotEquals,
  kLess,
  kLessOrEquals,
  kGreater,
  kGreaterOrEquals,
  kAnd,
  kOr,
  kNot,
  kIn,
  kNotIn,
  kToDate,
  kToDateTime,
  kToYYYYMMDD,
  kToYYYYMM,
  kToStartOfHour,
  kToStartOfDay,
  kCityHash64,
  kIntHash64,
};

struct ExprNode;
using ExprNodePtr = std::shared_ptr<const ExprNode>;

struct ExprNode {
  ExprNode() = default;
  ExprNode(const ExprNode&) = default;
  ExprNode& operator=(const ExprNode&) = default;
  // Frees a deep tree (a chain of 100,000 `+`) without recursing once per level.
  ~ExprNode();

  enum class Kind : uint8_t { kInput, kConst, kCall } kind = Kind::kConst;
  DataType type;
  size_t input = 0;                  // kInput: index into the inputs
  Column constant;                   // kConst: one row
  std::optional<Interval> interval;  // kConst holding an INTERVAL (only as a + or - operand)
  Fn fn = Fn::kPlus;                 // kCall
  std::vector<ExprNodePtr> args;
  size_t pos = 0;
  // The canonical text of the source expression (Expr::to_string()) for the root of an
  // analysed tree; inside the tree, for error messages, shortened past kMaxNodeTextChars.
  std::string text;
};

// How long the text of a node inside an analysed tree may be before it is shortened with
// "...": storing every subtree's full text would take memory quadratic in a chain's length.
inline constexpr size_t kMaxNodeTextChars = 200;

// Lets a caller map whole sub-expressions to inputs (GROUP BY keys and aggregate results after
// aggregation). Returns the input index or nullopt to analyse the expression normally.
using SubtreeResolver = std::function<std::optional<size_t>(const Expr&)>;

// Throws InputError (positioned in `sql`) for unknown columns or functions, wrong argument
// counts or types, and aggregate functions, which the caller must have resolved.
ExprNodePtr analyze_expression(const Expr& expr, const std::vector<ColumnInfo>& inputs,
                               std::string_view sql, const SubtreeResolver& resolver = {});

bool is_aggregate_function(std::string_view name);

// An evaluation result: either a borrowed input column or an owned one; a constant has one row.
struct Value {
  Column owned;
  const Column* borrowed = nullptr;
  bool is_const = false;
  const Column& column() const { return borrowed != nullptr ? *borrowed : owned; }
};

// REQUIRES: inputs[i] has `rows` rows for every input the tree reads. Walks the tree with its
// own stack; it recurses only into arguments of calls of more than two (and, or, in,
// cityHash64), once per such call nested in another, which the depth limit bounds.
Value evaluate(const ExprNode& node, const std::vector<const Column*>& inputs, size_t rows);
// Like evaluate() but a constant is repeated to `rows` rows.
Column evaluate_column(const ExprNode& node, const std::vector<const Column*>& inputs, size_t rows);
// Evaluates a predicate into a 0/1 mask of `rows` bytes, ANDed into `mask`.
void evaluate_filter(const ExprNode& node, const std::vector<const Column*>& inputs, size_t rows,
                     uint8_t* mask);

// Repeats a one-row column.
Column broadcast(const Column& one_row, size_t rows);

}  // namespace shardlab::engine
