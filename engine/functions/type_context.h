// What a function's type rule may do while one call is analysed: fail with a message
// positioned in the SQL, and convert or wrap the call's arguments (a string literal compared
// with a DateTime becomes a DateTime, a Date added to seconds becomes a DateTime).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "shardlab/engine/expression.h"
#include "shardlab/engine/ast.h"

namespace shardlab::engine {

// A one-row constant node.
ExprNodePtr make_const_node(Column column, size_t pos, std::string text);

template <typename T>
Column one_row(DataType type, T value) {
  Column c(type);
  c.resize_fixed(1);
  visit_fixed(type, [&](auto tag) {
    using S = typename decltype(tag)::type;
    c.values<S>()[0] = static_cast<S>(value);
  });
  return c;
}

Column one_row_string(std::string_view s);

class TypeContext {
 public:
  // REQUIRES: `call` and `sql` outlive the context.
  TypeContext(const Expr& call, std::string_view sql) : call_(call), sql_(sql) {}

  // The call being analysed, as written (its name keeps the user's spelling).
  const Expr& call() const { return call_; }

  // Throws InputError positioned at `pos` of the SQL.
  [[noreturn]] void fail(size_t pos, const std::string& message) const;
  // Fails unless min <= got <= max (max may be kAnyArgs).
  void check_arity(size_t min, size_t max, size_t got) const;
  // Fails unless `arg` is a number, and not an INTERVAL.
  void expect_number(const ExprNodePtr& arg) const;

  // Turns a constant into `target`: strings parse as dates, times or numbers as ClickHouse
  // does when a literal meets a typed column. Other constants are returned unchanged.
  ExprNodePtr convert_constant(const ExprNodePtr& constant, DataType target) const;
  // Brings two operands of a comparison to comparable types, converting a string literal to
  // the other side's type and a Date to a DateTime next to one; fails if they cannot be.
  void coerce_for_comparison(ExprNodePtr& a, ExprNodePtr& b) const;
  // A call of `fn` (of result `type`) on `arg` alone, positioned and named as `arg`.
  static ExprNodePtr wrap(Fn fn, DataType type, ExprNodePtr arg);

 private:
  const Expr& call_;
  std::string_view sql_;
};

}  // namespace shardlab::engine
