// Syntax trees for the SQL subset: SELECT queries and CREATE TABLE statements.
// Operators are parsed into function nodes with ClickHouse's function names
// (a + b is plus(a, b), NOT x is not(x), x IN (...) is in(x, ...)).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "shardlab/engine/codec.h"
#include "shardlab/engine/data_type.h"

namespace shardlab::engine {

struct Literal {
  enum class Kind : uint8_t { kUInt, kInt, kFloat, kString } kind = Kind::kUInt;
  uint64_t u = 0;
  int64_t i = 0;
  double f = 0;
  std::string s;
  std::string to_string() const;
};

enum class IntervalUnit : uint8_t { kSecond, kMinute, kHour, kDay, kWeek, kMonth, kYear };

struct Interval {
  int64_t count = 0;
  IntervalUnit unit = IntervalUnit::kSecond;
  bool is_calendar() const { return unit == IntervalUnit::kMonth || unit == IntervalUnit::kYear; }
  int64_t seconds() const;  // REQUIRES: !is_calendar()
  int64_t months() const;   // REQUIRES: is_calendar()
  std::string to_string() const;
};

enum class ExprKind : uint8_t { kLiteral, kColumn, kFunction, kStar, kInterval };

struct Expr;
using ExprPtr = std::shared_ptr<Expr>;

struct Expr {
  Expr() = default;
  Expr(const Expr&) = default;
  Expr& operator=(const Expr&) = default;
  // Frees a deep tree (a chain of 100,000 `+`) without recursing once per level.
  ~Expr();

  ExprKind kind = ExprKind::kLiteral;
  size_t pos = 0;  // byte offset in the statement, for error messages
  Literal literal;
  Interval interval;
  std::string name;  // column name, or canonical function name
  std::vector<ExprPtr> args;
  bool distinct = false;  // count(DISTINCT x)
  std::string alias;

  // Canonical text without the alias: equal texts mean equal expressions. Also used as the
  // column name of an unaliased result column. Built without recursion, in time linear in its
  // length.
  std::string to_string() const;
  // The canonical text when it is at most `max_chars` long; otherwise some longer string
  // (at most max_chars + 1 characters), built in time proportional to max_chars. Comparing
  // it with a text of up to `max_chars` characters tells whether the two are equal.
  std::string to_string_up_to(size_t max_chars) const;
};

struct OrderItem {
  ExprPtr expr;
  bool descending = false;
};

struct SelectQuery {
  std::vector<ExprPtr> select;
  std::string table;
  size_t table_pos = 0;
  ExprPtr prewhere;
  ExprPtr where;
  std::vector<ExprPtr> group_by;
  ExprPtr having;
  std::vector<OrderItem> order_by;
  std::optional<uint64_t> limit;
  uint64_t offset = 0;
};

struct ColumnDef {
  std::string name;
  DataType type;
  std::optional<CodecSpec> codec;
  size_t pos = 0;
};

struct Setting {
  std::string name;
  Literal value;
  size_t pos = 0;
};

struct CreateTable {
  std::string name;
  std::vector<ColumnDef> columns;
  ExprPtr partition_by;
  std::vector<ExprPtr> order_by;
  ExprPtr ttl;
  std::vector<Setting> settings;
};

}  // namespace shardlab::engine
